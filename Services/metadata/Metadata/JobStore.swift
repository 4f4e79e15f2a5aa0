import ConveyorModels
import Foundation
import Logging
import PostgresClient

/// The system of record for jobs: every change is one transaction that updates the job, appends to
/// its status history and writes the resulting event to the outbox.
struct JobStore: Sendable {
    let pool: PostgresPool
    let validator: JobValidator
    /// Wakes the outbox relay after a commit that wrote events.
    let eventsWritten: @Sendable () -> Void
    let logger: Logger

    /// The number of log lines an end-of-job event carries for the e-mail.
    static let logTailLines = 20

    // MARK: Status changes

    /// Moves a locked job to `status` (a legal transition), records it and writes the event to the outbox.
    func transition(
        _ connection: PostgresConnection, jobId: UUID, to status: JobStatus, message: String, from previous: JobStatus,
        base: JobEventBase, publish: Bool = true
    ) async throws {
        precondition(previous.canTransition(to: status), "illegal transition \(previous) → \(status)")
        let rows = try await connection.query(
            """
            WITH changed AS (
                UPDATE jobs SET status = $2, status_message = $3 WHERE job_id = $1 RETURNING job_id
            )
            INSERT INTO job_updates (job_id, seq, status, message, at)
            SELECT job_id, COALESCE((SELECT MAX(seq) FROM job_updates WHERE job_id = $1), 0) + 1, $2, $3, clock_timestamp()
            FROM changed
            RETURNING at
            """, [jobId, status.rawValue, message])
        guard publish else { return }
        let event = JobEvent(
            jobId: jobId, jobType: base.jobType, status: status, previousStatus: previous, message: message,
            owner: base.owner, priority: base.priority, attempt: base.attempt, submittedAt: base.submittedAt,
            occurredAt: try rows[0].date("at"), notification: status.isTerminal ? base.notification : nil,
            startedAt: status.isTerminal ? base.startedAt : nil, exitCode: base.exitCode,
            logTail: status.isTerminal ? base.logTail : nil)
        try await writeToOutbox(connection, event)
    }

    /// Writes an event to the outbox, in the caller's transaction.
    func writeToOutbox(_ connection: PostgresConnection, _ event: JobEvent) async throws {
        let envelope = Envelope(event)
        _ = try await connection.query(
            "INSERT INTO outbox (routing_key, message_type, message_id, body) VALUES ($1, $2, $3, $4)",
            [event.routingKey, JobEvent.messageType, envelope.messageId, try envelope.encoded()])
    }

    // MARK: Row mapping

    static func eventBase(_ row: PostgresRow, attempt: Int) throws -> JobEventBase {
        let definition = try ConveyorJSON.decode(JobDefinition.self, from: Data(try row.string("definition").utf8))
        return JobEventBase(
            jobId: try row.uuid("job_id"), jobType: definition.jobType, owner: try row.string("owner"),
            priority: try row.int("priority"), attempt: attempt, submittedAt: try row.date("submitted_at"),
            notification: definition.notification, startedAt: row.dateIfPresent("started_at"))
    }

    static func update(_ row: PostgresRow) throws -> JobStatusUpdate {
        JobStatusUpdate(
            status: JobStatus(rawValue: try row.string("status")) ?? .failed, message: try row.string("message"),
            at: try row.date("at"))
    }

    static func record(_ row: PostgresRow, updates: [JobStatusUpdate]) throws -> JobRecord {
        let definition = try ConveyorJSON.decode(JobDefinition.self, from: Data(try row.string("definition").utf8))
        let result = try row.stringIfPresent("result").map { try ConveyorJSON.decode(JobResult.self, from: Data($0.utf8)) }
        return JobRecord(
            jobId: try row.uuid("job_id"), jobType: definition.jobType, owner: try row.string("owner"),
            priority: try row.int("priority"), definition: definition,
            status: JobStatus(rawValue: try row.string("status")) ?? .failed,
            statusMessage: try row.string("status_message"), attempt: try row.int("attempt"),
            workerId: row.stringIfPresent("worker_id"), submittedAt: try row.date("submitted_at"),
            startedAt: row.dateIfPresent("started_at"), finishedAt: row.dateIfPresent("finished_at"), updates: updates,
            result: result)
    }

    static func object(_ row: PostgresRow) throws -> ObjectRecord {
        ObjectRecord(
            objectType: ObjectType(rawValue: try row.string("object_type")) ?? .data,
            objectId: try row.uuid("object_id"), objectVersion: try row.int("object_version"),
            attributes: try ConveyorJSON.decode([String: JSONValue].self, from: Data(try row.string("attributes").utf8)),
            storagePath: row.stringIfPresent("storage_path"), createdAt: try row.date("created_at"),
            jobId: row.uuidIfPresent("job_id"))
    }
}

/// What every event of one job carries.
struct JobEventBase {
    var jobId: UUID
    var jobType: JobType
    var owner: String
    var priority: Int
    var attempt: Int
    var submittedAt: Date
    var notification: NotificationSettings? = nil
    var startedAt: Date? = nil
    var exitCode: Int? = nil
    var logTail: String? = nil
}

/// The opaque paging cursor: the last job of a page; the next page starts after its position
/// (submitted_at, job_id), so jobs that arrive meanwhile never shift a page.
enum JobCursor {
    static func encode(_ id: UUID) -> String {
        Data("after:\(id.uuidString)".utf8).base64EncodedString()
    }

    static func decode(_ cursor: String) -> UUID? {
        guard let data = Data(base64Encoded: cursor) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard text.hasPrefix("after:") else { return nil }
        return UUID(uuidString: String(text.dropFirst("after:".count)))
    }
}

/// A referenced object's pinned version, or why it cannot be used.
enum ObjectResolution {
    case version(Int)
    case problem(FieldProblem)
}
