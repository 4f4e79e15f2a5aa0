import ConveyorModels
import Foundation
import Postgres

/// Dependencies: a job with `dependsOn` waits in PENDING until the jobs it names have ended. Whenever
/// a transaction ends jobs, their dependents decide in the same transaction
/// (``JobLifecycle/dependencyEnded(_:statuses:now:)``): QUEUED once all have ended (as the condition
/// asks), CANCELLED when one that had to succeed did not, which in turn lets its own dependents
/// decide, down the chain.
extension JobStore {
    /// Lets the dependents of every job this transaction ended decide, until no more jobs end.
    func settleDependents(in transaction: JobTransaction) async throws {
        var settled: Set<UUID> = []
        while true {
            let ended = transaction.writes.endedJobIds.filter { settled.insert($0).inserted }
            guard !ended.isEmpty else { return }
            let dependents: [UUID]
            if ended.allSatisfy(transaction.dependentsKnown.contains) {
                // Read with the jobs' states: usually nobody waits for them, and nothing more is read.
                dependents = Self.unique(ended.flatMap { transaction.knownDependents[$0] ?? [] })
                guard !dependents.isEmpty else { continue }
                try await transaction.flush()
            } else {
                try await transaction.flush()
                let rows = try await transaction.transaction.pipeline([
                    try PostgresStatement(
                        "SELECT DISTINCT job_id FROM job_dependencies WHERE depends_on = ANY($1::uuid[])", [PostgresArray.literal(values: ended)])
                ])[0]
                dependents = try rows.map { try $0.uuid("job_id") }
            }
            guard !dependents.isEmpty else { continue }
            let (jobs, now) = try await JobRepository.lockStates(dependents, in: transaction.transaction)
            let needed = Set(jobs.values.flatMap { $0.state.dependsOn?.jobIds ?? [] })
            let statuses = try await dependencyStatuses(Array(needed), transaction.transaction.connection)
            for dependent in dependents {
                guard let state = jobs[dependent]?.state else { continue }
                guard state.status == .pending else {
                    transaction.writes.release(dependent)  // it ended otherwise (cancelled while it waited)
                    continue
                }
                let decision = JobLifecycle.dependencyEnded(state, statuses: statuses, now: now)
                guard let change = decision.change else { continue }
                try transaction.writes.apply(change)
                transaction.writes.release(dependent)
            }
        }
    }

    /// The status of each of `jobIds` that exists.
    func dependencyStatuses(_ jobIds: [UUID], _ connection: PostgresConnection) async throws -> [UUID: JobStatus] {
        guard !jobIds.isEmpty else { return [:] }
        let rows = try await connection.pipeline([
            try PostgresStatement("SELECT job_id, status FROM jobs WHERE job_id = ANY($1::uuid[])", [PostgresArray.literal(values: jobIds)])
        ])[0]
        var statuses: [UUID: JobStatus] = [:]
        for row in rows { statuses[try row.uuid("job_id")] = JobStatus(rawValue: try row.string("status")) }
        return statuses
    }
}
