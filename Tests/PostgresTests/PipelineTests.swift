import Postgres
import Testing

@Suite("Pipelines")
struct PipelineTests {
    struct Boom: Error {}

    @Test("statements of a pipeline run in order and each returns its rows")
    func rowsInOrder() async throws {
        try await TestDatabase.withPool(poolSize: 1) { pool, schema in
            try await pool.execute("CREATE TABLE \(schema).t (v int)")
            let results = try await pool.withConnection { connection in
                try await connection.pipeline([
                    try PostgresStatement("INSERT INTO \(schema).t SELECT unnest($1::int[])", ["{1,2,3}"]),
                    try PostgresStatement("SELECT v FROM \(schema).t ORDER BY v", reusable: false),
                    try PostgresStatement("SELECT $1::text AS word, $2::int AS n", ["hello", nil]),
                ])
            }
            #expect(results.count == 3)
            #expect(results[0].affectedRows == 3)
            #expect(try results[1].map { try $0.int("v") } == [1, 2, 3])
            #expect(try results[2][0].string("word") == "hello")
            #expect(results[2][0].isNull("n"))
        }
    }

    @Test("without BEGIN a pipeline is one implicit transaction: a failure undoes the statements before it")
    func implicitTransaction() async throws {
        try await TestDatabase.withPool(poolSize: 1) { pool, schema in
            try await pool.execute("CREATE TABLE \(schema).t (v int)")
            let error = await #expect(throws: PostgresError.self) {
                try await pool.withConnection { connection in
                    try await connection.pipeline([
                        try PostgresStatement("INSERT INTO \(schema).t VALUES (1)"),
                        try PostgresStatement("SELECT 1/0"),
                        try PostgresStatement("INSERT INTO \(schema).t VALUES (2)"),
                    ])
                }
            }
            #expect(error?.sqlState == "22012")
            #expect(error?.query == "SELECT 1/0")
            #expect(try await pool.query("SELECT count(*) AS n FROM \(schema).t")[0].int("n") == 0)
            // The session is usable again, its prepared statements too.
            let again = try await pool.withConnection { connection in
                try await connection.pipeline([try PostgresStatement("INSERT INTO \(schema).t VALUES (1)")])
            }
            #expect(again[0].affectedRows == 1)
        }
    }

    @Test("reusable statements are prepared once per session and then run by name")
    func preparedOnce() async throws {
        try await TestDatabase.withPool(poolSize: 1) { pool, _ in
            let sql = "SELECT $1::int + 1 AS n"
            for value in 1...3 {
                let rows = try await pool.withConnection { try await $0.pipeline([try PostgresStatement(sql, [value])]) }
                #expect(try rows[0][0].int("n") == value + 1)
            }
            let prepared = try await pool.query("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement = $1", [sql])
            #expect(try prepared[0].int("n") == 1)
        }
    }

    @Test("a pipelined transaction: BEGIN with the reads, COMMIT with the writes; a throw rolls back")
    func pipelinedTransaction() async throws {
        try await TestDatabase.withPool(poolSize: 1) { pool, schema in
            try await pool.execute("CREATE TABLE \(schema).t (v int PRIMARY KEY)")
            try await pool.execute("INSERT INTO \(schema).t VALUES (1)")
            let next = try await pool.withPipelinedTransaction { transaction in
                let read = try await transaction.pipeline([try PostgresStatement("SELECT v FROM \(schema).t ORDER BY v DESC LIMIT 1 FOR UPDATE", reusable: false)])
                let value = try read[0][0].int("v") + 1
                _ = try await transaction.commit([try PostgresStatement("INSERT INTO \(schema).t VALUES ($1)", [value])])
                return value
            }
            #expect(next == 2)
            await #expect(throws: Boom.self) {
                try await pool.withPipelinedTransaction { transaction in
                    _ = try await transaction.pipeline([try PostgresStatement("INSERT INTO \(schema).t VALUES (3)")])
                    throw Boom()
                }
            }
            await #expect(throws: PostgresError.self) {
                try await pool.withPipelinedTransaction { transaction in
                    _ = try await transaction.pipeline([try PostgresStatement("INSERT INTO \(schema).t VALUES (4)")])
                    _ = try await transaction.commit([try PostgresStatement("INSERT INTO \(schema).t VALUES (1)")])
                }
            }
            #expect(try await pool.query("SELECT array_agg(v ORDER BY v)::text AS v FROM \(schema).t")[0].string("v") == "{1,2}")
            // Nothing is left open on the connection.
            #expect(try await pool.query("SELECT 1 AS one")[0].int("one") == 1)
        }
    }

    @Test("a NUL character in a parameter is refused before anything is sent")
    func nulRefused() async throws {
        let error = #expect(throws: PostgresError.self) { try PostgresStatement("SELECT $1", ["a\u{0}b"]) }
        #expect(error?.code == .invalidParameter)
    }
}
