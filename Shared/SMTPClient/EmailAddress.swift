import MailboxRules

/// A mailbox: an optional display name and an `addr-spec` such as `jane@example.com`.
///
/// Validation is deliberately strict so an address can be placed in a header or an SMTP command
/// without escaping: the address must follow ``MailboxRule`` (an ASCII dot-atom local part, a host
/// name domain; the same rule the gateway applies at submit). The display name may contain any
/// Unicode text except CR, LF and NUL; it is encoded when the message is rendered.
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    /// The display name, for example `Jane Doe`.
    public var name: String?
    /// The address, for example `jane@example.com`.
    public var address: String

    /// Creates a validated address.
    ///
    /// - Throws: `SMTPError` with code `.invalidAddress` and `field` set to `"name"` or `"address"`.
    public init(name: String? = nil, address: String) throws {
        if let name {
            try Self.validate(name: name)
        }
        try Self.validate(address: address)
        self.name = name.flatMap { $0.isEmpty ? nil : $0 }
        self.address = address
    }

    /// Parses `Name <local@domain>`, `"Name" <local@domain>`, `<local@domain>` or `local@domain`.
    ///
    /// - Throws: `SMTPError` with code `.invalidAddress`.
    public init(parsing text: String) throws {
        if text.contains(where: Self.isLineBreakOrNul) {
            throw SMTPError(code: .invalidAddress, field: "address", message: "contains CR, LF or NUL")
        }
        let trimmed = text.trimmingWhitespace()
        guard let open = trimmed.lastIndex(of: "<") else {
            try self.init(address: trimmed)
            return
        }
        guard trimmed.hasSuffix(">") else {
            throw SMTPError(
                code: .invalidAddress, field: "address", message: "expected `Name <local@domain>`, got \"\(text)\"")
        }
        let address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
        var name = String(trimmed[..<open]).trimmingWhitespace()
        if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") {
            name = Self.unquote(String(name.dropFirst().dropLast()))
        }
        try self.init(name: name.isEmpty ? nil : name, address: address.trimmingWhitespace())
    }

    /// The domain part of the address (after the `@`); empty if `address` was mutated into an invalid value.
    public var domain: Substring {
        guard let at = address.firstIndex(of: "@") else { return "" }
        return address[address.index(after: at)...]
    }

    /// `Name <address>` or `address`, unencoded; for logs and diagnostics, not for headers.
    public var description: String {
        if let name { return "\(name) <\(address)>" }
        return address
    }

    static func isLineBreakOrNul(_ character: Character) -> Bool {
        character.unicodeScalars.contains { $0 == "\r" || $0 == "\n" || $0 == "\0" }
    }

    private static func validate(name: String) throws {
        if name.contains(where: isLineBreakOrNul) {
            throw SMTPError(code: .invalidAddress, field: "name", message: "display name contains CR, LF or NUL")
        }
    }

    private static func validate(address: String) throws {
        if address.contains(where: isLineBreakOrNul) {
            throw SMTPError(code: .invalidAddress, field: "address", message: "address contains CR, LF or NUL")
        }
        if let problem = MailboxRule.problem(address) {
            throw SMTPError(code: .invalidAddress, field: "address", message: "address \"\(address)\" \(problem)")
        }
    }

    private static func unquote(_ text: String) -> String {
        var result = ""
        var escaped = false
        for character in text {
            if escaped {
                result.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                result.append(character)
            }
        }
        return result
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = lastIndex(where: { !isSpace($0) })!
        return String(self[start...end])
    }
}
