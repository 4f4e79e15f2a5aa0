import CChildSpawn
import ConveyorModels
import Foundation
import ServiceKit

/// Runs one model version as a child process in a folder of its own, the way every worker that
/// executes models does (the runner for RUN_MODEL and each node of RUN_FLOW, the importer and the
/// exporter for IMPORT_DATA / EXPORT_DATA jobs that name a model).
///
/// The model runs in a copy of its snapshot (`<folder>/model`) and sees `CONVEYOR_PARAMS` (the path
/// of `params.json`, parameters as plain JSON, also inline in `CONVEYOR_PARAMETERS_JSON`),
/// `CONVEYOR_INPUTS` (`inputs.json`: input name → the path of a copy of the input, made for this
/// run; each also in `CONVEYOR_INPUT_<NAME>`),
/// `CONVEYOR_JOB_ID`, `CONVEYOR_ATTEMPT`, and writes each output as `$CONVEYOR_OUTPUT_DIR/<name>[.ext]`.
public struct ModelProcess: Sendable {
    public let storage: InternalStorage
    /// The recycled run folders, whose intact model copies are used again; nil: always copy.
    let folders: RunFolders?
    /// How runs given limits are contained (a control group per run); nil: only a process group.
    public let containment: Containment?
    /// Where the Python environments of models with a `requirements.txt` are.
    public let environments: PythonEnvironments?

    public init(storage: InternalStorage, folders: RunFolders? = nil, containment: Containment? = nil, environments: PythonEnvironments? = nil) {
        self.storage = storage
        self.folders = folders
        self.containment = containment
        self.environments = environments
    }

    /// What one run produced.
    public struct Run: Sendable {
        public var termination: ChildProcess.Termination
        public var usage: ResourceUsage
        /// Output name → the file the model wrote (in the run's folder).
        public var outputs: [String: String]
        /// What the model said of itself last (`$CONVEYOR_PROGRESS`), when it said anything.
        public var progress: AttemptProgress? = nil
        /// Why it failed in the model's runtime's own words (a `trac` model's result), when it did.
        public var message: String? = nil
        /// Output file → what the model's runtime reported of it (a `trac` model's schemas and row counts).
        public var described: [String: OutputDescription] = [:]

        /// The job's message for a run that did not succeed.
        public var failureMessage: String { message ?? termination.failureMessage }
    }

    /// What a model's runtime says of an output it wrote.
    public struct OutputDescription: Sendable {
        public var schema: SchemaDefinition?
        public var rowCount: Int?
    }

