import Foundation
import Postgres
import Testing

@Suite("Pool")
struct PoolTests {
    @Test("a pool of 2 serves 20 concurrent queries with at most 2 connections")
    func boundedConcurrency() async throws {
        try await TestDatabase.withPool(poolSize: 2) { pool, _ in
            let results = try await withThrowingTaskGroup(of: (Int, Int, Int).self) { group in
                for n in 0..<20 {
                    group.addTask {
                        let row = try await pool.query(
                            "SELECT $1::int AS n, pg_backend_pid() AS pid, pg_sleep(0.05)::text AS slept", [n])[0]
                        return (n, try row.int("n"), try row.int("pid"))
                    }
                }
                var results: [(Int, Int, Int)] = []
                for try await result in group { results.append(result) }
                return results
            }
            #expect(results.count == 20)
            #expect(results.allSatisfy { $0.0 == $0.1 })
            let pids = Set(results.map(\.2))
            #expect(pids.count <= 2)
        }
    }

    @Test("a waiting lease can be cancelled, and close fails waiters")
    func waiterCancellationAndClose() async throws {
        try await TestDatabase.gated {
            let pool = TestDatabase.makePool(poolSize: 1)
            let (holding, release) = AsyncStream.makeStream(of: Void.self)
            let (held, signalHeld) = AsyncStream.makeStream(of: Void.self)
            let holder = Task {
                try await pool.withConnection { _ in
                    signalHeld.yield()
                    for await _ in holding { break }
                }
            }
            for await _ in held { break }

            let waiter = Task { try await pool.query("SELECT 1") }
            try await Task.sleep(for: .milliseconds(100))
            waiter.cancel()
            await #expect(throws: CancellationError.self) { _ = try await waiter.value }

            let second = Task { try await pool.query("SELECT 1") }
            try await Task.sleep(for: .milliseconds(100))
            await pool.close()
            let error = await #expect(throws: PostgresError.self) { _ = try await second.value }
            #expect(error?.code == .poolClosed)

            release.yield()
            try await holder.value
            await #expect(throws: PostgresError.self) { _ = try await pool.query("SELECT 1") }
        }
    }

    @Test("waitUntilAvailable succeeds against a running server and times out against none")
    func waitUntilAvailable() async throws {
        try await TestDatabase.gated {
            let pool = TestDatabase.makePool(poolSize: 1)
            try await pool.waitUntilAvailable(timeout: .seconds(10))
            await pool.close()

            let nowhere = PostgresPool(
                configuration: PostgresConfiguration(url: "postgres://conveyor@127.0.0.1:1/conveyor", connectTimeout: 1),
                logger: TestDatabase.logger)
            let clock = ContinuousClock()
            let start = clock.now
            let error = await #expect(throws: PostgresError.self) {
                try await nowhere.waitUntilAvailable(timeout: .milliseconds(700))
            }
            #expect(error?.code == .timeout)
            #expect(clock.now - start < .seconds(5))
            await nowhere.close()
        }
    }

    @Test("run() returns and closes the pool when its task is cancelled")
    func runStopsOnCancel() async throws {
        try await TestDatabase.gated {
            let pool = TestDatabase.makePool(poolSize: 1)
            _ = try await pool.query("SELECT 1")
            let running = Task { try await pool.run() }
            try await Task.sleep(for: .milliseconds(100))
            running.cancel()
            try await running.value
            let error = await #expect(throws: PostgresError.self) { _ = try await pool.query("SELECT 1") }
            #expect(error?.code == .poolClosed)
        }
    }
}
