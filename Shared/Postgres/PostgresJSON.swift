import Foundation

/// A JSON document sent as a text parameter, for `json`/`jsonb` columns (cast with `$1::jsonb` when the
/// context does not determine the type).
public struct PostgresJSON: PostgresBindable, Hashable {
    /// The JSON text.
    public var text: String

    /// Wraps UTF-8 encoded JSON.
    public init(_ data: Data) {
        self.text = String(decoding: data, as: UTF8.self)
    }

    /// Wraps JSON text.
    public init(_ text: String) {
        self.text = text
    }

    /// Encodes `value` with `encoder`.
    public init<Value: Encodable>(encoding value: Value, encoder: JSONEncoder = JSONEncoder()) throws {
        self.init(try encoder.encode(value))
    }

    /// The JSON text.
    public var postgresText: String { text }
}
