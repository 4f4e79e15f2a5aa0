import ConveyorModels
import Hummingbird

/// Establishes who makes each request (``Authenticator``) and holds them to their rate
/// (``RateLimiter``): 401 with a problem body without a valid identity, 429 over the rate. The
/// health check, the OpenAPI document and the web page's files (everything outside `/api/`) are public.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = GatewayContext
    let authenticator: Authenticator
    let limiter: RateLimiter

    static let publicPaths: Set<String> = ["/healthz", "/api/v1/openapi.yaml"]

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response) async throws
        -> Response
    {
        if Self.publicPaths.contains(request.uri.path) || WebPage.isPage(request.uri.path) { return try await next(request, context) }
        var context = context
        let caller = try await authenticator.principal(authorization: request.headers[.authorization])
        try limiter.admit(caller)
        context.principal = caller
        return try await next(request, context)
    }
}
