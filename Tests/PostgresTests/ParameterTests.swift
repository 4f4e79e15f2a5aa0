import Foundation
import Postgres
import Testing

@Suite("Parameters and decoding")
struct ParameterTests {
    @Test("all bindable types round-trip, including NULL")
    func roundTrip() async throws {
        try await TestDatabase.withPool { pool, schema in
            try await pool.execute(
                """
                CREATE TABLE \(schema).values (
                    id serial PRIMARY KEY, t text, i integer, i32 integer, i64 bigint, b boolean, d float8,
                    ts timestamptz, u uuid, bytes bytea, doc jsonb
                )
                """)
            let uuid = UUID()
            let date = Date(timeIntervalSince1970: 1_700_000_000.123456)
            let bytes = Data((0...255).map { UInt8($0) })
            let inserted = try await pool.query(
                """
                INSERT INTO \(schema).values (t, i, i32, i64, b, d, ts, u, bytes, doc)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id
                """,
                [
                    "héllo 🌍 中文", 42, Int32(-7), Int64.max, true, 0.1, date, uuid, bytes,
                    PostgresJSON(#"{"a": "x", "n": [1, 2]}"#),
                ])
            #expect(inserted.affectedRows == 1)
            let id = try inserted[0].int("id")

            let row = try #require(
                try await pool.query("SELECT * FROM \(schema).values WHERE id = $1", [id]).first)
            #expect(try row.string("t") == "héllo 🌍 中文")
            #expect(try row.int("i") == 42)
            #expect(try row.int("i32") == -7)
            #expect(try row.int64("i64") == Int64.max)
            #expect(try row.bool("b") == true)
            #expect(try row.double("d") == 0.1)
            #expect(try row.date("ts") == date)
            #expect(try row.uuid("u") == uuid)
            #expect(try row.data("bytes") == bytes)
            let json = try await pool.query("SELECT doc->>'a' AS a, doc->'n'->>1 AS n FROM \(schema).values")
            #expect(json[0]["a"] == "x")
            #expect(json[0]["n"] == "2")

            let nulls: [(any PostgresBindable)?] = Array(repeating: nil, count: 10)
            let nullID = try await pool.query(
                """
                INSERT INTO \(schema).values (t, i, i32, i64, b, d, ts, u, bytes, doc)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id
                """, nulls)[0].int("id")
            let nullRow = try await pool.query("SELECT * FROM \(schema).values WHERE id = $1", [nullID])[0]
            for column in ["t", "i", "i32", "i64", "b", "d", "ts", "u", "bytes", "doc"] {
                #expect(nullRow[column] == nil)
                #expect(nullRow.isNull(column))
            }
            #expect(nullRow.stringIfPresent("t") == nil)
            #expect(nullRow.intIfPresent("i") == nil)
            #expect(nullRow.int64IfPresent("i64") == nil)
            #expect(nullRow.boolIfPresent("b") == nil)
            #expect(nullRow.doubleIfPresent("d") == nil)
            #expect(nullRow.dateIfPresent("ts") == nil)
            #expect(nullRow.uuidIfPresent("u") == nil)
            #expect(nullRow.dataIfPresent("bytes") == nil)
            #expect(row.intIfPresent("i") == 42)
            #expect(row.dataIfPresent("bytes") == bytes)
        }
    }

    @Test(
        "SQL metacharacters are data, never SQL",
        arguments: [
            "'; DROP TABLE x; --", "\"quoted\" \\ backslash \\x00", "$1 $2 ? %s", "line\nbreak\ttab", "", "   ",
            "O'Reilly", "🙂‍↔️ zero-width\u{200B}joiner",
        ])
    func metacharacters(_ text: String) async throws {
        try await TestDatabase.withPool(poolSize: 1) { pool, schema in
            try await pool.execute("CREATE TABLE \(schema).x (v text)")
            _ = try await pool.query("INSERT INTO \(schema).x (v) VALUES ($1)", [text])
            let rows = try await pool.query("SELECT v, length(v) AS n FROM \(schema).x WHERE v = $1", [text])
            #expect(rows.count == 1)
            #expect(try rows[0].string("v") == text)
            #expect(try rows[0].int("n") == text.unicodeScalars.count)
        }
    }

