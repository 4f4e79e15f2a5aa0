import ConveyorModels
import Foundation
import Postgres

/// Reading jobs, their logs and objects; the scheduler's view of active jobs.
extension JobStore {
    /// A job with its full history.
    /// - Throws: ``MetadataError`` (`notFound`).
    func job(_ jobId: UUID) async throws -> JobRecord {
        try await jobs([jobId])[0].get()
    }

    /// Jobs with their full histories (and a group's jobs), read in one round trip.
    func jobs(_ jobIds: [UUID]) async throws -> [Result<JobRecord, any Error>] {
        let ids = PostgresArray.literal(values: jobIds)
        let rows = try await pool.withConnection { connection in
            try await connection.pipeline([
                try PostgresStatement("SELECT * FROM jobs WHERE job_id = ANY($1::uuid[])", [ids]),
                try PostgresStatement(
                    "SELECT job_id, status, message, at FROM job_updates WHERE job_id = ANY($1::uuid[]) ORDER BY job_id, seq", [ids]),
                try PostgresStatement(
                    """
                    SELECT parent_job_id, job_id FROM jobs WHERE parent_job_id = ANY($1::uuid[])
                    ORDER BY parent_job_id, group_position
                    """, [ids]),
            ])
        }
        var updates: [UUID: [JobStatusUpdate]] = [:]
        for row in rows[1] { updates[try row.uuid("job_id"), default: []].append(try JobStore.update(row)) }
        var children: [UUID: [UUID]] = [:]
        for row in rows[2] { children[try row.uuid("parent_job_id"), default: []].append(try row.uuid("job_id")) }
        var records: [UUID: JobRecord] = [:]
        for row in rows[0] {
            var record = try JobStore.record(row, updates: updates[try row.uuid("job_id")] ?? [])
            if record.jobType == .jobGroup { record.childJobIds = children[record.jobId] ?? [] }
            records[record.jobId] = record
        }
        return jobIds.map { id in
            records[id].map { .success($0) } ?? .failure(MetadataError.notFound("no job \(id)"))
        }
    }

