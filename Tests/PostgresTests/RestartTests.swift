import Foundation
import Postgres
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Restarts the server with `pg_ctl restart` and checks that the pool recovers. Needs the data directory in
/// `CONVEYOR_TEST_PG_DATADIR` (and `pg_ctl` in `CONVEYOR_TEST_PG_CTL`, `/usr/lib/postgresql/*/bin` or PATH).
@Suite("Server restart")
struct RestartTests {
    static let dataDirectory = ProcessInfo.processInfo.environment["CONVEYOR_TEST_PG_DATADIR"]

    @Test(
        "the pool replaces broken connections after pg_ctl restart",
        .enabled(
            if: dataDirectory != nil,
            "set CONVEYOR_TEST_PG_DATADIR to the server's data directory to run the restart test"))
    func recoversAfterRestart() async throws {
        let dataDirectory = try #require(Self.dataDirectory)
        try await TestDatabase.withPool(poolSize: 2, exclusive: true) { pool, _ in
            // Open both connections so that idle ones go stale across the restart.
            let before = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await pool.query("SELECT pg_backend_pid() AS pid, pg_sleep(0.1)::text AS s")[0].int("pid")
                    }
                }
                return try await group.reduce(into: Set<Int>()) { $0.insert($1) }
            }

            // A connection leased across the restart fails with a connection error and is replaced.
            let leasedError = try await pool.withConnection { connection -> PostgresError? in
                try Self.restart(dataDirectory: dataDirectory)
                do {
                    _ = try await connection.query("SELECT 1")
                    return nil
                } catch let error as PostgresError {
                    return error
                }
            }
            let error = try #require(leasedError)
            #expect(error.isConnectionFailure, "\(error)")

            // Idle connections are checked before reuse, so the next queries just work.
            let after = try await pool.query("SELECT pg_backend_pid() AS pid")[0].int("pid")
            #expect(!before.contains(after))
            let rows = try await withThrowingTaskGroup(of: Int.self) { group in
                for n in 0..<6 {
                    group.addTask { try await pool.query("SELECT $1::int AS n", [n])[0].int("n") }
                }
                return try await group.reduce(into: 0) { $0 += $1 }
            }
            #expect(rows == 15)

            // And once more, restarting while everything is idle.
            try Self.restart(dataDirectory: dataDirectory)
            #expect(try await pool.query("SELECT 2 AS two")[0].int("two") == 2)
        }
    }

    static func restart(dataDirectory: String) throws {
        let environment = ProcessInfo.processInfo.environment
        var pgCtl = environment["CONVEYOR_TEST_PG_CTL"]
        if pgCtl == nil {
            let base = "/usr/lib/postgresql"
            let versions = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
            pgCtl = versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "\(base)/\($0)/bin/pg_ctl" }
                .first { FileManager.default.isExecutableFile(atPath: $0) }
        }
        let logFile = environment["CONVEYOR_TEST_PG_LOG"] ?? "\(dataDirectory)/restart.log"
        var arguments = [pgCtl ?? "pg_ctl", "-D", dataDirectory, "-l", logFile, "-m", "fast", "-w", "restart"]
        // initdb/pg_ctl refuse to run as root: run as the data directory's owner (postgres).
        if getuid() == 0 { arguments = ["runuser", "-u", "postgres", "--"] + arguments }
        // Foundation's Process.waitUntilExit can miss SIGCHLD inside the test runner: spawn and wait directly.
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 2, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, argv[0]!, &fileActions, nil, argv, environ)
        guard spawned == 0 else {
            throw PostgresError(code: .connectionFailure, message: "could not run pg_ctl: errno \(spawned)")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        guard status == 0 else {
            throw PostgresError(code: .connectionFailure, message: "pg_ctl restart failed with wait status \(status)")
        }
    }
}
