import Foundation

/// Where and how `SMTPClient` delivers mail.
///
/// `description` and `debugDescription` redact the password, so a configuration can be logged.
public struct SMTPConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// `smtp://host:port` (plain or STARTTLS) or `smtps://host:port` (implicit TLS).
    public var url: String
    /// The user name for SMTP AUTH, if the server needs one.
    public var username: String?
    /// The password for SMTP AUTH. Never logged or put in errors.
    public var password: String?
    /// Require STARTTLS on `smtp://` URLs (libcurl `CURLUSESSL_ALL`); the send fails if the server cannot do TLS.
    public var startTLS: Bool
    /// Limit for the whole transaction (connect, greeting, upload, final reply), in seconds.
    public var timeoutSeconds: Int
    /// Limit for establishing the connection (TCP and TLS), in seconds; capped at `timeoutSeconds`.
    public var connectTimeoutSeconds: Int
    /// The domain sent in EHLO/HELO; libcurl's default (the local host name) when nil.
    public var heloDomain: String?

    /// Creates a configuration.
    public init(
        url: String = "smtp://127.0.0.1:2525", username: String? = nil, password: String? = nil,
        startTLS: Bool = false, timeoutSeconds: Int = 30, connectTimeoutSeconds: Int = 10, heloDomain: String? = nil
    ) {
        self.url = url
        self.username = username
        self.password = password
        self.startTLS = startTLS
        self.timeoutSeconds = timeoutSeconds
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.heloDomain = heloDomain
    }

    public var description: String {
        var parts = ["url: \(redactedURL)"]
        if let username { parts.append("username: \(username)") }
        if password != nil { parts.append("password: <redacted>") }
        parts.append("startTLS: \(startTLS)")
        parts.append("timeoutSeconds: \(timeoutSeconds)")
        parts.append("connectTimeoutSeconds: \(connectTimeoutSeconds)")
        if let heloDomain { parts.append("heloDomain: \(heloDomain)") }
        return "SMTPConfiguration(\(parts.joined(separator: ", ")))"
    }

    public var debugDescription: String { description }

    /// The URL with any `user:password@` part removed.
    var redactedURL: String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<schemeEnd.upperBound]) + "<redacted>@" + String(rest[rest.index(after: at)...])
    }

    /// The URL handed to libcurl: scheme checked, and `heloDomain` placed in the path, which libcurl uses as the
    /// EHLO domain.
    func curlURL() throws -> String {
        let lowered = url.lowercased()
        guard lowered.hasPrefix("smtp://") || lowered.hasPrefix("smtps://") else {
            throw SMTPError(
                code: .invalidConfiguration, field: "url", message: "URL must start with smtp:// or smtps://")
        }
        if url.contains(where: EmailAddress.isLineBreakOrNul) || url.contains(" ") {
            throw SMTPError(code: .invalidConfiguration, field: "url", message: "URL contains whitespace or NUL")
        }
        guard let heloDomain else { return url }
        guard !heloDomain.isEmpty,
            heloDomain.unicodeScalars.allSatisfy({
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "." || $0 == "-")
            })
        else {
            throw SMTPError(
                code: .invalidConfiguration, field: "heloDomain", message: "must be a host name (letters, digits, . and -)")
        }
        let schemeEnd = url.range(of: "://")!
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return String(url[..<schemeEnd.upperBound]) + authority + "/" + heloDomain
    }
}
