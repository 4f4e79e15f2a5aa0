import Foundation

/// An email with a plain-text body and an optional HTML alternative.
///
/// `rendered()` produces the RFC 5322 / MIME text that is handed to the SMTP server.
public struct EmailMessage: Sendable {
    /// The author (`From:` header and SMTP `MAIL FROM`).
    public var from: EmailAddress
    /// The recipients (`To:` header and SMTP `RCPT TO`).
    public var to: [EmailAddress]
    /// The subject; any Unicode text without CR or LF.
    public var subject: String
    /// The plain-text body. LF, CR and CRLF line breaks are all accepted.
    public var textBody: String
    /// An optional HTML body, sent as the preferred `multipart/alternative` part.
    public var htmlBody: String?
    /// The Message-ID without angle brackets. When nil, each `rendered()` call generates `<uuid@from-domain>`.
    public var messageID: String?
    /// The `Date:` header.
    public var date: Date
    /// Extra headers, rendered in order after the standard ones. Names must be printable ASCII without `:`,
    /// values must not contain CR, LF or NUL, and headers the renderer writes itself are refused.
    public var headers: [(String, String)]

    /// Creates a message; validation happens when it is rendered.
    public init(
        from: EmailAddress, to: [EmailAddress], subject: String, textBody: String, htmlBody: String? = nil,
        messageID: String? = nil, date: Date = Date(), headers: [(String, String)] = []
    ) {
        self.from = from
        self.to = to
        self.subject = subject
        self.textBody = textBody
        self.htmlBody = htmlBody
        self.messageID = messageID
        self.date = date
        self.headers = headers
    }

    /// Headers the renderer writes itself; `headers` may not contain them.
    static let generatedHeaders: Set<String> = [
        "date", "message-id", "from", "to", "subject", "mime-version", "content-type", "content-transfer-encoding",
    ]

    /// Renders the message as RFC 5322 text with CRLF line endings.
    ///
    /// Non-ASCII subjects, display names and extra header values become RFC 2047 encoded-words; bodies are
    /// quoted-printable UTF-8. With an HTML body the message is `multipart/alternative` (text, then HTML).
    ///
    /// - Throws: `SMTPError` (`.invalidHeader` or `.invalidAddress`) naming the offending field.
    public func rendered() throws -> String {
        try render(messageID: resolvedMessageID())
    }

    /// The Message-ID (without brackets) that will be used: `messageID` validated, or a newly generated one.
    func resolvedMessageID() throws -> String {
        guard var id = messageID else {
            try Self.validated(from, field: "From")
            return "\(UUID().uuidString.lowercased())@\(from.domain)"
        }
        if id.hasPrefix("<"), id.hasSuffix(">"), id.count >= 2 { id = String(id.dropFirst().dropLast()) }
        if id.contains(where: EmailAddress.isLineBreakOrNul) {
            throw SMTPError(code: .invalidHeader, field: "Message-ID", message: "value contains CR, LF or NUL")
        }
        guard !id.isEmpty,
            id.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "<" && $0 != ">" })
        else {
            throw SMTPError(
                code: .invalidHeader, field: "Message-ID",
                message: "must be non-empty printable ASCII without spaces or angle brackets")
        }
        return id
    }

    func render(messageID: String) throws -> String {
        let from = try Self.validated(from, field: "From")
        let to = try to.map { try Self.validated($0, field: "To") }
        if subject.contains(where: EmailAddress.isLineBreakOrNul) {
            throw SMTPError(code: .invalidHeader, field: "Subject", message: "value contains CR, LF or NUL")
        }
        for (name, value) in headers {
            try Self.validateExtraHeader(name: name, value: value)
        }

        var output = ""
        output += MIMEEncoding.header("Date", tokens: [MIMEEncoding.rfc5322Date(date)])
        output += MIMEEncoding.header("Message-ID", tokens: ["<\(messageID)>"])
        output += MIMEEncoding.header("From", tokens: Self.addressTokens([from], headerName: "From"))
        if !to.isEmpty {
            output += MIMEEncoding.header("To", tokens: Self.addressTokens(to, headerName: "To"))
        }
        output += MIMEEncoding.header("Subject", tokens: MIMEEncoding.unstructuredTokens(subject, headerName: "Subject"))
        for (name, value) in headers {
            output += MIMEEncoding.header(name, tokens: MIMEEncoding.unstructuredTokens(value, headerName: name))
        }
        output += "MIME-Version: 1.0\r\n"

        let textPart = MIMEEncoding.quotedPrintable(textBody)
        if let htmlBody {
            let boundary = "=_conveyor_\(UUID().uuidString)"  // "=_" can never occur in quoted-printable text.
            output += "Content-Type: multipart/alternative;\r\n boundary=\"\(boundary)\"\r\n"
            output += "\r\n"
            output += "This is a multi-part message in MIME format.\r\n"
            output += "--\(boundary)\r\n"
            output += Self.partHeaders(subtype: "plain") + "\r\n" + textPart + "\r\n"
            output += "--\(boundary)\r\n"
            output += Self.partHeaders(subtype: "html") + "\r\n" + MIMEEncoding.quotedPrintable(htmlBody) + "\r\n"
            output += "--\(boundary)--\r\n"
        } else {
            output += Self.partHeaders(subtype: "plain")
            output += "\r\n"
            output += textPart + "\r\n"
        }
        return output
    }

    private static func partHeaders(subtype: String) -> String {
        "Content-Type: text/\(subtype); charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"
    }

    /// Re-validates an address (its properties are mutable), naming the header on failure.
    @discardableResult
    static func validated(_ address: EmailAddress, field: String) throws -> EmailAddress {
        do {
            return try EmailAddress(name: address.name, address: address.address)
        } catch let error as SMTPError {
            throw SMTPError(
                code: error.code, field: field, message: "\(error.field ?? "address"): \(error.message)")
        }
    }

    private static func validateExtraHeader(name: String, value: String) throws {
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != ":" })
        else {
            throw SMTPError(
                code: .invalidHeader, field: name,
                message: "header name must be non-empty printable ASCII without spaces or ':'")
        }
        if generatedHeaders.contains(name.lowercased()) {
            throw SMTPError(code: .invalidHeader, field: name, message: "header is generated by the renderer")
        }
        if value.contains(where: EmailAddress.isLineBreakOrNul) {
            throw SMTPError(code: .invalidHeader, field: name, message: "value contains CR, LF or NUL")
        }
    }

    private static func addressTokens(_ addresses: [EmailAddress], headerName: String) -> [String] {
        var tokens: [String] = []
        for (index, address) in addresses.enumerated() {
            var addressTokens: [String]
            if let name = address.name, !name.isEmpty {
                let budget = tokens.isEmpty ? MIMEEncoding.firstLineBudget(headerName) : MIMEEncoding.maxEncodedWordLength
                addressTokens = MIMEEncoding.phraseTokens(name, firstMaxLength: budget)
                addressTokens.append("<\(address.address)>")
            } else {
                addressTokens = [address.address]
            }
            if index < addresses.count - 1 { addressTokens[addressTokens.count - 1] += "," }
            tokens += addressTokens
        }
        return tokens
    }
}
