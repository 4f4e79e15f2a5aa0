import ConveyorModels
import Foundation
import Logging
import Postgres
import TestSupport

/// The scheduler taking over a big backlog: `count` QUEUED jobs are added in the store's format
/// (copies of a queued job that no worker can take: it asks for a gpu, and none has one), the
/// scheduler is stopped, a small job is submitted, and the scheduler started again: the time from
/// its start to the small job's dispatch (it rebuilds its state page by page and dispatches after
/// the first page), and the scheduler's resident memory once it has read every page.
enum FailoverBench {
    static func run(
        queued count: Int, postgresURL: String, stateFolder: String, submit: @escaping @Sendable (String) async throws -> UUID,
        status: @escaping @Sendable (UUID) async throws -> String, model: String
    ) async throws -> [(String, String)] {
        var logger = Logger(label: "failover-bench")
        logger.logLevel = .warning
        let pool = PostgresPool(configuration: PostgresConfiguration(url: postgresURL, poolSize: 1), logger: logger)
        defer { Task { await pool.close() } }

        // A job that stays QUEUED (no worker has a gpu) is the template of the backlog.
        let template = try await submit(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"}},"resources":{"gpus":1},"owner":"backlog"}"#)
        while try await status(template) != "QUEUED" { try await Task.sleep(for: .milliseconds(50)) }
        print("failover: adding \(count) QUEUED jobs (copies of \(template.uuidString.lowercased()))")
        let started = ContinuousClock.now
        try await seed(count, template: template, pool: pool)
        try await pool.execute("VACUUM (ANALYZE) jobs, job_updates, objects, object_tags, tag_attrs")
        print(String(format: "failover: added in %.0f s", seconds(ContinuousClock.now - started)))

        guard await ScriptRunner.script("deploy/local/services.sh", ["stop", "scheduler"]) == 0 else { fatalError("could not stop the scheduler") }
        let probe = try await submit(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"}},"owner":"probe"}"#)
        let logStart = logSize()
        let restart = ContinuousClock.now
        guard await ScriptRunner.script("deploy/local/services.sh", ["start", "scheduler"]) == 0 else { fatalError("could not start the scheduler") }
        while !["SUBMITTED", "RUNNING", "SUCCEEDED"].contains(try await status(probe)) {
            try await Task.sleep(for: .milliseconds(20))
        }
        let firstDispatch = seconds(ContinuousClock.now - restart)

        // Its memory once every page is read (the log says how many pages it read).
        let pid = (try? String(contentsOfFile: stateFolder + "/scheduler.pid", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let deadline = ContinuousClock.now + .seconds(600)
        var resident = 0
        while ContinuousClock.now < deadline {
            resident = residentKB(pid: pid)
            if rebuilt(since: logStart) { break }
            try await Task.sleep(for: .seconds(1))
        }
        try await Task.sleep(for: .seconds(2))
        resident = max(resident, residentKB(pid: pid))
        let rebuild = seconds(ContinuousClock.now - restart)
        print(
            String(
                format: "failover: with %d jobs queued, the first dispatch %.2f s after the scheduler started; every page read within %.0f s; scheduler resident %.0f MB",
                count, firstDispatch, rebuild, Double(resident) / 1024))
        // The backlog goes again (the scheduler forgets it when restarted).
        try await remove(count, template: template, pool: pool)
        guard await ScriptRunner.script("deploy/local/services.sh", ["restart", "scheduler"]) == 0 else { fatalError("could not restart the scheduler") }
        return [("failover_first_dispatch_s", String(format: "%.2f", firstDispatch)), ("scheduler_rss_mb", String(format: "%.0f", Double(resident) / 1024))]
    }

    static let schedulerLog = ScriptRunner.repositoryRoot.appendingPathComponent(".conveyor/logs/scheduler.log").path

    static func logSize() -> UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: schedulerLog))?[.size] as? NSNumber)?.uint64Value ?? 0
    }

