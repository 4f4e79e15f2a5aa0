import ConveyorModels
import Foundation
import PostgresClient

/// Reading jobs, their logs and objects; the scheduler's view of active jobs.
extension JobStore {
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
}
