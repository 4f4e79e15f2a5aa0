import ConveyorModels
import Foundation
import Testing

@testable import Metadata

/// Which jobs of a dependency chain run again, without a database.
@Suite("Chain re-run rules (pure)")
struct RerunChainRulesTests {
    @Test("a job that failed or was cancelled runs again; one that succeeded is kept; one not ended is left")
    func verdicts() {
        #expect(RerunChainRules.verdict(for: .failed) == .rerun)
        #expect(RerunChainRules.verdict(for: .cancelled) == .rerun)
        #expect(RerunChainRules.verdict(for: .succeeded) == .reused)
        for status in [JobStatus.pending, .queued, .submitted, .running] { #expect(RerunChainRules.verdict(for: status) == .active) }
    }

    @Test("a job run again depends on the new jobs in place of the ones they re-run, on the others as before, and has no idempotency key")
    func definition() {
        let (kept, replaced, replacement) = (UUID(), UUID(), UUID())
        let original = JobDefinition(
            jobType: .runModel, runModel: RunModelJob(model: TagSelector(objectId: UUID())),
            dependsOn: Dependencies(jobIds: [kept, replaced], condition: .ended), idempotencyKey: "first-time")
        let again = RerunChainRules.definition(record(original, .failed), newIds: [replaced: replacement])
        #expect(again.dependsOn == Dependencies(jobIds: [kept, replacement], condition: .ended))
        #expect(again.idempotencyKey == nil)
        #expect(again.runModel == original.runModel)
    }

    func record(_ definition: JobDefinition, _ status: JobStatus, outputs: [String: TagSelector]? = nil) -> JobRecord {
        JobRecord(
            jobId: UUID(), jobType: definition.jobType, owner: "ann", priority: 50, definition: definition, status: status, statusMessage: "",
            attempt: 1, workerId: nil, submittedAt: Date(), startedAt: nil, finishedAt: nil, updates: [],
            result: JobResult(status: status, exitCode: nil, objects: [], outputs: outputs, logBytes: 0))
    }

    @Test("a flow that failed keeps the nodes whose outputs it stored and those it kept before; one that succeeded runs whole")
    func flowNodes() {
        let (prepared, scored, earlier) = (TagSelector(objectId: UUID()), TagSelector(objectId: UUID()), TagSelector(objectId: UUID()))
        let flow = RunFlowJob(
            flow: TagSelector(objectId: UUID()), models: [:], outputs: ["report": TagSelector(objectId: UUID())],
            reuse: ["load": ["rows": earlier]])
        let failed = record(
            JobDefinition(jobType: .runFlow, runFlow: flow), .failed,
            outputs: ["prepare.table": prepared, "score.result": scored, "report": TagSelector(objectId: UUID())])
        let again = RerunChainRules.definition(failed, newIds: [:])
        #expect(again.runFlow?.reuse == ["load": ["rows": earlier], "prepare": ["table": prepared], "score": ["result": scored]])
        #expect(again.runFlow?.outputs == nil)

        let succeeded = record(JobDefinition(jobType: .runFlow, runFlow: RunFlowJob(flow: flow.flow, models: [:])), .succeeded, outputs: ["prepare.table": prepared])
        #expect(RerunChainRules.definition(succeeded, newIds: [:]).runFlow?.reuse == nil)
    }

    @Test("a group that did not succeed keeps the jobs that succeeded, by position; when all did, all run again")
    func groupJobs() {
        let job = JobDefinition(jobType: .runModel, runModel: RunModelJob(model: TagSelector(objectId: UUID())))
        let children = [record(job, .succeeded), record(job, .failed), record(job, .succeeded), record(job, .cancelled)]
        let kept = RerunChainRules.keptGroupJobs(children)
        #expect(kept.keys.sorted() == [0, 2] && kept[2]?.jobId == children[2].jobId)
        #expect(RerunChainRules.keptGroupJobs([record(job, .succeeded), record(job, .succeeded)]).isEmpty)
    }
}
