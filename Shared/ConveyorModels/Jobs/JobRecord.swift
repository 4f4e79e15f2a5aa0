import Foundation

/// A job as metadata keeps it: the definition, the current status and the append-only history of
/// every status change (never empty; the last entry is the current status).
public struct JobRecord: Sendable, Codable, Hashable {
    public var jobId: UUID
    public var jobType: JobType
    public var owner: String
    public var priority: Int
    public var definition: JobDefinition
    public var status: JobStatus
    public var statusMessage: String
    public var attempt: Int
    public var workerId: String?
    public var submittedAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var updates: [JobStatusUpdate]
    public var result: JobResult?
    /// The job this one re-runs (same definition, same pinned versions).
    public var rerunOf: UUID?
    /// The JOB_GROUP this job is part of.
    public var parentJobId: UUID?
    /// The jobs of a JOB_GROUP, in order.
    public var childJobIds: [UUID]?
    /// While it runs: what the model says of itself (its progress, results and latest events).
    public var progress: AttemptProgress?
    /// Once it ended, for a job with a `notification`: what became of its e-mail.
    public var notificationDelivery: NotificationDelivery?

    public init(
        jobId: UUID, jobType: JobType, owner: String, priority: Int, definition: JobDefinition,
        status: JobStatus, statusMessage: String, attempt: Int, workerId: String?, submittedAt: Date,
        startedAt: Date?, finishedAt: Date?, updates: [JobStatusUpdate], result: JobResult?, rerunOf: UUID? = nil,
        parentJobId: UUID? = nil, childJobIds: [UUID]? = nil
    ) {
        self.jobId = jobId
        self.jobType = jobType
        self.owner = owner
        self.priority = priority
        self.definition = definition
        self.status = status
        self.statusMessage = statusMessage
        self.attempt = attempt
        self.workerId = workerId
        self.submittedAt = submittedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.updates = updates
        self.result = result
        self.rerunOf = rerunOf
        self.parentJobId = parentJobId
        self.childJobIds = childJobIds
    }

    /// The status the job had at `time` (nil before it was submitted).
    public func status(asOf time: Date) -> JobStatusUpdate? {
        updates.last { $0.at <= time }
    }
}

/// One entry of a job's status history.
public struct JobStatusUpdate: Sendable, Codable, Hashable {
    public var status: JobStatus
    public var message: String
    public var at: Date

    public init(status: JobStatus, message: String, at: Date) {
        self.status = status
        self.message = message
        self.at = at
    }
}

/// The result record of a finished job.
public struct JobResult: Sendable, Codable, Hashable {
    public var status: JobStatus?
    public var message: String?
    public var exitCode: Int?
    /// Every object version the job registered.
    public var objects: [TagSelector]
    /// Output name → the object version written for it.
    public var outputs: [String: TagSelector]?
    /// The complete log, kept as a FILE object.
    public var logFile: TagSelector?
    public var logBytes: Int
    /// The log reached the deployment's size cap and was cut (a marker line says so).
    public var logTruncated: Bool?
    public var resourceUsage: ResourceUsage?
    /// Why the last attempt did not succeed (FAILED and CANCELLED jobs).
    public var failure: AttemptFailure?
    /// The attempts before the last that did not succeed (retried or re-queued), oldest first.
    public var earlierAttempts: [AttemptSummary]?
    /// What the model said of itself last: progress, results and events.
    public var progress: AttemptProgress?

    public init(
        status: JobStatus? = nil, message: String? = nil, exitCode: Int?, objects: [TagSelector],
        outputs: [String: TagSelector]? = nil, logFile: TagSelector? = nil, logBytes: Int, logTruncated: Bool? = nil,
        resourceUsage: ResourceUsage? = nil, failure: AttemptFailure? = nil, earlierAttempts: [AttemptSummary]? = nil
    ) {
        self.status = status
        self.message = message
        self.exitCode = exitCode
        self.objects = objects
        self.outputs = outputs
        self.logFile = logFile
        self.logBytes = logBytes
        self.logTruncated = logTruncated
        self.resourceUsage = resourceUsage
        self.failure = failure
        self.earlierAttempts = earlierAttempts
    }
}