    /// Jobs matching the filters, sorted (newest first by default), one page at a time. The cursor
    /// holds the sort key and id of the last job of the previous page, so jobs that arrive meanwhile
    /// never shift a page.
    func list(_ request: ListJobs) async throws -> JobPage {
        let limit = max(1, min(request.limit, ListJobs.maxLimit))
        let sort = request.sort ?? .submittedAt
        let descending = request.descending ?? true
        var after: JobListCursor? = nil
        if let text = request.cursor {
            guard let decoded = JobListCursor.decode(text), decoded.sort == sort, decoded.descending == descending,
                decoded.isWellFormed
            else {
                throw MetadataError.invalid("invalid cursor", problems: [FieldProblem(field: "cursor", reason: "not a cursor returned by this API for this sort order")])
            }
            after = decoded
        }
        var filter = JobFilterSQL()
        filter.add(request)
        let key = sort.sqlExpression
        var conditions = filter.conditions
        if let after {
            conditions.append("(\(key), job_id) \(descending ? "<" : ">") (\(filter.bind(after.key))::\(sort.sqlType), \(filter.bind(after.jobId))::uuid)")
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let direction = descending ? "DESC" : "ASC"
        let sql = "SELECT *, (\(key))::text AS sort_key FROM jobs \(whereClause) ORDER BY \(key) \(direction), job_id \(direction) LIMIT \(filter.bind(limit + 1))"
        return try await pool.withConnection { connection in
            let rows = try await connection.query(sql, filter.parameters)
            let page = Array(rows.prefix(limit))
            let updates = try await self.updates(of: try page.map { try $0.uuid("job_id") }, connection)
            let jobs = try page.map { row in try JobStore.record(row, updates: updates[try row.uuid("job_id")] ?? []) }
            var next: String? = nil
            if rows.count > limit, let last = page.last {
                next = JobListCursor(sort: sort, descending: descending, key: try last.string("sort_key"), jobId: try last.uuid("job_id")).encoded()
            }
            var counts: JobCounts? = nil
            if request.includeCounts == true {
                var countFilter = JobFilterSQL()
                countFilter.add(request)
                let countWhere = countFilter.conditions.isEmpty ? "" : "WHERE " + countFilter.conditions.joined(separator: " AND ")
                let countRows = try await connection.query(
                    "SELECT status, count(*) AS n FROM jobs \(countWhere) GROUP BY status", countFilter.parameters)
                var byStatus: [String: Int] = [:]
                for row in countRows { byStatus[try row.string("status")] = try row.int("n") }
                counts = JobCounts(total: byStatus.values.reduce(0, +), byStatus: byStatus)
            }
            return JobPage(jobs: jobs, nextCursor: next, counts: counts)
        }
    }

    /// The log bytes from `offset` on, joined from ordered chunks up to the first gap (a chunk that
    /// has not arrived yet) and at most `limit` bytes.
    static func assemble(_ chunks: PostgresRows, from offset: Int, limit: Int? = nil) throws -> Data {
        var data = Data()
        var position = offset
        for chunk in chunks {
            let start = Int(try chunk.int64("byte_offset"))
            let bytes = try chunk.data("data")
            guard start <= position else { break }
            data.append(bytes.dropFirst(position - start))
            position = start + bytes.count
            if let limit, data.count >= limit { return data.prefix(limit) }
        }
        return data
    }

    /// The status histories of several jobs.
    func updates(of jobIds: [UUID], _ connection: PostgresConnection) async throws -> [UUID: [JobStatusUpdate]] {
        guard !jobIds.isEmpty else { return [:] }
        let rows = try await connection.query(
            "SELECT job_id, status, message, at FROM job_updates WHERE job_id = ANY($1::uuid[]) ORDER BY job_id, seq",
            [PostgresArray.literal(jobIds.map(\.lowercased))])
        var updates: [UUID: [JobStatusUpdate]] = [:]
        for row in rows { updates[try row.uuid("job_id"), default: []].append(try JobStore.update(row)) }
        return updates
    }

    /// A byte range of the job's log (its current attempt).
    func log(_ request: GetJobLog) async throws -> JobLog {
        guard request.offset >= 0 else {
            throw MetadataError.invalid("offset must not be negative", problems: [FieldProblem(field: "offset", reason: "must not be negative")])
        }
        return try await pool.withConnection { connection in
            guard let job = try await connection.query("SELECT attempt, status FROM jobs WHERE job_id = $1", [request.jobId]).first else {
                throw MetadataError.notFound("no job \(request.jobId)")
            }
            let attempt = try job.int("attempt")
            let terminal = JobStatus(rawValue: try job.string("status"))?.isTerminal ?? false
            let chunks = try await connection.query(
                """
                SELECT byte_offset, data FROM job_log_chunks
                WHERE job_id = $1 AND attempt = $2 AND byte_offset + length(data) > $3
                ORDER BY byte_offset
                """, [request.jobId, attempt, request.offset])
            let data = try JobStore.assemble(chunks, from: request.offset, limit: request.limit)
            return JobLog(jobId: request.jobId, offset: request.offset, data: data, complete: terminal, attempt: attempt)
        }
    }

    /// The bytes of log stored of each job's current attempt: the end of its last chunk, read from
    /// the chunks' primary key (only the last chunk of each job is read).
    func logSizes(_ request: GetLogSizes) async throws -> LogSizes {
        guard request.jobIds.count <= GetLogSizes.maxJobs else {
            throw MetadataError.invalid("too many jobs", problems: [FieldProblem(field: "jobIds", reason: "at most \(GetLogSizes.maxJobs)")])
        }
        guard !request.jobIds.isEmpty else { return LogSizes(sizes: [:]) }
        let rows = try await pool.query(
            """
            SELECT j.job_id, j.attempt, COALESCE(c.log_end, 0) AS bytes
            FROM jobs j
            LEFT JOIN LATERAL (
                SELECT byte_offset + length(data) AS log_end FROM job_log_chunks
                WHERE job_id = j.job_id AND attempt = j.attempt ORDER BY byte_offset DESC LIMIT 1
            ) c ON true
            WHERE j.job_id = ANY($1::uuid[])
            """, [PostgresArray.literal(values: request.jobIds)])
        var sizes: [String: LogSize] = [:]
        for row in rows {
            sizes[try row.uuid("job_id").lowercased] = LogSize(attempt: try row.int("attempt"), bytes: try row.int("bytes"))
        }
        return LogSizes(sizes: sizes)
    }

    /// Queued and running jobs, for the scheduler to rebuild its state: all at once, or a page in id
    /// order (from the partial index of active jobs).
    func active(_ request: ListActiveJobs = ListActiveJobs()) async throws -> ActiveJobs {
        let limit = request.limit.map { max(1, min($0, ListActiveJobs.maxLimit)) }
        let rows = try await pool.query(
            """
            SELECT job_id, job_type, owner, priority, status, status_message, attempt, worker_id, submitted_at,
                   COALESCE(attempt_history->'resources', definition->'resources') AS resources,
                   attempt_history->>'notBefore' AS not_before,
                   COALESCE(definition->'runModel'->'model'->>'objectId', definition->'runFlow'->'flow'->>'objectId',
                            definition->'importData'->'model'->>'objectId', definition->'exportData'->'model'->>'objectId') AS model_id
            FROM jobs WHERE status IN ('PENDING', 'QUEUED', 'SUBMITTED', 'RUNNING')
              AND ($1::uuid IS NULL OR job_id > $1::uuid)
            ORDER BY job_id LIMIT $2
            """, [request.after, limit])
        var queued: [JobEvent] = []
        var running: [ActiveAssignment] = []
        for row in rows {
            let status = try row.string("status")
            // Groups run in metadata, and a job waiting for its dependencies is not the scheduler's yet.
            let jobType = try row.string("job_type")
            if status == JobStatus.pending.rawValue || jobType == JobType.jobGroup.rawValue { continue }
            let type = JobType(rawValue: jobType) ?? .runModel
            let resources = try row.stringIfPresent("resources").map { try ConveyorJSON.decode(ResourceRequirements.self, from: Data($0.utf8)) }
            if status == JobStatus.queued.rawValue {
                queued.append(
                    JobEvent(
                        jobId: try row.uuid("job_id"), jobType: type, status: .queued, previousStatus: nil,
                        message: try row.string("status_message"), owner: try row.string("owner"),
                        priority: try row.int("priority"), attempt: try row.int("attempt"),
                        submittedAt: try row.date("submitted_at"), occurredAt: Date(), resources: resources,
                        notBefore: row.stringIfPresent("not_before").flatMap(Timestamp.parse), modelId: row.uuidIfPresent("model_id")))
            } else {
                running.append(
                    ActiveAssignment(
                        jobId: try row.uuid("job_id"), jobType: type, attempt: try row.int("attempt"),
                        workerId: row.stringIfPresent("worker_id"), owner: try row.string("owner"), priority: try row.int("priority"),
                        submittedAt: try row.date("submitted_at"), resources: resources))
            }
        }
        let next = limit != nil && rows.count == limit ? try rows.last?.uuid("job_id") : nil
        return ActiveJobs(queued: queued, running: running, next: next)
    }

    // MARK: Row mapping

    static func update(_ row: PostgresRow) throws -> JobStatusUpdate {
        JobStatusUpdate(
            status: JobStatus(rawValue: try row.string("status")) ?? .failed, message: try row.string("message"),
            at: try row.date("at"))
    }

    static func record(_ row: PostgresRow, updates: [JobStatusUpdate]) throws -> JobRecord {
        let definition = try ConveyorJSON.decode(JobDefinition.self, from: Data(try row.string("definition").utf8))
        let result = try row.stringIfPresent("result").map { try ConveyorJSON.decode(JobResult.self, from: Data($0.utf8)) }
        var record = JobRecord(
            jobId: try row.uuid("job_id"), jobType: definition.jobType, owner: try row.string("owner"),
            priority: try row.int("priority"), definition: definition,
            status: JobStatus(rawValue: try row.string("status")) ?? .failed,
            statusMessage: try row.string("status_message"), attempt: try row.int("attempt"),
            workerId: row.stringIfPresent("worker_id"), submittedAt: try row.date("submitted_at"),
            startedAt: row.dateIfPresent("started_at"), finishedAt: row.dateIfPresent("finished_at"), updates: updates,
            result: result, rerunOf: row.uuidIfPresent("rerun_of"), parentJobId: row.uuidIfPresent("parent_job_id"))
        // While it runs; an ended job's result holds the last state.
        if !record.status.isTerminal, let progress = row.stringIfPresent("progress") {
            record.progress = try? ConveyorJSON.decode(AttemptProgress.self, from: Data(progress.utf8))
        }
        if let delivery = row.stringIfPresent("notification_delivery") {
            record.notificationDelivery = try? ConveyorJSON.decode(NotificationDelivery.self, from: Data(delivery.utf8))
        }
        return record
    }
}
