/// Array parameters in PostgreSQL's text form, for `$1::text[]`, `= ANY($1::uuid[])` or `unnest(...)`.
public enum PostgresArray {
    /// A PostgreSQL array literal (`{"a","b",NULL}`) with every element quoted and escaped.
    public static func literal(_ items: [String?]) -> String {
        "{" + items.map { item in
            guard let item else { return "NULL" }
            return "\"" + item.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }.joined(separator: ",") + "}"
    }
}
