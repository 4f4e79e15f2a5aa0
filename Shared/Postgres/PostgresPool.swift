import Foundation
import Metrics
import Logging
import ServiceLifecycle
import Synchronization

/// A bounded pool of ``PostgresConnection``s and a swift-service-lifecycle `Service`.
///
/// - At most `configuration.poolSize` connections exist; they are opened lazily on first lease.
/// - When all are leased, callers wait (suspended, FIFO, cancellable) until one is released.
/// - Before an idle connection is reused it is checked without blocking; a connection that broke (e.g. the
///   server restarted) is discarded and replaced, so the pool recovers by itself. A failed statement is not
///   retried: the caller gets the error (``PostgresError/isConnectionFailure``) and decides.
/// - A connection released inside an open transaction is closed rather than reused.
///
/// Add the pool to a `ServiceGroup` *before* the services that use it: the group shuts services down in
/// reverse order, so the pool is closed last. ``run()`` returns after graceful shutdown or cancellation and
/// closes all connections; the pool serves queries whether or not `run()` is running.
public final class PostgresPool: Service, Sendable {
    /// The configuration the pool was created with.
    public let configuration: PostgresConfiguration
    private let logger: Logger
    private let state = Mutex(State())

    private struct State: ~Copyable {
        var idle: [PostgresConnection] = []
        /// Connections that exist or are being opened (leased + idle + connecting).
        var slotsInUse = 0
        var waiters: [(id: Int, continuation: CheckedContinuation<Lease, any Error>)] = []
        var nextWaiterID = 0
        var isClosed = false
    }

    /// What a lease gets: an idle connection, or the right to open a new one.
    private enum Lease: Sendable {
        case connection(PostgresConnection)
        case openSlot
    }

