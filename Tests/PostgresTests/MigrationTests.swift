import Postgres
import Testing

@Suite("Migrations")
struct MigrationTests {
    static func migrations(_ schema: String) -> [PostgresMigration] {
        [
            PostgresMigration(
                version: 2, name: "seed",
                sql: "INSERT INTO \(schema).items (id, name) VALUES (1, 'first'); ALTER TABLE \(schema).items ADD COLUMN note text"),
            PostgresMigration(
                version: 1, name: "create items",
                sql: "CREATE TABLE \(schema).items (id int PRIMARY KEY, name text NOT NULL)"),
        ]
    }

    @Test("applying twice is a no-op")
    func idempotent() async throws {
        try await TestDatabase.withPool(poolSize: 2) { pool, schema in
            let table = "\(schema).schema_migrations"
            try await pool.migrate(Self.migrations(schema), table: table)
            try await pool.migrate(Self.migrations(schema), table: table)
            #expect(try await pool.query("SELECT count(*) AS n FROM \(schema).items")[0].int("n") == 1)
            let recorded = try await pool.query("SELECT version, name FROM \(table) ORDER BY version")
            #expect(recorded.map { $0["version"] } == ["1", "2"])
            #expect(recorded.map { $0["name"] } == ["create items", "seed"])
        }
    }

    @Test("concurrent migrations from several pools apply each version once")
    func concurrent() async throws {
        try await TestDatabase.withPool(poolSize: 2) { pool, schema in
            let table = "\(schema).schema_migrations"
            let migrations = Self.migrations(schema)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        let other = TestDatabase.makePool(poolSize: 1)
                        do {
                            try await other.migrate(migrations, table: table)
                        } catch {
                            await other.close()
                            throw error
                        }
                        await other.close()
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await pool.query("SELECT count(*) AS n FROM \(schema).items")[0].int("n") == 1)
            #expect(try await pool.query("SELECT count(*) AS n FROM \(table)")[0].int("n") == 2)
        }
    }

    @Test("a failing migration is rolled back and not recorded; earlier ones stay")
    func failing() async throws {
        try await TestDatabase.withPool(poolSize: 1) { pool, schema in
            let table = "\(schema).schema_migrations"
            let broken = PostgresMigration(
                version: 3, name: "broken", sql: "CREATE TABLE \(schema).partial (x int); SELECT no_such_column")
            let error = try await #require(throws: PostgresError.self) {
                try await pool.migrate(Self.migrations(schema) + [broken], table: table)
            }
            #expect(error.sqlState == "42703")
            #expect(try await pool.query("SELECT max(version) AS v FROM \(table)")[0].int("v") == 2)
            #expect(try await pool.query("SELECT to_regclass($1) AS r", ["\(schema).partial"])[0]["r"] == nil)

            await #expect(throws: PostgresError.self) {
                try await pool.migrate(
                    [PostgresMigration(version: 7, name: "a", sql: ""), PostgresMigration(version: 7, name: "b", sql: "")],
                    table: table)
            }
        }
    }
}
