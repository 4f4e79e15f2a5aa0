import Hummingbird
import HTTPTypes
import Logging

/// The web page (`gateway.webRoot`, default `web/` of the repository): its files are served for
/// every path outside `/api/` and `/healthz` that no route takes (`/` is `index.html`), without
/// an identity (the page signs in with a token and calls the API with it), with a content
/// security policy that lets it load and call only this origin.
struct WebPage: RouterMiddleware {
    typealias Context = GatewayContext
    let files: FileMiddleware<GatewayContext, LocalFileSystem>

    init(root: String, logger: Logger) {
        files = FileMiddleware(root, cacheControl: .init([(MediaType(type: .any), [.noCache])]), searchForIndexHtml: true, logger: logger)
    }

    static func isPage(_ path: String) -> Bool { !path.hasPrefix("/api/") && path != "/healthz" }

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response) async throws -> Response {
        guard Self.isPage(request.uri.path) else { return try await next(request, context) }
        var response = try await files.handle(request, context: context, next: next)
        response.headers[.contentSecurityPolicy] =
            "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return response
    }
}
