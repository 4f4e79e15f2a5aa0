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

    public init(storage: InternalStorage, environments: PythonEnvironments) {
        self.storage = storage
        self.environments = environments
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
        guard FileManager.default.fileExists(atPath: source + "/" + request.entryPoint) else {
            throw JobFailure("entry point '\(request.entryPoint)' not found in '\(modelPath.isEmpty ? "." : modelPath)' at \(request.version)")
        }
        try? FileManager.default.removeItem(atPath: source + "/.git")
        let declarations = try ModelManifest.read(from: source)
        await log.line(declarations.summary)
        // A python model's requirements: its environment is built (or found) before it is registered,
        // so a model that cannot be installed is never imported.
        var environment: String?
        if request.language == "python", let requirements = FileManager.default.contents(atPath: source + "/requirements.txt") {
            environment = try await environments.prepare(requirements: String(decoding: requirements, as: UTF8.self), log: log)
        }

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
