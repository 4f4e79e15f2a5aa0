/// A transaction whose statements go out in as few round trips as possible: `BEGIN` travels with the
/// first pipeline and `COMMIT` with the last (``PostgresPool/withPipelinedTransaction(_:)``).
///
/// The usual shape is read, decide, write: one pipeline reads (and locks) what a decision needs, the
/// caller decides in plain code, and ``commit(_:)`` sends the writes with the `COMMIT` in a second.
/// A transaction that only writes takes one round trip and no `BEGIN` at all (an implicit transaction).
public final class PostgresTransaction: @unchecked Sendable {
    /// The connection the transaction runs on. Statements sent on it directly take part in the
    /// transaction once it has begun (after its first ``pipeline(_:)``); only use it from the task
    /// that runs the transaction.
    public let connection: PostgresConnection
    private(set) var began = false
    private(set) var finished = false

    init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Runs statements in the transaction (the first call also opens it) and returns their rows.
    public func pipeline(_ statements: [PostgresStatement]) async throws -> [PostgresRows] {
        precondition(!finished, "the transaction has ended")
        guard !began else { return try await connection.pipeline(statements) }
        began = true
        return Array(try await connection.pipeline([try PostgresStatement("BEGIN")] + statements).dropFirst())
    }

    /// Runs the last statements and commits, in one round trip; returns their rows.
    public func commit(_ statements: [PostgresStatement] = []) async throws -> [PostgresRows] {
        precondition(!finished, "the transaction has ended")
        finished = true
        guard began else { return try await connection.pipeline(statements) }
        return Array(try await connection.pipeline(statements + [try PostgresStatement("COMMIT")]).dropLast())
    }
}

extension PostgresPool {
    /// Runs `body` in a ``PostgresTransaction``: committed by the body's ``PostgresTransaction/commit(_:)``
    /// (or here, if the body opened the transaction and did not commit it), rolled back when the body
    /// throws (the error is rethrown).
    public func withPipelinedTransaction<T: Sendable>(_ body: (PostgresTransaction) async throws -> T) async throws -> T {
        try await withConnection { connection in
            let transaction = PostgresTransaction(connection: connection)
            do {
                let result = try await body(transaction)
                if !transaction.finished { _ = try await transaction.commit() }
                return result
            } catch {
                if connection.isHealthy, connection.isInTransaction {
                    try? await connection.execute("ROLLBACK", cancellable: false)
                }
                throw error
            }
        }
    }
}
