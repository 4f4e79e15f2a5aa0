import ConveyorModels
import Foundation
import PostgresClient

/// Submitting jobs: validation, object references pinned to versions, idempotency keys.
extension JobStore {
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

    func jobId(forIdempotencyKey key: String) async throws -> UUID? {
        try await pool.query("SELECT job_id FROM jobs WHERE idempotency_key = $1", [key]).first?.uuid("job_id")
    }

    /// Checks that the objects a job refers to exist with the right type, and pins "latest" to a version.
    func pinObjectVersions(_ definition: inout JobDefinition, _ connection: PostgresConnection) async throws {
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

    func resolve(
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
}
