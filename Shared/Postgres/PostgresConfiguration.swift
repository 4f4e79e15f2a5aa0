/// How to reach PostgreSQL and how many connections a ``PostgresPool`` may hold.
public struct PostgresConfiguration: Sendable {
    /// A libpq connection URI (`postgres://user:password@host:port/database?sslmode=...`) or a
    /// `key=value` connection string. The password is never logged nor included in errors.
    public var url: String
    /// The maximum number of connections the pool opens (at least 1). Connections are opened lazily.
    public var poolSize: Int
    /// The libpq `connect_timeout`, in seconds, for each connection attempt.
    public var connectTimeout: Int

    /// Creates a configuration.
    /// - Parameters:
    ///   - url: a libpq connection URI or `key=value` string.
    ///   - poolSize: the maximum number of connections of a pool; values below 1 are treated as 1.
    ///   - connectTimeout: the connect timeout in seconds (values below 1 are treated as 1).
    public init(url: String, poolSize: Int = 4, connectTimeout: Int = 5) {
        self.url = url
        self.poolSize = poolSize
        self.connectTimeout = connectTimeout
    }

    /// The URL with its password replaced by `***`, safe to log.
    public var redactedURL: String {
        PostgresSecrets(url: url).redact(url)
    }
}