    /// Whether the scheduler started after `offset` in its log has read every page: it logs
    /// `queue rebuilt` with the pages when done.
    static func rebuilt(since offset: UInt64) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: schedulerLog) else { return false }
        defer { try? handle.close() }
        try? handle.seek(toOffset: offset)
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        return text.split(separator: "\n").contains { $0.contains("queue rebuilt") && $0.contains("pages=") }
    }

    static func residentKB(pid: String) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    /// Adds `count` copies of the queued job `template` (its row, history, JOB object with its tag and
    /// attributes; the owner one of 200), 100,000
    /// per transaction, each submitted 1 ms before the next.
    static func seed(_ count: Int, template: UUID, pool: PostgresPool) async throws {
        let chunk = 100_000
        for low in stride(from: 1, through: count, by: chunk) {
            let high = min(count, low + chunk - 1)
            try await pool.withTransaction { connection in
                let copies = """
                    copies AS (
                        SELECT md5($1::text || i)::uuid AS job_id, make_interval(secs => 7200 + i * 0.001) AS back
                        FROM generate_series($2::int, $3::int) i
                    )
                    """
                _ = try await connection.query(
                    """
                    WITH \(copies)
                    INSERT INTO jobs (job_id, job_type, owner, priority, definition, status, status_message, attempt, submitted_at, labels)
                    SELECT c.job_id, j.job_type, 'owner-' || (abs(hashtext(c.job_id::text)) % 200), j.priority, j.definition, j.status,
                           j.status_message, j.attempt, j.submitted_at - c.back, j.labels
                    FROM copies c, jobs j WHERE j.job_id = $1::uuid
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
                    INSERT INTO objects (object_id, object_version, object_type, definition, storage_path, job_id, created_at)
                    SELECT c.job_id, o.object_version, o.object_type, o.definition, o.storage_path, c.job_id, o.created_at - c.back
                    FROM copies c, objects o WHERE o.job_id = $1::uuid AND o.object_type = 'JOB'
                    """, [template, low, high])
                _ = try await connection.query(
                    """
                    WITH \(copies),
                    tags AS (
                        INSERT INTO object_tags (object_id, object_version, tag_version, object_type, attributes, created_at, search_from)
                        SELECT c.job_id, t.object_version, t.tag_version, t.object_type, t.attributes, t.created_at - c.back, t.search_from - c.back
                        FROM copies c, object_tags t WHERE t.object_id = $1::uuid
                        RETURNING tag_key
                    )
                    INSERT INTO tag_attrs (tag_key, attr_name, v_text, v_num, v_bool, v_time)
                    SELECT n.tag_key, a.attr_name, a.v_text, a.v_num, a.v_bool, a.v_time
                    FROM tags n, object_tags t JOIN tag_attrs a ON a.tag_key = t.tag_key WHERE t.object_id = $1::uuid
                    """, [template, low, high])
            }
            print("failover: \(high) of \(count) added")
        }
    }

    /// Deletes the copies `seed` added (and the template), so that a development database is left as it was.
    static func remove(_ count: Int, template: UUID, pool: PostgresPool) async throws {
        try await pool.withTransaction { connection in
            let ids = "SELECT md5($1::text || i)::uuid FROM generate_series(1, $2::int) i UNION ALL SELECT $1::uuid"
            _ = try await connection.query("DELETE FROM tag_attrs WHERE tag_key IN (SELECT tag_key FROM object_tags WHERE object_id IN (\(ids)))", [template, count])
            _ = try await connection.query("DELETE FROM object_tags WHERE object_id IN (\(ids))", [template, count])
            _ = try await connection.query("DELETE FROM objects WHERE job_id IN (\(ids))", [template, count])
            _ = try await connection.query("DELETE FROM job_updates WHERE job_id IN (\(ids))", [template, count])
            _ = try await connection.query("DELETE FROM jobs WHERE job_id IN (\(ids))", [template, count])
        }
    }
}
