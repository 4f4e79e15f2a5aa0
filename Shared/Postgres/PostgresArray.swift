/// Array parameters in PostgreSQL's text form, for `$1::text[]`, `= ANY($1::uuid[])` or `unnest(...)`.
///
/// A batch of rows travels as one array parameter per column (`unnest($1::uuid[], $2::text[], ...)`),
/// so the literal is built in one pass over the bytes.
public enum PostgresArray {
    /// A PostgreSQL array literal (`{"a","b",NULL}`) with every element quoted and escaped.
    public static func literal(_ items: [String?]) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(2 + items.reduce(0) { $0 + ($1?.utf8.count ?? 4) + 3 })
        for (index, item) in items.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            guard let item else {
                bytes.append(contentsOf: "NULL".utf8)
                continue
            }
            bytes.append(UInt8(ascii: "\""))
            for byte in item.utf8 {
                if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\"") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The literal of values that have a text form (`nil` is NULL).
    public static func literal(values items: [(any PostgresBindable)?]) -> String {
        literal(items.map { $0?.postgresText })
    }
}
