import Foundation

/// Finds one value inside a JSON document without decoding the document: the bytes of the value at
/// a path of object keys. A service that only passes a value on (the gateway answering with the
/// record metadata sent) takes it as it is instead of decoding and encoding it again.
///
/// It reads just enough to skip over what lies before the value (strings with their escapes, nested
/// objects and arrays); it does not check the rest of the document.
public enum JSONSlice {
    /// The byte range (in `data`'s indices) of the value at `path`, or nil when the document is not
    /// an object holding that path (or is malformed on the way there). Keys are compared as written:
    /// a key spelled with escapes does not match.
    public static func range(of path: [String], in data: Data) -> Range<Data.Index>? {
        data.withUnsafeBytes { buffer -> Range<Int>? in
            var scanner = Scanner(bytes: buffer.bindMemory(to: UInt8.self))
            var start = 0
            var end = 0
            for key in path {
                guard scanner.enterObject(), scanner.find(key: Array(key.utf8)) else { return nil }
                start = scanner.position
                guard scanner.skipValue() else { return nil }
                end = scanner.position
                scanner.position = start
            }
            if path.isEmpty {
                scanner.skipWhitespace()
                start = scanner.position
                guard scanner.skipValue() else { return nil }
                end = scanner.position
            }
            return start..<end
        }.map { data.index(data.startIndex, offsetBy: $0.lowerBound)..<data.index(data.startIndex, offsetBy: $0.upperBound) }
    }

    /// The string value at `path`, when it is a string without escapes.
    public static func string(at path: [String], in data: Data) -> String? {
        guard let range = range(of: path, in: data), data[range].count >= 2,
            data[range.lowerBound] == UInt8(ascii: "\""), !data[range].contains(UInt8(ascii: "\\"))
        else { return nil }
        return String(decoding: data[data.index(after: range.lowerBound)..<data.index(before: range.upperBound)], as: UTF8.self)
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        static func isWhitespace(_ byte: UInt8) -> Bool {
            byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
        }

        mutating func skipWhitespace() {
            while position < bytes.count, Self.isWhitespace(bytes[position]) { position += 1 }
        }

        /// Moves past the `{` of the object at the position.
        mutating func enterObject() -> Bool {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "{") else { return false }
            position += 1
            return true
        }

        /// Inside an object: moves to the value of `key` (skipping the members before it).
        mutating func find(key: [UInt8]) -> Bool {
            while true {
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return false }
                let keyStart = position + 1
                guard skipString() else { return false }
                var matches = position - 1 - keyStart == key.count
                var index = 0
                while matches, index < key.count {
                    matches = bytes[keyStart + index] == key[index]
                    index += 1
                }
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { return false }
                position += 1
                skipWhitespace()
                if matches { return true }
                guard skipValue() else { return false }
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ",") else { return false }
                position += 1
            }
        }

        /// Moves past the string starting at the position (its opening quote).
        mutating func skipString() -> Bool {
            position += 1
            while position < bytes.count {
                switch bytes[position] {
                case UInt8(ascii: "\\"): position += 2
                case UInt8(ascii: "\""):
                    position += 1
                    return true
                default: position += 1
                }
            }
            return false
        }

        /// Moves past the value starting at the position.
        mutating func skipValue() -> Bool {
            guard position < bytes.count else { return false }
            switch bytes[position] {
            case UInt8(ascii: "\""):
                return skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while position < bytes.count {
                    switch bytes[position] {
                    case UInt8(ascii: "\""):
                        guard skipString() else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            position += 1
                            return true
                        }
                    default: break
                    }
                    position += 1
                }
                return false
            default:
                // A number, true, false or null: up to the next delimiter.
                let start = position
                while position < bytes.count {
                    let byte = bytes[position]
                    if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") || Self.isWhitespace(byte) {
                        break
                    }
                    position += 1
                }
                return position > start
            }
        }
    }
}