/// What an attempt used, measured by the worker.
public struct ResourceUsage: Sendable, Codable, Hashable {
    public var wallSeconds: Double
    public var cpuUserSeconds: Double?
    public var cpuSystemSeconds: Double?
    /// The peak resident memory of the model's processes.
    public var maxResidentKB: Int?
    /// When the (first) model process started and the (last) one ended, on the worker's clock.
    public var startedAt: Date?
    public var endedAt: Date?
    /// The memory limit the attempt ran with (its control group's), in MB.
    public var memoryLimitMB: Int?
    /// Bytes its processes read from and wrote to block devices (cgroup v2: the group's `io.stat`;
    /// otherwise the block operations of the model process and the children it waited for).
    public var ioReadBytes: Int?
    public var ioWriteBytes: Int?
    /// The most disk its work folder took, in bytes, and the quota it ran with.
    public var peakDiskBytes: Int?
    public var diskLimitBytes: Int?
    /// What the attempt's processes used while they ran, sampled every few seconds (at most
    /// ``UsageSample/maxSamples``: a longer run keeps every other sample, and so on).
    public var samples: [UsageSample]?

    public init(
        wallSeconds: Double, cpuUserSeconds: Double? = nil, cpuSystemSeconds: Double? = nil, maxResidentKB: Int? = nil,
        startedAt: Date? = nil, endedAt: Date? = nil, memoryLimitMB: Int? = nil, peakDiskBytes: Int? = nil, diskLimitBytes: Int? = nil,
        samples: [UsageSample]? = nil
    ) {
        self.memoryLimitMB = memoryLimitMB
        self.peakDiskBytes = peakDiskBytes
        self.diskLimitBytes = diskLimitBytes
        self.samples = samples
        self.wallSeconds = wallSeconds
        self.cpuUserSeconds = cpuUserSeconds
        self.cpuSystemSeconds = cpuSystemSeconds
        self.maxResidentKB = maxResidentKB
        self.startedAt = startedAt
        self.endedAt = endedAt
    }
}

/// How many jobs are in each status (for the filters of a listing).
public struct JobCounts: Sendable, Codable, Hashable {
    public var total: Int
    public var byStatus: [String: Int]
    public init(total: Int, byStatus: [String: Int]) {
        self.total = total
        self.byStatus = byStatus
    }
}

/// A page of jobs, newest first.
public struct JobPage: Sendable, Codable, Hashable {
    public var jobs: [JobRecord]
    /// Pass as `cursor` to get the next (older) page; nil on the last page.
    public var nextCursor: String?
    /// Counts by status of every job matching the filters (when asked for).
    public var counts: JobCounts?

    public init(jobs: [JobRecord], nextCursor: String?, counts: JobCounts? = nil) {
        self.jobs = jobs
        self.nextCursor = nextCursor
        self.counts = counts
    }
}

/// One sample of what an attempt's processes used, taken while they ran.
public struct UsageSample: Sendable, Codable, Hashable {
    /// Seconds since the run started.
    public var seconds: Double
    /// The memory of all its processes now (their control group's).
    public var memoryBytes: Int?
    /// The CPU time of all its processes so far.
    public var cpuSeconds: Double?
    /// The disk its work folder takes now.
    public var diskBytes: Int?

    public init(seconds: Double, memoryBytes: Int? = nil, cpuSeconds: Double? = nil, diskBytes: Int? = nil) {
        self.seconds = seconds
        self.memoryBytes = memoryBytes
        self.cpuSeconds = cpuSeconds
        self.diskBytes = diskBytes
    }

    /// The most samples a result keeps.
    public static let maxSamples = 720
}

/// `GET /api/v1/jobs/{id}/usage`: what a job asked for and what its last attempt used.
public struct JobUsage: Sendable, Codable, Hashable {
    public var jobId: UUID
    public var status: JobStatus
    public var attempt: Int
    /// What the job asked for (its definition's `resources`).
    public var requested: ResourceRequirements?
    /// What the last attempt used, with its samples; none before an attempt ended.
    public var usage: ResourceUsage?

    public init(jobId: UUID, status: JobStatus, attempt: Int, requested: ResourceRequirements?, usage: ResourceUsage?) {
        self.jobId = jobId
        self.status = status
        self.attempt = attempt
        self.requested = requested
        self.usage = usage
    }

    public init(_ job: JobRecord) {
        self.init(jobId: job.jobId, status: job.status, attempt: job.attempt, requested: job.definition.resources, usage: job.result?.resourceUsage)
    }
}
