import ConveyorModels
import Foundation
import ServiceKit
import WorkerKit

/// Runs `IMPORT_DATA`: brings files from the `local` external storage (the folder `export.root`) in
/// as DATA objects, one per entry of `imports`. Without a model each file is copied as it is; with a
/// model, the model reads the files (their paths in `CONVEYOR_IMPORT_<NAME>`) and writes the outputs.
public struct DataImporter: Sendable {
    let process: ModelProcess
    let externalRoot: String

    /// What an attempt's model may use (as the runner's, see ``AttemptLimitRules``).
    let limitRules: AttemptLimitRules?

    public init(storage: InternalStorage, externalRoot: String, containment: Containment? = nil, limitRules: AttemptLimitRules? = nil) {
        self.process = ModelProcess(storage: storage, containment: containment)
        self.limitRules = limitRules
        self.externalRoot = externalRoot
    }

    func execute(_ job: ClaimedJob, log: JobLogWriter) async throws -> JobOutcome {
        guard let request = job.definition.importData else { throw JobFailure("the job has no importData section") }
        var sources: [String: String] = [:]
        for (name, location) in request.imports.sorted(by: { $0.key < $1.key }) {
            if let problem = JobValidator.relativePathProblem(location.path, allowEmpty: false) {
                throw JobFailure("importData.imports.\(name).path \(problem)")
            }
            let path = externalRoot + "/" + location.path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw JobFailure("import '\(name)': there is no file local:\(location.path)")
            }
            sources[name] = path
        }
        let folder = try process.storage.stagingFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var outputs: [String: String] = [:]
        var usage: ResourceUsage? = nil
        var producedBy = "import"
        if let modelSelector = request.model {
            let model = try await job.metadata(modelSelector)
            producedBy = "import by \(model.objectId.uuidString.lowercased()) v\(model.objectVersion)"
            var environment = ["CONVEYOR_STORAGE_LOCAL": externalRoot]
            for (name, path) in sources { environment["CONVEYOR_IMPORT_\(name.uppercased())"] = path }
            var inputs: [String: String] = [:]
            for (name, selector) in request.inputs ?? [:] {
                inputs[name] = try await job.metadata(selector).storagePath.map(process.storage.path)
            }
            let limits = limitRules?.limits(for: job.definition.jobType, resources: job.definition.resources)
            let run = try await process.run(
                model, for: job, parameters: request.parameters ?? [:], inputs: inputs, in: folder + "/run", environment: environment,
                timeout: limits.map { .seconds($0.maxRunSeconds) }, limits: limits, log: log)
            usage = run.usage
            guard run.termination == .exited(0) else {
                return JobOutcome(
                    status: .failed, message: "import \(run.termination.failureMessage)", exitCode: nil, objects: [], logBytes: 0,
                    resourceUsage: usage, failure: run.termination.attemptFailure)
            }
            outputs = run.outputs
        } else {
            for (name, source) in sources {
                let copy = folder + "/" + name + "-" + (source as NSString).lastPathComponent
                try FileManager.default.copyItem(atPath: source, toPath: copy)
                outputs[name] = copy
                await log.line("importing local:\(request.imports[name]!.path) as '\(name)'")
            }
        }
        let objects = try process.store(
            outputs, job: job, producedBy: producedBy, attrs: (request.importAttrs ?? []) + (request.outputAttrs ?? []),
            priorOutputs: request.priorOutputs)
        return JobOutcome(
            status: .succeeded, message: "imported \(objects.count) data set(s)", exitCode: request.model == nil ? nil : 0,
            objects: objects, logBytes: 0, resourceUsage: usage)
    }
}

/// The importer's executor: IMPORT_MODEL and IMPORT_DATA.
public struct ImportExecutor: JobExecutor {
    public let jobTypes: [JobType] = [.importModel, .importData]
    let models: ModelImporter
    let data: DataImporter

    public init(
        storage: InternalStorage, externalRoot: String, environments: PythonEnvironments, containment: Containment? = nil,
        limitRules: AttemptLimitRules? = nil
    ) {
        self.models = ModelImporter(storage: storage, environments: environments, containment: containment, limitRules: limitRules)
        self.data = DataImporter(storage: storage, externalRoot: externalRoot, containment: containment, limitRules: limitRules)
    }

    public func execute(_ job: ClaimedJob, log: JobLogWriter) async throws -> JobOutcome {
        job.definition.jobType == .importData ? try await data.execute(job, log: log) : try await models.execute(job, log: log)
    }
}
