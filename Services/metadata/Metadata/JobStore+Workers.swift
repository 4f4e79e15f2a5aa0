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

    func finish(_ report: JobReport, _ outcome: JobOutcome) async throws -> Bool {
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

    func logTail(_ connection: PostgresConnection, jobId: UUID, attempt: Int) async throws -> String {
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
}
