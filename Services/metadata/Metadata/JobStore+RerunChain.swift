import ConveyorModels
import Foundation
import Postgres

/// Re-running a dependency chain from a job that did not succeed (``RerunChainRules``): only what
/// is needed runs again, in one transaction, or nothing does (a dry run says what would). Within a
/// job run again, a flow keeps the nodes that finished and a group the jobs that succeeded.
extension JobStore {
    /// - Throws: ``MetadataError`` `notFound`; `conflict` while the job has not ended or when it is
    ///   part of a group; `quota` when the new jobs would put an owner past `quotas.maxQueuedPerOwner`.
    func rerunChain(_ request: RerunChain) async throws -> RerunChainPlan {
        let first = try await jobToRerun(request.jobId)

        // The chain, level by level: the jobs that depend on the jobs run again so far.
        var rerun: [JobRecord] = [first]
        var seen: Set<UUID> = [first.jobId]
        var reused: [UUID] = []
        var active: [UUID] = []
        var frontier = [first.jobId]
        while !frontier.isEmpty {
            let rows = try await pool.query(
                """
                SELECT job_id, status FROM jobs
                WHERE definition ? 'dependsOn' AND definition -> 'dependsOn' -> 'jobIds' ?| $1::text[]
                ORDER BY job_id
                """, [PostgresArray.literal(frontier.flatMap { [$0.uuidString, $0.lowercased] })])
            var next: [UUID] = []
            for row in rows {
                let id = try row.uuid("job_id")
                guard seen.insert(id).inserted, let status = JobStatus(rawValue: try row.string("status")) else { continue }
                switch RerunChainRules.verdict(for: status) {
                case .rerun: next.append(id)
                case .reused: reused.append(id)
                case .active: active.append(id)
                }
            }
            for result in try await jobs(next) {
                let record = try result.get()
                // A job of a group runs again with its group, not on its own.
                if record.parentJobId == nil { rerun.append(record) } else { active.append(record.jobId) }
            }
            frontier = next
        }

        let newIds = Dictionary(uniqueKeysWithValues: rerun.map { ($0.jobId, request.dryRun ? $0.jobId : UUID.timeOrdered()) })
        let definitions = rerun.map { RerunChainRules.definition($0, newIds: newIds) }
        try await checkAccess(definitions, caller: request.caller)
        // A group that did not succeed keeps the jobs of it that did.
        var keptJobs: [UUID: [Int: JobRecord]] = [:]
        for record in rerun where record.jobType == .jobGroup && record.status != .succeeded {
            let children = try await jobs(record.childJobIds ?? []).map { try $0.get() }
            keptJobs[record.jobId] = RerunChainRules.keptGroupJobs(children)
        }
        // In a dry run the new jobs have no ids yet: their dependencies name the jobs they re-run.
        let steps = zip(rerun, definitions).map { record, definition in
            RerunChainPlan.Step(
                rerunOf: record.jobId, jobType: record.jobType, previousStatus: record.status, jobId: request.dryRun ? nil : newIds[record.jobId],
                dependsOn: definition.dependsOn?.jobIds, keptNodes: definition.runFlow?.reuse.map { $0.keys.sorted() },
                keptJobs: keptJobs[record.jobId].flatMap { $0.isEmpty ? nil : $0.sorted { $0.key < $1.key }.map(\.value.jobId) })
        }
        if request.dryRun { return RerunChainPlan(dryRun: true, jobs: steps, reused: reused, active: active) }

        try await submitRerun(zip(rerun, definitions).map { record, definition in
            PlannedRerun(rerunOf: record.jobId, jobId: newIds[record.jobId]!, definition: definition, keeping: keptJobs[record.jobId] ?? [:])
        })
        return RerunChainPlan(dryRun: false, jobs: steps, reused: reused, active: active)
    }

    /// A job of a re-run plan: the job it re-runs, its new id and definition, and for a group the
    /// jobs of the earlier run it keeps (position → job).
    struct PlannedRerun {
        var rerunOf: UUID
        var jobId: UUID
        var definition: JobDefinition
        var keeping: [Int: JobRecord] = [:]
    }

    /// Writes a re-run plan in one transaction, or nothing: the jobs depended on outside the plan
    /// share-locked as a submission does (the plan's own new jobs wait, PENDING, for one another),
    /// and the owners' queue quota checked.
    /// - Throws: ``MetadataError`` `quota` when the new jobs would put an owner past `quotas.maxQueuedPerOwner`.
    func submitRerun(_ plan: [PlannedRerun]) async throws {
        try await withJobTransaction { transaction in
            let planned = Set(plan.map(\.jobId))
            let outside = Set(plan.flatMap { $0.definition.dependsOn?.jobIds ?? [] }).subtracting(planned)
            let owners = Array(Set(plan.map(\.definition.effectiveOwner)))
            let rows = try await transaction.transaction.pipeline([
                try PostgresStatement("SELECT clock_timestamp() AS now"),
                try PostgresStatement(
                    "SELECT job_id, status FROM jobs WHERE job_id = ANY($1::uuid[]) ORDER BY job_id FOR SHARE",
                    [PostgresArray.literal(values: Array(outside))]),
                try PostgresStatement(
                    "SELECT owner, count(*) AS waiting FROM jobs WHERE owner = ANY($1::text[]) AND status IN ('PENDING', 'QUEUED') GROUP BY owner",
                    [PostgresArray.literal(owners)]),
            ])
            let now = try rows[0][0].date("now")
            var statuses: [UUID: JobStatus] = [:]
            for row in rows[1] { statuses[try row.uuid("job_id")] = JobStatus(rawValue: try row.string("status")) }
            for id in planned { statuses[id] = .pending }
            if let limit = maxQueuedPerOwner {
                var waiting: [String: Int] = [:]
                for row in rows[2] { waiting[try row.string("owner")] = try row.int("waiting") }
                for job in plan { waiting[job.definition.effectiveOwner, default: 0] += 1 }
                if let (owner, count) = waiting.sorted(by: { $0.key < $1.key }).first(where: { $0.value > limit }) {
                    throw MetadataError.quota(
                        "the re-run would leave owner \(owner) with \(count) jobs waiting; the most this deployment allows is \(limit) (quotas.maxQueuedPerOwner)")
                }
            }
            for job in plan {
                insertJob(
                    job.definition, jobId: job.jobId, now: now, rerunOf: job.rerunOf, dependencies: statuses, keeping: job.keeping,
                    into: &transaction.writes)
            }
        }
    }
}
