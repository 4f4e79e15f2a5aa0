import ConveyorModels
import Foundation
import PostgresClient

/// Submitting jobs: validation (also as a dry run), object references pinned to exact versions,
/// idempotency keys, re-runs, and the child jobs of a JOB_GROUP.
extension JobStore {
    /// Checks a definition completely without writing anything.
    /// - Throws: ``RPCFailure`` (`invalid`) listing every problem.
    func validate(_ definition: JobDefinition) async throws -> JobValidation {
        try checkDefinition(definition)
        let pinned = try await pool.withConnection { try await pin(definition, $0) }
        return JobValidation(status: .validated, definition: pinned)
    }

    /// Validates and records a job, answering only after the commit.
    /// - Throws: ``RPCFailure`` (`invalid`) listing every problem, with nothing written.
    func submit(_ definition: JobDefinition, rerunOf: UUID? = nil) async throws -> JobRecord {
        try checkDefinition(definition)
        if let key = definition.idempotencyKey, let existing = try await jobId(forIdempotencyKey: key) {
            return try await job(existing)
        }
        let inserted: InsertedJob
        do {
            inserted = try await pool.withTransaction { connection in
                let pinned = try await pin(definition, connection)
                return try await insertJob(connection, pinned, rerunOf: rerunOf)
            }
        } catch let error as PostgresError where error.isUniqueViolation && definition.idempotencyKey != nil {
            // Another submission with the same key committed first: answer with its job.
            if let existing = try await self.jobId(forIdempotencyKey: definition.idempotencyKey!) {
                return try await job(existing)
            }
            throw error
        }
        eventsWritten()
        // A group's record is read back (it has children); any other job's is known already.
        return inserted.record.jobType == .jobGroup ? try await job(inserted.record.jobId) : inserted.record
    }

    /// Submits a finished job again with its recorded definition: the same pinned object and tag versions.
    /// - Throws: ``RPCFailure`` `notFound`, or `conflict` while the job has not ended.
    func rerun(_ request: RerunJob) async throws -> JobRecord {
        let original = try await job(request.jobId)
        guard original.status.isTerminal else {
            throw RPCFailure(code: .conflict, message: "job \(request.jobId.lowercased) is \(original.status.rawValue); only a finished job can be re-run")
        }
        guard original.parentJobId == nil else {
            throw RPCFailure(code: .conflict, message: "job \(request.jobId.lowercased) is part of group \(original.parentJobId!.lowercased); re-run the group")
        }
        var definition = original.definition
        definition.idempotencyKey = request.idempotencyKey
        return try await submit(definition.clearingOutputs(), rerunOf: original.jobId)
    }

    func jobId(forIdempotencyKey key: String) async throws -> UUID? {
        try await pool.query("SELECT job_id FROM jobs WHERE idempotency_key = $1", [key]).first?.uuid("job_id")
    }

    private func checkDefinition(_ definition: JobDefinition) throws {
        do {
            try validator.validate(definition)
        } catch let failure as ValidationFailure {
            throw RPCFailure(code: .invalid, message: "the job definition is invalid", problems: failure.problems)
        }
    }

    /// Resolves every object the job refers to and pins it to the exact version current now.
    func pin(_ definition: JobDefinition, _ connection: PostgresConnection) async throws -> JobDefinition {
        let result = try await JobReferenceCheck.pin(definition) { selector in
            try await objects.resolve(selector, connection)
        }
        var problems = storageProblems(definition, at: "")
        switch result {
        case .success(let pinned) where problems.isEmpty: return pinned
        case .success: break
        case .failure(let failure): problems = failure.problems + problems
        }
        throw RPCFailure(code: .invalid, message: "the job refers to objects or files that cannot be used", problems: problems)
    }

