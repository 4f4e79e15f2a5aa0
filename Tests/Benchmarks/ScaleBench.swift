import ConveyorModels
import Foundation
import Logging
import Postgres

/// Whether a big history slows the job path: submit latency and job-list paging measured on the
/// database as it is (empty, when `make bench-scale` made it), then again after `count` finished
/// jobs are added in the store's own format (each a copy of a finished job the probe ran: its row,
/// history, JOB and log FILE objects with their tags and attributes, and its log), older than
/// every job the probes submit.
enum ScaleBench {
    struct Probe {
        var submitP50: Double
        var submitP99: Double
        var pageP50: Double
        var pageP99: Double
        var template: UUID
    }

    static func run(
        seeding count: Int, postgresURL: String, http: GatewayClient, submit: @escaping @Sendable () async throws -> (UUID, Double),
        waitUntilEnded: @escaping @Sendable (UUID) async -> Void
    ) async throws -> [(String, String)] {
        var logger = Logger(label: "scale-bench")
        logger.logLevel = .warning
        let pool = PostgresPool(configuration: PostgresConfiguration(url: postgresURL, poolSize: 1), logger: logger)
        defer { Task { await pool.close() } }
        let before = try await pool.query("SELECT count(*) AS n FROM jobs")[0].int("n")
        let empty = try await probe("\(before) jobs in the database", http: http, submit: submit, waitUntilEnded: waitUntilEnded)

        print("scale: adding \(count) finished jobs in the store's format (copies of job \(empty.template.uuidString.lowercased()))")
        let started = ContinuousClock.now
        try await seed(count, template: empty.template, pool: pool)
        // As a database that has held them for a while: vacuumed, so autovacuum does not run during the probe.
        try await pool.execute("VACUUM (ANALYZE) jobs, job_updates, objects, object_tags, tag_attrs, job_log_chunks")
        print(String(format: "scale: added in %.0f s", seconds(ContinuousClock.now - started)))

        let after = try await pool.query("SELECT count(*) AS n FROM jobs")[0].int("n")
        let full = try await probe("\(after) jobs in the database", http: http, submit: submit, waitUntilEnded: waitUntilEnded)
        let ratios = [
            ("scale_submit_p50_ratio", full.submitP50 / empty.submitP50), ("scale_submit_p99_ratio", full.submitP99 / empty.submitP99),
            ("scale_page_p50_ratio", full.pageP50 / empty.pageP50), ("scale_page_p99_ratio", full.pageP99 / empty.pageP99),
        ]
        print("scale: with \(count) more finished jobs / before: " + ratios.map { String(format: "%@ %.2f", $0.0, $0.1) }.joined(separator: ", "))
        return ratios.map { ($0.0, String(format: "%.2f", $0.1)) }
    }

