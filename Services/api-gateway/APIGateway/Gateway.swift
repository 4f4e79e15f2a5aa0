import ConveyorModels
import Hummingbird
import Logging
import Messaging
import ServiceKit
import ServiceLifecycle

/// The HTTP gateway: stateless; validates requests and forwards them to metadata over AMQP RPC.
public enum Gateway {
    /// Builds the router; tests call this with their own metadata client.
    static func router(
        metadata: MetadataClient, scheduler: SchedulerClient, settings: ConveyorSettings, jwt: JWTVerifier?, audit: AuditLog,
        logger: Logger
    ) throws -> Router<GatewayContext> {
        let router = Router(context: GatewayContext.self)
        // Outermost: every answer counts, with the status the inner middleware gave it.
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: RequestIdMiddleware())
        router.add(middleware: CORSPolicy(origins: Set(settings.list("gateway.cors.origins"))))
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: StorableQueryMiddleware())
        router.add(middleware: WebPage(root: settings.absolute(settings.string("gateway.webRoot", default: "web")), logger: logger))
        router.add(
            middleware: AuthMiddleware(
                authenticator: Authenticator(
                    metadata: metadata, jwt: jwt, cacheTime: .seconds(max(0, settings.int("auth.cacheSeconds", default: 10)))),
                limiter: RateLimiter(defaultPerSecond: max(0, settings.int("gateway.rateLimit.requestsPerSecond", default: 0)))))
        router.add(middleware: AuditMiddleware(log: audit))
        router.addHealthRoute(
            service: "api-gateway", checks: [HealthCheck("amqp") { metadata.isConnected }])
        let maxBodyBytes = settings.int("gateway.maxBodyBytes", default: 1 << 20)
        let queue = QueueRoutes(scheduler: scheduler)
        JobRoutes(
            metadata: metadata, validator: JobValidator(limits: settings.deploymentLimits), maxBodyBytes: maxBodyBytes,
            finished: FinishedJobCache(capacity: settings.int("gateway.finishedJobCache", default: 20_000)), queue: queue
        ).add(to: router)
        queue.add(to: router)
        ObjectRoutes(
            metadata: metadata, maxBodyBytes: maxBodyBytes,
            maxUploadBytes: min(settings.int("gateway.maxUploadBytes", default: 32 << 20), CreateObject.maxContentBytes)
        ).add(to: router)
        TokenRoutes(metadata: metadata).add(to: router)
        NotificationDefaultRoutes(metadata: metadata).add(to: router)
        AuditRoutes(metadata: metadata).add(to: router)
        router.get(
            "api/v1/events", use: EventStream(metadata: metadata, scheduler: scheduler, feed: JobEventFeed(metadata: metadata, logger: logger)).follow)
        try OpenAPIRoute.add(to: router)
        return router
    }

    /// Builds the gateway's services. Reads `gateway.host`, `gateway.port` (default 8080),
    /// `gateway.maxBodyBytes`, `gateway.maxUploadBytes`, `gateway.cors.origins`,
    /// `gateway.rateLimit.requestsPerSecond`, `gateway.health.port` (8180: `/metrics`), `auth.cacheSeconds`, `auth.jwt.*`,
    /// `metadata.enabledJobTypes`, `limits.*` and `amqp.*`.
    /// - Throws: when JWT issuers are configured and their keys cannot be loaded.
    public static func build(settings: ConveyorSettings, logger: Logger) async throws -> [any Service] {
        let metadata = try MetadataClient(name: "gateway-rpc", settings: settings, logger: logger)
        let scheduler = try SchedulerClient(name: "gateway-scheduler-rpc", settings: settings, logger: logger)
        let jwt = JWTVerifier.Settings(settings).map { JWTVerifier(settings: $0, logger: logger) }
        try await jwt?.loadKeys()
        let audit = AuditLog(metadata: metadata, logger: logger)
        let app = Application(
            router: try router(metadata: metadata, scheduler: scheduler, settings: settings, jwt: jwt, audit: audit, logger: logger),
            configuration: .init(
                address: .hostname(
                    settings.string("gateway.host", default: "127.0.0.1"), port: settings.int("gateway.port", default: 8080)),
                serverName: "conveyor"),
            logger: logger)
        // Its metrics (and a second /healthz) on a port of their own (`gateway.health.port`), not the public one.
        let health = HealthServer.make(
            service: "gateway", settings: settings, defaultPort: 8180,
            checks: [HealthCheck("amqp") { metadata.isConnected }], logger: logger)
        // Stopped in reverse order: the server first, then the audit log (it sends what waits), then the clients.
        var services: [any Service] = [metadata, scheduler, audit, app, health]
        if let jwt, jwt.settings.jwksURL != nil { services.append(JWTKeyRefresher(verifier: jwt)) }
        return services
    }
}
