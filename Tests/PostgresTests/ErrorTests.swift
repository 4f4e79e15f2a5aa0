import Logging
import Postgres
import Testing

@Suite("Errors")
struct ErrorTests {
    @Test("unique violations carry SQLSTATE 23505, message and detail")
    func uniqueViolation() async throws {
        try await TestDatabase.withPool(poolSize: 1) { pool, schema in
            try await pool.execute("CREATE TABLE \(schema).u (email text UNIQUE)")
            _ = try await pool.query("INSERT INTO \(schema).u VALUES ($1)", ["a@example.com"])
            let error = try await #require(throws: PostgresError.self) {
                _ = try await pool.query("INSERT INTO \(schema).u VALUES ($1)", ["a@example.com"])
            }
            #expect(error.sqlState == "23505")
            #expect(error.code == .uniqueViolation)
            #expect(error.isUniqueViolation)
            #expect(!error.isConnectionFailure)
            #expect(error.message.contains("duplicate key"))
            #expect(error.detail?.contains("a@example.com") == true)
            #expect(error.query?.contains("INSERT INTO") == true)
            #expect(error.description.contains("23505"))
        }
    }

    @Test("syntax errors carry their SQLSTATE")
    func syntaxError() async throws {
        try await TestDatabase.withPool(poolSize: 1) { pool, _ in
            let error = try await #require(throws: PostgresError.self) { _ = try await pool.query("SELEC 1") }
            #expect(error.sqlState == "42601")
            #expect(!error.isConnectionFailure)
            let multi = try await #require(throws: PostgresError.self) {
                try await pool.execute("SELECT 1; SELECT * FROM no_such_table_anywhere; SELECT 2")
            }
            #expect(multi.sqlState == "42P01")
        }
    }

    @Test("passwords never appear in errors or the redacted URL")
    func passwordRedaction() async throws {
        let url = "postgres://conveyor:Sup3rS3cret%21@127.0.0.1:1/conveyor"
        let configuration = PostgresConfiguration(url: url, poolSize: 1, connectTimeout: 1)
        #expect(configuration.redactedURL == "postgres://conveyor:***@127.0.0.1:1/conveyor")
        #expect(!PostgresConfiguration(url: "host=x password='a b c' user=y").redactedURL.contains("a b c"))
        let pool = PostgresPool(configuration: configuration, logger: TestDatabase.logger)
        let error = try await #require(throws: PostgresError.self) { _ = try await pool.query("SELECT 1") }
        #expect(error.isConnectionFailure)
        #expect(!error.description.contains("Sup3rS3cret"))
        #expect(!"\(error)".contains("Sup3rS3cret"))
        await pool.close()

        // A password that makes libpq echo the URL back (invalid port) is scrubbed too.
        let bad = PostgresPool(
            configuration: PostgresConfiguration(url: "postgres://u:hunter2pw@127.0.0.1:hunter2pw/db"),
            logger: TestDatabase.logger)
        let parseError = try await #require(throws: PostgresError.self) { _ = try await bad.query("SELECT 1") }
        #expect(!parseError.description.contains("hunter2pw"))
        await bad.close()
    }

    @Test("cancelling the task cancels the running statement")
    func cancellation() async throws {
        try await TestDatabase.withPool(poolSize: 1) { pool, _ in
            let clock = ContinuousClock()
            let start = clock.now
            let task = Task { try await pool.query("SELECT pg_sleep(30)") }
            try await Task.sleep(for: .milliseconds(300))
            task.cancel()
            let error = await #expect(throws: PostgresError.self) { _ = try await task.value }
            #expect(error?.code == .queryCanceled)
            #expect(clock.now - start < .seconds(10))
            #expect(try await pool.query("SELECT 1 AS one")[0].int("one") == 1)
        }
    }
}
