import ConveyorModels
import Foundation
import PostgresClient

/// What workers and the scheduler change: claims, re-queues, cancellations and reports.
extension JobStore {
    /// Records a worker's claim on an attempt: QUEUED → SUBMITTED → RUNNING, fenced by the attempt number.
    func claim(_ request: ClaimJob) async throws -> ClaimResult {
        let result: ClaimResult = try await pool.withTransaction { connection in
            guard let row = try await connection.query("SELECT * FROM jobs WHERE job_id = $1 FOR UPDATE", [request.jobId]).first else {
                return ClaimResult(granted: false, reason: "no such job")
            }
            let status = JobStatus(rawValue: try row.string("status"))!
            let attempt = try row.int("attempt")
            if status.isTerminal { return ClaimResult(granted: false, reason: "job is \(status.rawValue)") }
            if let parent = row.uuidIfPresent("parent_job_id"),
                let parentStatus = try await connection.query("SELECT status FROM jobs WHERE job_id = $1", [parent]).first
                    .map({ JobStatus(rawValue: try $0.string("status")) }) ?? nil,
                parentStatus.isTerminal
            {
                try await cancel(connection, jobId: request.jobId, message: "cancelled: its group is \(parentStatus.rawValue)", cascading: true)
                return ClaimResult(granted: false, reason: "its group is \(parentStatus.rawValue)")
            }
            if status == .running, attempt == request.attempt, row.stringIfPresent("worker_id") == request.workerId {
                // The same claim again (its reply was lost): grant it again, change nothing.
                let definition = try ConveyorJSON.decode(JobDefinition.self, from: Data(try row.string("definition").utf8))
                return ClaimResult(granted: true, definition: definition)
            }
            if request.attempt <= attempt {
                return ClaimResult(granted: false, reason: "attempt \(request.attempt) is stale (current attempt \(attempt))")
            }
            guard status == .queued else { return ClaimResult(granted: false, reason: "job is \(status.rawValue), not QUEUED") }
            let base = try JobStore.eventBase(row, attempt: request.attempt)
            try await transition(
                connection, jobId: request.jobId,
                through: [
                    (.submitted, "dispatched to worker \(request.workerId) (attempt \(request.attempt))"),
                    (.running, "running on worker \(request.workerId)"),
                ],
                from: .queued, base: base,
                assignments: """
                    attempt = $5, worker_id = $6, lease_until = clock_timestamp() + make_interval(secs => $7),
                    started_at = COALESCE(started_at, clock_timestamp())
                    """,
                [request.attempt, request.workerId, request.leaseSeconds])
            let definition = try ConveyorJSON.decode(JobDefinition.self, from: Data(try row.string("definition").utf8))
            return ClaimResult(granted: true, definition: definition)
        }
        if result.granted { eventsWritten() }
        return result
    }

    /// Ends a job that is not terminal yet as CANCELLED (compare-and-set on the locked row); a
    /// group's unfinished jobs are cancelled with it, in the same transaction.
    /// - Throws: ``RPCFailure`` `notFound`, or `conflict` when the job already ended.
    func cancel(_ request: CancelJob) async throws -> JobRecord {
        try await pool.withTransaction { connection in
            guard let row = try await connection.query("SELECT status FROM jobs WHERE job_id = $1", [request.jobId]).first else {
                throw RPCFailure(code: .notFound, message: "no job \(request.jobId.lowercased)")
            }
            let status = JobStatus(rawValue: try row.string("status"))!
            guard !status.isTerminal else {
                throw RPCFailure(code: .conflict, message: "job \(request.jobId.lowercased) is already \(status.rawValue)")
            }
            let reason = request.reason.map { "cancelled: \($0)" } ?? "cancelled on request"
            guard try await cancel(connection, jobId: request.jobId, message: reason) else {
                throw RPCFailure(code: .conflict, message: "job \(request.jobId.lowercased) ended meanwhile")
            }
        }
        eventsWritten()
        return try await job(request.jobId)
    }

