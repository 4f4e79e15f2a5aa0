import Foundation

/// One result row. Values are PostgreSQL's text representation (`nil` for SQL `NULL`).
///
/// The throwing accessors throw a ``PostgresError`` with code ``PostgresError/Code/decodingFailure``
/// naming the column when it is missing, NULL or unparseable; the `…IfPresent` variants return `nil`
/// in all those cases instead.
public struct PostgresRow: Sendable {
    /// Column name to index; shared (copy-on-write) by all rows of one result.
    let columnIndex: [String: Int]
    /// Values in column order.
    public let values: [String?]

    init(columnIndex: [String: Int], values: [String?]) {
        self.columnIndex = columnIndex
        self.values = values
    }

    /// The text value of `column`, or `nil` when it is NULL or there is no such column.
    public subscript(column: String) -> String? {
        guard let index = columnIndex[column] else { return nil }
        return values[index]
    }

    /// Whether the result has a column named `column`.
    public func hasColumn(_ column: String) -> Bool { columnIndex[column] != nil }

    /// Whether `column` is NULL (or missing).
    public func isNull(_ column: String) -> Bool { self[column] == nil }

    // MARK: Throwing accessors

    /// The text value of `column`.
    public func string(_ column: String) throws -> String { try value(column) }

    /// `column` as an `Int` (integer types).
    public func int(_ column: String) throws -> Int { try decode(column, "Int") { Int($0) } }

    /// `column` as an `Int64` (integer types).
    public func int64(_ column: String) throws -> Int64 { try decode(column, "Int64") { Int64($0) } }

    /// `column` as a `Bool` (`boolean`).
    public func bool(_ column: String) throws -> Bool { try decode(column, "Bool", Self.parseBool) }

    /// `column` as a `Double` (floating point or numeric types).
    public func double(_ column: String) throws -> Double { try decode(column, "Double", Self.parseDouble) }

    /// `column` as a `Date` (`timestamptz`, `timestamp` taken as UTC, or `date`), microsecond precision.
    public func date(_ column: String) throws -> Date { try decode(column, "Date", PostgresTimestamp.parse) }

    /// `column` as a `UUID` (`uuid`).
    public func uuid(_ column: String) throws -> UUID { try decode(column, "UUID") { UUID(uuidString: $0) } }

    /// `column` as `Data` (`bytea` in hex output format).
    public func data(_ column: String) throws -> Data { try decode(column, "Data", Self.parseBytea) }

    // MARK: Optional accessors

    /// The text value of `column`, or `nil` when NULL or missing.
    public func stringIfPresent(_ column: String) -> String? { self[column] }

    /// `column` as an `Int`, or `nil` when NULL, missing or unparseable.
    public func intIfPresent(_ column: String) -> Int? { self[column].flatMap { Int($0) } }

    /// `column` as an `Int64`, or `nil` when NULL, missing or unparseable.
    public func int64IfPresent(_ column: String) -> Int64? { self[column].flatMap { Int64($0) } }

    /// `column` as a `Bool`, or `nil` when NULL, missing or unparseable.
    public func boolIfPresent(_ column: String) -> Bool? { self[column].flatMap(Self.parseBool) }

    /// `column` as a `Double`, or `nil` when NULL, missing or unparseable.
    public func doubleIfPresent(_ column: String) -> Double? { self[column].flatMap(Self.parseDouble) }

    /// `column` as a `Date`, or `nil` when NULL, missing or unparseable.
    public func dateIfPresent(_ column: String) -> Date? { self[column].flatMap(PostgresTimestamp.parse) }

    /// `column` as a `UUID`, or `nil` when NULL, missing or unparseable.
    public func uuidIfPresent(_ column: String) -> UUID? { self[column].flatMap { UUID(uuidString: $0) } }

    /// `column` as `Data`, or `nil` when NULL, missing or unparseable.
    public func dataIfPresent(_ column: String) -> Data? { self[column].flatMap(Self.parseBytea) }

    // MARK: Decoding

    private func value(_ column: String) throws -> String {
        guard let index = columnIndex[column] else {
            throw PostgresError(code: .decodingFailure, message: "column \"\(column)\" is not in the result")
        }
        guard let value = values[index] else {
            throw PostgresError(code: .decodingFailure, message: "column \"\(column)\" is NULL")
        }
        return value
    }

    private func decode<T>(_ column: String, _ type: String, _ parse: (String) -> T?) throws -> T {
        let text = try value(column)
        guard let result = parse(text) else {
            let shown = text.count > 64 ? String(text.prefix(64)) + "…" : text
            throw PostgresError(
                code: .decodingFailure, message: "column \"\(column)\" value \"\(shown)\" is not a valid \(type)")
        }
        return result
    }

    static func parseBool(_ text: String) -> Bool? {
        switch text {
        case "t", "true", "TRUE", "y", "yes", "on", "1": return true
        case "f", "false", "FALSE", "n", "no", "off", "0": return false
        default: return nil
        }
    }

    static func parseDouble(_ text: String) -> Double? {
        switch text {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: return Double(text)
        }
    }

    static func parseBytea(_ text: String) -> Data? {
        let utf8 = text.utf8
        guard utf8.count >= 2, utf8.count % 2 == 0, utf8.starts(with: "\\x".utf8) else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var data = Data(capacity: (utf8.count - 2) / 2)
        var iterator = utf8.dropFirst(2).makeIterator()
        while let high = iterator.next() {
            guard let low = iterator.next(), let h = nibble(high), let l = nibble(low) else { return nil }
            data.append(h << 4 | l)
        }
        return data
    }
}
