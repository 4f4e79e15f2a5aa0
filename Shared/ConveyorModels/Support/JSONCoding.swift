import CivilCalendar
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
///
/// Every message and record carries several, so the common forms are formatted and parsed by hand
/// (proleptic Gregorian calendar, as ISO 8601 has it); anything unusual goes to Foundation's parser.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 {
            fraction += 1_000_000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = CivilCalendar.civil(fromDays: days)
        guard (0...9999).contains(year) else { return slowFormat(seconds: seconds, fraction: fraction) }
        var bytes = [UInt8](repeating: 0, count: 27)
        func put(_ value: Int64, at offset: Int, digits: Int) {
            var value = value
            for index in stride(from: offset + digits - 1, through: offset, by: -1) {
                bytes[index] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
        put(year, at: 0, digits: 4)
        bytes[4] = UInt8(ascii: "-")
        put(month, at: 5, digits: 2)
        bytes[7] = UInt8(ascii: "-")
        put(day, at: 8, digits: 2)
        bytes[10] = UInt8(ascii: "T")
        put(secondOfDay / 3600, at: 11, digits: 2)
        bytes[13] = UInt8(ascii: ":")
        put(secondOfDay / 60 % 60, at: 14, digits: 2)
        bytes[16] = UInt8(ascii: ":")
        put(secondOfDay % 60, at: 17, digits: 2)
        bytes[19] = UInt8(ascii: ".")
        put(fraction, at: 20, digits: 6)
        bytes[26] = UInt8(ascii: "Z")
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses ISO 8601 date-times with an offset and any number of fractional digits (microseconds
    /// kept); nil for anything else and for instants outside years 1-9999 UTC, which the store (and
    /// PostgreSQL's `timestamptz` input) cannot keep.
    public static func parse(_ text: String) -> Date? {
        var text = text
        guard let date = text.withUTF8({ fastParse($0) }) ?? slowParse(text), storableRange.contains(date.timeIntervalSince1970) else {
            return nil
        }
        return date
    }

    /// 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z in seconds since 1970 (the end rounds up
    /// to 10000-01-01 in a `Double`, which no 4-digit year other than through an offset reaches).
    static let storableRange: ClosedRange<Double> = -62_135_596_800...253_402_300_800

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; nil for anything else.
    private static func fastParse(_ bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        func digits(_ offset: Int, _ count: Int) -> Int64? {
            guard offset + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for index in offset..<offset + count {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        func byte(_ offset: Int, _ expected: UInt8) -> Bool { offset < bytes.count && bytes[offset] == expected }
        guard bytes.count >= 20, let year = digits(0, 4), byte(4, UInt8(ascii: "-")), let month = digits(5, 2),
            byte(7, UInt8(ascii: "-")), let day = digits(8, 2), byte(10, UInt8(ascii: "T")), let hour = digits(11, 2),
            byte(13, UInt8(ascii: ":")), let minute = digits(14, 2), byte(16, UInt8(ascii: ":")), let second = digits(17, 2),
            (1...12).contains(month), day >= 1, day <= CivilCalendar.daysIn(month: month, year: year), hour < 24, minute < 60, second < 60
        else { return nil }
        var index = 19
        var micros: Int64 = 0
        if byte(index, UInt8(ascii: ".")) {
            index += 1
            var count = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                if count < 6 { micros = micros * 10 + Int64(bytes[index] - UInt8(ascii: "0")) }
                count += 1
                index += 1
            }
            guard count > 0 else { return nil }
            for _ in min(count, 6)..<6 { micros *= 10 }
        }
        var offsetSeconds: Int64 = 0
        if byte(index, UInt8(ascii: "Z")) {
            index += 1
        } else if byte(index, UInt8(ascii: "+")) || byte(index, UInt8(ascii: "-")) {
            guard let hours = digits(index + 1, 2), byte(index + 3, UInt8(ascii: ":")), let minutes = digits(index + 4, 2),
                hours < 24, minutes < 60
            else { return nil }
            offsetSeconds = (hours * 3600 + minutes * 60) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        let seconds = CivilCalendar.days(fromCivil: year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        // One rounding, so that `format` gives the same microseconds back.
        return Date(timeIntervalSince1970: Double(seconds * 1_000_000 + micros) / 1_000_000)
    }


    private static func slowFormat(seconds: Int64, fraction: Int64) -> String {
        let whole = Date(timeIntervalSince1970: Double(seconds)).formatted(.iso8601)  // ...T12:00:00Z
        let digits = String(fraction)
        return whole.dropLast() + "." + String(repeating: "0", count: 6 - digits.count) + digits + "Z"
    }

    private static func slowParse(_ text: String) -> Date? {
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
