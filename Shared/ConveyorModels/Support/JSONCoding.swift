import Foundation

/// The one JSON dialect Conveyor speaks on the wire and in the database: ISO 8601 dates with
/// fractional seconds in UTC, sorted keys (stable bytes for the same value).
public enum ConveyorJSON {
    /// A new encoder for wire and storage JSON.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        return encoder
    }

    /// A new decoder for wire and storage JSON.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "expected an ISO 8601 date-time, got '\(text)'")
            }
            return date
        }
        return decoder
    }

    /// Encodes a value with ``encoder()``.
    public static func encode(_ value: some Encodable) throws -> Data {
        try encoder().encode(value)
    }

    /// Decodes a value with ``decoder()``.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try decoder().decode(type, from: data)
    }
}

/// ISO 8601 timestamps with microseconds, always UTC (`2026-11-21T12:00:00.123456Z`): the database
/// keeps microseconds, so a time read from the API can be passed back ("as of") without losing any.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 {
            fraction += 1_000_000
            seconds -= 1
        }
        let whole = Date(timeIntervalSince1970: Double(seconds)).formatted(.iso8601)  // ...T12:00:00Z
        let digits = String(fraction)
        return whole.dropLast() + "." + String(repeating: "0", count: 6 - digits.count) + digits + "Z"
    }

    /// Parses ISO 8601 date-times with an offset and any number of fractional digits (microseconds kept).
    public static func parse(_ text: String) -> Date? {
        guard let dot = text.firstIndex(of: ".") else { return try? Date.ISO8601FormatStyle().parse(text) }
        var end = text.index(after: dot)
        while end < text.endIndex, text[end].isASCII, text[end].isNumber { end = text.index(after: end) }
        let digits = text[text.index(after: dot)..<end]
        guard !digits.isEmpty, let whole = try? Date.ISO8601FormatStyle().parse(String(text[..<dot] + text[end...])) else {
            return nil
        }
        var micros = Int64(digits.prefix(6)) ?? 0
        for _ in digits.prefix(6).count..<6 { micros *= 10 }
        return Date(timeIntervalSince1970: whole.timeIntervalSince1970 + Double(micros) / 1_000_000)
    }
}
