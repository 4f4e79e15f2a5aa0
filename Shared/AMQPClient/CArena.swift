import CRabbitMQ
import Foundation

/// A value of an AMQP field table.
enum TableValue {
    case string(String)
    case int(Int64)
}

/// Owns the C memory behind `amqp_bytes_t` values for the duration of one librabbitmq call.
///
/// `amqp_cstring_bytes(swiftString)` would point at a temporary that dies before the call returns;
/// an arena copies each string into malloc'd memory and frees it all when the arena goes away.
final class CArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit {
        for pointer in allocations { free(pointer) }
    }

    func bytes(_ string: String) -> amqp_bytes_t {
        bytes(Data(string.utf8))
    }

    func bytes(_ data: Data) -> amqp_bytes_t {
        guard !data.isEmpty, let pointer = malloc(data.count) else { return amqp_bytes_t(len: 0, bytes: nil) }
        allocations.append(pointer)
        data.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: data.count) }
        return amqp_bytes_t(len: data.count, bytes: pointer)
    }

    func table(_ entries: [(String, TableValue)]) -> amqp_table_t {
        guard !entries.isEmpty,
            let raw = malloc(MemoryLayout<amqp_table_entry_t>.stride * entries.count)
        else { return amqp_empty_table }
        allocations.append(raw)
        let pointer = raw.bindMemory(to: amqp_table_entry_t.self, capacity: entries.count)
        for (index, (key, value)) in entries.enumerated() {
            var field = amqp_field_value_t()
            switch value {
            case .string(let text):
                field.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
                field.value.bytes = bytes(text)
            case .int(let number):
                field.kind = UInt8(AMQP_FIELD_KIND_I64.rawValue)
                field.value.i64 = number
            }
            pointer[index] = amqp_table_entry_t(key: bytes(key), value: field)
        }
        return amqp_table_t(num_entries: Int32(entries.count), entries: pointer)
    }
}