    /// Creates a pool; no connection is opened until the first lease.
    public init(configuration: PostgresConfiguration, logger: Logger) {
        var configuration = configuration
        configuration.poolSize = max(1, configuration.poolSize)
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "postgres.url"] = "\(configuration.redactedURL)"
        self.logger = logger
    }

    /// Runs until graceful shutdown or task cancellation, then closes all connections.
    /// A pool nobody closed (a test's, a tool's) closes its idle connections as it goes: leased ones
    /// hold the pool, so none is in use here.
    deinit {
        state.withLock { state in
            for connection in state.idle { connection.closeNow() }
            state.idle = []
        }
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// Leases a connection for the duration of `body` and returns it to the pool afterwards.
    ///
    /// Do not let the connection escape `body`. If `body` leaves a transaction open, the connection is closed.
    public func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await lease()
        let result: T
        do {
            result = try await body(connection)
        } catch {
            await release(connection)
            throw error
        }
        await release(connection)
        return result
    }

    /// Runs `body` in a transaction: `BEGIN`, then `COMMIT` when `body` returns or `ROLLBACK` when it throws
    /// (the error is rethrown). A failing `COMMIT` (e.g. serialization failure) throws.
    public func withTransaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { connection in
            try await connection.execute("BEGIN")
            do {
                let result = try await body(connection)
                try await connection.execute("COMMIT")
                return result
            } catch {
                if connection.isHealthy, connection.isInTransaction {
                    do {
                        try await connection.execute("ROLLBACK", cancellable: false)
                    } catch let rollbackError {
                        logger.warning("ROLLBACK failed", metadata: ["error": "\(rollbackError)"])
                    }
                }
                throw error
            }
        }
    }

    /// Runs one parameterised statement on a leased connection.
    public func query(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) async throws -> PostgresRows {
        try await withConnection { try await $0.query(sql, parameters) }
    }

    /// Runs one or more statements without parameters on a leased connection.
    public func execute(_ sql: String) async throws {
        try await withConnection { try await $0.execute(sql) }
    }

    /// Applies the migrations not yet recorded in `table`, in ascending version order.
    ///
    /// Each migration runs in its own transaction that first takes `pg_advisory_xact_lock` (keyed by the
    /// table name), creates `table` if needed, skips the version when already recorded, runs the SQL and
    /// records `version`, `name` and `applied_at`. Concurrent callers (several instances starting at once)
    /// are therefore safe, and applying the same list twice is a no-op. `table` may be schema-qualified
    /// (`schema.table`); the schema must exist.
    /// - Throws: ``PostgresError`` from the failing migration (earlier ones stay applied), or
    ///   ``PostgresError/Code/invalidMigration`` for duplicate versions.
    public func migrate(_ migrations: [PostgresMigration], table: String = "schema_migrations") async throws {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.version == next.version {
            throw PostgresError(code: .invalidMigration, message: "duplicate migration version \(next.version)")
        }
        let quotedTable = table.split(separator: ".", omittingEmptySubsequences: false)
            .map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
            .joined(separator: ".")
        let lockKey = Self.advisoryLockKey("conveyor.migrations." + table)
        let createTable = """
            CREATE TABLE IF NOT EXISTS \(quotedTable) (
                version bigint PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        var applied = 0
        for migration in sorted {
            let didApply = try await withTransaction { connection in
                _ = try await connection.query("SELECT pg_advisory_xact_lock($1::bigint)", [lockKey])
                try await connection.execute(createTable)
                let existing = try await connection.query(
                    "SELECT 1 FROM \(quotedTable) WHERE version = $1", [migration.version])
                guard existing.isEmpty else { return false }
                try await connection.execute(migration.sql)
                _ = try await connection.query(
                    "INSERT INTO \(quotedTable) (version, name) VALUES ($1, $2)", [migration.version, migration.name])
                return true
            }
            if didApply {
                applied += 1
                logger.info(
                    "Applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            }
        }
        logger.debug("Migrations up to date", metadata: ["applied": "\(applied)", "total": "\(sorted.count)"])
    }

    /// Waits until a connection can be opened and `SELECT 1` succeeds, retrying connection failures with
    /// exponential backoff (100 ms doubling up to 2 s). Other errors (e.g. SQL errors) are thrown at once.
    /// - Throws: ``PostgresError/Code/timeout`` with the last failure's message, or `CancellationError`.
    public func waitUntilAvailable(timeout: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var delay = Duration.milliseconds(100)
        var attempt = 0
        while true {
            attempt += 1
            do {
                _ = try await query("SELECT 1")
                if attempt > 1 { logger.info("PostgreSQL is available", metadata: ["attempts": "\(attempt)"]) }
                return
            } catch let error as PostgresError where error.isConnectionFailure {
                let now = clock.now
                guard now < deadline else {
                    throw PostgresError(
                        code: .timeout,
                        message: "PostgreSQL not available after \(timeout) (\(attempt) attempts): \(error.message)")
                }
                logger.debug(
                    "PostgreSQL not available yet", metadata: ["attempt": "\(attempt)", "error": "\(error.message)"])
                try await Task.sleep(for: min(delay, deadline - now))
                delay = min(delay * 2, .seconds(2))
            }
        }
    }

    /// Closes the pool: idle connections are closed now, leased ones when released, and waiting or later
    /// callers fail with ``PostgresError/Code/poolClosed``. Safe to call more than once.
    public func close() async {
        let (idle, waiters) = state.withLock { state in
            state.isClosed = true
            let idle = state.idle
            let waiters = state.waiters
            state.idle = []
            state.waiters = []
            state.slotsInUse -= idle.count
            return (idle, waiters)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: Self.closedError) }
        for connection in idle { await connection.close() }
        if !idle.isEmpty { logger.debug("Closed PostgreSQL pool", metadata: ["connections": "\(idle.count)"]) }
    }

    // MARK: Leasing

    private static let closedError = PostgresError(code: .poolClosed, message: "the PostgreSQL pool is closed")

    private func lease() async throws -> PostgresConnection {
        let start = DispatchTime.now()
        defer { PostgresMetrics.poolWait.recordInterval(since: start) }
        var lease = try await acquire()
        while true {
            switch lease {
            case .connection(let connection):
                if await connection.checkIdleHealth() { return connection }
                logger.info("Discarding a broken idle PostgreSQL connection")
                await connection.close()
                // Keep the slot and open a replacement.
                lease = .openSlot
            case .openSlot:
                do {
                    let connection = try await PostgresConnection.connect(configuration: configuration, logger: logger)
                    logger.debug("Opened PostgreSQL connection")
                    return connection
                } catch {
                    releaseSlot()
                    throw error
                }
            }
        }
    }

    private func acquire() async throws -> Lease {
        enum Decision {
            case lease(Lease)
            case fail(any Error)
            case wait
        }
        func tryAcquire(_ state: inout State) -> Decision {
            if state.isClosed { return .fail(Self.closedError) }
            if let connection = state.idle.popLast() { return .lease(.connection(connection)) }
            if state.slotsInUse < configuration.poolSize {
                state.slotsInUse += 1
                return .lease(.openSlot)
            }
            return .wait
        }
        try Task.checkCancellation()
        if case .lease(let lease) = state.withLock({ tryAcquire(&$0) }) { return lease }

        let id = state.withLock { state in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                let decision = state.withLock { state -> Decision in
                    let decision = tryAcquire(&state)
                    guard case .wait = decision else { return decision }
                    // Checked under the lock: the cancellation handler takes the same lock, so either it
                    // finds this waiter or this check sees the cancellation.
                    if Task.isCancelled { return .fail(CancellationError()) }
                    state.waiters.append((id, continuation))
                    return .wait
                }
                switch decision {
                case .lease(let lease): continuation.resume(returning: lease)
                case .fail(let error): continuation.resume(throwing: error)
                case .wait: break
                }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Lease, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            continuation?.resume(throwing: CancellationError())
        }
    }

    /// Returns a connection: handed to the next waiter, kept idle, or closed when broken, still inside a
    /// transaction, or the pool is closed.
    private func release(_ connection: PostgresConnection) async {
        let reusable = connection.isHealthy && !connection.isInTransaction
        enum Outcome {
            case handedOver(CheckedContinuation<Lease, any Error>, Lease)
            case keptIdle
            case close(handOver: CheckedContinuation<Lease, any Error>?)
        }
        let outcome = state.withLock { state -> Outcome in
            if reusable, !state.isClosed {
                if !state.waiters.isEmpty {
                    return .handedOver(state.waiters.removeFirst().continuation, .connection(connection))
                }
                state.idle.append(connection)
                return .keptIdle
            }
            // The connection goes away; its slot goes to the next waiter, if any.
            if !state.isClosed, !state.waiters.isEmpty {
                return .close(handOver: state.waiters.removeFirst().continuation)
            }
            state.slotsInUse -= 1
            return .close(handOver: nil)
        }
        switch outcome {
        case .handedOver(let continuation, let lease):
            continuation.resume(returning: lease)
        case .keptIdle:
            break
        case .close(let waiter):
            if !connection.isHealthy {
                logger.info("Discarding a broken PostgreSQL connection")
            } else if connection.isInTransaction {
                logger.warning("Closing a PostgreSQL connection released inside a transaction")
            }
            waiter?.resume(returning: .openSlot)
            await connection.close()
        }
    }

    /// Gives back a slot whose connection could not be opened.
    private func releaseSlot() {
        let waiter = state.withLock { state -> CheckedContinuation<Lease, any Error>? in
            if !state.isClosed, !state.waiters.isEmpty { return state.waiters.removeFirst().continuation }
            state.slotsInUse -= 1
            return nil
        }
        waiter?.resume(returning: .openSlot)
    }

    /// A stable 64-bit FNV-1a hash, used as the advisory lock key.
    static func advisoryLockKey(_ text: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }
}
