import Foundation

/// A value that can be sent as a text-format query parameter.
///
/// Parameters are passed to `PQexecParams` untyped in text format, so PostgreSQL infers each type from
/// context; add a cast (`$1::uuid`, `$2::timestamptz`) where the context is ambiguous. A `nil` element of a
/// parameter array is sent as SQL `NULL`.
public protocol PostgresBindable: Sendable {
    /// The PostgreSQL text representation of the value.
    var postgresText: String { get }
}

extension String: PostgresBindable {
    /// The string itself (it must not contain NUL characters).
    public var postgresText: String { self }
}

extension Substring: PostgresBindable {
    /// The substring as a string.
    public var postgresText: String { String(self) }
}

extension Int: PostgresBindable {
    /// The decimal representation.
    public var postgresText: String { String(self) }
}

extension Int32: PostgresBindable {
    /// The decimal representation.
    public var postgresText: String { String(self) }
}

extension Int64: PostgresBindable {
    /// The decimal representation.
    public var postgresText: String { String(self) }
}

extension Bool: PostgresBindable {
    /// `true` or `false`.
    public var postgresText: String { self ? "true" : "false" }
}

extension Double: PostgresBindable {
    /// A round-trippable decimal representation, or `NaN`, `Infinity`, `-Infinity`.
    public var postgresText: String {
        if isNaN { return "NaN" }
        if isInfinite { return self < 0 ? "-Infinity" : "Infinity" }
        return description
    }
}

extension Date: PostgresBindable {
    /// An ISO 8601 timestamp in UTC with microsecond precision, e.g. `2024-05-01 12:30:00.123456+00`.
    public var postgresText: String { PostgresTimestamp.format(self) }
}

extension UUID: PostgresBindable {
    /// The canonical lowercase UUID text.
    public var postgresText: String { uuidString.lowercased() }
}

extension Data: PostgresBindable {
    /// The `bytea` hex format, e.g. `\x0aff`.
    public var postgresText: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        bytes.reserveCapacity(2 + count * 2)
        for byte in self {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
