import Foundation

/// Encoders for the pieces of an RFC 5322 / MIME message. All output is 7-bit ASCII with CRLF line breaks.
enum MIMEEncoding {
    /// Longest line the renderer aims for (RFC 5322 "SHOULD"); hard limit is 998.
    static let preferredLineLength = 78
    /// Longest RFC 2047 encoded-word.
    static let maxEncodedWordLength = 75

    // MARK: Headers

    /// Renders `Name: tokens...`, joining tokens with single spaces and folding before a token when the line
    /// would exceed 78 characters. Tokens never contain whitespace that matters, so unfolding restores the value.
    static func header(_ name: String, tokens: [String]) -> String {
        var result = name + ":"
        var lineLength = result.utf8.count
        var lineHasToken = false
        for token in tokens {
            let length = token.utf8.count
            if lineHasToken, lineLength + 1 + length > preferredLineLength {
                result += "\r\n " + token
                lineLength = 1 + length
            } else {
                result += " " + token
                lineLength += 1 + length
            }
            lineHasToken = true
        }
        return result + "\r\n"
    }

    /// Tokens for unstructured text (Subject, extra headers): plain words when the text is simple ASCII,
    /// otherwise RFC 2047 encoded-words.
    static func unstructuredTokens(_ text: String, headerName: String) -> [String] {
        if text.isEmpty { return [] }
        if isPlainASCIIText(text) {
            return text.split(separator: " ").map(String.init)
        }
        return encodedWords(text, firstMaxLength: firstLineBudget(headerName))
    }

    /// Tokens for a display name: atoms, one quoted-string, or encoded-words.
    static func phraseTokens(_ name: String, firstMaxLength: Int) -> [String] {
        if isPlainASCIIText(name) {
            if name.unicodeScalars.allSatisfy({ $0 == " " || isAtext($0) }) {
                return name.split(separator: " ").map(String.init)
            }
            if name.utf8.count <= 70 {
                let escaped = name.replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "\"", with: "\\\"")
                return ["\"" + escaped + "\""]
            }
        }
        return encodedWords(name, firstMaxLength: firstMaxLength)
    }

    /// Room left for the first token on a header's first line (`Name: `).
    static func firstLineBudget(_ headerName: String) -> Int {
        preferredLineLength - headerName.utf8.count - 2
    }

    /// Splits `text` into `=?UTF-8?B?...?=` words of at most 75 characters (the first at most `firstMaxLength`),
    /// never splitting a Unicode scalar and, where possible, never splitting a grapheme cluster.
    static func encodedWords(_ text: String, firstMaxLength: Int = maxEncodedWordLength) -> [String] {
        var words: [String] = []
        var current: [UInt8] = []
        func capacity() -> Int {
            let limit = words.isEmpty ? min(max(firstMaxLength, 20), maxEncodedWordLength) : maxEncodedWordLength
            return (limit - 12) / 4 * 3  // "=?UTF-8?B?" + "?=" is 12 characters.
        }
        func flush() {
            words.append("=?UTF-8?B?" + Data(current).base64EncodedString() + "?=")
            current.removeAll(keepingCapacity: true)
        }
        func append(_ bytes: [UInt8]) {
            if !current.isEmpty, current.count + bytes.count > capacity() { flush() }
            current += bytes
        }
        for character in text {
            let bytes = Array(character.utf8)
            if bytes.count <= capacity() {
                append(bytes)
            } else {
                for scalar in character.unicodeScalars { append(Array(String(scalar).utf8)) }
            }
        }
        if !current.isEmpty || words.isEmpty { flush() }
        return words
    }

    /// True when the text can go into a header verbatim: printable ASCII, single spaces between words, no
    /// leading or trailing space, nothing that looks like an encoded-word and no overlong word.
    static func isPlainASCIIText(_ text: String) -> Bool {
        guard !text.isEmpty, !text.hasPrefix(" "), !text.hasSuffix(" "), !text.contains("  "),
            !text.contains("=?")
        else { return false }
        guard text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) else { return false }
        return text.split(separator: " ").allSatisfy { $0.utf8.count <= 70 }
    }

    /// RFC 5322 `atext`.
    static func isAtext(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9": return true
        default: return "!#$%&'*+-/=?^_`{|}~".unicodeScalars.contains(scalar)
        }
    }

    // MARK: Bodies

    /// Quoted-printable (RFC 2045) with CRLF line breaks; any of CRLF, LF or CR in the input ends a line.
    /// Encoded lines are at most 76 characters.
    static func quotedPrintable(_ text: String) -> String {
        let hexDigits = Array("0123456789ABCDEF".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count + text.utf8.count / 8)
        let lines = splitLines(text)
        for (lineIndex, line) in lines.enumerated() {
            var lineLength = 0
            for (byteIndex, byte) in line.enumerated() {
                let isLast = byteIndex == line.count - 1
                let literal: Bool
                switch byte {
                case 0x21...0x3C, 0x3E...0x7E: literal = true
                case 0x20, 0x09: literal = !isLast
                default: literal = false
                }
                let width = literal ? 1 : 3
                if lineLength + width > 75 {
                    output += [UInt8(ascii: "="), 0x0D, 0x0A]
                    lineLength = 0
                }
                if literal {
                    output.append(byte)
                } else {
                    output += [UInt8(ascii: "="), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
                }
                lineLength += width
            }
            if lineIndex < lines.count - 1 { output += [0x0D, 0x0A] }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Splits UTF-8 text into lines on CRLF, LF or a lone CR.
    static func splitLines(_ text: String) -> [ArraySlice<UInt8>] {
        let bytes = Array(text.utf8)
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0A || byte == 0x0D {
                lines.append(bytes[start..<index])
                if byte == 0x0D, index + 1 < bytes.count, bytes[index + 1] == 0x0A { index += 1 }
                start = index + 1
            }
            index += 1
        }
        lines.append(bytes[start..<bytes.count])
        return lines
    }

    // MARK: Dates

    /// `Sat, 21 Nov 2026 09:52:47 +0000`, always in UTC.
    static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int?) -> String {
            let value = value ?? 0
            return value < 10 ? "0\(value)" : "\(value)"
        }
        return "\(weekdays[(parts.weekday ?? 1) - 1]), \(two(parts.day)) \(months[(parts.month ?? 1) - 1]) "
            + "\(parts.year ?? 1970) \(two(parts.hour)):\(two(parts.minute)):\(two(parts.second)) +0000"
    }
}
