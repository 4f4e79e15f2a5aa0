import ConveyorModels
import Foundation
import Postgres

/// The audit trail (`audit_log`): what the gateway recorded of every change made through the API.
struct AuditStore: Sendable {
    let pool: PostgresPool

    func record(_ call: RecordAudit) async throws -> AuditRecorded {
        let entries = call.entries.prefix(1000)
        guard !entries.isEmpty else { return AuditRecorded(count: 0) }
        func column(_ value: (AuditEntry) -> String?) -> String { PostgresArray.literal(entries.map(value)) }
        _ = try await pool.query(
            """
            INSERT INTO audit_log (at, principal, role, action, method, path, target, status, remote_address, request_id)
            SELECT x.at::timestamptz, x.principal, x.role, x.action, x.method, x.path, x.target, x.status::int, x.remote, x.request
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
                AS x(at, principal, role, action, method, path, target, status, remote, request)
            """,
            [
                column { Timestamp.format($0.at) }, column { $0.principal }, column { $0.role.rawValue }, column { $0.action },
                column { $0.method }, column { $0.path }, column { $0.target }, column { String($0.status) }, column { $0.remoteAddress },
                column { $0.requestId },
            ])
        return AuditRecorded(count: entries.count)
    }

    func list(_ call: ListAudit) async throws -> AuditPage {
        let limit = min(max(1, call.limit), ListAudit.maxLimit)
        let rows = try await pool.query(
            """
            SELECT id, at, principal, role, action, method, path, target, status, remote_address, request_id FROM audit_log
            WHERE ($1::text IS NULL OR principal = $1) AND ($2::text IS NULL OR action = $2) AND ($3::text IS NULL OR target = $3)
              AND ($4::timestamptz IS NULL OR at >= $4) AND ($5::timestamptz IS NULL OR at < $5) AND ($6::bigint IS NULL OR id < $6)
            ORDER BY id DESC LIMIT $7
            """, [call.principal, call.action, call.target?.lowercased(), call.from, call.to, call.before, limit + 1])
        var entries: [AuditEntry] = []
        for row in rows.prefix(limit) {
            entries.append(
                AuditEntry(
                    id: try row.int64("id"), at: try row.date("at"), principal: try row.string("principal"),
                    role: Role(rawValue: try row.string("role")) ?? .user, action: try row.string("action"), method: try row.string("method"),
                    path: try row.string("path"), target: row.stringIfPresent("target"), status: try row.int("status"),
                    remoteAddress: row.stringIfPresent("remote_address"), requestId: try row.string("request_id")))
        }
        return AuditPage(entries: entries, nextCursor: rows.count > limit ? entries.last?.id.map(String.init) : nil)
    }
}
