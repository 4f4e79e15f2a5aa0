import Foundation
import Hummingbird
import Logging

/// A named readiness check: true when the dependency it names is usable.
public struct HealthCheck: Sendable {
    public var name: String
    public var check: @Sendable () async -> Bool

    public init(_ name: String, check: @escaping @Sendable () async -> Bool) {
        self.name = name
        self.check = check
    }
}

/// The JSON body of `GET /healthz`.
struct HealthReport: ResponseEncodable {
    var status: String
    var service: String
    var checks: [String: Bool]
}

extension RouterMethods {
    /// Adds `GET /healthz`: 200 with every check passing, 503 otherwise, and a JSON report either way.
    @discardableResult
    public func addHealthRoute(service: String, checks: [HealthCheck]) -> Self {
        get("healthz") { _, _ -> Response in
            var results: [String: Bool] = [:]
            for check in checks { results[check.name] = await check.check() }
            let healthy = results.values.allSatisfy { $0 }
            let report = HealthReport(status: healthy ? "ok" : "unavailable", service: service, checks: results)
            let body = try JSONEncoder().encode(report)
            return Response(
                status: healthy ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        return self
    }
}

/// A small HTTP server that answers only `GET /healthz` and `GET /metrics` (``ServiceMetrics``):
/// every service has one on its health port.
public enum HealthServer {
    /// - Parameter settings: reads `health.host` and `<service>.health.port`.
    public static func make(
        service: String, settings: ConveyorSettings, defaultPort: Int, checks: [HealthCheck], logger: Logger
    ) -> some ApplicationProtocol {
        let router = Router()
        router.addHealthRoute(service: service, checks: checks)
        router.addMetricsRoute()
        let address = settings.healthAddress(for: service, defaultPort: defaultPort)
        return Application(
            router: router,
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: service),
            logger: logger)
    }
}
