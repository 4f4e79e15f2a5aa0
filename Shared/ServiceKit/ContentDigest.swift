import Crypto
import Foundation

/// The digest recorded for stored content (uploaded files, complete logs) and the key of content-
/// addressed things (Python environments).
public enum ContentDigest {
    /// Lowercase hex SHA-256.
    public static func sha256(_ data: Data) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: data) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}
