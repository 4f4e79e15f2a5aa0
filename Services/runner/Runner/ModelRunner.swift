import ConveyorModels
import Foundation
import Logging
import ServiceKit
import WorkerKit

/// Runs `RUN_MODEL` (one model, pinned by version, on named DATA inputs with typed parameters) and
/// `RUN_FLOW` (the models of a flow in dependency order, each output feeding the inputs it is joined
/// to). Each model runs as a child process in its own process group and folder (see ``ModelProcess``);
/// its output is streamed to the job's log; declared outputs become DATA objects.
public struct ModelRunner: JobExecutor {
    public let jobTypes: [JobType] = [.runModel, .runFlow]
    let process: ModelProcess
    let workRoot: String
    let folders: RunFolders
    /// What each attempt may use (its control group's limits and its run-time limit).
    let limitRules: AttemptLimitRules
    /// The deployment's execution profiles, by name (a job names one in `profile`).
    let profiles: [String: ExecutionProfile]

    public init(
        storage: InternalStorage, workRoot: String, containment: Containment, limitRules: AttemptLimitRules,
        profiles: [String: ExecutionProfile] = [:], environments: PythonEnvironments? = nil
    ) {
        let folders = RunFolders()
        self.process = ModelProcess(storage: storage, folders: folders, containment: containment, environments: environments)
        self.workRoot = workRoot
        self.folders = folders
        self.limitRules = limitRules
        self.profiles = profiles
    }

    /// Takes this runner's work folder and ends what dead runners on this host left running. When
    /// models run as users of their own, the internal storage is closed to them (0700) and the work
    /// folders only let them through to their own run's folder (0711).
    public func prepare(workerId: String) async throws {
        let area = try WorkArea(root: workRoot, workerId: workerId)
        if process.containment?.modelUsers != nil {
            // On a fresh host the storage may not exist yet (metadata makes it as it writes).
            try FileManager.default.createDirectory(atPath: process.storage.root, withIntermediateDirectories: true)
            for (path, mode) in [(process.storage.root, 0o700), (workRoot, 0o711), (area.folder, 0o711)] where chmod(path, mode_t(mode)) != 0 {
                throw JobFailure("cannot set the permissions of \(path) to \(String(mode, radix: 8)): \(String(cString: strerror(errno)))")
            }
        }
        for folder in area.cleanUpAfterDeadWorkers() {
            Logger(label: "runner").warning("ended the processes a dead runner left and removed its folder", metadata: ["folder": "\(folder)"])
        }
    }

    public func execute(_ job: ClaimedJob, log: JobLogWriter) async throws -> JobOutcome {
        let path = workRoot + "/\(job.workerId)/\(job.jobId.uuidString.lowercased())-a\(job.attempt)"
        // Every attempt has a run-time limit: the job's, or the deployment's.
        let limits = limitRules.limits(for: job.definition.jobType, resources: job.definition.resources)
        let timeout = Duration.seconds(limits.maxRunSeconds)
        var profile: ExecutionProfile?
        if let name = job.definition.profile {
            // Metadata accepted it: this runner's configuration must have it too.
            guard let known = profiles[name] else { throw JobFailure("this runner has no execution profile '\(name)' (profiles.names)") }
            profile = known
        }
        if let request = job.definition.runModel {
            let model = try await job.metadata(request.model)
            // A folder that ran this model before (its copy may still be intact).
            let folder = try folders.take(path, for: model.storagePath.map(process.storage.path))
            defer { folders.giveBack(folder) }
            return try await runModel(request, model: model, job: job, folder: folder, timeout: timeout, limits: limits, profile: profile, log: log)
        }
        if let request = job.definition.runFlow {
            let folder = try folders.take(path)
            defer { folders.giveBack(folder) }
            return try await runFlow(request, job: job, folder: folder, timeout: timeout, limits: limits, profile: profile, log: log)
        }
        throw JobFailure("the job has neither a runModel nor a runFlow section")
    }

