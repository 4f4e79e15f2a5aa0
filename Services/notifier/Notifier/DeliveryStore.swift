import Foundation
import Postgres

/// The notifier's durable record of e-mails (schema `notifier`): one row per job, holding the event
/// the e-mail is made from until it is sent. A job's e-mail is sent once even when its event is
/// redelivered or the notifier restarts, and one that cannot be sent now waits in its row (not in
/// the broker) for its next try, through restarts of the notifier, the broker and the database.
///
/// A row is `sending` while a notifier holds it (its claim older than ``staleClaim`` is taken over:
/// that notifier died mid-try), `pending` until its next try is due, and `sent` or `failed` at the end.
struct DeliveryStore: Sendable {
    let pool: PostgresPool

    /// How long a claim protects a try: longer than an SMTP send can take.
    static let staleClaim = "2 minutes"

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
                """),
        PostgresMigration(
            version: 2, name: "deliveries wait in the database for their next try",
            sql: """
                -- The event the e-mail is made from (its envelope), when the next try is due, and when
                -- the delivery gives up. Rows of version 1 have no event: their message is still in
                -- the queue and brings it.
                ALTER TABLE notifier.deliveries
                    ADD COLUMN event text, ADD COLUMN next_attempt_at timestamptz, ADD COLUMN expires_at timestamptz;
                UPDATE notifier.deliveries SET status = 'pending' WHERE status = 'retrying';
                CREATE INDEX deliveries_due ON notifier.deliveries (next_attempt_at)
                    WHERE status IN ('pending', 'sending') AND event IS NOT NULL;
                """),
    ]

    func migrate() async throws {
        try await pool.execute("CREATE SCHEMA IF NOT EXISTS notifier")
        try await pool.migrate(Self.migrations, table: "notifier.schema_migrations")
    }

    /// One try of a job's e-mail, claimed by this notifier.
    struct Try: Sendable {
        var jobId: UUID
        /// The event's envelope.
        var event: Data
        /// The number of this try (1 for the first).
        var attempt: Int
        var expiresAt: Date
    }

    /// Records a job's e-mail with its event and claims its first try; nil when it was recorded
    /// before (it is sent, failed, or waits for its next try in its row).
    func begin(jobId: UUID, recipients: [String], event: Data, lifetimeSeconds: Int) async throws -> Try? {
        let rows = try await pool.query(
            """
            INSERT INTO notifier.deliveries (job_id, status, recipients, event, attempts, claimed_at, expires_at)
            VALUES ($1, 'sending', $2, $3, 1, clock_timestamp(), clock_timestamp() + $4::int * interval '1 second')
            ON CONFLICT (job_id) DO UPDATE
               SET event = EXCLUDED.event, status = 'sending', claimed_at = clock_timestamp(),
                   attempts = deliveries.attempts + 1, expires_at = EXCLUDED.expires_at
             WHERE deliveries.event IS NULL AND deliveries.status NOT IN ('sent', 'failed')
               AND (deliveries.claimed_at IS NULL OR deliveries.claimed_at < clock_timestamp() - interval '\(Self.staleClaim)')
            RETURNING attempts, expires_at
            """, [jobId, recipients.joined(separator: ", "), String(decoding: event, as: UTF8.self), lifetimeSeconds])
        guard let row = rows.first else { return nil }
        return Try(jobId: jobId, event: event, attempt: try row.int("attempts"), expiresAt: try row.date("expires_at"))
    }

    /// Claims up to `limit` tries that are due: pending ones whose time has come, and ones whose
    /// notifier died while it held them.
    func claimDue(limit: Int) async throws -> [Try] {
        let rows = try await pool.query(
            """
            UPDATE notifier.deliveries d SET status = 'sending', claimed_at = clock_timestamp(), attempts = d.attempts + 1
             WHERE d.job_id IN (
                   SELECT job_id FROM notifier.deliveries
                    WHERE status IN ('pending', 'sending') AND event IS NOT NULL
                      AND ((status = 'pending' AND next_attempt_at <= clock_timestamp())
                           OR (status = 'sending' AND claimed_at < clock_timestamp() - interval '\(Self.staleClaim)'))
                    ORDER BY next_attempt_at NULLS FIRST LIMIT $1
                    FOR UPDATE SKIP LOCKED)
            RETURNING d.job_id, d.event, d.attempts, d.expires_at
            """, [limit])
        return try rows.map { row in
            Try(jobId: try row.uuid("job_id"), event: Data(try row.string("event").utf8), attempt: try row.int("attempts"),
                expiresAt: try row.date("expires_at"))
        }
    }

    /// The earliest time a pending try is due, if any is (for the delivery loop's next look).
    func nextDue() async throws -> Date? {
        try await pool.query(
            """
            SELECT min(next_attempt_at) AS due FROM notifier.deliveries
             WHERE status IN ('pending', 'sending') AND event IS NOT NULL
            """
        ).first?.dateIfPresent("due")
    }

    func markSent(jobId: UUID, messageId: String) async throws -> Date {
        let rows = try await pool.query(
            """
            UPDATE notifier.deliveries SET status = 'sent', sent_at = clock_timestamp(), message_id = $2, last_error = NULL,
                   claimed_at = NULL, next_attempt_at = NULL, event = NULL
            WHERE job_id = $1 RETURNING sent_at
            """, [jobId, messageId])
        return try rows.first?.date("sent_at") ?? Date()
    }

    /// After a try that may succeed later: pending until `delaySeconds` from now, or failed when that
    /// is past the delivery's expiry. Answers the next try's time (nil: it failed for good).
    func markRetry(jobId: UUID, error: String, delaySeconds: Int) async throws -> Date? {
        let rows = try await pool.query(
            """
            UPDATE notifier.deliveries
               SET status = CASE WHEN clock_timestamp() + $3::int * interval '1 second' > expires_at THEN 'failed' ELSE 'pending' END,
                   next_attempt_at = CASE WHEN clock_timestamp() + $3::int * interval '1 second' > expires_at THEN NULL
                                          ELSE clock_timestamp() + $3::int * interval '1 second' END,
                   claimed_at = NULL, last_error = $2
             WHERE job_id = $1
            RETURNING status, next_attempt_at
            """, [jobId, error, delaySeconds])
        guard let row = rows.first, try row.string("status") == "pending" else { return nil }
        return row.dateIfPresent("next_attempt_at")
    }

    /// After a try the server refused for good.
    func markFailed(jobId: UUID, error: String) async throws {
        _ = try await pool.query(
            """
            UPDATE notifier.deliveries SET status = 'failed', claimed_at = NULL, next_attempt_at = NULL, last_error = $2
            WHERE job_id = $1
            """, [jobId, error])
    }
}