    @Test("NUL characters in text parameters are rejected")
    func nulRejected() async throws {
        try await TestDatabase.withPool(poolSize: 1) { pool, _ in
            let error = try await #require(throws: PostgresError.self) {
                _ = try await pool.query("SELECT $1::text", ["a\u{0}b"])
            }
            #expect(error.code == .invalidParameter)
            // The connection stays usable.
            #expect(try await pool.query("SELECT 1 AS one")[0].int("one") == 1)
        }
    }

    @Test("dates keep microsecond precision across eras")
    func datePrecision() async throws {
        try await TestDatabase.withPool(poolSize: 1) { pool, _ in
            let cases: [(Date, String)] = [
                (Date(timeIntervalSince1970: 1_700_000_000.123456), "2023-11-14 22:13:20.123456+00"),
                (Date(timeIntervalSince1970: 0), "1970-01-01 00:00:00+00"),
                (Date(timeIntervalSince1970: -1.000001), "1969-12-31 23:59:58.999999+00"),
                (Date(timeIntervalSince1970: -2_208_988_800.5), "1899-12-31 23:59:59.5+00"),
                (Date(timeIntervalSince1970: 4_102_444_800.000001), "2100-01-01 00:00:00.000001+00"),
            ]
            for (date, text) in cases {
                let row = try await pool.query("SELECT $1::timestamptz AS ts, $1::timestamptz::text AS t", [date])[0]
                #expect(try row.string("t") == text)
                let decoded = try row.date("ts")
                #expect(abs(decoded.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.000_000_5)
            }
            // Sub-microsecond input is rounded to the microsecond PostgreSQL stores.
            let rounded = try await pool.query(
                "SELECT $1::timestamptz::text AS t", [Date(timeIntervalSince1970: 1.0000004)])[0]
            #expect(rounded["t"] == "1970-01-01 00:00:01+00")
            // Other offsets, plain timestamps and dates parse too.
            let other = try await pool.query(
                """
                SELECT '2024-02-29 12:00:00+05:30'::timestamptz AS tz, '2024-02-29 06:30:00'::timestamp AS ts,
                       '2024-02-29'::date AS d, now() AS now
                """)[0]
            let expected = Date(timeIntervalSince1970: 1_709_188_200)
            #expect(try other.date("tz") == expected)
            #expect(try other.date("ts") == expected)
            #expect(try other.date("d") == Date(timeIntervalSince1970: 1_709_164_800))
            #expect(abs(try other.date("now").timeIntervalSinceNow) < 60)
        }
    }

    @Test("doubles, booleans and bytea edge cases")
    func edgeCases() async throws {
        try await TestDatabase.withPool(poolSize: 1) { pool, _ in
            for value in [0.0, -0.5, 1e-300, 1.7976931348623157e308, .infinity, -.infinity, 123456.789] {
                let decoded = try await pool.query("SELECT $1::float8 AS d", [value])[0].double("d")
                #expect(decoded == value)
            }
            let nan = try await pool.query("SELECT $1::float8 AS d", [Double.nan])[0].double("d")
            #expect(nan.isNaN)
            let bool = try await pool.query("SELECT $1::bool AS b", [false])[0].bool("b")
            #expect(bool == false)
            let empty = try await pool.query("SELECT $1::bytea AS b", [Data()])[0].data("b")
            #expect(empty == Data())
            let numeric = try await pool.query("SELECT $1::numeric * 2 AS n", ["1.25"])[0].double("n")
            #expect(numeric == 2.5)
        }
    }

    @Test("missing or unparseable columns throw errors naming the column")
    func decodingErrors() async throws {
        try await TestDatabase.withPool(poolSize: 1) { pool, _ in
            let row = try await pool.query("SELECT 'abc' AS word, NULL::int AS nothing")[0]
            let missing = try #require(throws: PostgresError.self) { try row.int("nope") }
            #expect(missing.code == .decodingFailure)
            #expect(missing.message.contains("nope"))
            let null = try #require(throws: PostgresError.self) { try row.string("nothing") }
            #expect(null.message.contains("nothing"))
            let invalid = try #require(throws: PostgresError.self) { try row.int("word") }
            #expect(invalid.message.contains("word"))
            #expect(row.intIfPresent("word") == nil)
            #expect(row["nope"] == nil)
        }
    }
}
