import ConveyorModels
import Foundation
import Logging
import Postgres


/// Search over many objects: seeds `count` DATA objects (once; later runs reuse them) straight into
/// the metadata tables in the store's own format, checks through the API that they read back and
/// that a search finds exactly the expected objects, then times searches through the HTTP API.
///
/// Each object `i` has attributes `bench_set` (the set's name), `dataset` ("ds-<i mod 1000>"),
/// `region` (one of 5), `size` (i), `day` (a DATE), `tags` (["team-<i mod 20>"]).
enum SearchBench {
    /// Returns the RESULT pairs: the highest p99 over the query shapes.
    static func run(objects count: Int, postgresURL: String, http: GatewayClient) async throws -> [(String, String)] {
        let set = "bench-\(count)"
        var logger = Logger(label: "search-bench")
        logger.logLevel = .warning
        let pool = PostgresPool(configuration: PostgresConfiguration(url: postgresURL, poolSize: 1), logger: logger)
        defer { Task { await pool.close() } }
        let seeded = try await pool.query(
            "SELECT count(*) AS n FROM tag_attrs WHERE attr_name = 'bench_set' AND v_text = $1", [set])[0].int("n")
        if seeded < count {
            print("seeding \(count) DATA objects for the search benchmark (once)")
            let started = ContinuousClock.now
            try await pool.withTransaction { connection in
                _ = try await connection.query(
                    """
                    INSERT INTO objects (object_id, object_version, object_type, definition, created_at)
                    SELECT md5($1 || i)::uuid, 1, 'DATA', '{"objectType":"DATA","data":{"format":"text/csv"}}', now()
                    FROM generate_series(1, $2::int) i
                    """, [set, count])
                _ = try await connection.query(
                    """
                    INSERT INTO object_tags (object_id, object_version, tag_version, object_type, attributes, created_at, search_from)
                    SELECT md5($1 || i)::uuid, 1, 1, 'DATA', jsonb_build_object(
                        'bench_set', jsonb_build_object('type', 'STRING', 'value', $1::text),
                        'dataset', jsonb_build_object('type', 'STRING', 'value', 'ds-' || (i % 1000)),
                        'region', jsonb_build_object('type', 'STRING', 'value', (ARRAY['EU','US','APAC','LATAM','MEA'])[i % 5 + 1]),
                        'size', jsonb_build_object('type', 'INTEGER', 'value', i),
                        'day', jsonb_build_object('type', 'DATE', 'value', to_char(date '2026-01-01' + (i % 365), 'YYYY-MM-DD')),
                        'tags', jsonb_build_object('type', 'ARRAY', 'value',
                            jsonb_build_array(jsonb_build_object('type', 'STRING', 'value', 'team-' || (i % 20))))),
                        now(), now()
                    FROM generate_series(1, $2::int) i
                    """, [set, count])
                _ = try await connection.query(
                    """
                    INSERT INTO tag_attrs (tag_key, attr_name, v_text, v_num, v_time)
                    SELECT t.tag_key, a.name, a.t, a.n, a.tm
                    FROM object_tags t CROSS JOIN LATERAL (VALUES
                        ('bench_set', t.attributes->'bench_set'->>'value', NULL::numeric, NULL::timestamptz),
                        ('dataset', t.attributes->'dataset'->>'value', NULL, NULL),
                        ('region', t.attributes->'region'->>'value', NULL, NULL),
                        ('size', NULL, (t.attributes->'size'->>'value')::numeric, NULL),
                        ('day', NULL, NULL, ((t.attributes->'day'->>'value') || 'T00:00:00Z')::timestamptz),
                        ('tags', t.attributes->'tags'->'value'->0->>'value', NULL, NULL)) AS a(name, t, n, tm)
                    WHERE t.object_type = 'DATA' AND t.attributes->'bench_set'->>'value' = $1
                    """, [set])
            }
            try await pool.execute("ANALYZE objects, object_tags, tag_attrs")
            print(String(format: "seeded in %.1f s", seconds(ContinuousClock.now - started)))
        }
        let total = try await pool.query("SELECT count(*) AS n FROM object_tags WHERE search_to IS NULL")[0].int("n")

        // The seeded rows read back through the API exactly like objects the store wrote.
        let sample = try await pool.query("SELECT md5($1 || 42)::uuid AS id", [set])[0].uuid("id")
        let (_, data) = try await http.send(.GET, "/api/v1/objects/\(sample)")
        let record = try ConveyorJSON.decode(ObjectRecord.self, from: data)
        guard record.attributes["size"] == .integer(42), record.attributes["tags"] == .array([.string("team-2")]) else {
            fatalError("a seeded object does not read back as expected: \(record.attributes)")
        }

        func term(_ name: String, _ op: SearchOperator, _ value: Value? = nil) -> SearchExpression {
            .term(SearchTerm(attrName: name, operator: op, value: value))
        }
        let inSet = term("bench_set", .eq, .string(set))
        let queries: [(String, SearchExpression, Date?, Int?)] = [
            ("EQ dataset (100 of \(count))", .and([inSet, term("dataset", .eq, .string("ds-42"))]), nil, count / 1000),
            ("range GE/LT on size (100)", .and([term("size", .ge, .integer(50_000)), term("size", .lt, .integer(50_100)), inSet]), nil, 100),
            ("date LE and IN region", .and([term("day", .le, .date("2026-01-03")), term("region", .in, .array([.string("EU"), .string("US")])), inSet]), nil, nil),
            ("OR of two EQ terms", .or([term("dataset", .eq, .string("ds-7")), term("dataset", .eq, .string("ds-8"))]), nil, nil),
            ("NOT with EXISTS", .and([term("dataset", .eq, .string("ds-9")), .not(term("size", .lt, .integer(50_000))), term("tags", .exists), inSet]), nil, 50),
            ("EQ dataset, as of now", .and([inSet, term("dataset", .eq, .string("ds-43"))]), Date(), nil),
            ("NE region (a large result, first page)", .and([inSet, term("region", .ne, .string("EU"))]), nil, nil),
        ]
        func search(_ expression: SearchExpression, asOf: Date?, limit: Int) async throws -> (ObjectPage, Double) {
            let json = try ConveyorJSON.encode(SearchObjects(objectType: .data, search: expression, asOf: asOf, limit: limit))
            let started = ContinuousClock.now
            let (status, body) = try await http.send(.POST, "/api/v1/search", json: json)
            let elapsed = seconds(ContinuousClock.now - started)
            guard status == 200 else {
                fatalError("search failed: \(String(decoding: body, as: UTF8.self))")
            }
            return (try ConveyorJSON.decode(ObjectPage.self, from: body), elapsed)
        }
        print("search over \(total) current objects (\(count) in the benchmark set) through the HTTP API, pages of 50, \(runs) runs each:")
        var worst = (p99: 0.0, label: "")
        for (label, expression, asOf, expected) in queries {
            let (all, _) = try await search(expression, asOf: asOf, limit: 500)
            if let expected, all.objects.count != expected { fatalError("\(label): \(all.objects.count) matches, expected \(expected)") }
            var latencies: [Double] = []
            for _ in 0..<runs { latencies.append(try await search(expression, asOf: asOf, limit: 50).1) }
            let sorted = latencies.sorted()
            let found = all.nextCursor == nil ? String(all.objects.count) : "500+"
            print("  " + label.padding(toLength: 42, withPad: " ", startingAt: 0) + found.padding(toLength: 5, withPad: " ", startingAt: 0)
                + String(format: " matches  p50 %6.1f ms  p95 %6.1f ms  p99 %6.1f ms", percentile(sorted, 50) * 1000,
                    percentile(sorted, 95) * 1000, percentile(sorted, 99) * 1000))
            if percentile(sorted, 99) * 1000 > worst.p99 { worst = (percentile(sorted, 99) * 1000, label) }
        }
        print(String(format: "search: the highest p99 is %.1f ms (%@)", worst.p99, worst.label))
        return [("search_p99_max_ms", String(format: "%.1f", worst.p99))]
    }

    /// Searches timed per query shape (enough for a p99 that is not just the slowest run).
    static let runs = 200
}
