import Foundation
import PostgresClient

/// The notifier's own record of e-mails (schema `notifier`): one row per job, so a job's e-mail is
/// sent once even when its event is redelivered or the notifier restarts.
struct DeliveryStore: Sendable {
    let pool: PostgresPool

    static let migrations = [
        PostgresMigration(
            version: 1, name: "deliveries",
            sql: """
                CREATE TABLE notifier.deliveries (
                    job_id uuid PRIMARY KEY,
                    status text NOT NULL,
                    recipients text NOT NULL,
                    message_id text,
                    attempts int NOT NULL DEFAULT 1,
                    claimed_at timestamptz,
                    sent_at timestamptz,
                    last_error text
                );
                """)
    ]

    func migrate() async throws {
        try await pool.execute("CREATE SCHEMA IF NOT EXISTS notifier")
        try await pool.migrate(Self.migrations, table: "notifier.schema_migrations")
    }

    enum Claim: Equatable {
        /// This notifier sends it now (the n-th attempt).
        case claimed(attempt: Int)
        /// It was sent already.
        case alreadySent
        /// Another notifier instance is sending it right now.
        case inProgress
        /// Sending failed for good earlier (dead-lettered): a duplicate event changes nothing.
        case givenUp
    }

    /// Claims the job's e-mail for sending, unless it was sent or another sender holds a fresh claim.
    func claim(jobId: UUID, recipients: [String]) async throws -> Claim {
        let rows = try await pool.query(
            """
            INSERT INTO notifier.deliveries (job_id, status, recipients, claimed_at)
            VALUES ($1, 'sending', $2, clock_timestamp())
            ON CONFLICT (job_id) DO UPDATE
               SET attempts = deliveries.attempts + 1, status = 'sending', claimed_at = clock_timestamp()
             WHERE deliveries.status NOT IN ('sent', 'failed')
               AND (deliveries.claimed_at IS NULL OR deliveries.claimed_at < clock_timestamp() - interval '2 minutes')
            RETURNING attempts
            """, [jobId, recipients.joined(separator: ", ")])
        if let row = rows.first { return .claimed(attempt: try row.int("attempts")) }
        let status = try await pool.query("SELECT status FROM notifier.deliveries WHERE job_id = $1", [jobId]).first?
            .string("status")
        switch status {
        case "sent": return .alreadySent
        case "failed": return .givenUp
        default: return .inProgress
        }
    }

    func markSent(jobId: UUID, messageId: String) async throws {
        _ = try await pool.query(
            """
            UPDATE notifier.deliveries SET status = 'sent', sent_at = clock_timestamp(), message_id = $2, last_error = NULL
            WHERE job_id = $1
            """, [jobId, messageId])
    }

    func markFailed(jobId: UUID, error: String, final: Bool) async throws {
        _ = try await pool.query(
            "UPDATE notifier.deliveries SET status = $2, claimed_at = NULL, last_error = $3 WHERE job_id = $1",
            [jobId, final ? "failed" : "retrying", error])
    }
}
