import ConveyorModels
import Testing

@Suite("Job status state machine")
struct JobStatusTests {
    /// The legal transitions, written out independently of the implementation.
    static let legal: [JobStatus: Set<JobStatus>] = [
        .preparing: [.validated, .failed, .cancelled],
        .validated: [.pending, .queued, .failed, .cancelled],
        .pending: [.queued, .failed, .cancelled],
        .queued: [.submitted, .failed, .cancelled],
        .submitted: [.running, .queued, .failed, .cancelled],
        .running: [.finishing, .succeeded, .failed, .cancelled, .queued],
        .finishing: [.succeeded, .failed, .cancelled],
        .succeeded: [], .failed: [], .cancelled: [],
    ]

    @Test("every pair of statuses is legal exactly when the table says so", arguments: JobStatus.allCases)
    func transitions(from status: JobStatus) {
        for next in JobStatus.allCases {
            #expect(status.canTransition(to: next) == Self.legal[status]!.contains(next), "\(status) → \(next)")
        }
    }

    @Test("terminal statuses never change")
    func terminal() {
        for status in JobStatus.allCases where status.isTerminal {
            #expect(status.allowedNext.isEmpty)
        }
        #expect(Set(JobStatus.allCases.filter(\.isTerminal)) == [.succeeded, .failed, .cancelled])
    }

    @Test("event routing keys are job.<status>.<type>")
    func routingKeys() {
        #expect(Topology.eventKey(status: .succeeded, type: .runModel) == "job.succeeded.run_model")
    }
}
