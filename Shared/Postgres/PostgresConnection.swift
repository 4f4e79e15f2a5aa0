import CLibPQ
import Dispatch
import Foundation
import Metrics
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One libpq connection (`PGconn`).
///
/// Every libpq call runs on the connection's own serial `DispatchQueue`, never on Swift's cooperative
/// thread pool, and is bridged to `async` with a continuation. Calls are executed one at a time in the
/// order they were issued. Cancelling the calling task sends a cancel request (`PQcancel`) to the server;
/// the statement then fails with SQLSTATE 57014 (or with `CancellationError` if it had not started).
///
/// Usually leased from a ``PostgresPool``; a connection opened with ``connect(configuration:logger:)`` must
/// be closed with ``close()`` before its last reference goes: one that is not is a leak of its owner
/// (an assertion in debug builds; a release build logs it and frees the handle).
public final class PostgresConnection: @unchecked Sendable {
    /// The libpq handle; only read or written on `queue` (and in `deinit`, when nothing else can run).
    private var handle: OpaquePointer?
    /// The cancel object for `PQcancel`, usable from any thread; freed by `close()`.
    private let cancelHandle: Mutex<CancelHandle>
    private let queue: DispatchQueue
    let secrets: PostgresSecrets
    let logger: Logger
    /// Cleared once `PQstatus` reports a broken connection or the connection is closed.
    private let healthy = Atomic<Bool>(true)
    /// Whether the last statement left the session outside an idle transaction state (open, failed or
    /// unknown transaction); such a connection must not be reused by someone else.
    private let inTransaction = Atomic<Bool>(false)
    /// Statements prepared on this session (SQL text → statement name); only touched on `queue`.
    var preparedStatements: [String: String] = [:]

    /// The connection's socket, for the idle check (`PQsocket` at connect time).
    private let socket: Int32

    private init(handle: OpaquePointer, queue: DispatchQueue, secrets: PostgresSecrets, logger: Logger) {
        self.handle = handle
        self.socket = PQsocket(handle)
        self.cancelHandle = Mutex(CancelHandle(pointer: PQgetCancel(handle)))
        self.queue = queue
        self.secrets = secrets
        self.logger = logger
    }

    deinit {
        // Only reached when no queued work holds a reference, so touching `handle` here is safe.
        assert(handle == nil, "a PostgresConnection was released without close(): its owner leaks connections")
        if let handle {
            logger.error("a PostgreSQL connection was released without being closed; closing it now")
            PQfinish(handle)
        }
        cancelHandle.withLock { $0.free() }
    }

