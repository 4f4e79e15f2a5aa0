import ConveyorModels
import Foundation
import Postgres

/// JOB_GROUP: when one of its jobs ends, a group starts its next job (sequential) or, once every job
/// has ended, ends itself (``JobLifecycle/childEnded(_:_:now:)``); a group that ends tells its own
/// group, up the nesting.
extension JobStore {
    /// Lets the groups of the jobs that ended in this transaction react, in the same transaction.
    /// Groups are locked after their jobs, the same order in which a cancellation locks them.
    func settleGroups(_ groupIds: [UUID], in transaction: JobTransaction) async throws {
        var pending = Self.unique(groupIds)
        while !pending.isEmpty {
            // What the jobs' changes wrote must be visible to the groups' decisions.
            try await transaction.flush()
            let (groups, now) = try await JobRepository.lockStates(pending, in: transaction.transaction)
            var next: [UUID] = []
            for groupId in pending {
                guard let state = groups[groupId]?.state,
                    let progress = try await JobRepository.groupProgress(groupId, in: transaction.transaction)
                else { continue }
                let decision = JobLifecycle.childEnded(state, progress, now: now)
                if let change = decision.change { try transaction.writes.apply(change) }
                for child in decision.childrenToStart {
                    insertJob(child.definition, now: now, parent: groupId, position: child.position, into: &transaction.writes)
                }
                if let parent = decision.groupToNotify { next.append(parent) }
            }
            pending = Self.unique(next)
        }
    }

    static func unique(_ ids: [UUID]) -> [UUID] {
        var seen: Set<UUID> = []
        return ids.filter { seen.insert($0).inserted }
    }
}
