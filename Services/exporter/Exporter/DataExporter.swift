import ConveyorModels
import Foundation
import ServiceKit
import WorkerKit

/// Runs `EXPORT_DATA`: each input (a DATA object) goes to its location in the `local` external
/// storage (the folder `export.root`). Without a model the file is copied, to a temporary name and
/// renamed, so a destination is never half-written. With a model, the model does the export: it
/// gets each input as usual and its destination in `CONVEYOR_EXPORT_<NAME>`.
public struct DataExporter: JobExecutor {
    public let jobTypes: [JobType] = [.exportData]
    let process: ModelProcess
    /// The folder of the `local` external storage.
    let externalRoot: String

    /// What an attempt's model may use (as the runner's, see ``AttemptLimitRules``).
    let limitRules: AttemptLimitRules?

    public init(storage: InternalStorage, externalRoot: String, containment: Containment? = nil, limitRules: AttemptLimitRules? = nil) {
        self.process = ModelProcess(storage: storage, containment: containment)
        self.limitRules = limitRules
        self.externalRoot = externalRoot
    }

    public func execute(_ job: ClaimedJob, log: JobLogWriter) async throws -> JobOutcome {
        guard let request = job.definition.exportData else { throw JobFailure("the job has no exportData section") }
        var sources: [String: String] = [:]
        var destinations: [String: String] = [:]
        for (name, selector) in request.inputs.sorted(by: { $0.key < $1.key }) {
            guard let location = request.exports[name] else { throw JobFailure("input '\(name)' has no export location") }
            if let problem = JobValidator.relativePathProblem(location.path, allowEmpty: false) {
                throw JobFailure("exportData.exports.\(name).path \(problem)")
            }
            let object = try await job.metadata(selector)
            guard object.objectType == .data, let storagePath = object.storagePath else {
                throw JobFailure("input '\(name)' (\(object.objectId)) is not a DATA object with content")
            }
            sources[name] = process.storage.path(storagePath)
            destinations[name] = externalRoot + "/" + location.path
        }
        if let modelSelector = request.model {
            let folder = try process.storage.stagingFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            var environment = ["CONVEYOR_STORAGE_LOCAL": externalRoot]
            for (name, destination) in destinations { environment["CONVEYOR_EXPORT_\(name.uppercased())"] = destination }
            let limits = limitRules?.limits(for: job.definition.jobType, resources: job.definition.resources)
            let run = try await process.run(
                try await job.metadata(modelSelector), for: job, parameters: request.parameters ?? [:], inputs: sources, in: folder,
                environment: environment, timeout: limits.map { .seconds($0.maxRunSeconds) }, limits: limits, log: log)
            guard run.termination == .exited(0) else {
                return JobOutcome(
                    status: .failed, message: "export \(run.termination.failureMessage)", exitCode: nil, objects: [], logBytes: 0,
                    resourceUsage: run.usage, failure: run.termination.attemptFailure)
            }
            return JobOutcome(status: .succeeded, message: "the export model wrote \(destinations.count) export(s)", exitCode: 0, objects: [], logBytes: 0, resourceUsage: run.usage)
        }
        var total = 0
        for (name, source) in sources.sorted(by: { $0.key < $1.key }) {
            let location = request.exports[name]!
            total += try copy(source, to: destinations[name]!, job: job, label: "local:\(location.path)")
            await log.line("exported input '\(name)' to local:\(location.path)")
        }
        let described = sources.count == 1 ? "local:\(request.exports.values.first!.path)" : "\(sources.count) locations"
        return JobOutcome(
            status: .succeeded, message: "exported to \(described) (\(total) bytes)", exitCode: nil, objects: [], logBytes: 0)
    }

    /// Copies one file atomically; answers its size.
    private func copy(_ source: String, to destination: String, job: ClaimedJob, label: String) throws -> Int {
        let fileManager = FileManager.default
        try fileManager.createDirectory(
            atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let temporary = destination + ".conveyor-\(job.jobId.uuidString.prefix(8))-\(job.attempt).tmp"
        try? fileManager.removeItem(atPath: temporary)
        do {
            try fileManager.copyItem(atPath: source, toPath: temporary)
        } catch {
            throw JobFailure("cannot read \(source) from internal storage: \(error.localizedDescription)")
        }
        // A cancelled job writes nothing to the destination.
        if Task.isCancelled {
            try? fileManager.removeItem(atPath: temporary)
            throw CancellationError()
        }
        guard rename(temporary, destination) == 0 else {
            try? fileManager.removeItem(atPath: temporary)
            throw JobFailure("cannot write \(label): \(String(cString: strerror(errno)))")
        }
        return (try? fileManager.attributesOfItem(atPath: destination)[.size] as? Int) ?? 0
    }
}
