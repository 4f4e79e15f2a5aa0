/// A job as a client submits it: TRAC's job definition plus Conveyor's own fields.
///
/// Exactly one of the type-specific sections is set, the one matching ``jobType``.
public struct JobDefinition: Sendable, Codable, Hashable {
    public var jobType: JobType
    public var importModel: ImportModelJob?
    public var runModel: RunModelJob?
    public var exportData: ExportDataJob?
    /// Higher runs first (0...100, default 50). Equal priorities run in submission order.
    public var priority: Int?
    public var resources: ResourceRequirements?
    public var notification: NotificationSettings?
    public var labels: [String: String]?
    /// Who the job belongs to (until authentication arrives, the client names it).
    public var owner: String?
    /// A client-chosen key: submitting again with the same key returns the first job.
    public var idempotencyKey: String?

    public init(
        jobType: JobType, importModel: ImportModelJob? = nil, runModel: RunModelJob? = nil,
        exportData: ExportDataJob? = nil, priority: Int? = nil, resources: ResourceRequirements? = nil,
        notification: NotificationSettings? = nil, labels: [String: String]? = nil, owner: String? = nil,
        idempotencyKey: String? = nil
    ) {
        self.jobType = jobType
        self.importModel = importModel
        self.runModel = runModel
        self.exportData = exportData
        self.priority = priority
        self.resources = resources
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
}

/// `IMPORT_MODEL`: bring one version of a model's code from a git repository into internal storage.
public struct ImportModelJob: Sendable, Codable, Hashable {
    /// A git URL or a local path to a repository.
    public var repository: String
    /// The folder inside the repository that holds the model ("" or "." for the top).
    public var path: String?
    /// The file that starts the model, relative to `path`.
    public var entryPoint: String
    /// `shell` (run with /bin/sh), `python` (run with python3) or `executable` (run directly).
    public var language: String
    /// A tag, branch or commit to import.
    public var version: String
    public var modelAttrs: [String: JSONValue]?

    public init(
        repository: String, path: String? = nil, entryPoint: String, language: String, version: String,
        modelAttrs: [String: JSONValue]? = nil
    ) {
        self.repository = repository
        self.path = path
        self.entryPoint = entryPoint
        self.language = language
        self.version = version
        self.modelAttrs = modelAttrs
    }

    public static let languages: Set<String> = ["shell", "python", "executable"]
}

/// `RUN_MODEL`: run one registered model, pinned by version, with JSON parameters.
public struct RunModelJob: Sendable, Codable, Hashable {
    public var model: ObjectSelector
    public var parameters: [String: JSONValue]?
    public var outputAttrs: [String: JSONValue]?

    public init(
        model: ObjectSelector, parameters: [String: JSONValue]? = nil, outputAttrs: [String: JSONValue]? = nil
    ) {
        self.model = model
        self.parameters = parameters
        self.outputAttrs = outputAttrs
    }
}

/// `EXPORT_DATA`: copy a DATA object from internal storage to an external location.
public struct ExportDataJob: Sendable, Codable, Hashable {
    public var data: ObjectSelector
    /// The named external storage (only `local` so far: the exporter's configured folder).
    public var storage: String?
    /// The destination path, relative to the external storage's root.
    public var path: String

    public init(data: ObjectSelector, storage: String? = nil, path: String) {
        self.data = data
        self.storage = storage
        self.path = path
    }
}

/// Resources a job asks for; the scheduler gives each job one slot of a worker.
public struct ResourceRequirements: Sendable, Codable, Hashable {
    public var cpus: Int?
    public var memoryMB: Int?
    /// The job is killed and FAILED when it runs longer.
    public var maxRunSeconds: Int?

    public init(cpus: Int? = nil, memoryMB: Int? = nil, maxRunSeconds: Int? = nil) {
        self.cpus = cpus
        self.memoryMB = memoryMB
        self.maxRunSeconds = maxRunSeconds
    }

    public static let maxRunSecondsLimit = 7 * 24 * 3600
}

/// Who gets an e-mail when the job ends, and for which outcomes.
public struct NotificationSettings: Sendable, Codable, Hashable {
    public var email: [String]
    /// Terminal statuses that send the e-mail (default: all three).
    public var on: [JobStatus]?

    public init(email: [String], on: [JobStatus]? = nil) {
        self.email = email
        self.on = on
    }

    public func wants(_ status: JobStatus) -> Bool {
        (on ?? [.succeeded, .failed, .cancelled]).contains(status)
    }
}
