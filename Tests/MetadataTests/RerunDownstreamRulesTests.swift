import ConveyorModels
import Foundation
import Testing

@testable import Metadata

/// Which jobs a re-run downstream of a newer version runs again, without a database.
@Suite("Downstream re-run rules (pure)")
struct RerunDownstreamRulesTests {
    let object = UUID()

    func record(_ status: JobStatus, _ definition: JobDefinition) -> JobRecord {
        JobRecord(
            jobId: UUID(), jobType: definition.jobType, owner: "ann", priority: 50, definition: definition, status: status, statusMessage: "",
            attempt: 1, workerId: nil, submittedAt: Date(), startedAt: nil, finishedAt: nil, updates: [], result: nil)
    }

    func runModel(reading version: Int, other: TagSelector = TagSelector(objectId: UUID(), objectVersion: 1)) -> JobDefinition {
        JobDefinition(
            jobType: .runModel,
            runModel: RunModelJob(
                model: TagSelector(objectId: UUID(), objectVersion: 1),
                inputs: ["source": TagSelector(objectType: .data, objectId: object, objectVersion: version, tagVersion: 1), "other": other],
                outputs: ["result": TagSelector(objectId: UUID())]),
            idempotencyKey: "k")
    }

    @Test("a finished job that read an older version runs again; one that read the latest is kept; one not ended is left")
    func verdicts() {
        #expect(RerunDownstreamRules.verdict(record(.succeeded, runModel(reading: 1)), objectId: object, latestVersion: 3) == .rerun(readVersions: ["runModel.inputs.source": 1]))
        #expect(RerunDownstreamRules.verdict(record(.failed, runModel(reading: 2)), objectId: object, latestVersion: 3) == .rerun(readVersions: ["runModel.inputs.source": 2]))
        #expect(RerunDownstreamRules.verdict(record(.succeeded, runModel(reading: 3)), objectId: object, latestVersion: 3) == .current)
        #expect(RerunDownstreamRules.verdict(record(.running, runModel(reading: 1)), objectId: object, latestVersion: 3) == .active)
        let export = JobDefinition(
            jobType: .exportData,
            exportData: ExportDataJob(inputs: ["report": TagSelector(objectId: object, objectVersion: 1)], exports: ["report": StorageLocation(path: "r.json")]))
        #expect(RerunDownstreamRules.verdict(record(.succeeded, export), objectId: object, latestVersion: 2) == .rerun(readVersions: ["exportData.inputs.report": 1]))
    }

    @Test("the job run again reads the latest version of that input only, with outputs, idempotency key and kept flow nodes cleared")
    func definition() {
        let other = TagSelector(objectId: UUID(), objectVersion: 4, tagVersion: 2)
        let latest = TagSelector(objectType: .data, objectId: object, objectVersion: 3, tagVersion: 5)
        let again = RerunDownstreamRules.definition(runModel(reading: 1, other: other), latest: latest)
        #expect(again.runModel?.inputs == ["source": latest, "other": other])
        #expect(again.runModel?.outputs == nil && again.idempotencyKey == nil)

        let flow = JobDefinition(
            jobType: .runFlow,
            runFlow: RunFlowJob(
                flow: TagSelector(objectId: UUID()), models: [:], inputs: ["raw": TagSelector(objectId: object, objectVersion: 1)],
                reuse: ["shout": ["result": TagSelector(objectId: UUID())]]))
        let flowAgain = RerunDownstreamRules.definition(flow, latest: latest)
        #expect(flowAgain.runFlow?.inputs == ["raw": latest] && flowAgain.runFlow?.reuse == nil, "what it kept came from the older version")
    }
}