    /// Opens a connection, then sets `client_min_messages=warning`, `TimeZone=UTC` and `DateStyle=ISO`
    /// and silences libpq notices.
    /// - Throws: ``PostgresError`` with code ``PostgresError/Code/connectionFailure``.
    public static func connect(configuration: PostgresConfiguration, logger: Logger) async throws
        -> PostgresConnection
    {
        let queue = DispatchQueue(label: "conveyor.postgres.connection")
        let secrets = PostgresSecrets(url: configuration.url)
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                // The class is only created once the handle is usable, so a failure frees the handle
                // exactly once here and `deinit` never sees it.
                continuation.resume(
                    with: Result {
                        let handle = try openHandle(configuration: configuration, secrets: secrets)
                        return PostgresConnection(handle: handle, queue: queue, secrets: secrets, logger: logger)
                    })
            }
        }
    }

    private static func openHandle(configuration: PostgresConfiguration, secrets: PostgresSecrets) throws
        -> OpaquePointer
    {
        // `dbname` is expanded as a URI/connection string; later keywords override it. TCP keepalives
        // and a user timeout make a vanished server fail queries within about half a minute instead
        // of leaving them blocked forever.
        let keywords = [
            "dbname", "connect_timeout", "fallback_application_name", "client_encoding", "keepalives",
            "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
        ]
        let values = [
            configuration.url, String(max(1, configuration.connectTimeout)), "conveyor", "UTF8", "1", "10", "5", "3",
            "30000",
        ]
        let keywordPointers = keywords.map { strdup($0) }
        let valuePointers = values.map { strdup($0) }
        defer {
            keywordPointers.forEach { free($0) }
            valuePointers.forEach { free($0) }
        }
        let handle = (keywordPointers.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { keywords in
            (valuePointers.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { values in
                PQconnectdbParams(keywords.baseAddress, values.baseAddress, 1)
            }
        }
        guard let handle else {
            throw PostgresError(code: .connectionFailure, message: "libpq could not allocate a connection")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = secrets.redact(errorMessage(handle) ?? "connection failed")
            PQfinish(handle)
            throw PostgresError(code: .connectionFailure, message: message)
        }
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        // Statements prepared on the session (a pipeline's reusable ones) are planned once: left to
        // choose, PostgreSQL kept planning the job path's statements again at every execution (its
        // generic plan for `= ANY($1)` looks costlier than a custom one), which was 40 % of its time
        // per job on an idle system. Unprepared statements (`query`) are planned with their values.
        let setup = "SET client_min_messages = warning; SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET plan_cache_mode = force_generic_plan"
        let result = PQexec(handle, setup)
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COMMAND_OK else {
            var error = makeError(handle: handle, result: result, query: setup, secrets: secrets)
            if PQstatus(handle) != CONNECTION_OK { error.code = .connectionFailure }
            PQfinish(handle)
            throw error
        }
        return handle
    }

    // MARK: Statements

    /// Runs one parameterised statement (`PQexecParams`, text format) and returns its rows.
    ///
    /// Use `$1`, `$2`, ... placeholders; `nil` parameters are sent as `NULL`. Parameters are never
    /// interpolated into the SQL text.
    /// - Throws: ``PostgresError`` with the server's SQLSTATE, message and detail.
    public func query(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) async throws -> PostgresRows {
        let texts = try PostgresStatement.texts(of: parameters, sql: sql)
        return try await run(sql) { [secrets, texts] handle in
            let pointers = texts.map { $0.map { strdup($0) } ?? nil }
            defer { pointers.forEach { free($0) } }
            let result = pointers.map { UnsafePointer($0) }.withUnsafeBufferPointer { values in
                PQexecParams(handle, sql, Int32(values.count), nil, values.baseAddress, nil, nil, 0)
            }
            defer { PQclear(result) }
            try Self.check(handle: handle, result: result, query: sql, secrets: secrets)
            return Self.rows(of: result!)
        }
    }

    /// Runs one or more `;`-separated statements without parameters (`PQexec`), e.g. DDL of a migration.
    ///
    /// Outside a transaction, all statements run in one implicit transaction.
    /// - Throws: ``PostgresError`` for the first statement that fails.
    public func execute(_ sql: String) async throws {
        try await execute(sql, cancellable: true)
    }

    /// `execute`, optionally immune to task cancellation (for `ROLLBACK` after a cancelled body).
    func execute(_ sql: String, cancellable: Bool) async throws {
        try await run(sql, cancellable: cancellable) { [secrets] handle in
            let result = PQexec(handle, sql)
            defer { PQclear(result) }
            try Self.check(handle: handle, result: result, query: sql, secrets: secrets)
        }
    }

    /// Whether the connection is still believed usable (not broken, not closed).
    public var isHealthy: Bool { healthy.load(ordering: .relaxed) }

    /// Whether the session was left inside a (possibly failed) transaction by the last statement.
    var isInTransaction: Bool { inTransaction.load(ordering: .relaxed) }

    /// Closes the connection (`PQfinish`). Later calls fail with ``PostgresError/Code/connectionFailure``.
    public func close() async {
        healthy.store(false, ordering: .relaxed)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                if let handle = self.handle {
                    self.handle = nil
                    PQfinish(handle)
                }
                self.cancelHandle.withLock { $0.free() }
                continuation.resume()
            }
        }
    }

    /// Closes the connection before returning, for an owner that cannot wait (a pool being
    /// deinitialized). Must not be called on the connection's own queue (no caller can be: its work
    /// items only resume continuations).
    func closeNow() {
        healthy.store(false, ordering: .relaxed)
        queue.sync {
            if let handle = self.handle {
                self.handle = nil
                PQfinish(handle)
            }
            self.cancelHandle.withLock { $0.free() }
        }
    }

    /// Reads whatever the server sent while the connection was idle (without blocking) so that a server
    /// shutdown or dropped socket is noticed before the connection is reused. Returns `isHealthy`.
    func checkIdleHealth() async -> Bool {
        guard isHealthy else { return false }
        // An idle connection nobody uses: a socket with nothing to read (the usual case) is checked
        // right here, without a trip to the connection's queue.
        if !Self.isReadable(socket) { return true }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            queue.async {
                guard let handle = self.handle else { return continuation.resume(returning: false) }
                // An idle session should receive nothing but notifications; a server shutting down sends an
                // error and then closes the socket, which takes more than one read to notice.
                var reads = 0
                while PQstatus(handle) == CONNECTION_OK, reads < 8, Self.isReadable(PQsocket(handle)) {
                    reads += 1
                    if PQconsumeInput(handle) == 0 { break }
                }
                if PQstatus(handle) != CONNECTION_OK { self.healthy.store(false, ordering: .relaxed) }
                // Drop any stray notifications so they do not accumulate.
                while let notify = PQnotifies(handle) { PQfreemem(notify) }
                continuation.resume(returning: self.isHealthy)
            }
        }
    }

    // MARK: Internals

    /// A `PGcancel`, which libpq allows to use from any thread; always accessed under the mutex.
    private struct CancelHandle: @unchecked Sendable {
        var pointer: OpaquePointer?

        mutating func free() {
            if let pointer { PQfreeCancel(pointer) }
            pointer = nil
        }

        func cancel() {
            guard let pointer else { return }
            var buffer = [CChar](repeating: 0, count: 256)
            _ = PQcancel(pointer, &buffer, Int32(buffer.count))
        }
    }

    /// Runs `work` on the queue, records the connection state afterwards and maps task cancellation
    /// to `PQcancel`.
    func run<T: Sendable>(
        _ sql: String, cancellable: Bool = true, _ work: @escaping @Sendable (OpaquePointer) throws -> T
    ) async throws -> T {
        let operation = {
            let start = DispatchTime.now()
            defer { PostgresMetrics.roundTrip.recordInterval(since: start) }
            return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                self.queue.async {
                    guard let handle = self.handle else {
                        return continuation.resume(
                            throwing: PostgresError(
                                code: .connectionFailure, message: "the connection is closed", query: sql))
                    }
                    let result = Result { try work(handle) }
                    if PQstatus(handle) != CONNECTION_OK { self.healthy.store(false, ordering: .relaxed) }
                    self.inTransaction.store(PQtransactionStatus(handle) != PQTRANS_IDLE, ordering: .relaxed)
                    continuation.resume(with: result)
                }
            }
        }
        guard cancellable else { return try await operation() }
        try Task.checkCancellation()
        return try await withTaskCancellationHandler {
            try await operation()
        } onCancel: {
            cancelHandle.withLock { $0.cancel() }
        }
    }

    static func check(handle: OpaquePointer, result: OpaquePointer?, query: String, secrets: PostgresSecrets)
        throws
    {
        let status = result.map { PQresultStatus($0) } ?? PGRES_FATAL_ERROR
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return
        default:
            var error = makeError(handle: handle, result: result, query: query, secrets: secrets)
            if PQstatus(handle) != CONNECTION_OK { error.code = .connectionFailure }
            throw error
        }
    }

    static func makeError(handle: OpaquePointer, result: OpaquePointer?, query: String?,
        secrets: PostgresSecrets) -> PostgresError
    {
        func field(_ code: Character) -> String? {
            guard let result, let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return secrets.redact(String(cString: value))
        }
        let sqlState = field("C")
        let message =
            field("M") ?? result.flatMap { PQresultErrorMessage($0) }.map { String(cString: $0) }
            .flatMap { $0.isEmpty ? nil : secrets.redact($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            ?? secrets.redact(errorMessage(handle) ?? "query failed")
        return PostgresError(
            code: sqlState.map(PostgresError.Code.init) ?? .queryFailure, sqlState: sqlState, message: message,
            detail: field("D"), hint: field("H"), query: query)
    }

    /// Whether `socket` has data (or EOF) to read right now.
    private static func isReadable(_ socket: Int32) -> Bool {
        guard socket >= 0 else { return false }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) > 0
    }

    private static func errorMessage(_ handle: OpaquePointer) -> String? {
        guard let pointer = PQerrorMessage(handle) else { return nil }
        let text = String(cString: pointer).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    static func rows(of result: OpaquePointer) -> PostgresRows {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        var names: [String] = []
        var index: [String: Int] = [:]
        for column in 0..<columnCount {
            let name = PQfname(result, Int32(column)).map { String(cString: $0) } ?? "?column?"
            names.append(name)
            if index[name] == nil { index[name] = column }
        }
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<columnCount {
                if PQgetisnull(result, Int32(row), Int32(column)) != 0 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, Int32(row), Int32(column))))
                }
            }
            rows.append(PostgresRow(columnIndex: index, values: values))
        }
        let affected = PQcmdTuples(result).flatMap { Int(String(cString: $0)) } ?? 0
        return PostgresRows(rows: rows, columnNames: names, affectedRows: affected)
    }
}
