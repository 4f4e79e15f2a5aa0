import ConveyorModels
import Foundation
import WorkerKit

/// Runs `EXPORT_DATA`: copies a DATA object's file from internal storage to the `local` external
/// storage (the folder `export.root`), writing a temporary file and renaming it so the destination
/// is never half-written.
public struct DataExporter: JobExecutor {
    public let jobTypes: [JobType] = [.exportData]
    let storage: InternalStorage
    let exportRoot: String

    public init(storage: InternalStorage, exportRoot: String) {
        self.storage = storage
        self.exportRoot = exportRoot
    }

    public func execute(_ job: ClaimedJob, log: JobLogWriter) async throws -> JobOutcome {
        guard let request = job.definition.exportData else { throw JobFailure("the job has no exportData section") }
        if let problem = JobValidator.relativePathProblem(request.path, allowEmpty: false) {
            throw JobFailure("exportData.path \(problem)")
        }
        let object = try await job.metadata(request.data)
        guard object.objectType == .data, let storagePath = object.storagePath else {
            throw JobFailure("object \(object.objectId) is not a DATA object with content")
        }
        let source = storage.path(storagePath)
        let destination = exportRoot + "/" + request.path
        let fileManager = FileManager.default
        try fileManager.createDirectory(
            atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let temporary = destination + ".conveyor-\(job.jobId.uuidString.prefix(8))-\(job.attempt).tmp"
        try? fileManager.removeItem(atPath: temporary)
        do {
            try fileManager.copyItem(atPath: source, toPath: temporary)
        } catch {
            throw JobFailure("cannot read \(storagePath) from internal storage: \(error.localizedDescription)")
        }
        // A cancelled job writes nothing to the destination.
        if Task.isCancelled {
            try? fileManager.removeItem(atPath: temporary)
            throw CancellationError()
        }
        guard rename(temporary, destination) == 0 else {
            try? fileManager.removeItem(atPath: temporary)
            throw JobFailure("cannot write \(request.path): \(String(cString: strerror(errno)))")
        }
        let size = (try? fileManager.attributesOfItem(atPath: destination)[.size] as? Int) ?? 0
        await log.line("exported DATA \(object.objectId) v\(object.objectVersion) to local:\(request.path) (\(size) bytes)")
        return JobOutcome(
            status: .succeeded, message: "exported to local:\(request.path) (\(size) bytes)", exitCode: nil, objects: [],
            logBytes: 0)
    }
}
