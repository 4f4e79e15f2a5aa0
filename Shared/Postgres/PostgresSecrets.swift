import Foundation

/// Finds the password in a connection string so that it can be scrubbed from logs and error messages.
struct PostgresSecrets: Sendable {
    /// The password as written in the URL and, when different, its percent-decoded form.
    let passwords: [String]

    init(url: String) {
        var found: [String] = []
        if let schemeEnd = url.range(of: "://") {
            // URI form: scheme://[user[:password]@]host...; the authority ends at the first '/', '?' or '#'.
            let rest = url[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                let userInfo = authority[..<at]
                if let colon = userInfo.firstIndex(of: ":") {
                    found.append(String(userInfo[userInfo.index(after: colon)...]))
                }
            }
            // A password may also be given as a query parameter.
            if let query = url.firstIndex(of: "?") {
                for pair in url[url.index(after: query)...].split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    if parts.count == 2, parts[0] == "password" { found.append(String(parts[1])) }
                }
            }
        } else {
            // key=value form: password=secret or password='se cret'.
            var scanner = url[...]
            while let range = scanner.range(of: "password") {
                var index = range.upperBound
                while index < scanner.endIndex, scanner[index] == " " { index = scanner.index(after: index) }
                guard index < scanner.endIndex, scanner[index] == "=" else { scanner = scanner[range.upperBound...]; continue }
                index = scanner.index(after: index)
                while index < scanner.endIndex, scanner[index] == " " { index = scanner.index(after: index) }
                var value = ""
                if index < scanner.endIndex, scanner[index] == "'" {
                    index = scanner.index(after: index)
                    while index < scanner.endIndex, scanner[index] != "'" {
                        if scanner[index] == "\\", scanner.index(after: index) < scanner.endIndex {
                            index = scanner.index(after: index)
                        }
                        value.append(scanner[index])
                        index = scanner.index(after: index)
                    }
                } else {
                    while index < scanner.endIndex, scanner[index] != " " {
                        value.append(scanner[index])
                        index = scanner.index(after: index)
                    }
                }
                found.append(value)
                scanner = scanner[index...]
            }
        }
        var all: [String] = []
        for password in found where !password.isEmpty {
            all.append(password)
            if let decoded = password.removingPercentEncoding, decoded != password { all.append(decoded) }
        }
        passwords = all
    }

    /// Replaces every occurrence of the password in `text` with `***`.
    func redact(_ text: String) -> String {
        var result = text
        for password in passwords { result = result.replacingOccurrences(of: password, with: "***") }
        return result
    }
}
