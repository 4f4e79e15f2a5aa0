import Foundation

/// `IMPORT_MODEL`: bring one version of a model's code from a git repository into internal storage.
///
/// The model declares its parameters, inputs and outputs in `conveyor-model.json` next to its entry
/// point; the importer records them in the MODEL object so jobs can be checked against them.
public struct ImportModelJob: Sendable, Codable, Hashable {
    /// `shell` (run with /bin/sh), `python` (run with python3), `executable` (run directly) or `trac`
    /// (a class deriving from `tracdap.rt.api.TracModel`, run by TRAC's runtime; `entryPoint` is
    /// `module.Class`, and the model's declarations are read from the class itself).
    public var language: String
    /// A git URL or a local path to a repository.
    public var repository: String
    public var packageGroup: String?
    public var package: String?
    /// A tag, branch or commit to import.
    public var version: String
    /// The file that starts the model, relative to `path`.
    public var entryPoint: String
    /// The folder inside the repository that holds the model ("" or "." for the top).
    public var path: String?
    /// Attributes set on the MODEL object.
    public var modelAttrs: [TagUpdate]?

    public init(
        language: String, repository: String, packageGroup: String? = nil, package: String? = nil, version: String,
        entryPoint: String, path: String? = nil, modelAttrs: [TagUpdate]? = nil
    ) {
        self.language = language
        self.repository = repository
        self.packageGroup = packageGroup
        self.package = package
        self.version = version
        self.entryPoint = entryPoint
        self.path = path
        self.modelAttrs = modelAttrs
    }

    public static let languages: Set<String> = ["shell", "python", "executable", "trac"]

    /// A `trac` entry point, `module.Class`: dotted Python names, at least two.
    public static func isTracEntryPoint(_ entryPoint: String) -> Bool {
        let parts = entryPoint.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count >= 2 && parts.allSatisfy { part in
            guard let first = part.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
            return part.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0) }
        }
    }
}

/// `RUN_MODEL`: run one registered model, pinned by version, on named inputs with typed parameters.
public struct RunModelJob: Sendable, Codable, Hashable {
    public var model: TagSelector
    public var parameters: [String: Value]?
    /// Input name (as the model declares it) → a DATA object.
    public var inputs: [String: TagSelector]?
    /// Not set on submission: the versions written are reported in the result (`result.outputs`).
    public var outputs: [String: TagSelector]?
    /// Output name → an existing DATA object the output becomes the next version of.
    public var priorOutputs: [String: TagSelector]?
    /// Attributes set on every output.
    public var outputAttrs: [TagUpdate]?

    public init(
        model: TagSelector, parameters: [String: Value]? = nil, inputs: [String: TagSelector]? = nil,
        outputs: [String: TagSelector]? = nil, priorOutputs: [String: TagSelector]? = nil, outputAttrs: [TagUpdate]? = nil
    ) {
        self.model = model
        self.parameters = parameters
        self.inputs = inputs
        self.outputs = outputs
        self.priorOutputs = priorOutputs
        self.outputAttrs = outputAttrs
    }
}

/// `RUN_FLOW`: run the models of a flow in dependency order, each output feeding the inputs it is joined to.
public struct RunFlowJob: Sendable, Codable, Hashable {
    public var flow: TagSelector
    /// Model node name → the MODEL that runs there.
    public var models: [String: TagSelector]
    /// Parameters, given to every model that declares them.
    public var parameters: [String: Value]?
    /// INPUT node name → a DATA object.
    public var inputs: [String: TagSelector]?
    /// Not set on submission: the versions written are reported in the result (`result.outputs`).
    public var outputs: [String: TagSelector]?
    public var priorOutputs: [String: TagSelector]?
    public var outputAttrs: [TagUpdate]?
    /// Model node name → its outputs (socket → DATA object) from an earlier run of this flow: the
    /// node does not run again and its outputs are these. Set by a chain re-run of a flow that
    /// failed part way (the nodes that finished are kept); every socket the flow uses must be given.
    public var reuse: [String: [String: TagSelector]]?

    public init(
        flow: TagSelector, models: [String: TagSelector], parameters: [String: Value]? = nil,
        inputs: [String: TagSelector]? = nil, outputs: [String: TagSelector]? = nil,
        priorOutputs: [String: TagSelector]? = nil, outputAttrs: [TagUpdate]? = nil, reuse: [String: [String: TagSelector]]? = nil
    ) {
        self.reuse = reuse
        self.flow = flow
        self.models = models
        self.parameters = parameters
        self.inputs = inputs
        self.outputs = outputs
        self.priorOutputs = priorOutputs
        self.outputAttrs = outputAttrs
    }
}

