import Hummingbird

/// Cross-origin access for the browser origins a deployment names (`gateway.cors.origins`, a
/// comma-separated list of exact origins such as `https://jobs.example.org`): preflight requests
/// are answered here (before authentication: a browser sends no credentials with them), and every
/// answer to an allowed origin, errors included, says that origin may read it, with credentials,
/// and which headers it may see (`Location`, `Retry-After`, the log offsets).
struct CORSPolicy<Context: RequestContext>: RouterMiddleware {
    let origins: Set<String>

    static var allowedMethods: String { "GET, POST, DELETE, OPTIONS" }
    static var allowedHeaders: String { "Authorization, Content-Type, Idempotency-Key, Last-Event-ID" }
    static var exposedHeaders: String {
        "Location, Retry-After, WWW-Authenticate, Conveyor-Log-Offset, Conveyor-Log-Next-Offset, Conveyor-Log-Complete, Conveyor-Log-Attempt"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        let allowed = origins.contains(origin)
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            guard allowed else {
                var response = try Problem(.forbidden, "the origin \(origin.prefix(200)) may not call this API (see gateway.cors.origins)")
                    .response(from: request, context: context)
                response.headers[.vary] = "Origin"
                return response
            }
            var response = Response(status: .noContent)
            response.headers[.accessControlAllowMethods] = Self.allowedMethods
            response.headers[.accessControlAllowHeaders] = Self.allowedHeaders
            response.headers[.accessControlMaxAge] = "600"
            mark(&response, origin: origin)
            return response
        }
        var response = try await next(request, context)
        if allowed { mark(&response, origin: origin) } else { response.headers[.vary] = "Origin" }
        return response
    }

    private func mark(_ response: inout Response, origin: String) {
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlAllowCredentials] = "true"
        response.headers[.accessControlExposeHeaders] = Self.exposedHeaders
        response.headers[.vary] = "Origin"
    }
}
