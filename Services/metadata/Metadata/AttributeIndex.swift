import ConveyorModels
import Foundation
import Postgres

/// How attribute values are written to the `tag_attrs` search index: one row per scalar value
/// (each item of an ARRAY), in the column of its family: text, number, boolean or time.
enum AttributeIndex {
    struct Entry {
        var name: String
        var text: String?
        var number: String?
        var boolean: String?
        var time: String?
    }

    static func entries(_ attributes: [String: Value]) -> [Entry] {
        var entries: [Entry] = []
        for (name, value) in attributes.sorted(by: { $0.key < $1.key }) {
            for item in value.scalarItems {
                guard let column = column(item) else { continue }
                var entry = Entry(name: name)
                switch column {
                case .text(let text): entry.text = text
                case .number(let text): entry.number = text
                case .boolean(let flag): entry.boolean = flag ? "true" : "false"
                case .time(let text): entry.time = text
                }
                entries.append(entry)
            }
        }
        return entries
    }

    /// The index column and its SQL text for one scalar value (nil for values that are not indexed,
    /// such as a FLOAT that is not finite).
    enum Column {
        case text(String), number(String), boolean(Bool), time(String)
    }

    static func column(_ value: Value) -> Column? {
        switch value {
        case .string(let text): return .text(text)
        case .integer(let number): return .number(String(number))
        case .float(let number): return number.isFinite ? .number(String(number)) : nil
        case .decimal(let text): return .number(text)
        case .boolean(let flag): return .boolean(flag)
        case .date(let text): return .time(text + "T00:00:00Z")
        case .datetime(let text): return .time(text)
        case .array, .map: return nil
        }
    }

    /// The index rows as five parallel array parameters: names, texts, numbers, booleans, times.
    static func arrays(_ entries: [Entry]) -> [(any PostgresBindable)?] {
        [
            PostgresArray.literal(entries.map(\.name)), PostgresArray.literal(entries.map(\.text)), PostgresArray.literal(entries.map(\.number)),
            PostgresArray.literal(entries.map(\.boolean)), PostgresArray.literal(entries.map(\.time)),
        ]
    }
}

extension Value {
    /// The scalar values of an attribute (the items of an ARRAY, or the value itself).
    var scalarItems: [Value] {
        switch self {
        case .array(let items): items.flatMap(\.scalarItems)
        case .map: []
        default: [self]
        }
    }
}
