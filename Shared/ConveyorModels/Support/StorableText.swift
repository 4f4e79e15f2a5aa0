import Foundation

/// What text and documents the store can keep, checked where requests are decoded (the gateway's
/// bodies and query parameters), so that nothing a client sends fails later at the database.
public enum StorableText {
    /// The deepest nesting of arrays and objects a request body may have.
    public static let maxDepth = 64

    /// Why `text` cannot be stored, or nil: PostgreSQL's text and `jsonb` cannot hold U+0000.
    public static func problem(_ text: some StringProtocol) -> String? {
        text.utf8.contains(0) ? "contains the NUL character (U+0000), which cannot be stored" : nil
    }

    /// The problems of every string and key in `json` that cannot be stored, with their paths.
    public static func problems(in json: JSONValue, at path: String = "$") -> [FieldProblem] {
        var problems: [FieldProblem] = []
        func walk(_ json: JSONValue, _ path: String) {
            switch json {
            case .string(let text): if let reason = problem(text) { problems.append(FieldProblem(field: path, reason: reason)) }
            case .array(let items): for (index, item) in items.enumerated() { walk(item, "\(path)[\(index)]") }
            case .object(let entries):
                for (key, item) in entries.sorted(by: { $0.key < $1.key }) {
                    let itemPath = JSONShape.join(path, key)
                    if let reason = problem(key) { problems.append(FieldProblem(field: itemPath, reason: "the key " + reason)) }
                    walk(item, itemPath)
                }
            default: return
            }
        }
        walk(json, path)
        return problems
    }

    /// How deeply `body` nests arrays and objects (strings skipped), counted up to `maxDepth + 1`.
    public static func depth(of body: Data) -> Int {
        var depth = 0
        var deepest = 0
        var inString = false
        var escaped = false
        for byte in body {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
                if deepest > maxDepth { return deepest }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: continue
            }
        }
        return deepest
    }

    /// Whether `body` may hold an escaped NUL (`\u0000`), which only then needs a walk.
    static func mayHoldNUL(_ body: Data) -> Bool {
        body.range(of: Data(#"\u0000"#.utf8)) != nil
    }
}
