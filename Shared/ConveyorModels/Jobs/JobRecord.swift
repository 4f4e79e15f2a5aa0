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

    public init(
        jobId: UUID, jobType: JobType, owner: String, priority: Int, definition: JobDefinition,
        status: JobStatus, statusMessage: String, attempt: Int, workerId: String?, submittedAt: Date,
        startedAt: Date?, finishedAt: Date?, updates: [JobStatusUpdate], result: JobResult?
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

/// What a finished job produced.
public struct JobResult: Sendable, Codable, Hashable {
    public var exitCode: Int?
    /// Objects registered by the job (a MODEL for imports, DATA for run outputs).
    public var objects: [ObjectSelector]
    public var logBytes: Int

    public init(exitCode: Int?, objects: [ObjectSelector], logBytes: Int) {
        self.exitCode = exitCode
        self.objects = objects
        self.logBytes = logBytes
    }
}

/// A page of jobs, newest first.
public struct JobPage: Sendable, Codable, Hashable {
    public var jobs: [JobRecord]
    /// Pass as `cursor` to get the next (older) page; nil on the last page.
    public var nextCursor: String?

    public init(jobs: [JobRecord], nextCursor: String?) {
        self.jobs = jobs
        self.nextCursor = nextCursor
    }
}
