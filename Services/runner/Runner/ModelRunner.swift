import ConveyorModels
import Foundation
import Logging
import WorkerKit

/// Runs `RUN_MODEL`: copies the pinned model snapshot into a fresh working folder, runs its entry
/// point as a child process in its own process group with the job's parameters, streams its output
/// to the job's log, and registers every file it wrote under `outputs/` as a DATA object.
///
/// The model sees: `params.json` in its working folder and its path in `CONVEYOR_PARAMS`,
/// the parameters inline in `CONVEYOR_PARAMETERS_JSON`, `CONVEYOR_OUTPUT_DIR`, `CONVEYOR_JOB_ID`.
public struct ModelRunner: JobExecutor {
    public let jobTypes: [JobType] = [.runModel]
    let storage: InternalStorage
    let workRoot: String

    public init(storage: InternalStorage, workRoot: String) {
        self.storage = storage
        self.workRoot = workRoot
    }

    /// Takes this runner's work folder and ends what dead runners on this host left running.
    public func prepare(workerId: String) async throws {
        let area = try WorkArea(root: workRoot, workerId: workerId)
        for folder in area.cleanUpAfterDeadWorkers() {
            Logger(label: "runner").warning("ended the processes a dead runner left and removed its folder", metadata: ["folder": "\(folder)"])
        }
    }

    public func execute(_ job: ClaimedJob, log: JobLogWriter) async throws -> JobOutcome {
        guard let request = job.definition.runModel else { throw JobFailure("the job has no runModel section") }
        let model = try await job.metadata(request.model)
        guard model.objectType == .model, let snapshot = model.storagePath,
            let entryPoint = model.attributes["entryPoint"]?.stringValue,
            let language = model.attributes["language"]?.stringValue
        else {
            throw JobFailure("object \(model.objectId) v\(model.objectVersion) is not a usable MODEL")
        }

        let fileManager = FileManager.default
        let workDir = workRoot + "/\(job.workerId)/\(job.jobId.uuidString.lowercased())-a\(job.attempt)"
        try? fileManager.removeItem(atPath: workDir)
        try fileManager.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        defer { try? fileManager.removeItem(atPath: workDir) }
        let modelDir = workDir + "/model"
        let outputDir = workDir + "/outputs"
        try fileManager.copyItem(atPath: storage.path(snapshot), toPath: modelDir)
        try fileManager.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
        let parameters = try ConveyorJSON.encode(request.parameters ?? [:])
        try parameters.write(to: URL(fileURLWithPath: workDir + "/params.json"))

        let command: [String]
        switch language {
        case "python": command = ["python3", entryPoint]
        case "shell": command = ["/bin/sh", entryPoint]
        default: command = ["./" + entryPoint]
        }
        var environment: [String: String] = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "HOME": workDir,
            "LANG": "C.UTF-8",
            "CONVEYOR_JOB_ID": job.jobId.uuidString.lowercased(),
            "CONVEYOR_ATTEMPT": String(job.attempt),
            "CONVEYOR_PARAMS": workDir + "/params.json",
            "CONVEYOR_PARAMETERS_JSON": String(decoding: parameters, as: UTF8.self),
            "CONVEYOR_OUTPUT_DIR": outputDir,
        ]
        environment["PYTHONUNBUFFERED"] = "1"
        let limit = job.definition.resources?.maxRunSeconds.map { Duration.seconds($0) }
        await log.line("running model \(model.objectId) v\(model.objectVersion) (\(language): \(entryPoint))")
        let termination = try await ChildProcess.run(
            command, workingDirectory: modelDir, environment: environment, timeout: limit
        ) { output in await log.write(output) }

        switch termination {
        case .exited(0):
            let objects = try storeOutputs(from: outputDir, job: job, model: model, attributes: request.outputAttrs ?? [:])
            await log.line("model exited with code 0; \(objects.count) output(s) stored")
            return JobOutcome(
                status: .succeeded, message: "model exited with code 0; \(objects.count) output(s)", exitCode: 0,
                objects: objects, logBytes: 0)
        case .exited(let code):
            return JobOutcome(
                status: .failed, message: "model exited with code \(code)", exitCode: Int(code), objects: [], logBytes: 0)
        case .signalled, .timedOut:
            return JobOutcome(status: .failed, message: "model \(termination)", exitCode: nil, objects: [], logBytes: 0)
        }
    }

    /// Moves every file under `outputs/` into internal storage and describes it as a DATA object.
    private func storeOutputs(
        from outputDir: String, job: ClaimedJob, model: ObjectRecord, attributes: [String: JSONValue]
    ) throws -> [NewObject] {
        let fileManager = FileManager.default
        guard let enumerator = fileManager.enumerator(atPath: outputDir) else { return [] }
        var files: [String] = []
        while let name = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if fileManager.fileExists(atPath: outputDir + "/" + name, isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(name)
            }
        }
        let prefix = "data/\(job.jobId.uuidString.lowercased())-a\(job.attempt)"
        var objects: [NewObject] = []
        for name in files.sorted() {
            let size = (try? fileManager.attributesOfItem(atPath: outputDir + "/" + name)[.size] as? Int) ?? 0
            try storage.store(moving: outputDir + "/" + name, to: prefix + "/" + name)
            var objectAttributes = attributes
            objectAttributes["name"] = .string(name)
            objectAttributes["sizeBytes"] = .number(Double(size))
            objectAttributes["producedBy"] = .string("\(model.objectId.uuidString.lowercased()) v\(model.objectVersion)")
            objects.append(NewObject(objectType: .data, attributes: objectAttributes, storagePath: prefix + "/" + name))
        }
        return objects
    }
}
