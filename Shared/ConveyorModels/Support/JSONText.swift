import Foundation

/// JSON text written by hand, for answers rendered straight from stored rows: a record whose parts
/// are already JSON in the database (a `jsonb` definition, attributes) is spliced together instead of
/// decoded into models and encoded again. What it writes decodes to the same value as
/// ``ConveyorJSON`` would have written (keys are written in the order the caller gives; callers give
/// them sorted, as ``ConveyorJSON`` does).
public struct JSONText: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 1024) {
        bytes.reserveCapacity(capacity)
    }

    /// Text that is already JSON syntax (punctuation, a key written by the caller, a number).
    public mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    public mutating func raw(_ data: some Sequence<UInt8>) {
        bytes.append(contentsOf: data)
    }

    /// A string value, quoted and escaped.
    public mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00..<0x20:
                let digits = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: Array(#"\u00"#.utf8))
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A JSON document as PostgreSQL prints a `jsonb` value, without the whitespace it puts between
    /// tokens (strings are copied exactly, escapes included).
    public mutating func compacted(_ json: String) {
        var inString = false
        var escaped = false
        for byte in json.utf8 {
            if inString {
                bytes.append(byte)
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case 0x20, 0x0A, 0x0D, 0x09: continue
            case UInt8(ascii: "\""):
                inString = true
                bytes.append(byte)
            default: bytes.append(byte)
            }
        }
    }

    public var data: Data { Data(bytes) }
}