    private func runModel(
        _ request: RunModelJob, model: ObjectRecord, job: ClaimedJob, folder: String, timeout: Duration, limits: AttemptLimits,
        profile: ExecutionProfile?, log: JobLogWriter
    ) async throws -> JobOutcome {
        let inputs = try await inputPaths(request.inputs ?? [:], job: job)
        let run = try await process.run(
            model, for: job, parameters: request.parameters ?? [:], inputs: inputs, in: folder, timeout: timeout, limits: limits,
            profile: profile, log: log)
        guard run.termination == .exited(0) else {
            var outcome = JobOutcome(
                status: .failed, message: run.failureMessage, exitCode: run.termination.exitCode, objects: [],
                logBytes: 0, resourceUsage: run.usage, failure: run.termination.attemptFailure)
            outcome.progress = run.progress
            return outcome
        }
        let objects = try process.store(
            run.outputs, job: job, producedBy: "\(model.objectId.uuidString.lowercased()) v\(model.objectVersion)",
            attrs: request.outputAttrs, priorOutputs: request.priorOutputs, described: run.described)
        await log.line("model exited with code 0; \(objects.count) output(s) stored")
        var outcome = JobOutcome(
            status: .succeeded, message: "model exited with code 0; \(objects.count) output(s)", exitCode: 0, objects: objects,
            logBytes: 0, resourceUsage: run.usage)
        outcome.progress = run.progress
        return outcome
    }

    private func runFlow(
        _ request: RunFlowJob, job: ClaimedJob, folder: String, timeout: Duration, limits: AttemptLimits, profile: ExecutionProfile?,
        log: JobLogWriter
    ) async throws -> JobOutcome {
        let flowObject = try await job.metadata(request.flow)
        guard let flow = flowObject.definition.flow, let order = flow.topologicalOrder() else {
            throw JobFailure("object \(flowObject.objectId) v\(flowObject.objectVersion) is not a usable FLOW")
        }
        let deadline = ContinuousClock.now + timeout
        let flowInputs = try await inputPaths(request.inputs ?? [:], job: job)
        // Where each socket's data is: INPUT nodes by name, model outputs as "node.socket".
        var produced: [FlowSocket: String] = [:]
        for (name, path) in flowInputs { produced[FlowSocket(node: name)] = path }
        var usage = ResourceUsage(wallSeconds: 0, cpuUserSeconds: 0, cpuSystemSeconds: 0, maxResidentKB: 0)
        // The outputs of the nodes that ran in this attempt, kept if a later node fails.
        var finished = FlowCheckpoint(flow: flow)
        // What the models' runtimes reported of the files they wrote (trac models' schemas).
        var described: [String: ModelProcess.OutputDescription] = [:]
        for name in order {
            guard let node = flow.nodes[name], node.nodeType == .model else { continue }
            if let kept = request.reuse?[name] {
                for (socket, path) in try await inputPaths(kept, job: job) { produced[FlowSocket(node: name, socket: socket)] = path }
                await log.line("flow node '\(name)' kept from an earlier run")
                continue
            }
            guard let selector = request.models[name] else { throw JobFailure("flow node '\(name)' has no model") }
            let model = try await job.metadata(selector)
            var inputs: [String: String] = [:]
            for edge in flow.edges where edge.target.node == name {
                guard let path = produced[edge.source.normalized], let socket = edge.target.socket else {
                    throw JobFailure("flow node '\(name)': nothing was produced for \(edge.source)")
                }
                inputs[socket] = path
            }
            // Each model gets the parameters it declares; one without declarations gets them all.
            let declared = model.definition.model?.parameters.map { Set($0.keys) }
            let parameters = (request.parameters ?? [:]).filter { declared?.contains($0.key) ?? true }
            await log.line("flow node '\(name)'")
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero {
                return JobOutcome(
                    status: .failed, message: "the flow exceeded its time limit before node '\(name)'", exitCode: nil,
                    objects: await keep(finished, job: job, flowObject: flowObject, log: log), logBytes: 0,
                    resourceUsage: usage, failure: AttemptFailure(kind: .timeout))
            }
            let run = try await process.run(
                model, for: job, parameters: parameters, inputs: inputs, in: folder + "/" + name, timeout: remaining, limits: limits,
                profile: profile, log: log)
            usage.add(run.usage)
            guard run.termination == .exited(0) else {
                return JobOutcome(
                    status: .failed, message: "flow node '\(name)' failed: \(run.failureMessage)",
                    exitCode: run.termination.exitCode, objects: await keep(finished, job: job, flowObject: flowObject, log: log),
                    logBytes: 0, resourceUsage: usage, failure: run.termination.attemptFailure)
            }
            for (socket, path) in run.outputs { produced[FlowSocket(node: name, socket: socket)] = path }
            described.merge(run.described) { _, new in new }
            finished.record(node: name, outputs: run.outputs)
        }
        var outputs: [String: String] = [:]
        var taken: Set<String> = []
        for edge in flow.edges.sorted(by: { $0.target.node < $1.target.node }) where flow.nodes[edge.target.node]?.nodeType == .output {
            guard var path = produced[edge.source.normalized] else {
                throw JobFailure("flow output '\(edge.target.node)': node '\(edge.source.node)' did not write '\(edge.source.socket ?? "")'")
            }
            // Outputs are moved into storage: a flow input passed straight through, or one file
            // feeding two outputs, is copied first (a stored input must never move).
            if !path.hasPrefix(folder + "/") || taken.contains(path) {
                let copyFolder = folder + "/passthrough/" + edge.target.node
                try FileManager.default.createDirectory(atPath: copyFolder, withIntermediateDirectories: true)
                let copy = copyFolder + "/" + (path as NSString).lastPathComponent
                try FileManager.default.copyItem(atPath: path, toPath: copy)
                path = copy
            }
            taken.insert(path)
            outputs[edge.target.node] = path
        }
        let objects = try process.store(
            outputs, job: job, producedBy: "flow \(flowObject.objectId.uuidString.lowercased()) v\(flowObject.objectVersion)",
            attrs: request.outputAttrs, priorOutputs: request.priorOutputs, described: described)
        await log.line("flow finished; \(objects.count) output(s) stored")
        return JobOutcome(
            status: .succeeded, message: "flow ran \(order.count) nodes; \(objects.count) output(s)", exitCode: 0,
            objects: objects, logBytes: 0, resourceUsage: usage)
    }

