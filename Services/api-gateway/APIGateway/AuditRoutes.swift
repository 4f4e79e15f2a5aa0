import ConveyorModels
import Foundation
import Hummingbird
import Messaging
import ServiceKit

/// `GET /api/v1/audit` (admins): the audit trail, newest first, filtered and paged.
struct AuditRoutes: Sendable {
    let metadata: MetadataClient

    func add(to router: Router<GatewayContext>) {
        router.get("api/v1/audit", use: list)
    }

    /// Filters `principal`, `action`, `target` (a job, object or token id), `from`/`to`; `limit`
    /// (1-500, default 50) and `cursor` (the previous page's `nextCursor`).
    @Sendable func list(request: Request, context: GatewayContext) async throws -> Response {
        try AccessPolicy.administer(as: try context.caller())
        var query = QueryReader(request)
        let limit = query.integer("limit", in: 1...ListAudit.maxLimit) ?? 50
        let from = query.date("from")
        let to = query.date("to")
        var before: Int64?
        if let cursor = query.string("cursor") {
            before = Int64(cursor)
            if before == nil { query.problems.append(FieldProblem(field: "cursor", reason: "must be a nextCursor this API returned")) }
        }
        for name in ["principal", "action", "target"] {
            if let value = query.string(name), value.isEmpty || value.count > 200 {
                query.problems.append(FieldProblem(field: name, reason: "must be 1-200 characters"))
            }
        }
        try query.check()
        let page = try await metadata.call(
            ListAudit(
                principal: query.string("principal"), action: query.string("action"), target: query.string("target"), from: from, to: to,
                before: before, limit: limit))
        return try RouteSupport.json(page)
    }
}
