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

    /// The envelope of a reply whose result is already JSON text (a record rendered from its stored
    /// row): the same bytes ``Envelope/encoded()`` writes for `RPCReply(result:)`, without decoding
    /// the result into a model first.
    public static func envelope(resultJSON: some Sequence<UInt8>) -> Data {
        var text = JSONText(capacity: 256)
        text.raw(#"{"messageId":"#)
        text.string(UUID().uuidString)
        text.raw(#","payload":{"result":"#)
        text.raw(resultJSON)
        text.raw(#"},"schemaVersion":"#)
        text.raw(String(Self.schemaVersion))
        text.raw(#","sentAt":"#)
        text.string(Timestamp.format(Date()))
        text.raw(#","type":"#)
        text.string(Self.messageType)
        text.raw("}")
        return text.data
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
        /// A limit of the deployment was reached (an owner's queued jobs): HTTP 429.
        case quota
        /// The caller may not read or change what the call names: HTTP 403.
        case forbidden
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
    /// Who submits: every object the job refers to must be readable by them (``ObjectAccess``); nil
    /// for a service's own call.
    public var caller: Principal?
    public init(definition: JobDefinition, caller: Principal? = nil) {
        self.definition = definition
        self.caller = caller
    }
}

/// `metadata.job.get`: a job with its full status history.
public struct GetJob: MetadataCall {
    public typealias Result = JobRecord
    public static let messageType = "metadata.job.get"
    public var jobId: UUID
    public init(jobId: UUID) { self.jobId = jobId }
}

/// `metadata.job.validate`: the dry run of a submission; answers the pinned definition or every problem.
public struct ValidateJob: MetadataCall {
    public typealias Result = JobValidation
    public static let messageType = "metadata.job.validate"
    public var definition: JobDefinition
    /// Who asks, as for ``SubmitJob``.
    public var caller: Principal?
    public init(definition: JobDefinition, caller: Principal? = nil) {
        self.definition = definition
        self.caller = caller
    }
}

/// A definition that would be accepted: `status` is VALIDATED and `definition` has every object pinned.
public struct JobValidation: Codable, Sendable, Hashable {
    public var status: JobStatus
    public var definition: JobDefinition
    public init(status: JobStatus, definition: JobDefinition) {
        self.status = status
        self.definition = definition
    }
}

/// `metadata.job.rerun`: submits a finished job again with its exact (pinned) definition.
public struct RerunJob: MetadataCall {
    public typealias Result = JobRecord
    public static let messageType = "metadata.job.rerun"
    public var jobId: UUID
    public var idempotencyKey: String?
    /// Who re-runs it: every object the job refers to must still be theirs to use, as at submit
    /// (readable; its prior outputs changeable). Absent, unchecked (a service's own call).
    public var caller: Principal?
    public init(jobId: UUID, idempotencyKey: String? = nil, caller: Principal? = nil) {
        self.jobId = jobId
        self.idempotencyKey = idempotencyKey
        self.caller = caller
    }
}

/// `metadata.job.rerunChain`: re-runs a finished job and, after it, the jobs of its dependency chain
/// that did not succeed (FAILED or CANCELLED), each new job depending on the new jobs in place of
/// the old; the jobs after it that succeeded are kept, with their outputs, and not run again. With
/// `dryRun` nothing is written: the answer says what would run.
public struct RerunChain: MetadataCall {
    public typealias Result = RerunChainPlan
    public static let messageType = "metadata.job.rerunChain"
    public var jobId: UUID
    public var dryRun: Bool
    /// Who re-runs the chain: every job run again is checked as ``RerunJob/caller`` says (also in
    /// a dry run). Absent, unchecked.
    public var caller: Principal?
    public init(jobId: UUID, dryRun: Bool = false, caller: Principal? = nil) {
        self.jobId = jobId
        self.dryRun = dryRun
        self.caller = caller
    }
}

/// What a chain re-run runs (or, in a dry run, would run), in an order where every job comes after
/// the jobs it depends on.
public struct RerunChainPlan: Codable, Sendable, Hashable {
    public struct Step: Codable, Sendable, Hashable {
        /// The job run again.
        public var rerunOf: UUID
        public var jobType: JobType
        /// How the job run again ended.
        public var previousStatus: JobStatus
        /// The new job (none in a dry run).
        public var jobId: UUID?
        /// The jobs the new job depends on: the new jobs of this plan in place of the ones they re-run.
        public var dependsOn: [UUID]?
        /// A RUN_FLOW: the model nodes that finished before it failed, kept with their outputs
        /// (`runFlow.reuse` of the new job); the other nodes run.
        public var keptNodes: [String]?
        /// A JOB_GROUP: the jobs of the group that succeeded, kept with their results (their
        /// positions in the group run again hold SUCCEEDED jobs that say so); the others run.
        public var keptJobs: [UUID]?
        /// A re-run downstream of a newer version: each input that read the object (its JSON path,
        /// `runModel.inputs.source`) → the version it read; the new job reads the plan's `objectVersion`.
        public var readVersions: [String: Int]?

        public init(
            rerunOf: UUID, jobType: JobType, previousStatus: JobStatus, jobId: UUID? = nil, dependsOn: [UUID]? = nil,
            keptNodes: [String]? = nil, keptJobs: [UUID]? = nil, readVersions: [String: Int]? = nil
        ) {
            self.readVersions = readVersions
            self.rerunOf = rerunOf
            self.jobType = jobType
            self.previousStatus = previousStatus
            self.jobId = jobId
            self.dependsOn = dependsOn
            self.keptNodes = keptNodes
            self.keptJobs = keptJobs
        }
    }

    public var dryRun: Bool
    public var jobs: [Step]
    /// Jobs of the chain that succeeded: kept with their outputs, not run again (nor what follows them);
    /// in a re-run downstream of a newer version, the jobs that already read the latest.
    public var reused: [UUID]
    /// Jobs of the chain that have not ended: left as they are.
    public var active: [UUID]
    /// A re-run downstream of a newer version: the object's latest version, which the new jobs read.
    public var objectVersion: Int?

    public init(dryRun: Bool, jobs: [Step], reused: [UUID], active: [UUID], objectVersion: Int? = nil) {
        self.objectVersion = objectVersion
        self.dryRun = dryRun
        self.jobs = jobs
        self.reused = reused
        self.active = active
    }
}

/// `metadata.job.list`: jobs filtered and sorted, paged with an opaque cursor.
public struct ListJobs: MetadataCall {
    public typealias Result = JobPage
    public static let messageType = "metadata.job.list"
    public var limit: Int
    public var cursor: String?
    public var statuses: [JobStatus]?
    public var jobTypes: [JobType]?
    public var owner: String?
    /// `name=value` labels the job must all have.
    public var labels: [String: String]?
    public var submitted: TimeRange?
    public var started: TimeRange?
    public var finished: TimeRange?
    public var sort: JobSort?
    public var descending: Bool?
    /// Also count the matching jobs by status.
    public var includeCounts: Bool?

    public init(
        limit: Int, cursor: String? = nil, statuses: [JobStatus]? = nil, jobTypes: [JobType]? = nil, owner: String? = nil,
        labels: [String: String]? = nil, submitted: TimeRange? = nil, started: TimeRange? = nil,
        finished: TimeRange? = nil, sort: JobSort? = nil, descending: Bool? = nil, includeCounts: Bool? = nil
    ) {
        self.limit = limit
        self.cursor = cursor
        self.statuses = statuses
        self.jobTypes = jobTypes
        self.owner = owner
        self.labels = labels
        self.submitted = submitted
        self.started = started
        self.finished = finished
        self.sort = sort
        self.descending = descending
        self.includeCounts = includeCounts
    }
    public static let maxLimit = 500
}

/// A half-open time range `[from, to)`; either end may be open.
public struct TimeRange: Codable, Sendable, Hashable {
    public var from: Date?
    public var to: Date?
    public init(from: Date? = nil, to: Date? = nil) {
        self.from = from
        self.to = to
    }
}

/// What a job listing is sorted by (ties broken by job id).
public enum JobSort: String, Codable, Sendable, CaseIterable, Hashable {
    case submittedAt, startedAt, finishedAt, priority
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
    /// The attempt whose log this is (a re-queued job starts a new log).
    public var attempt: Int?
    public init(jobId: UUID, offset: Int, data: Data, complete: Bool, attempt: Int? = nil) {
        self.jobId = jobId
        self.offset = offset
        self.data = data
        self.complete = complete
        self.attempt = attempt
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
    /// What this attempt may use when it differs from the definition's `resources` (a retry after
    /// running out of memory or time may get more).
    public var resources: ResourceRequirements?

    public init(granted: Bool, reason: String? = nil, definition: JobDefinition? = nil, resources: ResourceRequirements? = nil) {
        self.granted = granted
        self.reason = reason
        self.definition = definition
        self.resources = resources
    }
}

/// `metadata.job.renew`: a worker extends the leases of the attempts it runs (every third of the
/// lease). The reply names the attempts that are no longer this worker's (re-queued, cancelled,
/// ended): the worker stops them.
public struct RenewLeases: MetadataCall {
    public typealias Result = RenewResult
    public static let messageType = "metadata.job.renew"
    public var workerId: String
    public var leaseSeconds: Int
    public var attempts: [RunningJob]

    public init(workerId: String, leaseSeconds: Int, attempts: [RunningJob]) {
        self.workerId = workerId
        self.leaseSeconds = leaseSeconds
        self.attempts = attempts
    }
}

public struct RenewResult: Codable, Sendable, Hashable {
    /// The attempts whose lease now runs `leaseSeconds` longer.
    public var renewed: [UUID]
    /// The attempts that are not this worker's any more: stop them.
    public var lost: [UUID]

    public init(renewed: [UUID], lost: [UUID]) {
        self.renewed = renewed
        self.lost = lost
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
    /// Paging (optional in schema version 1; without `limit`, every active job in one reply): the
    /// jobs after this id, in id order.
    public var after: UUID?
    public var limit: Int?
    public static let maxLimit = 10_000

    public init(after: UUID? = nil, limit: Int? = nil) {
        self.after = after
        self.limit = limit
    }
}

public struct ActiveJobs: Codable, Sendable, Hashable {
    /// Jobs waiting in QUEUED.
    public var queued: [JobEvent]
    /// Jobs dispatched or running, with their worker.
    public var running: [ActiveAssignment]
    /// With paging: the id to ask `after` for the next page; nil on the last page.
    public var next: UUID?

    public init(queued: [JobEvent], running: [ActiveAssignment], next: UUID? = nil) {
        self.queued = queued
        self.running = running
        self.next = next
    }
}

public struct ActiveAssignment: Codable, Sendable, Hashable {
    public var jobId: UUID
    public var jobType: JobType
    public var attempt: Int
    public var workerId: String?
    /// What the scheduler needs to count the attempt against its owner and its worker (optional in
    /// schema version 1).
    public var owner: String?
    public var priority: Int?
    public var submittedAt: Date?
    public var resources: ResourceRequirements?

    public init(
        jobId: UUID, jobType: JobType, attempt: Int, workerId: String?, owner: String? = nil, priority: Int? = nil,
        submittedAt: Date? = nil, resources: ResourceRequirements? = nil
    ) {
        self.jobId = jobId
        self.jobType = jobType
        self.attempt = attempt
        self.workerId = workerId
        self.owner = owner
        self.priority = priority
        self.submittedAt = submittedAt
        self.resources = resources
    }
}

/// `metadata.object.get`: one object version and tag version by selector (latest by default).
public struct GetObject: MetadataCall {
    public typealias Result = ObjectRecord
    public static let messageType = "metadata.object.get"
    public var selector: TagSelector
    /// Who asks: must be allowed to read the object (``ObjectAccess``); nil for a service's own call.
    public var caller: Principal?
    public init(selector: TagSelector, caller: Principal? = nil) {
        self.selector = selector
        self.caller = caller
    }
}

/// `metadata.object.rerunDownstream`: re-run the jobs that read an older version of an object, on
/// its latest version (answered with a ``RerunChainPlan``: `reused` lists the jobs that already read
/// the latest, `active` those that have not ended).
public struct RerunDownstream: MetadataCall {
    public typealias Result = RerunChainPlan
    public static let messageType = "metadata.object.rerunDownstream"
    public var objectId: UUID
    public var dryRun: Bool
    public init(objectId: UUID, dryRun: Bool = false) {
        self.objectId = objectId
        self.dryRun = dryRun
    }
}
