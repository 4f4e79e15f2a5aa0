import Foundation

/// A request to the metadata service over AMQP RPC (queue `metadata.rpc`, reply via direct reply-to).
///
/// The envelope `type` is the method name (e.g. `metadata.job.submit`); the reply is an envelope of
/// type `metadata.reply` carrying ``RPCReply`` of the call's `Result`.
public protocol MetadataCall: MessagePayload {
    associatedtype Result: Codable & Sendable
}

/// The reply to a ``MetadataCall``: either `result` or `error`.
public struct RPCReply<Result: Codable & Sendable>: MessagePayload {
    public static var messageType: String { "metadata.reply" }

    public var result: Result?
    public var error: RPCFailure?

    public init(result: Result) {
        self.result = result
        self.error = nil
    }

    public init(error: RPCFailure) {
        self.result = nil
        self.error = error
    }
}

/// Why a call failed, in a form the gateway turns into an HTTP problem.
public struct RPCFailure: Codable, Sendable, Hashable, Error, CustomStringConvertible {
    public var code: Code
    public var message: String
    public var problems: [FieldProblem]?

    public enum Code: String, Codable, Sendable {
        case invalid
        case notFound = "not_found"
        case conflict
        case unavailable
        case `internal`
    }

    public init(code: Code, message: String, problems: [FieldProblem]? = nil) {
        self.code = code
        self.message = message
        self.problems = problems
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// `metadata.job.submit`: validate and record a job; answers after the commit.
public struct SubmitJob: MetadataCall {
    public typealias Result = JobRecord
    public static let messageType = "metadata.job.submit"
    public var definition: JobDefinition
    public init(definition: JobDefinition) { self.definition = definition }
}

/// `metadata.job.get`: a job with its full status history.
public struct GetJob: MetadataCall {
    public typealias Result = JobRecord
    public static let messageType = "metadata.job.get"
    public var jobId: UUID
    public init(jobId: UUID) { self.jobId = jobId }
}

/// `metadata.job.list`: jobs newest first, paged with an opaque cursor.
public struct ListJobs: MetadataCall {
    public typealias Result = JobPage
    public static let messageType = "metadata.job.list"
    public var limit: Int
    public var cursor: String?
    public var status: JobStatus?
    public var jobType: JobType?
    public var owner: String?
    public init(limit: Int, cursor: String? = nil, status: JobStatus? = nil, jobType: JobType? = nil, owner: String? = nil) {
        self.limit = limit
        self.cursor = cursor
        self.status = status
        self.jobType = jobType
        self.owner = owner
    }
    public static let maxLimit = 500
}

/// `metadata.job.log`: a byte range of a job's log (current attempt).
public struct GetJobLog: MetadataCall {
    public typealias Result = JobLog
    public static let messageType = "metadata.job.log"
    public var jobId: UUID
    public var offset: Int
    public var limit: Int?
    public init(jobId: UUID, offset: Int = 0, limit: Int? = nil) {
        self.jobId = jobId
        self.offset = offset
        self.limit = limit
    }
}

/// A piece of a job's log.
public struct JobLog: Codable, Sendable, Hashable {
    public var jobId: UUID
    public var offset: Int
    public var data: Data
    /// The job is terminal: no more log will arrive.
    public var complete: Bool
    public init(jobId: UUID, offset: Int, data: Data, complete: Bool) {
        self.jobId = jobId
        self.offset = offset
        self.data = data
        self.complete = complete
    }
}

/// `metadata.job.cancel`: ends a job that is not terminal yet as CANCELLED; a running attempt is
/// stopped by its worker (the scheduler tells it).
public struct CancelJob: MetadataCall {
    public typealias Result = JobRecord
    public static let messageType = "metadata.job.cancel"
    public var jobId: UUID
    public var reason: String?
    public init(jobId: UUID, reason: String? = nil) {
        self.jobId = jobId
        self.reason = reason
    }
}

/// `metadata.job.claim`: a worker records its claim on an attempt before it acks the dispatch.
public struct ClaimJob: MetadataCall {
    public typealias Result = ClaimResult
    public static let messageType = "metadata.job.claim"
    public var jobId: UUID
    public var attempt: Int
    public var workerId: String
    public var leaseSeconds: Int
    public init(jobId: UUID, attempt: Int, workerId: String, leaseSeconds: Int) {
        self.jobId = jobId
        self.attempt = attempt
        self.workerId = workerId
        self.leaseSeconds = leaseSeconds
    }
}

/// Whether a claim was granted; when not, why (the job is terminal, or a newer attempt exists).
public struct ClaimResult: Codable, Sendable, Hashable {
    public var granted: Bool
    public var reason: String?
    /// The job's definition (with pinned object versions) when the claim was granted.
    public var definition: JobDefinition?
    public init(granted: Bool, reason: String? = nil, definition: JobDefinition? = nil) {
        self.granted = granted
        self.reason = reason
        self.definition = definition
    }
}

/// `metadata.job.requeue`: the scheduler puts back the job of a worker that went silent.
public struct RequeueJob: MetadataCall {
    public typealias Result = RequeueResult
    public static let messageType = "metadata.job.requeue"
    public var jobId: UUID
    public var attempt: Int
    public var reason: String
    public init(jobId: UUID, attempt: Int, reason: String) {
        self.jobId = jobId
        self.attempt = attempt
        self.reason = reason
    }
}

public struct RequeueResult: Codable, Sendable, Hashable {
    public var requeued: Bool
    public init(requeued: Bool) { self.requeued = requeued }
}

/// `metadata.job.active`: what the scheduler needs to rebuild its queue on start.
public struct ListActiveJobs: MetadataCall {
    public typealias Result = ActiveJobs
    public static let messageType = "metadata.job.active"
    public init() {}
}

public struct ActiveJobs: Codable, Sendable, Hashable {
    /// Jobs waiting in QUEUED.
    public var queued: [JobEvent]
    /// Jobs dispatched or running, with their worker.
    public var running: [ActiveAssignment]
    public init(queued: [JobEvent], running: [ActiveAssignment]) {
        self.queued = queued
        self.running = running
    }
}

public struct ActiveAssignment: Codable, Sendable, Hashable {
    public var jobId: UUID
    public var jobType: JobType
    public var attempt: Int
    public var workerId: String?
    public init(jobId: UUID, jobType: JobType, attempt: Int, workerId: String?) {
        self.jobId = jobId
        self.jobType = jobType
        self.attempt = attempt
        self.workerId = workerId
    }
}

/// `metadata.object.get`: one object version by selector (latest when no version is given).
public struct GetObject: MetadataCall {
    public typealias Result = ObjectRecord
    public static let messageType = "metadata.object.get"
    public var selector: ObjectSelector
    public init(selector: ObjectSelector) { self.selector = selector }
}
