import ConveyorModels
import Foundation
import ServiceKit
import WorkerKit

/// Runs `IMPORT_MODEL`: clones the repository at the requested version, stores a snapshot of the
/// model's folder in internal storage and registers a MODEL object pointing at it, with what the
/// model declares in `conveyor-model.json` next to its entry point (parameters, inputs, outputs).
public struct ModelImporter: JobExecutor {
    public let jobTypes: [JobType] = [.importModel]
    let storage: InternalStorage
    /// Where the environments of python models with a `requirements.txt` are built.
    let environments: PythonEnvironments
    /// The environment git runs with (no prompts: a missing credential fails instead of hanging).
    let gitEnvironment: [String: String]
    /// How reading a `trac` model's declarations (which loads its code) is contained.
    let containment: Containment?
    let limitRules: AttemptLimitRules?

    public init(storage: InternalStorage, environments: PythonEnvironments, containment: Containment? = nil, limitRules: AttemptLimitRules? = nil) {
        self.storage = storage
        self.environments = environments
        self.containment = containment
        self.limitRules = limitRules
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_TERMINAL_PROMPT"] = "0"
        environment["GIT_ASKPASS"] = "/bin/false"
        self.gitEnvironment = environment
    }

    public func execute(_ job: ClaimedJob, log: JobLogWriter) async throws -> JobOutcome {
        guard let request = job.definition.importModel else { throw JobFailure("the job has no importModel section") }
        let staging = try storage.stagingFolder()
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let checkout = staging + "/checkout"

        await log.line("cloning \(request.repository) at \(request.version)")
        try await git(["clone", "--quiet", "--no-checkout", "--", request.repository, checkout], in: staging, log: log)
        try await git(["checkout", "--quiet", "--detach", request.version, "--"], in: checkout, log: log)
        let commit = try await gitOutput(["rev-parse", "HEAD"], in: checkout)
        await log.line("checked out commit \(commit)")

        let modelPath = (request.path ?? "").isEmpty || request.path == "." ? "" : request.path!
        let source = modelPath.isEmpty ? checkout : checkout + "/" + modelPath
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw JobFailure("path '\(modelPath)' is not a folder in \(request.repository) at \(request.version)")
        }
        let isTrac = request.language == "trac"
        let entryFiles = isTrac ? TracModelDescription.moduleFiles(of: request.entryPoint) : [request.entryPoint]
        guard entryFiles.contains(where: { FileManager.default.fileExists(atPath: source + "/" + $0) }) else {
            throw JobFailure(
                "entry point '\(request.entryPoint)' not found in '\(modelPath.isEmpty ? "." : modelPath)' at \(request.version)"
                    + (isTrac ? " (looked for \(entryFiles.joined(separator: " and ")))" : ""))
        }
        try? FileManager.default.removeItem(atPath: source + "/.git")
        // A python model's requirements (a trac model's, with TRAC's runtime): its environment is
        // built (or found) before it is registered, so a model that cannot be installed is never imported.
        let requirements = FileManager.default.contents(atPath: source + "/requirements.txt").map { String(decoding: $0, as: UTF8.self) }
        var environment: String?
        if isTrac {
            environment = try await environments.prepare(requirements: environments.tracRequirements(requirements), log: log)
        } else if request.language == "python", let requirements {
            environment = try await environments.prepare(requirements: requirements, log: log)
        }
        let declarations: ModelManifest
        if isTrac, let environment {
            if FileManager.default.fileExists(atPath: source + "/" + ModelManifest.fileName) {
                await log.line("ignoring \(ModelManifest.fileName): a trac model's declarations are read from the model")
            }
            declarations = try await tracDeclarations(of: request.entryPoint, in: source, environment: environment, job: job, staging: staging, log: log)
        } else {
            declarations = try ModelManifest.read(from: source)
        }
        await log.line(declarations.summary)

        let relative = "models/\(job.jobId.uuidString.lowercased())-a\(job.attempt)"
        try storage.store(moving: source, to: relative)
        await log.line("stored model snapshot at \(relative)")

        var attributes: [String: Value] = [:]
        if let updates = request.modelAttrs, case .success(let applied) = TagUpdate.apply(updates, to: [:], field: "modelAttrs") {
            attributes = applied
        }
        attributes["conveyor_repository"] = .string(request.repository)
        attributes["conveyor_version"] = .string(request.version)
        attributes["conveyor_commit"] = .string(commit)
        let definition = ModelDefinition(
            language: request.language, repository: request.repository, packageGroup: request.packageGroup,
            package: request.package, version: request.version, entryPoint: request.entryPoint, path: modelPath, commit: commit,
            parameters: declarations.parameters, inputs: declarations.inputs, outputs: declarations.outputs, environment: environment)
        return JobOutcome(
            status: .succeeded, message: "imported model at commit \(commit.prefix(12))", exitCode: nil,
            objects: [NewObject(objectType: .model, definition: .model(definition), attributes: attributes, storagePath: relative)],
            logBytes: 0)
    }

    /// Reads a trac model's declarations with its environment's interpreter, contained like a model
    /// of an import job when the importer has containment.
    private func tracDeclarations(
        of entryPoint: String, in source: String, environment: String, job: ClaimedJob, staging: String, log: JobLogWriter
    ) async throws -> ModelManifest {
        await log.line("reading the declarations of \(entryPoint) with TRAC's runtime")
        let limits = limitRules?.limits(for: job.definition.jobType, resources: job.definition.resources)
        var confinement = ChildProcess.Confinement.none
        if let limits, let containment {
            let cgroup = try containment.cgroup(for: "\(job.jobId.uuidString.lowercased())-a\(job.attempt)-describe", limits: limits)
            confinement = ChildProcess.Confinement(
                cgroup: cgroup, rlimits: limits.rlimits(withCgroup: cgroup != nil, separateUser: false), killGrace: containment.killGrace)
        }
        defer { if let cgroup = confinement.cgroup { containment?.release(cgroup) } }
        return try await TracModelDescription.read(
            entryPoint: entryPoint, source: source, interpreter: environments.interpreter(environment), scratch: staging + "/describe",
            confinement: confinement, timeout: .seconds(min(limits?.maxRunSeconds ?? 300, 300)), log: log)
    }

    private func git(_ arguments: [String], in directory: String, log: JobLogWriter) async throws {
        let termination = try await ChildProcess.run(
            ["git"] + arguments, workingDirectory: directory, environment: gitEnvironment, timeout: .seconds(600)
        ) { output in await log.write(output) }
        guard termination == .exited(0) else {
            throw JobFailure("git \(arguments[0]) failed: \(termination)")
        }
    }

    private func gitOutput(_ arguments: [String], in directory: String) async throws -> String {
        let collected = OutputTail()
        let termination = try await ChildProcess.run(
            ["git"] + arguments, workingDirectory: directory, environment: gitEnvironment, timeout: .seconds(60)
        ) { output in await collected.append(output) }
        guard termination == .exited(0) else { throw JobFailure("git \(arguments[0]) failed: \(termination)") }
        return await collected.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