/// A place in a named external storage.
public struct StorageLocation: Sendable, Codable, Hashable {
    /// The storage key (this deployment has `local`, the external storage folder).
    public var storage: String?
    /// A path relative to the storage's root.
    public var path: String

    public init(storage: String? = nil, path: String) {
        self.storage = storage
        self.path = path
    }

    public var effectiveStorage: String { storage ?? "local" }
}

/// `IMPORT_DATA`: bring files from external storage in as DATA objects.
///
/// Each entry of `imports` names an output and the external file it comes from. Without a `model`
/// the importer copies each file in as it is; with one, the model runs, reads the files and writes
/// the outputs (see `DataImporter`).
public struct ImportDataJob: Sendable, Codable, Hashable {
    public var model: TagSelector?
    public var parameters: [String: Value]?
    public var inputs: [String: TagSelector]?
    public var outputs: [String: TagSelector]?
    public var priorOutputs: [String: TagSelector]?
    /// Output name → the external file to import.
    public var imports: [String: StorageLocation]
    /// The storages the job reads from.
    public var storageAccess: [String]?
    /// Attributes set on every imported DATA object.
    public var importAttrs: [TagUpdate]?
    public var outputAttrs: [TagUpdate]?

    public init(
        model: TagSelector? = nil, parameters: [String: Value]? = nil, inputs: [String: TagSelector]? = nil,
        outputs: [String: TagSelector]? = nil, priorOutputs: [String: TagSelector]? = nil,
        imports: [String: StorageLocation], storageAccess: [String]? = nil, importAttrs: [TagUpdate]? = nil,
        outputAttrs: [TagUpdate]? = nil
    ) {
        self.model = model
        self.parameters = parameters
        self.inputs = inputs
        self.outputs = outputs
        self.priorOutputs = priorOutputs
        self.imports = imports
        self.storageAccess = storageAccess
        self.importAttrs = importAttrs
        self.outputAttrs = outputAttrs
    }
}

/// `EXPORT_DATA`: copy DATA objects from internal storage to locations in external storage.
public struct ExportDataJob: Sendable, Codable, Hashable {
    public var model: TagSelector?
    public var parameters: [String: Value]?
    /// Input name → the DATA object to export.
    public var inputs: [String: TagSelector]
    public var outputs: [String: TagSelector]?
    public var priorOutputs: [String: TagSelector]?
    /// Input name → where it goes.
    public var exports: [String: StorageLocation]
    /// The storages the job writes to.
    public var storageAccess: [String]?
    public var outputAttrs: [TagUpdate]?

    public init(
        model: TagSelector? = nil, parameters: [String: Value]? = nil, inputs: [String: TagSelector],
        outputs: [String: TagSelector]? = nil, priorOutputs: [String: TagSelector]? = nil,
        exports: [String: StorageLocation], storageAccess: [String]? = nil, outputAttrs: [TagUpdate]? = nil
    ) {
        self.model = model
        self.parameters = parameters
        self.inputs = inputs
        self.outputs = outputs
        self.priorOutputs = priorOutputs
        self.exports = exports
        self.storageAccess = storageAccess
        self.outputAttrs = outputAttrs
    }
}

/// `JOB_GROUP`: child jobs run one after another (a failure stops the rest) or all at once.
public struct JobGroupJob: Sendable, Codable, Hashable {
    public enum GroupType: String, Sendable, Codable, CaseIterable, Hashable {
        case sequential = "SEQUENTIAL"
        case parallel = "PARALLEL"
    }

    public var groupType: GroupType
    public var jobs: [JobDefinition]

    public init(groupType: GroupType, jobs: [JobDefinition]) {
        self.groupType = groupType
        self.jobs = jobs
    }

    public static let maxJobs = 100
    public static let maxDepth = 4
}

extension RunFlowJob {
    /// The name a failed flow's result gives the output of a node that finished (`result.outputs`).
    public static func nodeOutputName(node: String, socket: String) -> String { node + "." + socket }

    /// The node outputs a failed flow's result lists (`node.socket` names; node names hold no dot),
    /// as `reuse` takes them.
    public static func nodeOutputs(in outputs: [String: TagSelector]) -> [String: [String: TagSelector]] {
        var byNode: [String: [String: TagSelector]] = [:]
        for (name, selector) in outputs {
            guard let dot = name.firstIndex(of: ".") else { continue }
            byNode[String(name[..<dot]), default: [:]][String(name[name.index(after: dot)...])] = selector
        }
        return byNode
    }
}
