import Foundation

/// `job.progress` v1: what a running model said of itself (`$CONVEYOR_PROGRESS`: its fraction,
/// message, named results and latest events), published by metadata to `conveyor.events` with
/// routing key `progress.<type>` each time a runner's progress report is stored for the job's
/// current attempt (at most once per `runner.usageSampleSeconds` per job).
///
/// Best effort, unlike `job.event`: no outbox; a report the broker does not take is not sent again
/// (the next one carries the whole latest state, and the job and its result keep the last one).
/// The routing key is outside `job.#`, so consumers of status events do not receive it unasked.
public struct JobProgressEvent: MessagePayload, Hashable {
    public static let messageType = "job.progress"

    public var jobId: UUID
    public var jobType: JobType
    public var owner: String
    public var attempt: Int
    public var progress: AttemptProgress
    public var occurredAt: Date

    public init(jobId: UUID, jobType: JobType, owner: String, attempt: Int, progress: AttemptProgress, occurredAt: Date) {
        self.jobId = jobId
        self.jobType = jobType
        self.owner = owner
        self.attempt = attempt
        self.progress = progress
        self.occurredAt = occurredAt
    }

    public var routingKey: String { Topology.progressKey(type: jobType) }
}