    /// Stores the outputs of the nodes that finished before the flow failed, so that a chain re-run
    /// can keep them (`runFlow.reuse`); a flow that cannot store them still reports its failure.
    private func keep(_ finished: FlowCheckpoint, job: ClaimedJob, flowObject: ObjectRecord, log: JobLogWriter) async -> [NewObject] {
        guard !finished.outputs.isEmpty else { return [] }
        do {
            let objects = try process.store(
                finished.outputs, job: job,
                producedBy: "flow \(flowObject.objectId.uuidString.lowercased()) v\(flowObject.objectVersion)", attrs: nil, priorOutputs: nil)
            await log.line("kept the outputs of \(finished.nodes.count) finished node(s) for a re-run: \(finished.nodes.sorted().joined(separator: ", "))")
            return objects
        } catch {
            await log.line("could not keep the outputs of the finished nodes: \(error)")
            return []
        }
    }

    /// The files of the job's DATA inputs.
    private func inputPaths(_ inputs: [String: TagSelector], job: ClaimedJob) async throws -> [String: String] {
        var paths: [String: String] = [:]
        for (name, selector) in inputs {
            let object = try await job.metadata(selector)
            guard let path = object.storagePath else { throw JobFailure("input '\(name)' has no stored content") }
            paths[name] = process.storage.path(path)
        }
        return paths
    }
}

extension ChildProcess.Termination {
    var exitCode: Int? {
        if case .exited(let code) = self { return Int(code) }
        return nil
    }
}

extension ResourceUsage {
    /// Adds another run's usage (wall and CPU time add up; memory and disk are the peaks; the first
    /// start and the last end; the other run's samples follow, their times counted from this run's start).
    mutating func add(_ other: ResourceUsage) {
        if let more = other.samples {
            let offset = wallSeconds
            samples = ((samples ?? []) + more.map { sample in
                var shifted = sample
                shifted.seconds += offset
                return shifted
            }).suffix(UsageSample.maxSamples).map { $0 }
        }
        memoryLimitMB = other.memoryLimitMB ?? memoryLimitMB
        diskLimitBytes = other.diskLimitBytes ?? diskLimitBytes
        peakDiskBytes = [peakDiskBytes, other.peakDiskBytes].compactMap { $0 }.max()
        if let read = other.ioReadBytes { ioReadBytes = (ioReadBytes ?? 0) + read }
        if let write = other.ioWriteBytes { ioWriteBytes = (ioWriteBytes ?? 0) + write }
        wallSeconds += other.wallSeconds
        cpuUserSeconds = (cpuUserSeconds ?? 0) + (other.cpuUserSeconds ?? 0)
        cpuSystemSeconds = (cpuSystemSeconds ?? 0) + (other.cpuSystemSeconds ?? 0)
        maxResidentKB = max(maxResidentKB ?? 0, other.maxResidentKB ?? 0)
        startedAt = [startedAt, other.startedAt].compactMap { $0 }.min()
        endedAt = [endedAt, other.endedAt].compactMap { $0 }.max()
    }
}