    /// Runs `model` in `folder` (created unless it is there, empty; the caller removes or recycles it).
    /// With a `profile`, its environment variables are added (the platform's own win) and `python`
    /// models run with its interpreter.
    /// With `limits`, the run is contained (``Containment``): its processes share a control group
    /// with the memory, CPU and process limits, are killed as a whole, and their usage is the group's.
    /// - Throws: ``JobFailure`` when the model is not runnable or misses a declared output.
    public func run(
        _ model: ObjectRecord, for job: ClaimedJob, parameters: [String: Value], inputs: [String: String], in folder: String,
        environment extra: [String: String] = [:], timeout: Duration?, limits: AttemptLimits? = nil, profile: ExecutionProfile? = nil,
        log: JobLogWriter
    ) async throws -> Run {
        guard model.objectType == .model, let snapshot = model.storagePath, let definition = model.definition.model else {
            throw JobFailure("object \(model.objectId) v\(model.objectVersion) is not a usable MODEL")
        }
        let fileManager = FileManager.default
        let modelDir = folder + "/model"
        let outputDir = folder + "/outputs"
        // The folder may come prepared (``RunFolders``): empty, with empty model/ and outputs/.
        try fileManager.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileTree.makeFolder(modelDir)
        try FileTree.makeFolder(outputDir)
        let snapshotPath = storage.path(snapshot)
        // A copy that a model user could have touched is never trusted (see ``RunFolders/giveBack(_:)``).
        if containment?.modelUsers != nil || folders?.hasIntactCopy(of: snapshotPath, in: folder) != true {
            try FileTree.removeContents(of: modelDir)
            try FileTree.copyContents(of: snapshotPath, into: modelDir)
            folders?.recordCopy(of: snapshotPath, in: folder)
        }
        // Models get copies of their inputs: a stored object version never changes, whatever a model does.
        var inputs = inputs
        for (name, path) in inputs {
            let copyFolder = folder + "/inputs/" + name
            try fileManager.createDirectory(atPath: copyFolder, withIntermediateDirectories: true)
            let copy = copyFolder + "/" + (path as NSString).lastPathComponent
            try fileManager.copyItem(atPath: path, toPath: copy)
            inputs[name] = copy
        }
        let parameterJSON = try ConveyorJSON.encode(parameters.mapValues(\.plainJSON))
        try ScratchFile.write(parameterJSON, to: folder + "/params.json")
        try ScratchFile.write(try ConveyorJSON.encode(inputs), to: folder + "/inputs.json")
        let progressFile = folder + "/progress.ndjson"
        try ScratchFile.empty(progressFile)
        let progress = ProgressReader(path: progressFile)

        let command: [String]
        var trac: TracLaunch?
        switch definition.language {
        case "python": command = [try interpreter(of: definition, profile: profile), definition.entryPoint]
        case "shell": command = ["/bin/sh", definition.entryPoint]
        case "trac":
            let launch = TracLaunch(
                folder: folder, entryPoint: definition.entryPoint, parameters: parameters, inputs: inputs,
                outputs: (definition.outputs ?? [:]).keys.sorted())
            try launch.write()
            trac = launch
            command = launch.command(interpreter: try interpreter(of: definition, profile: profile))
        default: command = ["./" + definition.entryPoint]
        }
        var environment: [String: String] = [
            "PATH": Self.searchPath,
            "HOME": folder,
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "CONVEYOR_PARAMS": folder + "/params.json",
            "CONVEYOR_PARAMETERS_JSON": String(decoding: parameterJSON, as: UTF8.self),
            "CONVEYOR_INPUTS": folder + "/inputs.json",
            "CONVEYOR_OUTPUT_DIR": outputDir,
            "CONVEYOR_JOB_ID": job.jobId.uuidString.lowercased(),
            "CONVEYOR_ATTEMPT": String(job.attempt),
            "CONVEYOR_PROGRESS": progressFile,
        ]
        for (name, path) in inputs { environment["CONVEYOR_INPUT_\(name.uppercased())"] = path }
        // TRAC's runtime loads the model class from the model's folder.
        if trac != nil { environment["PYTHONPATH"] = modelDir }
        environment.merge(extra) { _, new in new }
        // The profile's variables, where the platform sets none of its own.
        environment.merge(profile?.environment ?? [:]) { own, _ in own }
        await log.line("running model \(model.objectId.uuidString.lowercased()) v\(model.objectVersion) (\(definition.language): \(definition.entryPoint))")
        var confinement = ChildProcess.Confinement.none
        var sampler: UsageSampler?
        var user: UInt32?
        defer {
            if let user {
                // Without a control group, what the run left running as its user (a `setsid` child
                // that escaped the process group) ends before the id is handed out again.
                if confinement.cgroup == nil { _ = conveyor_kill_user(user) }
                containment?.modelUsers?.giveBack(user)
            }
        }
        if let limits, let containment {
            // A user of its own: the run's folder is its alone.
            if let users = containment.modelUsers {
                let id = try users.take()
                user = id
                try FileTree.changeOwner(of: folder, uid: id, gid: id)
                guard chmod(folder, 0o700) == 0 else { throw JobFailure("cannot close \(folder) to other users") }
            }
            let cgroup = try containment.cgroup(for: "\(job.jobId.uuidString.lowercased())-a\(job.attempt)", limits: limits)
            confinement = ChildProcess.Confinement(
                cgroup: cgroup, rlimits: limits.rlimits(withCgroup: cgroup != nil, separateUser: user != nil),
                credentials: user.map { (uid: $0, gid: $0) }, killGrace: containment.killGrace)
            // Usage sampled while it runs; the disk quota checked with each sample.
            let running = UsageSampler(cgroup: cgroup, folder: folder)
            sampler = running
            confinement.watchdog = ChildProcess.Watchdog(interval: containment.sampleInterval) {
                if let said = progress.read() { await log.progress(said) }
                let disk = running.sample()
                guard let quota = limits.diskBytes, disk > quota else { return nil }
                return .diskLimit(limitBytes: quota)
            }
        }
        defer { if let cgroup = confinement.cgroup { containment?.release(cgroup) } }
        // A trac run's output is kept too: TRAC's reason when it fails before writing a result.
        let tail = trac.map { _ in OutputTail() }
        var (termination, usage) = try await ChildProcess.runMeasured(
            command, workingDirectory: modelDir, environment: environment, timeout: timeout, confinement: confinement
        ) { output in
            await tail?.append(output)
            await log.write(output)
        }
        if let limits, let sampler {
            let disk = max(sampler.peakDiskBytes, FileTree.diskBytes(of: folder))
            // A model that outgrew its quota between two samples ends the same way.
            if let quota = limits.diskBytes, disk > quota, termination == .exited(0) { termination = .diskLimit(limitBytes: quota) }
            usage.samples = sampler.samples.isEmpty ? nil : sampler.samples
            usage.peakDiskBytes = disk
            usage.diskLimitBytes = limits.diskBytes
            usage.memoryLimitMB = limits.memoryBytes.map { $0 / 1_048_576 }
        }
        var message: String?
        var described: [String: OutputDescription] = [:]
        if let trac, let tail {
            (message, described) = try await readTracResult(trac, termination: &termination, output: tail)
        }
        var outputs: [String: String] = [:]
        if termination == .exited(0) {
            outputs = try await collectOutputs(in: outputDir, declared: definition.outputs, log: log)
        }
        _ = progress.read()
        return Run(termination: termination, usage: usage, outputs: outputs, progress: progress.last, message: message, described: described)
    }

