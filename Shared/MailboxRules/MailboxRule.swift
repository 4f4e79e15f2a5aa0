/// The one rule for e-mail addresses, shared by the gateway and metadata (which refuse a job whose
/// address breaks it, 422 naming the field) and the SMTP client (which refuses to send to one): so
/// an address accepted at submit is one the notifier can deliver.
///
/// An address is an ASCII `local@domain` of at most 254 characters: the local part a dot-atom of at
/// most 64 characters (letters, digits and ``atomSymbols``, dots only between them), the domain
/// host names of letters, digits and hyphens (labels of 1-63, not starting or ending with a
/// hyphen, at most 253 in all). Not accepted, on purpose: international addresses (non-ASCII local
/// parts or domains, which need SMTPUTF8 and IDNA; write a domain in its `xn--` form), quoted local
/// parts, comments, and address literals such as `a@[127.0.0.1]`.
public enum MailboxRule {
    /// The symbols a dot-atom may hold besides letters and digits (RFC 5322 `atext`).
    public static let atomSymbols: Set<Unicode.Scalar> = [
        "!", "#", "$", "%", "&", "'", "*", "+", "-", "/", "=", "?", "^", "_", "`", "{", "|", "}", "~",
    ]
    /// The most recipients one job may name.
    public static let maxRecipients = 50

    /// Why `address` is not one Conveyor delivers to, or nil when it is.
    public static func problem(_ address: String) -> String? {
        guard address.unicodeScalars.allSatisfy(\.isASCII) else {
            return "must be an ASCII address (international addresses are not delivered; write the domain as xn--)"
        }
        guard address.utf8.count <= 254 else { return "must be at most 254 characters" }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return "must be local@domain with exactly one @" }
        let (local, domain) = (parts[0], parts[1])
        guard !local.isEmpty, local.utf8.count <= 64 else { return "the part before @ must have 1-64 characters" }
        let atoms = local.split(separator: ".", omittingEmptySubsequences: false)
        guard atoms.allSatisfy({ !$0.isEmpty && $0.unicodeScalars.allSatisfy(isAtomCharacter) }) else {
            return "the part before @ may hold letters, digits, dots between them and !#$%&'*+-/=?^_`{|}~"
        }
        guard !domain.isEmpty, domain.utf8.count <= 253 else { return "the domain must have 1-253 characters" }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.allSatisfy(isHostLabel) else {
            return "the domain must be a host name: labels of letters, digits and hyphens, separated by dots"
        }
        return nil
    }

    static func isAtomCharacter(_ scalar: Unicode.Scalar) -> Bool {
        isLetterOrDigit(scalar) || atomSymbols.contains(scalar)
    }

    static func isLetterOrDigit(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    static func isHostLabel(_ label: Substring) -> Bool {
        guard (1...63).contains(label.utf8.count), label.first != "-", label.last != "-" else { return false }
        return label.unicodeScalars.allSatisfy { isLetterOrDigit($0) || $0 == "-" }
    }
}
