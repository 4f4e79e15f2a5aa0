import ConveyorModels
import Foundation
import Postgres

/// Each principal's default e-mail settings (`notification_defaults`), which a submission without
/// a `notification` section takes (see ``JobStore/submit(_:)``).
struct NotificationDefaults: Sendable {
    let pool: PostgresPool

    func get(_ call: GetNotificationDefault) async throws -> NotificationDefault {
        let rows = try await pool.query("SELECT settings, updated_at FROM notification_defaults WHERE principal = $1", [call.principal])
        guard let row = rows.first else { return NotificationDefault(principal: call.principal, settings: nil, updatedAt: nil) }
        return NotificationDefault(
            principal: call.principal, settings: try ConveyorJSON.decode(NotificationSettings.self, from: Data(try row.string("settings").utf8)),
            updatedAt: try row.date("updated_at"))
    }

    func set(_ call: SetNotificationDefault) async throws -> NotificationDefault {
        guard let settings = call.settings else {
            _ = try await pool.query("DELETE FROM notification_defaults WHERE principal = $1", [call.principal])
            return NotificationDefault(principal: call.principal, settings: nil, updatedAt: nil)
        }
        let problems = settings.problems(prefix: "")
        guard problems.isEmpty else { throw MetadataError.invalid("the notification settings are invalid", problems: problems) }
        let rows = try await pool.query(
            """
            INSERT INTO notification_defaults (principal, settings, updated_at) VALUES ($1, $2, now())
            ON CONFLICT (principal) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at
            RETURNING updated_at
            """, [call.principal, try PostgresJSON(ConveyorJSON.encode(settings))])
        return NotificationDefault(principal: call.principal, settings: settings, updatedAt: try rows[0].date("updated_at"))
    }

    /// The statement that reads the defaults of `owners` (in a submission's first round trip).
    static func statement(owners: Set<String>) throws -> PostgresStatement {
        try PostgresStatement(
            "SELECT principal, settings FROM notification_defaults WHERE principal = ANY($1::text[])", [PostgresArray.literal(Array(owners))])
    }

    static func read(_ rows: PostgresRows) throws -> [String: NotificationSettings] {
        var defaults: [String: NotificationSettings] = [:]
        for row in rows {
            defaults[try row.string("principal")] = try ConveyorJSON.decode(NotificationSettings.self, from: Data(try row.string("settings").utf8))
        }
        return defaults
    }
}
