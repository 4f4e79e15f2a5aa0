import ConveyorModels
import Foundation

/// What an event stream follows besides status changes: its queued jobs' places in the queue and
/// its running jobs' log sizes. Status changes say which jobs are queued or running; each look at
/// the queue and the logs (``queueEvents(_:)``, ``logEvents(_:)``) answers the `queue` and `log`
/// events of what changed since the last look. Pure: the stream does the asking.
struct FollowedJobs {
    /// The most jobs of each kind followed (the newest are kept).
    static let limit = 100
    /// The most queued jobs whose place is asked for at each look (the newest): a place costs the
    /// scheduler a pass over the queue, on the actor that dispatches.
    static let queueLimit = 20

    private(set) var queued: [UUID] = []
    private(set) var running: [UUID] = []
    private var lastQueue: [UUID: QueueUpdate] = [:]
    private var lastLog: [UUID: LogUpdate] = [:]

    /// A queued job's place, as a `queue` event carries it.
    struct QueueUpdate: Codable, Hashable {
        var jobId: UUID
        /// 1 for the job that starts next among those competing for the same workers.
        var position: Int
        /// How many queued jobs start before it.
        var ahead: Int
        var estimatedStartAt: Date?
        var waitingReason: String?
        var notBefore: Date?
    }

    /// A running job's log size, as a `log` event carries it.
    struct LogUpdate: Codable, Hashable {
        var jobId: UUID
        var attempt: Int
        /// The bytes of the attempt's log stored so far: read them from `GET /api/v1/jobs/{id}/log?offset=`.
        var bytes: Int
    }

    /// Takes a job's status: queued jobs are followed in the queue, running ones in their logs.
    mutating func apply(jobId: UUID, status: JobStatus) {
        queued.removeAll { $0 == jobId }
        running.removeAll { $0 == jobId }
        switch status {
        case .queued:
            queued.append(jobId)
            if queued.count > Self.queueLimit { forget(queued.removeFirst()) }
            lastLog[jobId] = nil
        case .submitted, .running:
            running.append(jobId)
            if running.count > Self.limit { forget(running.removeFirst()) }
            lastQueue[jobId] = nil
        default:
            forget(jobId)
        }
    }

    private mutating func forget(_ jobId: UUID) {
        lastQueue[jobId] = nil
        lastLog[jobId] = nil
    }

    /// The `queue` events for the scheduler's answer about the queued jobs: those whose place changed.
    mutating func queueEvents(_ answer: QueuePositions) -> [QueueUpdate] {
        var updates: [QueueUpdate] = []
        for jobId in queued {
            guard let position = answer.positions[jobId.uuidString.lowercased()] else { continue }
            let update = QueueUpdate(
                jobId: jobId, position: position.position, ahead: position.ahead.total, estimatedStartAt: position.estimatedStartAt,
                waitingReason: position.waitingReason, notBefore: position.notBefore)
            if lastQueue[jobId] != update {
                lastQueue[jobId] = update
                updates.append(update)
            }
        }
        return updates
    }

    /// The `log` events for metadata's answer about the running jobs' logs: those that grew (or
    /// began a new attempt).
    mutating func logEvents(_ answer: LogSizes) -> [LogUpdate] {
        var updates: [LogUpdate] = []
        for jobId in running {
            guard let size = answer.sizes[jobId.uuidString.lowercased()] else { continue }
            let update = LogUpdate(jobId: jobId, attempt: size.attempt, bytes: size.bytes)
            let last = lastLog[jobId]
            if last == nil ? size.bytes > 0 : last != update {
                lastLog[jobId] = update
                updates.append(update)
            }
        }
        return updates
    }
}
