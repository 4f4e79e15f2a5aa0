import ConveyorModels
import Foundation

/// Runs one kind of job. Importer, exporter and runner each provide one; ``WorkerRuntime`` does the
/// rest (claiming, heartbeats, logs and reports).
public protocol JobExecutor: Sendable {
    /// The job types this executor runs.
    var jobTypes: [JobType] { get }

    /// Runs a claimed attempt and says how it ended. Throwing ends the job FAILED with the error's text.
    /// - Parameters:
    ///   - job: the claimed attempt with its definition (object versions pinned).
    ///   - log: the job's log; write progress and the job's own output there.
    func execute(_ job: ClaimedJob, log: JobLogWriter) async throws -> JobOutcome

    /// Called once before the worker takes work: set up, and clean up after a worker that died.
    func prepare(workerId: String) async throws
}

extension JobExecutor {
    public func prepare(workerId: String) async throws {}
}

/// An attempt this worker holds.
public struct ClaimedJob: Sendable {
    public var jobId: UUID
    public var attempt: Int
    public var workerId: String
    public var definition: JobDefinition
    /// Ask metadata for an object (e.g. the model to run).
    public var metadata: @Sendable (ObjectSelector) async throws -> ObjectRecord

    public init(
        jobId: UUID, attempt: Int, workerId: String, definition: JobDefinition,
        metadata: @escaping @Sendable (ObjectSelector) async throws -> ObjectRecord
    ) {
        self.jobId = jobId
        self.attempt = attempt
        self.workerId = workerId
        self.definition = definition
        self.metadata = metadata
    }
}

/// A failure of a job that names its cause for the job's status message.
public struct JobFailure: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
