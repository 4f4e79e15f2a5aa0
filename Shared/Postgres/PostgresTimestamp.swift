import CivilCalendar
import Foundation

/// Converts between `Date` and PostgreSQL's ISO timestamp text with microsecond precision, without
/// `Calendar` or `DateFormatter` (both slow and lossy below milliseconds).
public enum PostgresTimestamp {
    private static let microsecondsPerDay: Int64 = 86_400_000_000

    /// Formats `date` as `YYYY-MM-DD HH:MM:SS.ffffff+00` (UTC), rounded to the microsecond.
    static func format(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        var days = micros / microsecondsPerDay
        var remainder = micros % microsecondsPerDay
        if remainder < 0 {
            remainder += microsecondsPerDay
            days -= 1
        }
        let (year, month, day) = CivilCalendar.civil(fromDays: days)
        let seconds = remainder / 1_000_000
        let fraction = remainder % 1_000_000
        var text = ""
        text.reserveCapacity(32)
        if year <= 0 {
            // PostgreSQL has no year 0: 1 BC is year 0 in the proleptic Gregorian calendar.
            text += pad(1 - year, 4)
        } else {
            text += pad(year, 4)
        }
        text += "-" + pad(month, 2) + "-" + pad(day, 2) + " "
        text += pad(seconds / 3600, 2) + ":" + pad(seconds / 60 % 60, 2) + ":" + pad(seconds % 60, 2)
        text += "." + pad(fraction, 6) + "+00"
        if year <= 0 { text += " BC" }
        return text
    }

    /// Parses `date`, `timestamp` and `timestamptz` text in the ISO DateStyle, e.g. `2024-05-01`,
    /// `2024-05-01 12:30:00.5`, `2024-05-01 12:30:00.123456+02:00` or `0044-03-15 00:00:00+00 BC`.
    /// Values without an offset are taken as UTC. Returns nil for anything else (including `infinity`).
    public static func parse(_ text: String) -> Date? {
        var bytes = Array(text.utf8)[...]
        var isBC = false
        if bytes.count > 3, bytes.suffix(3).elementsEqual(" BC".utf8) {
            isBC = true
            bytes = bytes.dropLast(3)
        }
        var index = bytes.startIndex

        func number(maxDigits: Int = 18) -> (value: Int64, digits: Int)? {
            var value: Int64 = 0
            var digits = 0
            while index < bytes.endIndex, digits < maxDigits, bytes[index] >= 48, bytes[index] <= 57 {
                value = value * 10 + Int64(bytes[index] - 48)
                digits += 1
                index += 1
            }
            return digits == 0 ? nil : (value, digits)
        }
        func expect(_ byte: UInt8) -> Bool {
            guard index < bytes.endIndex, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        guard var year = number()?.value, expect(UInt8(ascii: "-")),
            let month = number(maxDigits: 2)?.value, expect(UInt8(ascii: "-")),
            let day = number(maxDigits: 2)?.value, (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        if isBC { year = 1 - year }
        var micros = CivilCalendar.days(fromCivil: year, month, day) * microsecondsPerDay

        if index < bytes.endIndex, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "T") {
            index += 1
            guard let hour = number(maxDigits: 2)?.value, expect(UInt8(ascii: ":")),
                let minute = number(maxDigits: 2)?.value, expect(UInt8(ascii: ":")),
                let second = number(maxDigits: 2)?.value
            else { return nil }
            micros += ((hour * 60 + minute) * 60 + second) * 1_000_000
            if expect(UInt8(ascii: ".")) {
                guard let (fraction, digits) = number() else { return nil }
                var value = fraction
                if digits < 6 {
                    for _ in digits..<6 { value *= 10 }
                } else if digits > 6 {
                    for _ in 6..<digits { value /= 10 }
                }
                micros += value
            }
            if index < bytes.endIndex {
                let sign: Int64
                switch bytes[index] {
                case UInt8(ascii: "+"): sign = 1
                case UInt8(ascii: "-"): sign = -1
                case UInt8(ascii: "Z"):
                    index += 1
                    sign = 0
                default: return nil
                }
                if sign != 0 {
                    index += 1
                    guard let offsetHours = number(maxDigits: 2)?.value else { return nil }
                    var offset = offsetHours * 3600
                    if expect(UInt8(ascii: ":")) {
                        guard let offsetMinutes = number(maxDigits: 2)?.value else { return nil }
                        offset += offsetMinutes * 60
                        if expect(UInt8(ascii: ":")) {
                            guard let offsetSeconds = number(maxDigits: 2)?.value else { return nil }
                            offset += offsetSeconds
                        }
                    }
                    micros -= sign * offset * 1_000_000
                }
            }
        }
        guard index == bytes.endIndex else { return nil }
        return Date(timeIntervalSince1970: Double(micros) / 1_000_000)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

}
