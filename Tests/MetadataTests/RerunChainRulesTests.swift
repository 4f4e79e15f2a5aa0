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
        let again = RerunChainRules.definition(original, newIds: [replaced: replacement])
        #expect(again.dependsOn == Dependencies(jobIds: [kept, replacement], condition: .ended))
        #expect(again.idempotencyKey == nil)
        #expect(again.runModel == original.runModel)
    }
}
