/// An error from PostgreSQL or from this client. Never contains the connection password.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// What went wrong: a five-character SQLSTATE for server errors, or a client code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The SQLSTATE (e.g. `23505`) or the client code name (e.g. `connectionFailure`).
        public var rawValue: String

        /// Wraps a SQLSTATE or a client code name.
        public init(_ rawValue: String) { self.rawValue = rawValue }

        /// Connecting failed, or the connection broke (server gone, network error).
        public static let connectionFailure = Code("connectionFailure")
        /// A query failed without a SQLSTATE (e.g. libpq could not send it).
        public static let queryFailure = Code("queryFailure")
        /// A column was missing, NULL, or could not be parsed as the requested type.
        public static let decodingFailure = Code("decodingFailure")
        /// A parameter could not be sent (e.g. text containing a NUL character).
        public static let invalidParameter = Code("invalidParameter")
        /// The pool was closed.
        public static let poolClosed = Code("poolClosed")
        /// ``PostgresPool/waitUntilAvailable(timeout:)`` gave up.
        public static let timeout = Code("timeout")
        /// The migration list is invalid (e.g. duplicate versions).
        public static let invalidMigration = Code("invalidMigration")

        /// SQLSTATE 23505.
        public static let uniqueViolation = Code("23505")
        /// SQLSTATE 23503.
        public static let foreignKeyViolation = Code("23503")
        /// SQLSTATE 40001.
        public static let serializationFailure = Code("40001")
        /// SQLSTATE 40P01.
        public static let deadlockDetected = Code("40P01")
        /// SQLSTATE 57014 (statement timeout or cancelled task).
        public static let queryCanceled = Code("57014")

        /// The raw value.
        public var description: String { rawValue }
    }

    /// The SQLSTATE for server errors, otherwise a client code.
    public var code: Code
    /// The SQLSTATE reported by the server, if any.
    public var sqlState: String?
    /// The primary message.
    public var message: String
    /// The server's detail field (e.g. which key violated a unique constraint).
    public var detail: String?
    /// The server's hint field.
    public var hint: String?
    /// The SQL text that failed, if any.
    public var query: String?

    /// Creates an error.
    public init(
        code: Code, sqlState: String? = nil, message: String, detail: String? = nil, hint: String? = nil,
        query: String? = nil
    ) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.query = query
    }

    /// Whether the connection (rather than the statement) failed: client connection failures and the
    /// SQLSTATE classes 08 (connection exception) and 57P01–57P03 (server shutting down or starting).
    public var isConnectionFailure: Bool {
        if code == .connectionFailure { return true }
        guard let sqlState else { return false }
        return sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(sqlState)
    }

    /// Whether this is a unique violation (SQLSTATE 23505).
    public var isUniqueViolation: Bool { sqlState == "23505" }

    /// Whether this is a serialization failure (SQLSTATE 40001); retry the whole transaction.
    public var isSerializationFailure: Bool { sqlState == "40001" }

    /// Whether this is a deadlock (SQLSTATE 40P01); retry the whole transaction.
    public var isDeadlock: Bool { sqlState == "40P01" }

    /// `PostgresError(code, SQLSTATE): message; detail: ...; hint: ...; query: ...`.
    public var description: String {
        var text = "PostgresError(\(code.rawValue)"
        if let sqlState, sqlState != code.rawValue { text += ", SQLSTATE \(sqlState)" }
        text += "): \(message)"
        if let detail { text += "; detail: \(detail)" }
        if let hint { text += "; hint: \(hint)" }
        if let query { text += "; query: \(query.count > 500 ? String(query.prefix(500)) + "…" : query)" }
        return text
    }
}