    /// 300 submissions one after another (the time until the 201), then, once they ended, the
    /// newest SUCCEEDED jobs page by page (10 pages of 25, 40 times).
    static func probe(
        _ label: String, http: GatewayClient, submit: @Sendable () async throws -> (UUID, Double),
        waitUntilEnded: @Sendable (UUID) async -> Void
    ) async throws -> Probe {
        var submits: [Double] = []
        var ids: [UUID] = []
        for _ in 0..<300 {
            let (id, elapsed) = try await submit()
            ids.append(id)
            submits.append(elapsed)
        }
        for id in ids { await waitUntilEnded(id) }
        var pages: [Double] = []
        for _ in 0..<40 {
            var cursor: String? = nil
            for _ in 0..<10 {
                let query = "/api/v1/jobs?status=SUCCEEDED&limit=25" + (cursor.map { "&cursor=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? "")
                let started = ContinuousClock.now
                let (status, body) = try await http.send(.GET, query)
                pages.append(seconds(ContinuousClock.now - started))
                guard status == 200 else { fatalError("listing jobs failed: \(String(decoding: body, as: UTF8.self))") }
                cursor = try ConveyorJSON.decode(JobPage.self, from: body).nextCursor
                guard cursor != nil else { break }
            }
        }
        let (s, p) = (submits.sorted(), pages.sorted())
        let result = Probe(
            submitP50: percentile(s, 50) * 1000, submitP99: percentile(s, 99) * 1000, pageP50: percentile(p, 50) * 1000,
            pageP99: percentile(p, 99) * 1000, template: ids[0])
        print(
            String(
                format: "scale, %@: submit → 201 p50 %.2f ms, p99 %.2f ms; a page of 25 SUCCEEDED jobs p50 %.2f ms, p99 %.2f ms",
                label, result.submitP50, result.submitP99, result.pageP50, result.pageP99))
        return result
    }

    /// Adds `count` copies of the finished job `template`, 100,000 per transaction: new ids (the
    /// log FILE's id in the result, the job's id in the log's name and attributes replaced), every
    /// time 10 ms further back per copy.
    static func seed(_ count: Int, template: UUID, pool: PostgresPool) async throws {
        let chunk = 100_000
        let templateText = template.uuidString.lowercased()
        for low in stride(from: 1, through: count, by: chunk) {
            let high = min(count, low + chunk - 1)
            try await pool.withTransaction { connection in
                let copies = """
                    copies AS (
                        SELECT md5('conveyor-scale-job-' || i)::uuid AS job_id, md5('conveyor-scale-log-' || i)::uuid AS log_id,
                               make_interval(secs => 3600 + i * 0.01) AS back
                        FROM generate_series($2::int, $3::int) i
                    ),
                    log AS (SELECT object_id FROM objects WHERE job_id = $1::uuid AND object_type = 'FILE')
                    """
                let jobText = "c.job_id::text"
                _ = try await connection.query(
                    """
                    WITH \(copies)
                    INSERT INTO jobs (job_id, job_type, owner, priority, definition, status, status_message, attempt, worker_id,
                                      submitted_at, started_at, finished_at, result, labels)
                    SELECT c.job_id, j.job_type, j.owner, j.priority, j.definition, j.status, j.status_message, j.attempt, j.worker_id,
                           j.submitted_at - c.back, j.started_at - c.back, j.finished_at - c.back,
                           replace(j.result::text, upper(log.object_id::text), upper(c.log_id::text))::jsonb, j.labels
                    FROM copies c, jobs j, log WHERE j.job_id = $1::uuid
                    """, [template, low, high])
                _ = try await connection.query(
                    """
                    WITH \(copies)
                    INSERT INTO job_updates (job_id, seq, status, message, at)
                    SELECT c.job_id, u.seq, u.status, u.message, u.at - c.back FROM copies c, job_updates u WHERE u.job_id = $1::uuid
                    """, [template, low, high])
                _ = try await connection.query(
                    """
                    WITH \(copies)
                    INSERT INTO job_log_chunks (job_id, attempt, byte_offset, data)
                    SELECT c.job_id, l.attempt, l.byte_offset, l.data FROM copies c, job_log_chunks l WHERE l.job_id = $1::uuid
                    """, [template, low, high])
                _ = try await connection.query(
                    """
                    WITH \(copies)
                    INSERT INTO objects (object_id, object_version, object_type, definition, storage_path, job_id, created_at)
                    SELECT CASE o.object_type WHEN 'JOB' THEN c.job_id ELSE c.log_id END, o.object_version, o.object_type,
                           replace(o.definition::text, $4, \(jobText))::jsonb, replace(o.storage_path, $4, \(jobText)), c.job_id,
                           o.created_at - c.back
                    FROM copies c, objects o WHERE o.job_id = $1::uuid
                    """, [template, low, high, templateText])
                _ = try await connection.query(
                    """
                    WITH \(copies),
                    tags AS (
                        INSERT INTO object_tags (object_id, object_version, tag_version, object_type, attributes, created_at, search_from)
                        SELECT CASE t.object_type WHEN 'JOB' THEN c.job_id ELSE c.log_id END, t.object_version, t.tag_version,
                               t.object_type, replace(t.attributes::text, $4, \(jobText))::jsonb, t.created_at - c.back,
                               t.search_from - c.back
                        FROM copies c, object_tags t JOIN objects o USING (object_id, object_version) WHERE o.job_id = $1::uuid
                        RETURNING tag_key, object_type, attributes
                    )
                    INSERT INTO tag_attrs (tag_key, attr_name, v_text, v_num, v_bool, v_time)
                    SELECT n.tag_key, a.attr_name, CASE WHEN a.v_text IS NOT NULL THEN n.attributes->a.attr_name->>'value' END,
                           a.v_num, a.v_bool, a.v_time
                    FROM tags n
                    JOIN object_tags t ON t.object_type = n.object_type
                    JOIN objects o ON o.object_id = t.object_id AND o.object_version = t.object_version AND o.job_id = $1::uuid
                    JOIN tag_attrs a ON a.tag_key = t.tag_key
                    """, [template, low, high, templateText])
            }
            print("scale: \(high) of \(count) added")
        }
    }
}
