import ConveyorModels
import Foundation
import Postgres

/// Re-running what is downstream of an input that has a newer version (``RerunDownstreamRules``):
/// the jobs that read an older version of the object run again on the latest, in one transaction,
/// or nothing does (a dry run says what would).
extension JobStore {
    /// The object ids a job's inputs name (of any section), as the GIN index `jobs_inputs` has them.
    static let inputsExpression = "jsonb_path_query_array(definition, '$.*.inputs.*.objectId')"

    /// - Throws: ``MetadataError`` `notFound` for an unknown object; `invalid` when a job cannot read
    ///   the latest version (for example, its schema no longer fits the model); `quota`.
    func rerunDownstream(_ request: RerunDownstream) async throws -> RerunChainPlan {
        let latest = try await objects.object(TagSelector(objectId: request.objectId))
        // Jobs of any section whose inputs name the object: top-level jobs only (the jobs of a group
        // are not found: their inputs are inside the group's definition) and only the newest of
        // each line of re-runs.
        let rows = try await pool.query(
            """
            SELECT job_id FROM jobs j
            WHERE \(Self.inputsExpression) ?| $1::text[] AND parent_job_id IS NULL
              AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.rerun_of = j.job_id)
            ORDER BY job_id
            """, [PostgresArray.literal([request.objectId.uuidString, request.objectId.lowercased])])
        var rerun: [(record: JobRecord, read: [String: Int])] = []
        var current: [UUID] = []
        var active: [UUID] = []
        for result in try await jobs(try rows.map { try $0.uuid("job_id") }) {
            let record = try result.get()
            switch RerunDownstreamRules.verdict(record, objectId: request.objectId, latestVersion: latest.objectVersion) {
            case .rerun(let read): rerun.append((record, read))
            case .current: current.append(record.jobId)
            case .active: active.append(record.jobId)
            }
        }

        // Each definition is checked again against the latest version, as a submission is.
        var planned: [PlannedRerun] = []
        for (record, _) in rerun {
            let definition = RerunDownstreamRules.definition(record.definition, latest: latest.selector)
            do {
                let pinned = try await pool.withConnection { connection in
                    try await pin(definition, with: ObjectResolver(objects: objects, connection: connection))
                }
                planned.append(PlannedRerun(rerunOf: record.jobId, jobId: request.dryRun ? record.jobId : UUID.timeOrdered(), definition: pinned))
            } catch MetadataError.invalid(let message, let problems) {
                throw MetadataError.invalid(
                    "job \(record.jobId.lowercased) cannot read version \(latest.objectVersion): \(message)", problems: problems)
            }
        }
        let steps = zip(rerun, planned).map { job, plan in
            RerunChainPlan.Step(
                rerunOf: job.record.jobId, jobType: job.record.jobType, previousStatus: job.record.status,
                jobId: request.dryRun ? nil : plan.jobId, dependsOn: plan.definition.dependsOn?.jobIds, readVersions: job.read)
        }
        if !request.dryRun, !planned.isEmpty { try await submitRerun(planned) }
        return RerunChainPlan(dryRun: request.dryRun, jobs: steps, reused: current, active: active, objectVersion: latest.objectVersion)
    }
}
