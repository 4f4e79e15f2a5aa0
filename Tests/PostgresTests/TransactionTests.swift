import Postgres
import Testing

@Suite("Transactions")
struct TransactionTests {
    struct Boom: Error {}

    @Test("commit makes changes visible")
    func commit() async throws {
        try await TestDatabase.withPool(poolSize: 2) { pool, schema in
            try await pool.execute("CREATE TABLE \(schema).t (v int)")
            let result = try await pool.withTransaction { connection in
                _ = try await connection.query("INSERT INTO \(schema).t VALUES ($1)", [1])
                _ = try await connection.query("INSERT INTO \(schema).t VALUES ($1)", [2])
                return "done"
            }
            #expect(result == "done")
            #expect(try await pool.query("SELECT count(*) AS n FROM \(schema).t")[0].int("n") == 2)
        }
    }

    @Test("a thrown error rolls back and the connection is reusable")
    func rollback() async throws {
        try await TestDatabase.withPool(poolSize: 1) { pool, schema in
            try await pool.execute("CREATE TABLE \(schema).t (v int)")
            await #expect(throws: Boom.self) {
                try await pool.withTransaction { connection in
                    _ = try await connection.query("INSERT INTO \(schema).t VALUES ($1)", [1])
                    throw Boom()
                }
            }
            await #expect(throws: PostgresError.self) {
                try await pool.withTransaction { connection in
                    _ = try await connection.query("INSERT INTO \(schema).t VALUES ($1)", [2])
                    _ = try await connection.query("SELECT 1/0")
                }
            }
            #expect(try await pool.query("SELECT count(*) AS n FROM \(schema).t")[0].int("n") == 0)
        }
    }

    @Test("a connection released inside a transaction is not reused")
    func leakedTransaction() async throws {
        try await TestDatabase.withPool(poolSize: 1) { pool, schema in
            try await pool.execute("CREATE TABLE \(schema).t (v int)")
            let first = try await pool.withConnection { connection in
                try await connection.execute("BEGIN")
                _ = try await connection.query("INSERT INTO \(schema).t VALUES (1)")
                return try await connection.query("SELECT pg_backend_pid() AS pid")[0].int("pid")
            }
            let second = try await pool.query("SELECT pg_backend_pid() AS pid")[0].int("pid")
            #expect(first != second)
            #expect(try await pool.query("SELECT count(*) AS n FROM \(schema).t")[0].int("n") == 0)
        }
    }

    @Test("cancelling a transaction rolls it back and keeps the connection")
    func cancelledTransaction() async throws {
        try await TestDatabase.withPool(poolSize: 1) { pool, schema in
            try await pool.execute("CREATE TABLE \(schema).t (v int)")
            let pid = try await pool.query("SELECT pg_backend_pid() AS pid")[0].int("pid")
            let task = Task {
                try await pool.withTransaction { connection in
                    _ = try await connection.query("INSERT INTO \(schema).t VALUES (1)")
                    _ = try await connection.query("SELECT pg_sleep(30)")
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            task.cancel()
            await #expect(throws: (any Error).self) { try await task.value }
            #expect(try await pool.query("SELECT count(*) AS n FROM \(schema).t")[0].int("n") == 0)
            #expect(try await pool.query("SELECT pg_backend_pid() AS pid")[0].int("pid") == pid)
        }
    }
}
