import ConveyorModels
import Foundation

/// Which jobs a chain re-run runs again, as pure decisions (``JobStore/rerunChain(_:)`` reads the
/// chain level by level and writes what these rules say).
///
/// Starting from a finished job, each job that depends on a job run again is run again too when it
/// ended without succeeding (it failed, or was cancelled, typically because what it waited for
/// failed); one that succeeded is kept with its outputs, and the chain is not followed past it; one
/// that has not ended is left as it is.
enum RerunChainRules {
    enum Verdict: Equatable {
        case rerun
        case reused
        case active
    }

    static func verdict(for status: JobStatus) -> Verdict {
        guard status.isTerminal else { return .active }
        return status == .succeeded ? .reused : .rerun
    }

    /// The definition of a job run again: its recorded (pinned) definition, with the outputs the
    /// platform filled in cleared, no idempotency key, and the jobs it depends on that are run again
    /// replaced by their new jobs.
    static func definition(_ original: JobDefinition, newIds: [UUID: UUID]) -> JobDefinition {
        var definition = original.clearingOutputs()
        definition.idempotencyKey = nil
        if var needs = definition.dependsOn {
            needs.jobIds = needs.jobIds.map { newIds[$0] ?? $0 }
            definition.dependsOn = needs
        }
        return definition
    }
}
