/// An error raised while validating, rendering or sending an email.
///
/// Messages never contain the SMTP password.
public struct SMTPError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public enum Code: Sendable, Hashable {
        /// A header name or value is invalid (for example a value containing CR or LF).
        case invalidHeader
        /// An email address or display name is invalid.
        case invalidAddress
        /// The message as a whole cannot be sent (for example it has no recipients).
        case invalidMessage
        /// The `SMTPConfiguration` is unusable (for example an unsupported URL scheme).
        case invalidConfiguration
        /// libcurl failed without a rejecting SMTP reply; the value is the `CURLcode`.
        case transport(Int)
        /// The server answered with an SMTP error reply; the value is the reply code (for example 550).
        case rejected(Int)
    }

    /// What went wrong.
    public var code: Code
    /// The header, address or setting at fault, when there is one (for example `"Subject"` or `"name"`).
    public var field: String?
    /// A human-readable explanation.
    public var message: String

    /// Creates an error.
    public init(code: Code, field: String? = nil, message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String {
        let kind: String
        switch code {
        case .invalidHeader: kind = "invalid header"
        case .invalidAddress: kind = "invalid address"
        case .invalidMessage: kind = "invalid message"
        case .invalidConfiguration: kind = "invalid configuration"
        case .transport(let curlCode): kind = "transport error (curl code \(curlCode))"
        case .rejected(let replyCode): kind = "rejected by server (SMTP \(replyCode))"
        }
        if let field {
            return "SMTPError: \(kind) in \(field): \(message)"
        }
        return "SMTPError: \(kind): \(message)"
    }
}
