import Crypto
import Foundation

/// The digest recorded for stored content (uploaded files, complete logs).
enum ContentDigest {
    /// Lowercase hex SHA-256.
    static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
