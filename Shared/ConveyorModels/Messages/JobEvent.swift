import Foundation

/// `job.event` v1: a job changed status. Published by metadata through its outbox with routing key
/// `job.<status>.<type>`.
public struct JobEvent: MessagePayload, Hashable {
    public static let messageType = "job.event"

    public var jobId: UUID
    public var jobType: JobType
    public var status: JobStatus
    public var previousStatus: JobStatus?
    public var message: String
    public var owner: String
    public var priority: Int
    public var attempt: Int
    public var submittedAt: Date
    public var occurredAt: Date
    /// Set on terminal events: who to tell.
    public var notification: NotificationSettings?
    /// Set on terminal events.
    public var startedAt: Date?
    public var exitCode: Int?
    /// Set on terminal events: the last lines of the job's log.
    public var logTail: String?
    /// Whether this job is a top-level job (not a stage of a group or flow).
    public var topLevel: Bool
    /// Set on `queued` events: what the job asks for (the scheduler packs by it). Optional in schema
    /// version 1; absent means the job type's defaults.
    public var resources: ResourceRequirements?
    /// Set on `queued` events of a retry: not to be dispatched before this time (its backoff).
    public var notBefore: Date?
    /// Set on `failed` and `cancelled` events: why the last attempt did not succeed.
    public var failure: AttemptFailure?
    /// Set on terminal events of a job a worker measured: its peak memory and its limit, in MB.
    public var peakMemoryMB: Int?
    public var memoryLimitMB: Int?
    /// Set on terminal events of a model that reported them: its named results and its last
    /// progress message (`$CONVEYOR_PROGRESS`).
    public var results: [String: Value]?
    public var progressMessage: String?
    /// The object the job runs (its model or flow), when it has one: the scheduler learns run times
    /// by it, to estimate when queued jobs start.
    public var modelId: UUID?

    public init(
        jobId: UUID, jobType: JobType, status: JobStatus, previousStatus: JobStatus?, message: String,
        owner: String, priority: Int, attempt: Int, submittedAt: Date, occurredAt: Date,
        notification: NotificationSettings? = nil, startedAt: Date? = nil, exitCode: Int? = nil,
        logTail: String? = nil, topLevel: Bool = true, resources: ResourceRequirements? = nil, notBefore: Date? = nil,
        failure: AttemptFailure? = nil, modelId: UUID? = nil
    ) {
        self.jobId = jobId
        self.jobType = jobType
        self.status = status
        self.previousStatus = previousStatus
        self.message = message
        self.owner = owner
        self.priority = priority
        self.attempt = attempt
        self.submittedAt = submittedAt
        self.occurredAt = occurredAt
        self.notification = notification
        self.startedAt = startedAt
        self.exitCode = exitCode
        self.logTail = logTail
        self.topLevel = topLevel
        self.resources = resources
        self.notBefore = notBefore
        self.failure = failure
        self.modelId = modelId
    }

    public var routingKey: String { Topology.eventKey(status: status, type: jobType) }
}
