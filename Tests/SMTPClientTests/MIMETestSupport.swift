import Foundation

/// A minimal MIME reader for assertions: headers unfolded, RFC 2047 B-words and quoted-printable decoded.
/// Line endings are normalised to LF before parsing (maildir files are written with LF).
struct ParsedMessage {
    var headers: [(name: String, value: String)]
    var body: String

    init(_ raw: String) {
        let text = raw.replacingOccurrences(of: "\r\n", with: "\n")
        let (head, body) = Self.splitHead(text)
        self.body = body
        var headers: [(name: String, value: String)] = []
        for line in head.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(" ") || line.hasPrefix("\t"), !headers.isEmpty {
                headers[headers.count - 1].value += String(line)
            } else if let colon = line.firstIndex(of: ":") {
                let value = line[line.index(after: colon)...]
                headers.append((String(line[..<colon]), String(value.drop(while: { $0 == " " }))))
            }
        }
        self.headers = headers
    }

    /// The first header with this name (case-insensitive), unfolded but not decoded.
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The `boundary` parameter of a multipart Content-Type.
    var boundary: String? {
        guard let contentType = header("Content-Type"), let range = contentType.range(of: "boundary=\"") else {
            return nil
        }
        let rest = contentType[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    /// The parts of a multipart body, in order.
    var parts: [ParsedMessage] {
        guard let boundary else { return [] }
        let sections = body.components(separatedBy: "\n--\(boundary)")
        // sections[0] is the preamble (plus the first delimiter), the last one starts with "--" (close delimiter).
        var parts: [ParsedMessage] = []
        for section in sections.dropFirst() where !section.hasPrefix("--") {
            parts.append(ParsedMessage(String(section.drop(while: { $0 != "\n" }).dropFirst())))
        }
        return parts
    }

    /// The body with its Content-Transfer-Encoding undone.
    var decodedBody: String {
        switch header("Content-Transfer-Encoding")?.lowercased() {
        case "quoted-printable": return Self.decodeQuotedPrintable(body)
        case "base64":
            let data = Data(base64Encoded: body.filter { !$0.isWhitespace }) ?? Data()
            return String(decoding: data, as: UTF8.self)
        default: return body
        }
    }

    private static func splitHead(_ text: String) -> (String, String) {
        if text.hasPrefix("\n") { return ("", String(text.dropFirst())) }
        guard let range = text.range(of: "\n\n") else { return (text, "") }
        return (String(text[..<range.lowerBound]), String(text[range.upperBound...]))
    }

    /// Decodes `=?UTF-8?B?...?=` words, dropping the whitespace between adjacent encoded-words.
    static func decodeHeader(_ value: String) -> String {
        var result = ""
        var previousWasEncoded = false
        for (index, token) in value.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
            if token.hasPrefix("=?UTF-8?B?"), token.hasSuffix("?="), token.count >= 12 {
                let payload = token.dropFirst(10).dropLast(2)
                let data = Data(base64Encoded: String(payload)) ?? Data("<undecodable>".utf8)
                if index > 0, !previousWasEncoded { result += " " }
                result += String(decoding: data, as: UTF8.self)
                previousWasEncoded = true
            } else {
                if index > 0 { result += " " }
                result += token
                previousWasEncoded = false
            }
        }
        return result
    }

    /// Decodes quoted-printable text with LF line endings.
    static func decodeQuotedPrintable(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "=") {
                if index + 1 < bytes.count, bytes[index + 1] == 0x0A {
                    index += 2
                    continue
                }
                if index + 2 < bytes.count,
                    let value = UInt8(String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
                {
                    output.append(value)
                    index += 3
                    continue
                }
            }
            output.append(bytes[index])
            index += 1
        }
        return String(decoding: output, as: UTF8.self)
    }
}

/// Every line of `text`, split on CRLF; fails the caller's expectations if a bare CR or LF exists.
func hasOnlyCRLFLineEndings(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    for (index, byte) in bytes.enumerated() {
        if byte == 0x0A, index == 0 || bytes[index - 1] != 0x0D { return false }
        if byte == 0x0D, index + 1 >= bytes.count || bytes[index + 1] != 0x0A { return false }
    }
    return true
}
