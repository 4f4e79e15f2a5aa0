import Foundation
import Logging
import Postgres

/// Shared helpers for the integration tests: the server URL, per-test pools and schemas, and a gate that
/// lets the server-restart test run alone while all other tests run in parallel.
enum TestDatabase {
    /// `CONVEYOR_TEST_POSTGRES_URL`, default `postgres://conveyor@127.0.0.1:5433/conveyor`.
    static let url =
        ProcessInfo.processInfo.environment["CONVEYOR_TEST_POSTGRES_URL"]
        ?? "postgres://conveyor@127.0.0.1:5433/conveyor"

    static let logger: Logger = {
        var logger = Logger(label: "PostgresTests")
        logger.logLevel = .warning
        return logger
    }()

    static func makePool(poolSize: Int = 4) -> PostgresPool {
        PostgresPool(configuration: PostgresConfiguration(url: url, poolSize: poolSize), logger: logger)
    }

    /// A fresh, unique schema name (valid unquoted identifier).
    static func uniqueSchema() -> String {
        "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    /// Runs `body` while the server-restart test is not running.
    static func gated<T>(_ body: () async throws -> T) async throws -> T {
        await TestGate.shared.acquire(exclusive: false)
        do {
            let result = try await body()
            await TestGate.shared.release(exclusive: false)
            return result
        } catch {
            await TestGate.shared.release(exclusive: false)
            throw error
        }
    }

    /// Runs `body` with a new pool and a new schema (dropped afterwards). With `exclusive`, no other test
    /// using this helper runs at the same time.
    static func withPool<T>(
        poolSize: Int = 4, exclusive: Bool = false, _ body: (PostgresPool, String) async throws -> T
    ) async throws -> T {
        await TestGate.shared.acquire(exclusive: exclusive)
        let pool = makePool(poolSize: poolSize)
        let schema = uniqueSchema()
        do {
            try await pool.execute("CREATE SCHEMA \(schema)")
            let result = try await body(pool, schema)
            try await pool.execute("DROP SCHEMA \(schema) CASCADE")
            await pool.close()
            await TestGate.shared.release(exclusive: exclusive)
            return result
        } catch {
            try? await pool.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
            await pool.close()
            await TestGate.shared.release(exclusive: exclusive)
            throw error
        }
    }
}

/// A reader/writer gate: many shared holders or one exclusive holder; waiting writers block new readers.
actor TestGate {
    static let shared = TestGate()

    private var readers = 0
    private var writer = false
    private var writersWaiting = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func acquire(exclusive: Bool) async {
        if exclusive {
            writersWaiting += 1
            while writer || readers > 0 { await wait() }
            writersWaiting -= 1
            writer = true
        } else {
            while writer || writersWaiting > 0 { await wait() }
            readers += 1
        }
    }

    func release(exclusive: Bool) {
        if exclusive { writer = false } else { readers -= 1 }
        let resumed = waiting
        waiting = []
        resumed.forEach { $0.resume() }
    }

    private func wait() async {
        await withCheckedContinuation { waiting.append($0) }
    }
}
