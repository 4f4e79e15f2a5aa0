import Foundation
import MailboxRules

/// A job as a client submits it: TRAC's job definition plus Conveyor's own fields.
///
/// Exactly one of the type-specific sections is set, the one matching ``jobType``.
public struct JobDefinition: Sendable, Codable, Hashable {
    public var jobType: JobType
    public var importModel: ImportModelJob?
    public var importData: ImportDataJob?
    public var exportData: ExportDataJob?
    public var runModel: RunModelJob?
    public var runFlow: RunFlowJob?
    public var jobGroup: JobGroupJob?
    /// Higher runs first (0...100, default 50). Equal priorities run in submission order.
    public var priority: Int?
    public var resources: ResourceRequirements?
    /// When a failed attempt is tried again (default: never).
    public var retry: RetryPolicy?
    /// Jobs that must end first: the job waits in PENDING until they have (see ``Dependencies``).
    public var dependsOn: Dependencies?
    public var notification: NotificationSettings?
    public var labels: [String: String]?
    /// Who the job belongs to (until authentication arrives, the client names it).
    public var owner: String?
    /// A client-chosen key: submitting again with the same key returns the first job.
    public var idempotencyKey: String?
    /// The deployment's execution profile its models run with (``ExecutionProfile``): environment,
    /// interpreter, resource defaults and limits. RUN_MODEL and RUN_FLOW only.
    public var profile: String?

    public init(
        jobType: JobType, importModel: ImportModelJob? = nil, importData: ImportDataJob? = nil,
        exportData: ExportDataJob? = nil, runModel: RunModelJob? = nil, runFlow: RunFlowJob? = nil,
        jobGroup: JobGroupJob? = nil, priority: Int? = nil, resources: ResourceRequirements? = nil, retry: RetryPolicy? = nil,
        dependsOn: Dependencies? = nil, notification: NotificationSettings? = nil, labels: [String: String]? = nil,
        owner: String? = nil, idempotencyKey: String? = nil, profile: String? = nil
    ) {
        self.profile = profile
        self.jobType = jobType
        self.importModel = importModel
        self.importData = importData
        self.exportData = exportData
        self.runModel = runModel
        self.runFlow = runFlow
        self.jobGroup = jobGroup
        self.priority = priority
        self.resources = resources
        self.retry = retry
        self.dependsOn = dependsOn
        self.notification = notification
        self.labels = labels
        self.owner = owner
        self.idempotencyKey = idempotencyKey
    }

    public static let defaultPriority = 50
    public static let priorityRange = 0...100

    /// The priority the scheduler uses.
    public var effectivePriority: Int { priority ?? Self.defaultPriority }
    /// The owner recorded with the job.
    public var effectiveOwner: String { owner ?? "anonymous" }
    /// The object the job runs (its model, or its flow), by which run times are learned.
    public var modelObjectId: UUID? {
        runModel?.model.objectId ?? runFlow?.flow.objectId ?? importData?.model?.objectId ?? exportData?.model?.objectId
    }
}

/// Resources a job asks for: the scheduler starts it only on a worker with that much free (what is
/// left out takes the job type's defaults), and it backfills by `maxRunSeconds`.
public struct ResourceRequirements: Sendable, Codable, Hashable {
    public var cpus: Int?
    public var memoryMB: Int?
    public var gpus: Int?
    /// The job is killed and FAILED when it runs longer.
    public var maxRunSeconds: Int?

    public init(cpus: Int? = nil, memoryMB: Int? = nil, gpus: Int? = nil, maxRunSeconds: Int? = nil) {
        self.cpus = cpus
        self.memoryMB = memoryMB
        self.gpus = gpus
        self.maxRunSeconds = maxRunSeconds
    }

    public static let maxRunSecondsLimit = 7 * 24 * 3600
}

/// Who gets an e-mail when the job ends, and for which outcomes: `when` (always, only on failure,
/// never) or, in detail, `on` (the terminal statuses that send it); by default every end.
public struct NotificationSettings: Sendable, Codable, Hashable {
    public var email: [String]
    /// Terminal statuses that send the e-mail (default: all three).
    public var on: [JobStatus]?
    /// When to send it, in short (instead of `on`).
    public var when: When?

    public enum When: String, Sendable, Codable, Hashable, CaseIterable {
        case always = "ALWAYS"
        /// Only when the job FAILED.
        case failure = "FAILURE"
        /// No e-mail (say, to override a default for one job).
        case never = "NEVER"
    }

    public init(email: [String], on: [JobStatus]? = nil, when: When? = nil) {
        self.email = email
        self.on = on
        self.when = when
    }

    public func wants(_ status: JobStatus) -> Bool {
        switch when {
        case .always: status.isTerminal
        case .failure: status == .failed
        case .never: false
        case nil: (on ?? [.succeeded, .failed, .cancelled]).contains(status)
        }
    }

    /// Every problem of the settings, each field named after `prefix` (`notification.` in a job).
    public func problems(prefix: String) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if email.isEmpty, when != .never {
            problems.append(FieldProblem(field: prefix + "email", reason: "must list at least one address (or set when to NEVER)"))
        }
        if email.count > MailboxRule.maxRecipients {
            problems.append(FieldProblem(field: prefix + "email", reason: "must list at most \(MailboxRule.maxRecipients) addresses (got \(email.count))"))
        }
        for (index, address) in email.enumerated().prefix(MailboxRule.maxRecipients) {
            guard let reason = MailboxRule.problem(address) else { continue }
            problems.append(FieldProblem(field: prefix + "email[\(index)]", reason: "not an address Conveyor delivers to: \(reason)"))
        }
        if let on {
            for (index, status) in on.enumerated() where !status.isTerminal {
                problems.append(FieldProblem(field: prefix + "on[\(index)]", reason: "\(status.rawValue) is not a terminal status"))
            }
            if when != nil { problems.append(FieldProblem(field: prefix + "when", reason: "give either when or on, not both")) }
        }
        return problems
    }
}

/// The jobs a job waits for, and what it needs of them: by default that every one SUCCEEDED (when
/// one fails or is cancelled, the job is CANCELLED, naming it); with `ENDED`, only that each ended.
public struct Dependencies: Sendable, Codable, Hashable {
    public var jobIds: [UUID]
    public var condition: Condition?

    public enum Condition: String, Sendable, Codable, CaseIterable, Hashable {
        case succeeded = "SUCCEEDED"
        case ended = "ENDED"
    }

    public init(jobIds: [UUID], condition: Condition? = nil) {
        self.jobIds = jobIds
        self.condition = condition
    }

    public var effectiveCondition: Condition { condition ?? .succeeded }
    public static let maxJobs = 100
}