    /// TRAC's own result of a trac run: its status decides (a run TRAC failed never succeeds), its
    /// message becomes the job's, and the outputs it wrote are described with their schemas and row
    /// counts. Without a result (TRAC stopped before the job started), its first error is the message.
    private func readTracResult(
        _ launch: TracLaunch, termination: inout ChildProcess.Termination, output: OutputTail
    ) async throws -> (String?, [String: OutputDescription]) {
        guard let data = FileManager.default.contents(atPath: launch.resultFile) else {
            guard termination != .exited(0) else { throw JobFailure("TRAC's runtime ended without writing its job result") }
            return (TracResult.firstError(in: await output.text).map { "TRAC could not start the model: \($0)" }, [:])
        }
        let result = try TracResult.parse(data)
        guard result.succeeded else {
            if termination == .exited(0) { termination = .exited(1) }
            return ("TRAC reported the model FAILED: \(result.message)", [:])
        }
        var described: [String: OutputDescription] = [:]
        for output in result.outputs.values {
            described[launch.folder + "/" + output.path] = OutputDescription(schema: output.schema, rowCount: output.rowCount)
        }
        return (nil, described)
    }

    /// The interpreter of a python model: its own environment's, else the profile's, else `python3`.
    func interpreter(of model: ModelDefinition, profile: ExecutionProfile?) throws -> String {
        guard let key = model.environment else { return profile?.python ?? "python3" }
        guard let environments, FileManager.default.fileExists(atPath: environments.interpreter(key)) else {
            throw JobFailure("the model's Python environment \(key) is not on this host (environments.root \(environments?.root ?? "not set"))")
        }
        return environments.interpreter(key)
    }

    /// The worker's PATH, which models get too (read once: reading the environment is not free).
    static let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"

