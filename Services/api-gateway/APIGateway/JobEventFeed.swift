import ConveyorModels
import Foundation
import Logging
import Messaging
import ServiceKit

/// The job status changes of the whole system, read from metadata (``ListJobChanges``) by one
/// poller per gateway while anyone follows `GET /api/v1/events`, and handed to each follower it
/// concerns. Nothing is read while no one follows.
///
/// Each read starts `overlap` before the last change seen (a change committed late may carry an
/// earlier time than one already read), and changes already handed out are not handed out again.
actor JobEventFeed {
    struct Follower {
        let owner: String?
        let continuation: AsyncStream<Item>.Continuation
    }

    /// What a follower gets: a change, a reminder that the stream is alive (every `keepAlive`), or
    /// the moment to look at its jobs' queue places and logs (every `lookInterval`).
    enum Item: Sendable {
        case change(JobStatusChange)
        case keepAlive
        case look
    }

    private let metadata: MetadataClient
    private let interval: Duration
    private let logger: Logger
    private var followers: [UUID: Follower] = [:]
    private var poller: Task<Void, Never>?
    /// The last change read (or the database's time when reading started).
    private var cursor: String?
    /// The changes handed out within the overlap, by id, with their microseconds.
    private var delivered: [String: Int64] = [:]
    static let overlapMicros: Int64 = 2_000_000
    static let keepAlive = Duration.seconds(15)
    static let lookInterval = Duration.seconds(2)

    init(metadata: MetadataClient, interval: Duration = .milliseconds(250), logger: Logger) {
        self.metadata = metadata
        self.interval = interval
        self.logger = logger
    }

    /// Follows the changes of `owner`'s jobs (nil: everyone's) from now on.
    func follow(owner: String?) -> (id: UUID, items: AsyncStream<Item>) {
        let id = UUID()
        let (stream, continuation) = AsyncStream<Item>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        followers[id] = Follower(owner: owner, continuation: continuation)
        if poller == nil {
            poller = Task { await self.poll() }
        }
        return (id, stream)
    }

    func stop(_ id: UUID) {
        followers.removeValue(forKey: id)?.continuation.finish()
    }

    private func poll() async {
        defer { poller = nil }
        var lastKeepAlive = ContinuousClock.now
        var lastLook = ContinuousClock.now
        while !followers.isEmpty, !Task.isCancelled {
            do {
                try await readOnce()
            } catch {
                logger.warning("job changes not read; trying again", metadata: ["error": "\(error)"])
            }
            if ContinuousClock.now - lastKeepAlive >= Self.keepAlive {
                for follower in followers.values { follower.continuation.yield(.keepAlive) }
                lastKeepAlive = .now
            }
            if ContinuousClock.now - lastLook >= Self.lookInterval {
                for follower in followers.values { follower.continuation.yield(.look) }
                lastLook = .now
            }
            try? await Task.sleep(for: interval)
        }
        cursor = nil
        delivered.removeAll()
    }

    private func readOnce() async throws {
        guard let last = cursor, let position = JobStatusChange.cursor(last) else {
            cursor = try await metadata.call(ListJobChanges(after: nil, owner: nil), timeout: .seconds(5)).now
            return
        }
        var after = JobStatusChange.eventId(micros: max(0, position.micros - Self.overlapMicros))
        while true {
            let page = try await metadata.call(ListJobChanges(after: after, owner: nil, limit: ListJobChanges.maxLimit), timeout: .seconds(5))
            for change in page.changes where delivered[change.eventId] == nil {
                guard let micros = JobStatusChange.cursor(change.eventId)?.micros else { continue }
                delivered[change.eventId] = micros
                for (id, follower) in followers where follower.owner == nil || follower.owner == change.owner {
                    if case .dropped = follower.continuation.yield(.change(change)) {
                        // A follower that does not keep up is let go: its client resumes from the
                        // last id it got (Last-Event-ID) and misses nothing.
                        logger.info("an event stream fell behind; it is closed so that it resumes")
                        stop(id)
                    }
                }
                if micros > (JobStatusChange.cursor(cursor ?? "")?.micros ?? 0) { cursor = change.eventId }
            }
            guard page.changes.count == ListJobChanges.maxLimit, let next = page.changes.last?.eventId else { break }
            after = next
        }
        let horizon = (JobStatusChange.cursor(cursor ?? "")?.micros ?? 0) - Self.overlapMicros
        delivered = delivered.filter { $0.value >= horizon }
    }
}