    /// Cancels one job and its unfinished children (children first: locks are taken from the leaves
    /// up, the same order in which a finishing child locks its group). Returns false when it had ended.
    @discardableResult
    func cancel(_ connection: PostgresConnection, jobId: UUID, message: String, cascading: Bool = false) async throws -> Bool {
        let children = try await connection.query(
            "SELECT job_id FROM jobs WHERE parent_job_id = $1 AND status NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED') ORDER BY job_id",
            [jobId])
        for child in children {
            try await cancel(connection, jobId: try child.uuid("job_id"), message: "cancelled with its group: \(message)", cascading: true)
        }
        guard let row = try await connection.query("SELECT * FROM jobs WHERE job_id = $1 FOR UPDATE", [jobId]).first else { return false }
        let status = JobStatus(rawValue: try row.string("status"))!
        guard status.canTransition(to: .cancelled) else { return false }
        // A child started while the group was being locked (its predecessor finished meanwhile).
        for child in try await connection.query(
            "SELECT job_id FROM jobs WHERE parent_job_id = $1 AND status NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED')", [jobId])
        {
            try await cancel(connection, jobId: try child.uuid("job_id"), message: "cancelled with its group: \(message)", cascading: true)
        }
        let result = JobResult(status: .cancelled, message: message, exitCode: nil, objects: [], logBytes: 0)
        try await transition(
            connection, jobId: jobId, to: .cancelled, message: message, from: status,
            base: try JobStore.eventBase(row, attempt: try row.int("attempt")),
            assignments: JobStore.ending, [try PostgresJSON(ConveyorJSON.encode(result))])
        if !cascading, let parent = row.uuidIfPresent("parent_job_id") {
            try await childEnded(connection, parentId: parent)
        }
        return true
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
            try await transition(
                connection, jobId: request.jobId, to: .queued, message: "re-queued: \(request.reason)", from: status,
                base: try JobStore.eventBase(row, attempt: request.attempt), assignments: "worker_id = NULL, lease_until = NULL")
            return RequeueResult(requeued: true)
        }
        if result.requeued { eventsWritten() }
        return result
    }

    /// Applies a worker's report. Reports of a stale attempt or about a terminal job change nothing.
    func apply(_ report: JobReport) async throws {
        switch report.kind {
        case .log(let chunk):
            guard let data = LogCap.kept(chunk, cap: logCapBytes) else { return }
            _ = try await pool.query(
                """
                INSERT INTO job_log_chunks (job_id, attempt, byte_offset, data)
                SELECT $1, $2, $3, $4 FROM jobs WHERE job_id = $1 AND attempt = $2
                ON CONFLICT DO NOTHING
                """, [report.jobId, report.attempt, chunk.offset, data])
        case .finished(let outcome):
            let applied = try await finish(report, outcome)
            if applied { eventsWritten() }
        }
    }

    func finish(_ report: JobReport, _ outcome: JobOutcome) async throws -> Bool {
        // The complete log is kept as a FILE (written before the transaction: storage is append-only
        // and the path is unique per attempt, so a retried report finds it there).
        let log = try await completeLog(jobId: report.jobId, attempt: report.attempt)
        try writeLogFile(log, jobId: report.jobId, attempt: report.attempt)
        return try await pool.withTransaction { connection in
            guard let row = try await connection.query("SELECT * FROM jobs WHERE job_id = $1 FOR UPDATE", [report.jobId]).first else {
                return false
            }
            let status = JobStatus(rawValue: try row.string("status"))!
            if status == .cancelled, report.attempt > 0, try row.int("attempt") == report.attempt {
                // The attempt stopped after the job was cancelled: keep its log with the result.
                try await attachLog(connection, row, log, outcome, attempt: report.attempt)
                return false
            }
            guard try row.int("attempt") == report.attempt, !status.isTerminal, status.canTransition(to: outcome.status) else {
                logger.debug(
                    "report ignored", metadata: ["jobId": "\(report.jobId)", "attempt": "\(report.attempt)", "status": "\(status)"])
                return false
            }
            var registered: [TagSelector] = []
            var outputs: [String: TagSelector] = [:]
            for object in outcome.objects {
                let record = try await objects.insert(
                    connection, definition: object.definition, attributes: object.attributes, storagePath: object.storagePath,
                    jobId: report.jobId, prior: object.priorVersion.map { TagSelector(objectId: $0.objectId) })
                registered.append(record.selector)
                if let name = object.outputName { outputs[name] = record.selector }
            }
            let logFile = try await storeLogFile(connection, log, jobId: report.jobId, attempt: report.attempt)
            let result = JobResult(
                status: outcome.status, message: outcome.message, exitCode: outcome.exitCode, objects: registered,
                outputs: outputs.isEmpty ? nil : outputs, logFile: logFile, logBytes: max(outcome.logBytes, log.count),
                logTruncated: log.count > logCapBytes ? true : nil, resourceUsage: outcome.resourceUsage)
            var base = try JobStore.eventBase(row, attempt: report.attempt)
            base.exitCode = outcome.exitCode
            base.logTail = JobStore.tail(of: log)
            try await transition(
                connection, jobId: report.jobId, to: outcome.status, message: outcome.message, from: status, base: base,
                assignments: JobStore.ending, [try PostgresJSON(ConveyorJSON.encode(result))])
            if let parent = row.uuidIfPresent("parent_job_id") {
                try await childEnded(connection, parentId: parent)
            }
            return true
        }
    }

    /// Adds the log FILE of the attempt that ran to a cancelled job's result (once).
    private func attachLog(_ connection: PostgresConnection, _ row: PostgresRow, _ log: Data, _ outcome: JobOutcome, attempt: Int) async throws {
        let jobId = try row.uuid("job_id")
        var result = try row.stringIfPresent("result").map { try ConveyorJSON.decode(JobResult.self, from: Data($0.utf8)) }
            ?? JobResult(status: .cancelled, exitCode: nil, objects: [], logBytes: 0)
        guard result.logFile == nil else { return }
        result.logFile = try await storeLogFile(connection, log, jobId: jobId, attempt: attempt)
        result.logBytes = max(outcome.logBytes, log.count)
        result.logTruncated = log.count > logCapBytes ? true : nil
        result.resourceUsage = result.resourceUsage ?? outcome.resourceUsage
        _ = try await connection.query("UPDATE jobs SET result = $2 WHERE job_id = $1", [jobId, try PostgresJSON(ConveyorJSON.encode(result))])
    }

    /// The row changes of a job's end, with its result record as parameter `$5`.
    static let ending = "finished_at = clock_timestamp(), lease_until = NULL, result = $5"

    /// The whole log of an attempt, in order (up to the first gap).
    func completeLog(jobId: UUID, attempt: Int) async throws -> Data {
        let chunks = try await pool.query(
            "SELECT byte_offset, data FROM job_log_chunks WHERE job_id = $1 AND attempt = $2 ORDER BY byte_offset",
            [jobId, attempt])
        return try JobStore.assemble(chunks, from: 0)
    }

    /// Where an attempt's complete log is kept in internal storage.
    static func logFilePath(jobId: UUID, attempt: Int) -> String {
        "logs/\(jobId.lowercased)/attempt-\(attempt).log"
    }

    /// Writes an attempt's complete log to internal storage (once: storage is append-only and the
    /// path is the attempt's, so a retried report finds it there).
    func writeLogFile(_ log: Data, jobId: UUID, attempt: Int) throws {
        let path = Self.logFilePath(jobId: jobId, attempt: attempt)
        if !FileManager.default.fileExists(atPath: objects.storage.path(path)) {
            try objects.storage.store(log, at: path)
        }
    }

    /// Registers an attempt's log file (written by ``writeLogFile(_:jobId:attempt:)``) as a FILE object.
    private func storeLogFile(_ connection: PostgresConnection, _ log: Data, jobId: UUID, attempt: Int) async throws -> TagSelector {
        let record = try await objects.insert(
            connection,
            definition: .file(FileDefinition(name: "\(jobId.lowercased)-attempt-\(attempt).log", mimeType: "text/plain", sizeBytes: log.count, sha256: ContentDigest.sha256(log))),
            attributes: ["conveyor_job_id": .string(jobId.lowercased), "conveyor_kind": .string("job_log")],
            storagePath: Self.logFilePath(jobId: jobId, attempt: attempt), jobId: jobId)
        return record.selector
    }

    /// The last lines of a log, for the end-of-job e-mail.
    static func tail(of log: Data) -> String {
        let text = String(decoding: log.suffix(8192), as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        return lines.suffix(logTailLines).joined(separator: "\n")
    }
}