    /// The files a model wrote, by output name (the file name up to its first dot). With declared
    /// outputs, each must be there unless optional, and anything else is left out.
    func collectOutputs(in outputDir: String, declared: [String: ModelInputOutput]?, log: JobLogWriter) async throws -> [String: String] {
        let files = ((try? FileTree.files(in: outputDir)) ?? []).sorted()
        var found: [String: String] = [:]
        for file in files {
            let name = String(file.split(separator: ".", maxSplits: 1).first ?? Substring(file))
            if let other = found[name] {
                throw JobFailure("the model wrote two files for output '\(name)': \((other as NSString).lastPathComponent) and \(file)")
            }
            found[name] = outputDir + "/" + file
        }
        // Without a manifest every file is an output; with one, only what it declares.
        guard let declared else { return found }
        var outputs: [String: String] = [:]
        for (name, output) in declared.sorted(by: { $0.key < $1.key }) {
            if let path = found[name] {
                outputs[name] = path
            } else if output.optional != true {
                throw JobFailure("the model did not write its output '\(name)' (expected outputs/\(name) or outputs/\(name).<ext>)")
            }
        }
        for name in found.keys.sorted() where declared[name] == nil {
            await log.line("ignored outputs/\(name): the model does not declare it")
        }
        return outputs
    }

    /// Moves outputs into internal storage and describes each as a DATA object for the job's result.
    /// `described` (by output file, see ``Run/described``) adds the schema and row count a model's
    /// runtime reported.
    public func store(
        _ outputs: [String: String], job: ClaimedJob, producedBy: String, attrs: [TagUpdate]?, priorOutputs: [String: TagSelector]?,
        described: [String: OutputDescription] = [:]
    ) throws -> [NewObject] {
        let prefix = "data/\(job.jobId.uuidString.lowercased())-a\(job.attempt)"
        var base: [String: Value] = [:]
        if let attrs, case .success(let applied) = TagUpdate.apply(attrs, to: [:], field: "outputAttrs") { base = applied }
        var objects: [NewObject] = []
        for (name, path) in outputs.sorted(by: { $0.key < $1.key }) {
            let file = (path as NSString).lastPathComponent
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            let stored = prefix + "/" + name + "/" + file
            try storage.store(moving: path, to: stored)
            var attributes = base
            attributes["conveyor_output_name"] = .string(name)
            attributes["conveyor_file_name"] = .string(file)
            attributes["conveyor_job_id"] = .string(job.jobId.uuidString.lowercased())
            attributes["conveyor_produced_by"] = .string(producedBy)
            objects.append(
                NewObject(
                    objectType: .data,
                    definition: .data(
                        DataDefinition(
                            schemaDefinition: described[path]?.schema, format: Self.mediaType(of: file), sizeBytes: size,
                            rowCount: described[path]?.rowCount)),
                    attributes: attributes, storagePath: stored, outputName: name,
                    priorVersion: priorOutputs?[name]))
        }
        return objects
    }

    static func mediaType(of file: String) -> String {
        switch (file as NSString).pathExtension.lowercased() {
        case "csv": "text/csv"
        case "json": "application/json"
        case "txt", "log": "text/plain"
        case "parquet": "application/vnd.apache.parquet"
        default: "application/octet-stream"
        }
    }
}

extension ChildProcess.Termination {
    /// Why a run that did not succeed failed (nil for exit code 0).
    public var attemptFailure: AttemptFailure? {
        switch self {
        case .exited(0): nil
        case .exited(let code): AttemptFailure(kind: .exitCode, exitCode: Int(code))
        case .signalled(let signal): AttemptFailure(kind: .signal, signal: Int(signal))
        case .timedOut: AttemptFailure(kind: .timeout)
        case .outOfMemory: AttemptFailure(kind: .outOfMemory)
        case .diskLimit: AttemptFailure(kind: .diskLimit)
        }
    }

    /// A job outcome message for a model run that did not succeed.
    public var failureMessage: String {
        switch self {
        case .exited(let code): "model exited with code \(code)"
        default: "model \(self)"
        }
    }
}
