import ConveyorModels
import Foundation
import Synchronization

/// Records of finished jobs as metadata wrote them, so that reading one again needs no call to
/// metadata. Only SUCCEEDED and FAILED records are kept, and only once nothing changes them any
/// more: a CANCELLED job's record may still gain the log of the attempt its cancellation stopped,
/// and the e-mail of a job with a `notification` is reported later (`notificationDelivery`), so
/// such a record is kept only when its delivery is SENT or FAILED.
///
/// Two generations approximate least-recently-used: entries go into the young one; when it is full
/// it becomes the old one (the previous old one is dropped), and an entry read from the old one moves
/// back into the young one. At most `capacity` records are kept (0: none).
final class FinishedJobCache: Sendable {
    private let state = Mutex<(young: [UUID: Data], old: [UUID: Data])>(([:], [:]))
    let capacity: Int

    init(capacity: Int = 20_000) {
        self.capacity = max(0, capacity)
    }

    func record(_ jobId: UUID) -> Data? {
        state.withLock { state in
            if let record = state.young[jobId] { return record }
            guard let record = state.old.removeValue(forKey: jobId) else { return nil }
            Self.insert(record, for: jobId, into: &state, capacity: capacity)
            return record
        }
    }

    /// Keeps `record` (a job record's JSON) if its job has finished for good.
    func keep(_ record: Data, for jobId: UUID) {
        guard capacity > 0, let status = JSONSlice.string(at: ["status"], in: record),
            status == JobStatus.succeeded.rawValue || status == JobStatus.failed.rawValue
        else { return }
        if JSONSlice.range(of: ["definition", "notification"], in: record) != nil {
            let delivery = JSONSlice.string(at: ["notificationDelivery", "status"], in: record)
            guard delivery == NotificationDelivery.Status.sent.rawValue || delivery == NotificationDelivery.Status.failed.rawValue else { return }
        }
        state.withLock { Self.insert(record, for: jobId, into: &$0, capacity: capacity) }
    }

    private static func insert(_ record: Data, for jobId: UUID, into state: inout (young: [UUID: Data], old: [UUID: Data]), capacity: Int) {
        if state.young.count >= max(1, capacity / 2) {
            state.old = state.young
            state.young = [:]
        }
        state.young[jobId] = record
    }
}
