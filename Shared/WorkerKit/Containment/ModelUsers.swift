import Foundation
import Synchronization

/// The user ids models run as (`runner.runAsUids`, e.g. `61000-61063`): each run takes one no other
/// run holds, and its folder is given to that user alone (mode 0700), so a model reads its own
/// inputs and nothing of another job, and, with the internal storage closed to others (0700), no
/// stored object. The ids need no account on the host; each runs with the group of the same number.
public final class ModelUsers: Sendable {
    public let ids: ClosedRange<UInt32>
    private let free: Mutex<[UInt32]>

    public init(ids: ClosedRange<UInt32>) {
        self.ids = ids
        self.free = Mutex(Array(ids))
    }

    /// `first-last` (or one id) → the range; nil for "".
    /// - Throws: ``JobFailure`` for anything else, or a range that includes root.
    public static func parse(_ text: String) throws -> ModelUsers? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return nil }
        let parts = trimmed.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count <= 2, let first = UInt32(parts[0]), let last = UInt32(parts.last!), first <= last, first > 0 else {
            throw JobFailure("runner.runAsUids is '\(text)'; give a range of user ids above 0, like 61000-61063")
        }
        return ModelUsers(ids: first...last)
    }

    /// An id for one run.
    /// - Throws: ``JobFailure`` when every id is taken (more runs at once than ids).
    public func take() throws -> UInt32 {
        // The id given back longest ago: what a run left behind as its id (a file in /tmp) meets the
        // next run of that id as late as it can.
        guard let id = free.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else {
            throw JobFailure("every user id of runner.runAsUids (\(ids.lowerBound)-\(ids.upperBound)) is in use; give at least as many as runner.slots")
        }
        return id
    }

    public func giveBack(_ id: UInt32) {
        free.withLock { $0.append(id) }
    }
}
