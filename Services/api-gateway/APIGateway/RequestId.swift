import Foundation
import Hummingbird
import HTTPTypes

/// Gives every request an id, `X-Request-Id`: the client's when it sends a usable one (1-100 of
/// letters, digits, `.`, `_`, `-`), else a new UUID; the answer carries it back, and the audit
/// trail records it.
struct RequestIdMiddleware: RouterMiddleware {
    typealias Context = GatewayContext
    static let header = HTTPField.Name("X-Request-Id")!
    private static let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response) async throws -> Response {
        var context = context
        if let given = request.headers[Self.header], (1...100).contains(given.count), given.allSatisfy(Self.allowed.contains) {
            context.requestId = given
        } else {
            context.requestId = UUID().uuidString.lowercased()
        }
        do {
            var response = try await next(request, context)
            response.headers[Self.header] = context.requestId
            return response
        } catch {
            var response = try Problem.from(error).response(from: request, context: context)
            response.headers[Self.header] = context.requestId
            return response
        }
    }
}
