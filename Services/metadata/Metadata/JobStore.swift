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

    // MARK: Submission

    /// Validates and records a job, answering only after the commit.
    /// - Throws: ``RPCFailure`` (`invalid`) listing every problem, with nothing written.
    func submit(_ definition: JobDefinition) async throws -> JobRecord {
        var definition = definition
        do {
            try validator.validate(definition)
        } catch let failure as ValidationFailure {
            throw RPCFailure(code: .invalid, message: "the job definition is invalid", problems: failure.problems)
        }
        if let key = definition.idempotencyKey, let existing = try await jobId(forIdempotencyKey: key) {
            return try await job(existing)
        }
        let jobId = UUID()
        let record: JobRecord
        do {
            record = try await pool.withTransaction { connection in
                try await pinObjectVersions(&definition, connection)
                let validated = "job definition validated"
                let queued = "waiting for a worker"
                let rows = try await connection.query(
                    """
                    WITH job AS (
                        INSERT INTO jobs (job_id, job_type, owner, priority, definition, status, status_message,
                                          idempotency_key, submitted_at)
                        VALUES ($1, $2, $3, $4, $5, 'QUEUED', $8, $6, clock_timestamp())
                        RETURNING submitted_at
                    ), history AS (
                        INSERT INTO job_updates (job_id, seq, status, message, at)
                        SELECT $1, 1, 'VALIDATED', $7, submitted_at FROM job
                        UNION ALL
                        SELECT $1, 2, 'QUEUED', $8, submitted_at FROM job
                    )
                    SELECT submitted_at FROM job
                    """,
                    [
                        jobId, definition.jobType.rawValue, definition.effectiveOwner, definition.effectivePriority,
                        try PostgresJSON(ConveyorJSON.encode(definition)), definition.idempotencyKey, validated, queued,
                    ])
                let submittedAt = try rows[0].date("submitted_at")
                try await writeToOutbox(
                    connection,
                    JobEvent(
                        jobId: jobId, jobType: definition.jobType, status: .queued, previousStatus: .validated,
                        message: queued, owner: definition.effectiveOwner, priority: definition.effectivePriority,
                        attempt: 0, submittedAt: submittedAt, occurredAt: submittedAt))
                return JobRecord(
                    jobId: jobId, jobType: definition.jobType, owner: definition.effectiveOwner,
                    priority: definition.effectivePriority, definition: definition, status: .queued, statusMessage: queued,
                    attempt: 0, workerId: nil, submittedAt: submittedAt, startedAt: nil, finishedAt: nil,
                    updates: [
                        JobStatusUpdate(status: .validated, message: validated, at: submittedAt),
                        JobStatusUpdate(status: .queued, message: queued, at: submittedAt),
                    ],
                    result: nil)
            }
        } catch let error as PostgresError where error.isUniqueViolation && definition.idempotencyKey != nil {
            // Another submission with the same key committed first: answer with its job.
            if let existing = try await self.jobId(forIdempotencyKey: definition.idempotencyKey!) {
                return try await job(existing)
            }
            throw error
        }
        eventsWritten()
        return record
    }

    private func jobId(forIdempotencyKey key: String) async throws -> UUID? {
        try await pool.query("SELECT job_id FROM jobs WHERE idempotency_key = $1", [key]).first?.uuid("job_id")
    }

    /// Checks that the objects a job refers to exist with the right type, and pins "latest" to a version.
    private func pinObjectVersions(_ definition: inout JobDefinition, _ connection: PostgresConnection) async throws {
        var problems: [FieldProblem] = []
        if let model = definition.runModel?.model {
            switch try await resolve(model, expecting: .model, field: "runModel.model", connection) {
            case .version(let version): definition.runModel!.model.objectVersion = version
            case .problem(let problem): problems.append(problem)
            }
            definition.runModel!.model.objectType = .model
        }
        if let data = definition.exportData?.data {
            switch try await resolve(data, expecting: .data, field: "exportData.data", connection) {
            case .version(let version): definition.exportData!.data.objectVersion = version
            case .problem(let problem): problems.append(problem)
            }
            definition.exportData!.data.objectType = .data
        }
        if !problems.isEmpty {
            throw RPCFailure(code: .invalid, message: "the job refers to objects that cannot be used", problems: problems)
        }
    }

    private func resolve(
        _ selector: ObjectSelector, expecting type: ObjectType, field: String, _ connection: PostgresConnection
    ) async throws -> ObjectResolution {
        let rows = try await connection.query(
            """
            SELECT object_type, object_version FROM objects
            WHERE object_id = $1 AND ($2::int IS NULL OR object_version = $2::int)
            ORDER BY object_version DESC LIMIT 1
            """, [selector.objectId, selector.objectVersion])
        guard let row = rows.first else {
            let version = selector.objectVersion.map { " version \($0)" } ?? ""
            return .problem(FieldProblem(field: "\(field).objectId", reason: "no object \(selector.objectId)\(version)"))
        }
        let actual = try row.string("object_type")
        guard actual == type.rawValue else {
            return .problem(FieldProblem(field: "\(field).objectId", reason: "is a \(actual) object, expected \(type.rawValue)"))
        }
        return .version(try row.int("object_version"))
    }

    // MARK: Reading

    /// A job with its full history.
    /// - Throws: ``RPCFailure`` (`notFound`).
    func job(_ jobId: UUID) async throws -> JobRecord {
        try await pool.withConnection { connection in
            guard let row = try await connection.query("SELECT * FROM jobs WHERE job_id = $1", [jobId]).first else {
                throw RPCFailure(code: .notFound, message: "no job \(jobId)")
            }
            let updates = try await connection.query(
                "SELECT status, message, at FROM job_updates WHERE job_id = $1 ORDER BY seq", [jobId])
            return try JobStore.record(row, updates: updates.map(JobStore.update))
        }
    }

    /// Jobs newest first; the cursor is the position of the last job of the previous page.
    func list(_ request: ListJobs) async throws -> JobPage {
        let limit = max(1, min(request.limit, ListJobs.maxLimit))
        var after: UUID? = nil
        if let cursor = request.cursor {
            guard let decoded = JobCursor.decode(cursor) else {
                throw RPCFailure(code: .invalid, message: "invalid cursor", problems: [FieldProblem(field: "cursor", reason: "not a cursor returned by this API")])
            }
            after = decoded
        }
        return try await pool.withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT * FROM jobs
                WHERE ($1::uuid IS NULL
                       OR (submitted_at, job_id) < (SELECT submitted_at, job_id FROM jobs WHERE job_id = $1::uuid))
                  AND ($2::text IS NULL OR status = $2::text)
                  AND ($3::text IS NULL OR job_type = $3::text)
                  AND ($4::text IS NULL OR owner = $4::text)
                ORDER BY submitted_at DESC, job_id DESC
                LIMIT $5
                """,
                [after, request.status?.rawValue, request.jobType?.rawValue, request.owner, limit + 1])
            let page = Array(rows.prefix(limit))
            let ids = try page.map { try $0.uuid("job_id").uuidString.lowercased() }
            let updateRows = try await connection.query(
                """
                SELECT job_id, status, message, at FROM job_updates
                WHERE job_id = ANY($1::uuid[]) ORDER BY job_id, seq
                """, ["{\(ids.joined(separator: ","))}"])
            var updates: [UUID: [JobStatusUpdate]] = [:]
            for row in updateRows { updates[try row.uuid("job_id"), default: []].append(try JobStore.update(row)) }
            let jobs = try page.map { row in try JobStore.record(row, updates: updates[try row.uuid("job_id")] ?? []) }
            let next = rows.count > limit ? jobs.last.map { JobCursor.encode($0.jobId) } : nil
            return JobPage(jobs: jobs, nextCursor: next)
        }
    }

    /// A byte range of the job's log (its current attempt).
    func log(_ request: GetJobLog) async throws -> JobLog {
        guard request.offset >= 0 else {
            throw RPCFailure(code: .invalid, message: "offset must not be negative", problems: [FieldProblem(field: "offset", reason: "must not be negative")])
        }
        return try await pool.withConnection { connection in
            guard let job = try await connection.query("SELECT attempt, status FROM jobs WHERE job_id = $1", [request.jobId]).first else {
                throw RPCFailure(code: .notFound, message: "no job \(request.jobId)")
            }
            let attempt = try job.int("attempt")
            let terminal = JobStatus(rawValue: try job.string("status"))?.isTerminal ?? false
            let chunks = try await connection.query(
                """
                SELECT byte_offset, data FROM job_log_chunks
                WHERE job_id = $1 AND attempt = $2 AND byte_offset + length(data) > $3
                ORDER BY byte_offset
                """, [request.jobId, attempt, request.offset])
            var data = Data()
            var position = request.offset
            for chunk in chunks {
                let offset = Int(try chunk.int64("byte_offset"))
                let bytes = try chunk.data("data")
                guard offset <= position else { break }  // a gap: a chunk has not arrived yet
                data.append(bytes.dropFirst(position - offset))
                position = offset + bytes.count
                if let limit = request.limit, data.count >= limit { break }
            }
            if let limit = request.limit, data.count > limit { data = data.prefix(limit) }
            return JobLog(jobId: request.jobId, offset: request.offset, data: data, complete: terminal)
        }
    }

    /// Queued and running jobs, for the scheduler to rebuild its state.
    func active() async throws -> ActiveJobs {
        let rows = try await pool.query(
            """
            SELECT job_id, job_type, owner, priority, status, status_message, attempt, worker_id, submitted_at
            FROM jobs WHERE status IN ('QUEUED', 'SUBMITTED', 'RUNNING')
            """)
        var queued: [JobEvent] = []
        var running: [ActiveAssignment] = []
        for row in rows {
            let type = JobType(rawValue: try row.string("job_type")) ?? .runModel
            if try row.string("status") == JobStatus.queued.rawValue {
                queued.append(
                    JobEvent(
                        jobId: try row.uuid("job_id"), jobType: type, status: .queued, previousStatus: nil,
                        message: try row.string("status_message"), owner: try row.string("owner"),
                        priority: try row.int("priority"), attempt: try row.int("attempt"),
                        submittedAt: try row.date("submitted_at"), occurredAt: Date()))
            } else {
                running.append(
                    ActiveAssignment(
                        jobId: try row.uuid("job_id"), jobType: type, attempt: try row.int("attempt"),
                        workerId: row.stringIfPresent("worker_id")))
            }
        }
        return ActiveJobs(queued: queued, running: running)
    }

    /// One object version (the latest when the selector names none).
    func object(_ selector: ObjectSelector) async throws -> ObjectRecord {
        let rows = try await pool.query(
            """
            SELECT * FROM objects WHERE object_id = $1 AND ($2::int IS NULL OR object_version = $2::int)
            ORDER BY object_version DESC LIMIT 1
            """, [selector.objectId, selector.objectVersion])
        guard let row = rows.first else {
            throw RPCFailure(code: .notFound, message: "no object \(selector.objectId)")
        }
        let record = try JobStore.object(row)
        if let type = selector.objectType, type != record.objectType {
            throw RPCFailure(code: .invalid, message: "object \(selector.objectId) is a \(record.objectType.rawValue), not a \(type.rawValue)")
        }
        return record
    }

    // MARK: Workers and the scheduler

    /// Records a worker's claim on an attempt: QUEUED → SUBMITTED → RUNNING, fenced by the attempt number.
    func claim(_ request: ClaimJob) async throws -> ClaimResult {
        let result: ClaimResult = try await pool.withTransaction { connection in
            guard let row = try await connection.query("SELECT * FROM jobs WHERE job_id = $1 FOR UPDATE", [request.jobId]).first else {
                return ClaimResult(granted: false, reason: "no such job")
            }
            let status = JobStatus(rawValue: try row.string("status"))!
            let attempt = try row.int("attempt")
            if status.isTerminal { return ClaimResult(granted: false, reason: "job is \(status.rawValue)") }
            if status == .running, attempt == request.attempt, row.stringIfPresent("worker_id") == request.workerId {
                // The same claim again (its reply was lost): grant it again, change nothing.
                let definition = try ConveyorJSON.decode(JobDefinition.self, from: Data(try row.string("definition").utf8))
                return ClaimResult(granted: true, definition: definition)
            }
            if request.attempt <= attempt {
                return ClaimResult(granted: false, reason: "attempt \(request.attempt) is stale (current attempt \(attempt))")
            }
            guard status == .queued else { return ClaimResult(granted: false, reason: "job is \(status.rawValue), not QUEUED") }
            _ = try await connection.query(
                """
                UPDATE jobs SET attempt = $2, worker_id = $3,
                       lease_until = clock_timestamp() + make_interval(secs => $4),
                       started_at = COALESCE(started_at, clock_timestamp())
                WHERE job_id = $1
                """, [request.jobId, request.attempt, request.workerId, request.leaseSeconds])
            let base = try JobStore.eventBase(row, attempt: request.attempt)
            try await transition(
                connection, jobId: request.jobId, to: .submitted,
                message: "dispatched to worker \(request.workerId) (attempt \(request.attempt))", from: .queued, base: base,
                publish: false)
            try await transition(
                connection, jobId: request.jobId, to: .running, message: "running on worker \(request.workerId)",
                from: .submitted, base: base)
            let definition = try ConveyorJSON.decode(JobDefinition.self, from: Data(try row.string("definition").utf8))
            return ClaimResult(granted: true, definition: definition)
        }
        if result.granted { eventsWritten() }
        return result
    }

    /// Ends a job that is not terminal yet as CANCELLED (compare-and-set on the locked row).
    /// - Throws: ``RPCFailure`` `notFound`, or `conflict` when the job already ended.
    func cancel(_ request: CancelJob) async throws -> JobRecord {
        try await pool.withTransaction { connection in
            guard let row = try await connection.query("SELECT * FROM jobs WHERE job_id = $1 FOR UPDATE", [request.jobId]).first else {
                throw RPCFailure(code: .notFound, message: "no job \(request.jobId)")
            }
            let status = JobStatus(rawValue: try row.string("status"))!
            guard status.canTransition(to: .cancelled) else {
                throw RPCFailure(code: .conflict, message: "job \(request.jobId) is already \(status.rawValue)")
            }
            _ = try await connection.query(
                "UPDATE jobs SET finished_at = clock_timestamp(), lease_until = NULL WHERE job_id = $1", [request.jobId])
            let reason = request.reason.map { "cancelled: \($0)" } ?? "cancelled on request"
            try await transition(
                connection, jobId: request.jobId, to: .cancelled, message: reason, from: status,
                base: try JobStore.eventBase(row, attempt: try row.int("attempt")))
        }
        eventsWritten()
        return try await job(request.jobId)
    }

    /// Puts a dispatched or running attempt back in the queue (its worker went silent).
    func requeue(_ request: RequeueJob) async throws -> RequeueResult {
        let result: RequeueResult = try await pool.withTransaction { connection in
            guard let row = try await connection.query("SELECT * FROM jobs WHERE job_id = $1 FOR UPDATE", [request.jobId]).first else {
                return RequeueResult(requeued: false)
            }
            let status = JobStatus(rawValue: try row.string("status"))!
            guard [.submitted, .running].contains(status), try row.int("attempt") == request.attempt else {
                return RequeueResult(requeued: false)
            }
            _ = try await connection.query("UPDATE jobs SET worker_id = NULL, lease_until = NULL WHERE job_id = $1", [request.jobId])
            try await transition(
                connection, jobId: request.jobId, to: .queued, message: "re-queued: \(request.reason)", from: status,
                base: try JobStore.eventBase(row, attempt: request.attempt))
            return RequeueResult(requeued: true)
        }
        if result.requeued { eventsWritten() }
        return result
    }

    /// Applies a worker's report. Reports of a stale attempt or about a terminal job change nothing.
    func apply(_ report: JobReport) async throws {
        switch report.kind {
        case .log(let chunk):
            _ = try await pool.query(
                """
                INSERT INTO job_log_chunks (job_id, attempt, byte_offset, data)
                SELECT $1, $2, $3, $4 FROM jobs WHERE job_id = $1 AND attempt = $2
                ON CONFLICT DO NOTHING
                """, [report.jobId, report.attempt, chunk.offset, chunk.data])
        case .finished(let outcome):
            let applied = try await finish(report, outcome)
            if applied { eventsWritten() }
        }
    }

    private func finish(_ report: JobReport, _ outcome: JobOutcome) async throws -> Bool {
        try await pool.withTransaction { connection in
            guard let row = try await connection.query("SELECT * FROM jobs WHERE job_id = $1 FOR UPDATE", [report.jobId]).first else {
                return false
            }
            let status = JobStatus(rawValue: try row.string("status"))!
            guard try row.int("attempt") == report.attempt, !status.isTerminal, status.canTransition(to: outcome.status) else {
                logger.debug(
                    "report ignored", metadata: ["jobId": "\(report.jobId)", "attempt": "\(report.attempt)", "status": "\(status)"])
                return false
            }
            var objects: [ObjectSelector] = []
            for object in outcome.objects {
                let id = UUID()
                _ = try await connection.query(
                    """
                    INSERT INTO objects (object_id, object_version, object_type, attributes, storage_path, job_id)
                    VALUES ($1, 1, $2, $3, $4, $5)
                    """,
                    [id, object.objectType.rawValue, try PostgresJSON(ConveyorJSON.encode(object.attributes)), object.storagePath, report.jobId])
                objects.append(ObjectSelector(objectType: object.objectType, objectId: id, objectVersion: 1))
            }
            let result = JobResult(exitCode: outcome.exitCode, objects: objects, logBytes: outcome.logBytes)
            _ = try await connection.query(
                "UPDATE jobs SET result = $2, finished_at = clock_timestamp(), lease_until = NULL WHERE job_id = $1",
                [report.jobId, try PostgresJSON(ConveyorJSON.encode(result))])
            var base = try JobStore.eventBase(row, attempt: report.attempt)
            base.exitCode = outcome.exitCode
            base.logTail = try await logTail(connection, jobId: report.jobId, attempt: report.attempt)
            try await transition(connection, jobId: report.jobId, to: outcome.status, message: outcome.message, from: status, base: base)
            return true
        }
    }

    private func logTail(_ connection: PostgresConnection, jobId: UUID, attempt: Int) async throws -> String {
        let rows = try await connection.query(
            """
            SELECT data FROM job_log_chunks WHERE job_id = $1 AND attempt = $2
            ORDER BY byte_offset DESC LIMIT 8
            """, [jobId, attempt])
        var data = Data()
        for row in rows.reversed() { data.append(try row.data("data")) }
        let text = String(decoding: data.suffix(8192), as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        return lines.suffix(Self.logTailLines).joined(separator: "\n")
    }

    // MARK: Status changes

    /// Moves a locked job to `status` (a legal transition), records it and writes the event to the outbox.
    private func transition(
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
    private func writeToOutbox(_ connection: PostgresConnection, _ event: JobEvent) async throws {
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
