import ConveyorModels
import Foundation
import Hummingbird
import Messaging
import ServiceKit

/// `/api/v1/tokens` (admins): issue, list and revoke API tokens; and `/api/v1/me`: who the caller is.
struct TokenRoutes: Sendable {
    let metadata: MetadataClient

    func add(to router: Router<GatewayContext>) {
        router.get("api/v1/me", use: me)
        let tokens = router.group("api/v1/tokens")
        tokens.post(use: issue)
        tokens.get(use: list)
        tokens.delete(":id", use: revoke)
    }

    /// `GET /api/v1/me`: the caller's identity (name, role, teams, how it was proven).
    @Sendable func me(request: Request, context: GatewayContext) async throws -> Response {
        try RouteSupport.json(try context.caller())
    }

    /// `POST /api/v1/tokens`: 201 with the token's secret, shown this once.
    @Sendable func issue(request: Request, context: GatewayContext) async throws -> Response {
        let caller = try context.caller()
        try AccessPolicy.administer(as: caller)
        let body = try await RouteSupport.decode(TokenRequest.self, request, limit: 64 * 1024, shape: TokenRequest.shape)
        let problems = body.problems
        guard problems.isEmpty else { throw Problem(.unprocessableContent, "the token request is invalid", errors: problems) }
        let issued = try await metadata.call(IssueToken(request: body, issuedBy: caller.name))
        var response = try RouteSupport.json(issued, status: .created)
        response.headers[.location] = "/api/v1/tokens/\(issued.record.tokenId.uuidString.lowercased())"
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// `GET /api/v1/tokens?principal=`: the tokens issued, newest first, without their secrets.
    @Sendable func list(request: Request, context: GatewayContext) async throws -> Response {
        try AccessPolicy.administer(as: try context.caller())
        var query = QueryReader(request)
        let principal = query.string("principal")
        if let principal, let problem = Principal.nameProblem(principal) {
            query.problems.append(FieldProblem(field: "principal", reason: problem))
        }
        try query.check()
        return try RouteSupport.json(try await metadata.call(ListTokens(principal: principal)))
    }

    /// `DELETE /api/v1/tokens/{id}`: revokes the token (at every gateway within `auth.cacheSeconds`).
    @Sendable func revoke(request: Request, context: GatewayContext) async throws -> Response {
        try AccessPolicy.administer(as: try context.caller())
        return try RouteSupport.json(try await metadata.call(RevokeToken(tokenId: try RouteSupport.uuid(context))))
    }
}
