import Foundation

/// `work.dispatch` v1: the scheduler gives a job to one worker (routing key = worker id).
public struct Dispatch: MessagePayload, Hashable {
    public static let messageType = "work.dispatch"

    public var jobId: UUID
    /// Fencing token: a worker claims this attempt; reports of an older attempt are refused.
    public var attempt: Int
    public var workerId: String
    public var jobType: JobType

    public init(jobId: UUID, attempt: Int, workerId: String, jobType: JobType) {
        self.jobId = jobId
        self.attempt = attempt
        self.workerId = workerId
        self.jobType = jobType
    }
}

/// `work.cancel` v1: the scheduler tells a worker to stop an attempt of a cancelled job
/// (routing key = worker id, on the worker's dispatch queue).
public struct CancelAttempt: MessagePayload, Hashable {
    public static let messageType = "work.cancel"

    public var jobId: UUID
    public var attempt: Int
    public var workerId: String

    public init(jobId: UUID, attempt: Int, workerId: String) {
        self.jobId = jobId
        self.attempt = attempt
        self.workerId = workerId
    }
}

/// `worker.heartbeat` v1: a worker is alive, what it runs and how many slots it has.
public struct Heartbeat: MessagePayload, Hashable {
    public static let messageType = "worker.heartbeat"

    public var workerId: String
    public var jobTypes: [JobType]
    public var slots: Int
    /// The jobs the worker runs now, with their attempts.
    public var running: [RunningJob]
    /// The worker is shutting down: dispatch nothing more to it.
    public var draining: Bool
    public var sentAt: Date
    /// The worker takes several dispatches in one message (a ``MessageBatch``). Optional in schema
    /// version 1: a worker that leaves it out gets one dispatch per message.
    public var acceptsBatches: Bool?
    /// What the worker has for jobs in all (the scheduler packs jobs by it, besides `slots`).
    /// Optional in schema version 1: a worker that leaves it out is packed by slots alone.
    public var capacity: WorkerCapacity?

    public init(
        workerId: String, jobTypes: [JobType], slots: Int, running: [RunningJob], draining: Bool, sentAt: Date,
        acceptsBatches: Bool? = nil, capacity: WorkerCapacity? = nil
    ) {
        self.workerId = workerId
        self.jobTypes = jobTypes
        self.slots = slots
        self.running = running
        self.draining = draining
        self.sentAt = sentAt
        self.acceptsBatches = acceptsBatches
        self.capacity = capacity
    }
}

/// The resources a worker offers its jobs in all.
public struct WorkerCapacity: Codable, Sendable, Hashable {
    public var cpus: Int
    public var memoryMB: Int
    public var gpus: Int

    public init(cpus: Int, memoryMB: Int, gpus: Int = 0) {
        self.cpus = cpus
        self.memoryMB = memoryMB
        self.gpus = gpus
    }
}

/// A job a worker runs.
public struct RunningJob: Codable, Sendable, Hashable {
    public var jobId: UUID
    public var attempt: Int
    /// Optional in schema version 1 (older workers leave it out).
    public var jobType: JobType?

    public init(jobId: UUID, attempt: Int, jobType: JobType? = nil) {
        self.jobId = jobId
        self.attempt = attempt
        self.jobType = jobType
    }
}

/// `job.report` v1: what a worker tells metadata about an attempt (queue `metadata.reports`).
public struct JobReport: MessagePayload, Hashable {
    public static let messageType = "job.report"

    public var jobId: UUID
    public var attempt: Int
    public var workerId: String
    public var kind: Kind

    public enum Kind: Codable, Sendable, Hashable {
        /// A piece of the log, at its byte offset in the attempt's log.
        case log(LogChunk)
        /// The attempt ended.
        case finished(JobOutcome)
        /// What the running model says of itself now (its progress, results and latest events).
        case progress(AttemptProgress)
        /// From the notifier (`workerId` `notifier`): what became of the job's e-mail.
        case notification(NotificationDelivery)
    }

    public init(jobId: UUID, attempt: Int, workerId: String, kind: Kind) {
        self.jobId = jobId
        self.attempt = attempt
        self.workerId = workerId
        self.kind = kind
    }
}

/// A piece of a job's log.
public struct LogChunk: Codable, Sendable, Hashable {
    public var offset: Int
    public var data: Data

    public init(offset: Int, data: Data) {
        self.offset = offset
        self.data = data
    }
}

/// How an attempt ended.
public struct JobOutcome: Codable, Sendable, Hashable {
    public var status: JobStatus
    public var message: String
    public var exitCode: Int?
    /// Objects to register with the job's result, in one transaction with the final status.
    public var objects: [NewObject]
    /// The total size of the log the attempt wrote.
    public var logBytes: Int
    public var resourceUsage: ResourceUsage?
    /// The end of the log that no `log` report carried, at its offset: all of a short job's log
    /// travels here, so its finished report is its only report.
    public var log: LogChunk?
    /// Why the attempt did not succeed, classified by the worker (optional in schema version 1; a
    /// FAILED outcome without it counts as `ERROR`, or `EXIT_CODE` with an exit code).
    public var failure: AttemptFailure?
    /// What the model said of itself last (``AttemptProgress``), when it said anything.
    public var progress: AttemptProgress?

    public init(
        status: JobStatus, message: String, exitCode: Int?, objects: [NewObject], logBytes: Int,
        resourceUsage: ResourceUsage? = nil, log: LogChunk? = nil, failure: AttemptFailure? = nil
    ) {
        self.status = status
        self.message = message
        self.exitCode = exitCode
        self.objects = objects
        self.logBytes = logBytes
        self.resourceUsage = resourceUsage
        self.log = log
        self.failure = failure
    }

    /// The failure of a FAILED outcome: as the worker classified it, else from its exit code.
    public var classifiedFailure: AttemptFailure? {
        guard status == .failed else { return status == .cancelled ? AttemptFailure(kind: .cancelled) : nil }
        return failure ?? exitCode.map { AttemptFailure(kind: .exitCode, exitCode: $0) } ?? AttemptFailure(kind: .error)
    }
}
