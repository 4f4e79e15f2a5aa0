import ConveyorModels
import Foundation
import Logging
import PostgresClient

/// The system of record for jobs: every change is one transaction that updates the job, appends to
/// its status history and writes the resulting event to the outbox.
struct JobStore: Sendable {
    let pool: PostgresPool
    let objects: ObjectStore
    let validator: JobValidator
    /// The largest log kept per attempt; what comes after is dropped behind a marker line.
    let logCapBytes: Int
    /// External storages by key → their root folder, for checking that files to import exist.
    var externalStorages: [String: String] = [:]
    /// Wakes the outbox relay after a commit that wrote events.
    let eventsWritten: @Sendable () -> Void
    let logger: Logger

    /// The number of log lines an end-of-job event carries for the e-mail.
    static let logTailLines = 20

    // MARK: Status changes

    /// Moves a job from `previous` to `status`: compare-and-set on the current status, legal
    /// transitions only; the change is appended to the job's history and its event written to the outbox.
    /// `assignments` (SQL assignments such as `finished_at = clock_timestamp()`, with parameters
    /// from `$5`) change the job row in the same statement.
    /// - Throws: ``RPCFailure`` `conflict` when the job is not in `previous` (any more), or the
    ///   transition is not in the table.
    func transition(
        _ connection: PostgresConnection, jobId: UUID, to status: JobStatus, message: String, from previous: JobStatus,
        base: JobEventBase, publish: Bool = true, assignments: String = "", _ parameters: [(any PostgresBindable)?] = []
    ) async throws {
        try await transition(
            connection, jobId: jobId, through: [(status, message)], from: previous, base: base, publish: publish,
            assignments: assignments, parameters)
    }

    /// Moves a job through several statuses at once (e.g. QUEUED → SUBMITTED → RUNNING on a claim),
    /// each appended to the history, in one statement; the event is of the last.
    func transition(
        _ connection: PostgresConnection, jobId: UUID, through path: [(JobStatus, String)], from previous: JobStatus,
        base: JobEventBase, publish: Bool = true, assignments: String = "", _ parameters: [(any PostgresBindable)?] = []
    ) async throws {
        var current = previous
        for (next, _) in path {
            guard current.canTransition(to: next) else {
                throw RPCFailure(code: .conflict, message: "job \(jobId.lowercased) cannot go from \(current.rawValue) to \(next.rawValue)")
            }
            current = next
        }
        let (status, message) = path.last!
        let rows = try await connection.query(
            """
            WITH changed AS (
                UPDATE jobs SET status = $2, status_message = $3\(assignments.isEmpty ? "" : ", " + assignments)
                WHERE job_id = $1 AND status = $4 RETURNING job_id
            ), steps AS (
                SELECT * FROM unnest($\(parameters.count + 5)::text[], $\(parameters.count + 6)::text[]) WITH ORDINALITY AS s(status, message, n)
            )
            INSERT INTO job_updates (job_id, seq, status, message, at)
            SELECT changed.job_id, COALESCE((SELECT MAX(seq) FROM job_updates WHERE job_id = $1), 0) + steps.n, steps.status,
                   steps.message, clock_timestamp()
            FROM changed, steps
            RETURNING at
            """,
            [jobId, status.rawValue, message, previous.rawValue] + parameters
                + [PostgresArray.literal(path.map(\.0.rawValue)), PostgresArray.literal(path.map(\.1))])
        guard !rows.isEmpty else {
            throw RPCFailure(code: .conflict, message: "job \(jobId.lowercased) is no longer \(previous.rawValue)")
        }
        guard publish else { return }
        let before = path.count > 1 ? path[path.count - 2].0 : previous
        let event = JobEvent(
            jobId: jobId, jobType: base.jobType, status: status, previousStatus: before, message: message,
            owner: base.owner, priority: base.priority, attempt: base.attempt, submittedAt: base.submittedAt,
            occurredAt: try rows.last!.date("at"), notification: status.isTerminal ? base.notification : nil,
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
            result: result, rerunOf: row.uuidIfPresent("rerun_of"), parentJobId: row.uuidIfPresent("parent_job_id"))
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
