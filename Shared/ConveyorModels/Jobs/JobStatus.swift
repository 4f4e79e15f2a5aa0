/// TRAC's job status codes. SUCCEEDED, FAILED and CANCELLED are terminal: nothing changes them.
public enum JobStatus: String, Sendable, Codable, CaseIterable, Hashable {
    case preparing = "PREPARING"
    case validated = "VALIDATED"
    case pending = "PENDING"
    case queued = "QUEUED"
    case submitted = "SUBMITTED"
    case running = "RUNNING"
    case finishing = "FINISHING"
    case succeeded = "SUCCEEDED"
    case failed = "FAILED"
    case cancelled = "CANCELLED"

    /// True for SUCCEEDED, FAILED and CANCELLED.
    public var isTerminal: Bool {
        switch self {
        case .succeeded, .failed, .cancelled: true
        default: false
        }
    }

    /// The routing-key segment used for this status in event keys (`job.<status>.<type>`).
    public var routingSegment: String { rawValue.lowercased() }

    /// The statuses a job may move to from this one (see `docs/architecture.md`).
    ///
    /// SUBMITTED and RUNNING may go back to QUEUED: that is how the scheduler re-queues the work of a
    /// worker that went silent; the next attempt gets a higher attempt number, so reports of the stale
    /// attempt are refused.
    public var allowedNext: Set<JobStatus> {
        switch self {
        case .preparing: [.validated, .failed, .cancelled]
        case .validated: [.pending, .queued, .failed, .cancelled]
        case .pending: [.queued, .failed, .cancelled]
        case .queued: [.submitted, .failed, .cancelled]
        case .submitted: [.running, .queued, .failed, .cancelled]
        case .running: [.finishing, .succeeded, .failed, .cancelled, .queued]
        case .finishing: [.succeeded, .failed, .cancelled]
        case .succeeded, .failed, .cancelled: []
        }
    }

    /// Whether moving from this status to `next` is legal.
    public func canTransition(to next: JobStatus) -> Bool {
        allowedNext.contains(next)
    }
}
