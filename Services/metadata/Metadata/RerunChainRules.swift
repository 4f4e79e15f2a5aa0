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
    /// replaced by their new jobs. A flow keeps the nodes that finished before it failed
    /// (``keptFlowNodes(_:)``).
    static func definition(_ original: JobRecord, newIds: [UUID: UUID]) -> JobDefinition {
        var definition = original.definition.clearingOutputs()
        if definition.runFlow != nil {
            let kept = keptFlowNodes(original)
            definition.runFlow?.reuse = kept.isEmpty ? nil : kept
        }
        definition.idempotencyKey = nil
        if var needs = definition.dependsOn {
            needs.jobIds = needs.jobIds.map { newIds[$0] ?? $0 }
            definition.dependsOn = needs
        }
        return definition
    }

    /// The flow nodes a re-run of a flow that did not succeed keeps: those it kept itself, and those
    /// whose outputs its failed attempt stored (`node.socket` outputs in its result).
    static func keptFlowNodes(_ original: JobRecord) -> [String: [String: TagSelector]] {
        guard original.status != .succeeded, let flow = original.definition.runFlow else { return [:] }
        var kept = flow.reuse ?? [:]
        for (node, outputs) in RunFlowJob.nodeOutputs(in: original.result?.outputs ?? [:]) { kept[node] = outputs }
        return kept
    }

    /// The jobs of a group that did not succeed that its re-run keeps (position → the job): those
    /// that succeeded. Every job runs again when all of them succeeded (a group cancelled at its end).
    static func keptGroupJobs(_ children: [JobRecord]) -> [Int: JobRecord] {
        var kept: [Int: JobRecord] = [:]
        for (position, child) in children.enumerated() where child.status == .succeeded { kept[position] = child }
        return kept.count == children.count ? [:] : kept
    }
}
