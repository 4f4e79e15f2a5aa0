/// One versioned schema change applied by ``PostgresPool/migrate(_:table:)``.
///
/// The SQL runs with `PQexec` inside the migration's transaction, so it may contain several statements
/// but must not contain `BEGIN`/`COMMIT` nor statements that cannot run in a transaction
/// (e.g. `CREATE INDEX CONCURRENTLY`).
public struct PostgresMigration: Sendable, Hashable {
    /// The unique, ordering version (e.g. 1, 2, 3 or 20240501).
    public var version: Int
    /// A human-readable name, recorded with the version.
    public var name: String
    /// The SQL to run.
    public var sql: String

    /// Creates a migration.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}
