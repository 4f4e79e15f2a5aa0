import ConveyorModels
import Foundation

/// Object versions this worker has looked up. A version never changes, so a pinned selector's
/// answer can be kept; the cache holds the most recent `capacity` versions.
actor ObjectCache {
    private struct Key: Hashable {
        var id: UUID
        var version: Int
    }

    private var records: [Key: ObjectRecord] = [:]
    private var order: [Key] = []
    private let capacity: Int

    init(capacity: Int = 1000) {
        self.capacity = capacity
    }

    /// The object for `selector`, from the cache when the selector pins a version already seen.
    func object(
        _ selector: ObjectSelector, fetch: @Sendable (ObjectSelector) async throws -> ObjectRecord
    ) async throws -> ObjectRecord {
        if let version = selector.objectVersion, let cached = records[Key(id: selector.objectId, version: version)] {
            if selector.objectType == nil || selector.objectType == cached.objectType { return cached }
        }
        let record = try await fetch(selector)
        let key = Key(id: record.objectId, version: record.objectVersion)
        if records.updateValue(record, forKey: key) == nil {
            order.append(key)
            if order.count > capacity { records[order.removeFirst()] = nil }
        }
        return record
    }
}
