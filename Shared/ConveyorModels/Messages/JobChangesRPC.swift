import Foundation

/// One status change of a job, as the event stream of the API carries it.
public struct JobStatusChange: Codable, Sendable, Hashable {
    /// `<microseconds since 1970>_<job id>_<history position>`: unique per change and ordered as the
    /// changes are read (by time, then job, then position).
    public var eventId: String
    public var jobId: UUID
    public var jobType: JobType
    public var owner: String
    /// The change's position in the job's history (1 is the first).
    public var seq: Int
    public var status: JobStatus
    public var message: String
    public var at: Date

    public init(eventId: String, jobId: UUID, jobType: JobType, owner: String, seq: Int, status: JobStatus, message: String, at: Date) {
        self.eventId = eventId
        self.jobId = jobId
        self.jobType = jobType
        self.owner = owner
        self.seq = seq
        self.status = status
        self.message = message
        self.at = at
    }

    /// An event id; without a job, the one that precedes every change of that microsecond.
    public static func eventId(micros: Int64, jobId: UUID? = nil, seq: Int = 0) -> String {
        "\(micros)_\((jobId ?? noJob).uuidString.lowercased())_\(seq)"
    }

    private static let noJob = UUID(uuidString: "00000000-0000-0000-0000-000000000000")!

    /// The parts of an event id, or nil when it is not one.
    public static func cursor(_ eventId: String) -> (micros: Int64, jobId: UUID, seq: Int)? {
        let parts = eventId.split(separator: "_")
        guard parts.count == 3, let micros = Int64(parts[0]), micros >= 0, let jobId = UUID(uuidString: String(parts[1])),
            let seq = Int(parts[2]), seq >= 0
        else { return nil }
        return (micros, jobId, seq)
    }
}

/// `metadata.job.changes`: the status changes after a point, oldest first, of one owner's jobs or
/// of everyone's; from `job_updates`, so they survive any restart.
public struct ListJobChanges: MetadataCall {
    public typealias Result = JobStatusChanges
    public static let messageType = "metadata.job.changes"
    /// Changes after this event id (exclusive); none: no changes, only `now`.
    public var after: String?
    public var owner: String?
    public var limit: Int
    public init(after: String?, owner: String?, limit: Int = 500) {
        self.after = after
        self.owner = owner
        self.limit = limit
    }
    public static let maxLimit = 1000
}

/// The answer to ``ListJobChanges``.
public struct JobStatusChanges: Codable, Sendable, Hashable {
    public var changes: [JobStatusChange]
    /// The database's time when it answered, as an event id that precedes every later change.
    public var now: String
    public init(changes: [JobStatusChange], now: String) {
        self.changes = changes
        self.now = now
    }
}

/// `metadata.job.logSizes`: how many bytes of log the current attempt of each job has stored so
/// far, for the event stream's `log` events (a front end fetches the log from there).
public struct GetLogSizes: MetadataCall {
    public typealias Result = LogSizes
    public static let messageType = "metadata.job.logSizes"
    public var jobIds: [UUID]
    public init(jobIds: [UUID]) { self.jobIds = jobIds }
    public static let maxJobs = 500
}

/// The answer to ``GetLogSizes``: by job id (lowercase); an unknown job is left out.
public struct LogSizes: Codable, Sendable, Hashable {
    public var sizes: [String: LogSize]
    public init(sizes: [String: LogSize]) { self.sizes = sizes }
}

/// The log stored of a job's current attempt.
public struct LogSize: Codable, Sendable, Hashable {
    public var attempt: Int
    public var bytes: Int
    public init(attempt: Int, bytes: Int) {
        self.attempt = attempt
        self.bytes = bytes
    }
}