    /// Files to import that are not in their external storage (checked where this service can see
    /// the storage; the importer checks again when it runs).
    func storageProblems(_ definition: JobDefinition, at prefix: String) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        for (name, location) in (definition.importData?.imports ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let root = externalStorages[location.effectiveStorage],
                JobValidator.relativePathProblem(location.path, allowEmpty: false) == nil
            else { continue }
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: root + "/" + location.path, isDirectory: &isDirectory) || isDirectory.boolValue {
                problems.append(FieldProblem(field: "\(prefix)importData.imports.\(name).path", reason: "there is no file \(location.effectiveStorage):\(location.path)"))
            }
        }
        for (index, child) in (definition.jobGroup?.jobs ?? []).enumerated() {
            problems += storageProblems(child, at: "\(prefix)jobGroup.jobs[\(index)].")
        }
        return problems
    }

    /// Inserts a job (and, for a group, the children that start now) with its history, its JOB
    /// object and its queued event, in the caller's transaction.
    @discardableResult
    func insertJob(
        _ connection: PostgresConnection, _ definition: JobDefinition, rerunOf: UUID? = nil, parent: UUID? = nil,
        position: Int? = nil
    ) async throws -> InsertedJob {
        let jobId = UUID()
        let isGroup = definition.jobType == .jobGroup
        let validated = "job definition validated"
        let queued = isGroup ? "group accepted" : "waiting for a worker"
        let status: JobStatus = isGroup ? .running : .queued
        let message = isGroup ? "running \(definition.jobGroup!.jobs.count) jobs \(definition.jobGroup!.groupType == .sequential ? "one after another" : "at once")" : queued
        let rows = try await connection.query(
            """
            WITH job AS (
                INSERT INTO jobs (job_id, job_type, owner, priority, definition, status, status_message,
                                  idempotency_key, submitted_at, started_at, labels, rerun_of, parent_job_id, group_position)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, clock_timestamp(), CASE WHEN $6 = 'RUNNING' THEN clock_timestamp() END,
                        $9, $10, $11, $12)
                RETURNING submitted_at
            ), history AS (
                INSERT INTO job_updates (job_id, seq, status, message, at)
                SELECT $1, 1, 'VALIDATED', $13, submitted_at FROM job
                UNION ALL SELECT $1, 2, 'QUEUED', $14, submitted_at FROM job
                UNION ALL SELECT $1, 3, 'SUBMITTED', 'child jobs submitted', submitted_at FROM job WHERE $6 = 'RUNNING'
                UNION ALL SELECT $1, 4, 'RUNNING', $7, submitted_at FROM job WHERE $6 = 'RUNNING'
            )
            SELECT submitted_at FROM job
            """,
            [
                jobId, definition.jobType.rawValue, definition.effectiveOwner, definition.effectivePriority,
                try PostgresJSON(ConveyorJSON.encode(definition)), status.rawValue, message, parent == nil ? definition.idempotencyKey : nil,
                try PostgresJSON(ConveyorJSON.encode(definition.labels ?? [:])), rerunOf, parent, position, validated, queued,
            ])
        let submittedAt = try rows[0].date("submitted_at")
        _ = try await objects.insert(
            connection, definition: .job(definition),
            attributes: [
                "conveyor_job_type": .string(definition.jobType.rawValue), "conveyor_owner": .string(definition.effectiveOwner),
            ],
            storagePath: nil, jobId: jobId, objectId: jobId)
        try await writeToOutbox(
            connection,
            JobEvent(
                jobId: jobId, jobType: definition.jobType, status: status, previousStatus: isGroup ? .submitted : .validated,
                message: message, owner: definition.effectiveOwner, priority: definition.effectivePriority,
                attempt: 0, submittedAt: submittedAt, occurredAt: submittedAt))
        if let group = definition.jobGroup {
            let starting = group.groupType == .sequential ? Array(group.jobs.prefix(1)) : group.jobs
            for (index, child) in starting.enumerated() {
                try await insertJob(connection, child.inheriting(from: definition), parent: jobId, position: index)
            }
        }
        var updates = [
            JobStatusUpdate(status: .validated, message: validated, at: submittedAt),
            JobStatusUpdate(status: .queued, message: queued, at: submittedAt),
        ]
        if isGroup {
            updates += [
                JobStatusUpdate(status: .submitted, message: "child jobs submitted", at: submittedAt),
                JobStatusUpdate(status: .running, message: message, at: submittedAt),
            ]
        }
        return InsertedJob(
            record: JobRecord(
                jobId: jobId, jobType: definition.jobType, owner: definition.effectiveOwner, priority: definition.effectivePriority,
                definition: definition, status: status, statusMessage: message, attempt: 0, workerId: nil, submittedAt: submittedAt,
                startedAt: isGroup ? submittedAt : nil, finishedAt: nil, updates: updates, result: nil, rerunOf: rerunOf,
                parentJobId: parent))
    }
}

/// A job just inserted, as its record reads right after the commit.
struct InsertedJob {
    var record: JobRecord
}

extension JobDefinition {
    /// A child of a group: the group's owner and priority unless it sets its own.
    func inheriting(from group: JobDefinition) -> JobDefinition {
        var child = self
        child.owner = child.owner ?? group.owner
        child.priority = child.priority ?? group.priority
        return child
    }

    /// The definition without the outputs the platform filled in, for submitting it again.
    func clearingOutputs() -> JobDefinition {
        var copy = self
        copy.runModel?.outputs = nil
        copy.runFlow?.outputs = nil
        copy.importData?.outputs = nil
        copy.exportData?.outputs = nil
        if var group = copy.jobGroup {
            group.jobs = group.jobs.map { $0.clearingOutputs() }
            copy.jobGroup = group
        }
        return copy
    }
}
