import ConveyorModels
import Foundation
import Postgres

extension JobStore {
    /// The status changes after an event id, oldest first (see ``ListJobChanges``). The history's
    /// `at` is indexed by a BRIN index (rows are written in time order, so it costs next to
    /// nothing to keep); the exact order is (microseconds, job id, position).
    func changes(_ request: ListJobChanges) async throws -> JobStatusChanges {
        let limit = min(max(1, request.limit), ListJobChanges.maxLimit)
        let nowStatement = try PostgresStatement("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS micros")
        guard let after = request.after else {
            let rows = try await pool.withConnection { try await $0.pipeline([nowStatement]) }
            return JobStatusChanges(changes: [], now: JobStatusChange.eventId(micros: try rows[0][0].int64("micros")))
        }
        guard let cursor = JobStatusChange.cursor(after) else {
            throw MetadataError.invalid("not an event id", problems: [FieldProblem(field: "after", reason: "must be <microseconds>_<job id>_<position>")])
        }
        let statement = try PostgresStatement(
            """
            SELECT u.job_id, u.seq, u.status, u.message, u.at, j.owner, j.job_type,
                   (extract(epoch FROM u.at) * 1000000)::bigint AS micros
            FROM job_updates u JOIN jobs j ON j.job_id = u.job_id
            WHERE u.at >= to_timestamp($1::bigint / 1000000.0) - interval '1 millisecond'
              AND ((extract(epoch FROM u.at) * 1000000)::bigint, u.job_id, u.seq) > ($1::bigint, $2::uuid, $3::int)
              AND ($4::text IS NULL OR j.owner = $4)
            ORDER BY micros, u.job_id, u.seq
            LIMIT $5
            """, [cursor.micros, cursor.jobId, cursor.seq, request.owner, limit])
        let results = try await pool.withConnection { try await $0.pipeline([statement, nowStatement]) }
        let rows = results[0]
        var changes: [JobStatusChange] = []
        changes.reserveCapacity(rows.count)
        for row in rows {
            let jobId = try row.uuid("job_id")
            let seq = try row.int("seq")
            let micros = try row.int64("micros")
            changes.append(
                JobStatusChange(
                    eventId: JobStatusChange.eventId(micros: micros, jobId: jobId, seq: seq), jobId: jobId,
                    jobType: JobType(rawValue: try row.string("job_type")) ?? .runModel, owner: try row.string("owner"), seq: seq,
                    status: JobStatus(rawValue: try row.string("status")) ?? .queued, message: try row.string("message"),
                    at: try row.date("at")))
        }
        return JobStatusChanges(changes: changes, now: JobStatusChange.eventId(micros: try results[1][0].int64("micros")))
    }
}
