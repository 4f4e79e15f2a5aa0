import Foundation

/// TRAC's basic types: the type of a parameter, an attribute or a schema field.
public enum BasicType: String, Sendable, Codable, CaseIterable, Hashable {
    case boolean = "BOOLEAN"
    case integer = "INTEGER"
    case float = "FLOAT"
    case decimal = "DECIMAL"
    case string = "STRING"
    case date = "DATE"
    case datetime = "DATETIME"
    case array = "ARRAY"
    case map = "MAP"

    /// The scalar types (everything but ARRAY and MAP).
    public var isScalar: Bool { self != .array && self != .map }
}

/// A typed value (TRAC's `Value`): job parameters and object attributes.
///
/// Canonical JSON is `{"type": "INTEGER", "value": 42}`; DECIMAL, DATE and DATETIME values are
/// strings (`"12.50"`, `"2026-11-21"`, `"2026-11-21T12:00:00.5Z"`) so they round-trip exactly.
/// For convenience a plain JSON value is accepted too and typed by its shape: `true` is BOOLEAN,
/// `42` INTEGER, `4.2` FLOAT, `"x"` STRING, `[...]` ARRAY, `{...}` (without `type`) MAP.
public indirect enum Value: Sendable, Hashable {
    case boolean(Bool)
    case integer(Int64)
    case float(Double)
    /// A decimal number in canonical text (no exponent, no leading `+`).
    case decimal(String)
    case string(String)
    /// `YYYY-MM-DD`.
    case date(String)
    /// ISO 8601 with an offset.
    case datetime(String)
    case array([Value])
    case map([String: Value])

    public var basicType: BasicType {
        switch self {
        case .boolean: .boolean
        case .integer: .integer
        case .float: .float
        case .decimal: .decimal
        case .string: .string
        case .date: .date
        case .datetime: .datetime
        case .array: .array
        case .map: .map
        }
    }

    /// The value as plain JSON (what a model reads in `params.json`).
    public var plainJSON: JSONValue {
        switch self {
        case .boolean(let value): .bool(value)
        case .integer(let value): .number(Double(value))
        case .float(let value): .number(value)
        case .decimal(let text), .string(let text), .date(let text), .datetime(let text): .string(text)
        case .array(let items): .array(items.map(\.plainJSON))
        case .map(let entries): .object(entries.mapValues(\.plainJSON))
        }
    }

    /// The value converted to `type` where that loses nothing (an INTEGER as FLOAT or DECIMAL, a
    /// STRING holding a valid DECIMAL, DATE or DATETIME), or nil when it cannot be.
    public func coerced(to type: BasicType) -> Value? {
        if basicType == type { return self }
        switch (self, type) {
        case (.integer(let value), .float): return .float(Double(value))
        case (.integer(let value), .decimal): return .decimal(String(value))
        case (.string(let text), .decimal), (.string(let text), .date), (.string(let text), .datetime):
            return try? Value.scalar(type, text: text)
        default: return nil
        }
    }

    /// A DECIMAL, DATE or DATETIME from its text, checking the format.
    static func scalar(_ type: BasicType, text: String) throws -> Value {
        switch type {
        case .decimal:
            guard Self.isDecimal(text) else { throw ValueFormatError("'\(text)' is not a decimal number") }
            return .decimal(text)
        case .date:
            guard Self.isDate(text) else { throw ValueFormatError("'\(text)' is not a date (YYYY-MM-DD)") }
            return .date(text)
        case .datetime:
            guard text.count >= 20, Timestamp.parse(text) != nil else {
                throw ValueFormatError("'\(text)' is not an ISO 8601 date-time with an offset in years 0001-9999")
            }
            return .datetime(text)
        default:
            return .string(text)
        }
    }

    static func isDecimal(_ text: String) -> Bool {
        var rest = Substring(text)
        if rest.first == "-" { rest = rest.dropFirst() }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else {
            return false
        }
        return true
    }

    static func isDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]), year >= 1,
            (1...12).contains(month)
        else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return (1...lengths[month - 1]).contains(day)
    }
}

/// A value whose text does not match its declared type.
struct ValueFormatError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Value: Codable {
    private enum Keys: String, CodingKey { case type, value }

    public init(from decoder: any Decoder) throws {
        if let container = try? decoder.container(keyedBy: Keys.self), container.contains(.type),
            let type = try? container.decode(BasicType.self, forKey: .type)
        {
            switch type {
            case .boolean: self = .boolean(try container.decode(Bool.self, forKey: .value))
            case .integer: self = .integer(try container.decode(Int64.self, forKey: .value))
            case .float: self = .float(try container.decode(Double.self, forKey: .value))
            case .string: self = .string(try container.decode(String.self, forKey: .value))
            case .array: self = .array(try container.decode([Value].self, forKey: .value))
            case .map: self = .map(try container.decode([String: Value].self, forKey: .value))
            case .decimal, .date, .datetime:
                let text = try container.decode(String.self, forKey: .value)
                do {
                    self = try Value.scalar(type, text: text)
                } catch {
                    throw DecodingError.dataCorruptedError(forKey: .value, in: container, debugDescription: "\(error)")
                }
            }
            return
        }
        switch try JSONValue(from: decoder) {
        case .null:
            throw DecodingError.valueNotFound(
                Value.self, .init(codingPath: decoder.codingPath, debugDescription: "a value cannot be null"))
        case .bool(let value): self = .boolean(value)
        case .number(let value):
            if value.rounded() == value, abs(value) < 9e15 { self = .integer(Int64(value)) } else { self = .float(value) }
        case .string(let value): self = .string(value)
        case .array: self = .array(try [Value](from: decoder))
        case .object: self = .map(try [String: Value](from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(basicType, forKey: .type)
        switch self {
        case .boolean(let value): try container.encode(value, forKey: .value)
        case .integer(let value): try container.encode(value, forKey: .value)
        case .float(let value): try container.encode(value, forKey: .value)
        case .decimal(let text), .string(let text), .date(let text), .datetime(let text):
            try container.encode(text, forKey: .value)
        case .array(let items): try container.encode(items, forKey: .value)
        case .map(let entries): try container.encode(entries, forKey: .value)
        }
    }
}
