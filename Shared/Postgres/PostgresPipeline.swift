import CLibPQ
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One statement of a pipeline: SQL with `$1`, `$2`, ... placeholders and its parameters.
public struct PostgresStatement: Sendable {
    public let sql: String
    let texts: [String?]
    /// Prepare the statement once per session and reuse it (for SQL text that does not vary). A
    /// prepared statement is planned once, whatever its parameters (`plan_cache_mode` is
    /// `force_generic_plan`): pass `false` for one whose best plan depends on the values.
    public let reusable: Bool

    /// - Throws: ``PostgresError`` (`invalidParameter`) when a parameter holds a NUL character.
    public init(_ sql: String, _ parameters: [(any PostgresBindable)?] = [], reusable: Bool = true) throws {
        self.sql = sql
        self.texts = try Self.texts(of: parameters, sql: sql)
        self.reusable = reusable
    }

    /// The parameters' text forms; a NUL character cannot be sent and is refused here.
    static func texts(of parameters: [(any PostgresBindable)?], sql: String) throws -> [String?] {
        var texts: [String?] = []
        texts.reserveCapacity(parameters.count)
        for (offset, parameter) in parameters.enumerated() {
            let text = parameter?.postgresText
            if let text, text.utf8.contains(0) {
                throw PostgresError(
                    code: .invalidParameter, message: "parameter $\(offset + 1) contains a NUL character", query: sql)
            }
            texts.append(text)
        }
        return texts
    }
}

extension PostgresConnection {
    /// The most statements a session keeps prepared; beyond it, statements are sent unprepared.
    static let maxPreparedStatements = 256

    /// Sends every statement in one round trip (libpq pipeline mode) and returns the rows of each, in order.
    ///
    /// Without an explicit `BEGIN` before them, the statements run as one implicit transaction: all or
    /// nothing. Inside an explicit transaction they run in it, and a failure leaves it failed (roll it
    /// back). Reusable statements are prepared once per session and then executed by name, which saves
    /// the server parsing and planning them again.
    /// - Throws: ``PostgresError`` of the first statement that failed (the ones after it did not run).
    public func pipeline(_ statements: [PostgresStatement]) async throws -> [PostgresRows] {
        guard !statements.isEmpty else { return [] }
        let label = statements.count == 1 ? statements[0].sql : "pipeline of \(statements.count) statements"
        return try await run(label) { [secrets] handle in
            try self.runPipeline(statements, on: handle, secrets: secrets)
        }
    }

    /// Runs on the connection's queue.
    private func runPipeline(_ statements: [PostgresStatement], on handle: OpaquePointer, secrets: PostgresSecrets) throws
        -> [PostgresRows]
    {
        guard PQenterPipelineMode(handle) == 1 else {
            throw Self.makeError(handle: handle, result: nil, query: "pipeline mode", secrets: secrets)
        }
        var sentPrepares: [(sql: String, name: String)?] = []
        var sendFailure: PostgresError? = nil
        var preparing: [String: String] = [:]
        for statement in statements {
            var name: String? = nil
            var prepare: (sql: String, name: String)? = nil
            if statement.reusable {
                if let known = preparedStatements[statement.sql] ?? preparing[statement.sql] {
                    name = known
                } else if preparedStatements.count + preparing.count < Self.maxPreparedStatements {
                    let fresh = "conveyor_\(preparedStatements.count + preparing.count + 1)"
                    preparing[statement.sql] = fresh
                    name = fresh
                    prepare = (statement.sql, fresh)
                }
            }
            let pointers = statement.texts.map { $0.map { strdup($0) } ?? nil }
            defer { pointers.forEach { free($0) } }
            let sent: Int32 = pointers.map { UnsafePointer($0) }.withUnsafeBufferPointer { values in
                if let prepare {
                    guard PQsendPrepare(handle, prepare.name, prepare.sql, Int32(values.count), nil) == 1 else { return 0 }
                }
                if let name {
                    return PQsendQueryPrepared(handle, name, Int32(values.count), values.baseAddress, nil, nil, 0)
                }
                return PQsendQueryParams(handle, statement.sql, Int32(values.count), nil, values.baseAddress, nil, nil, 0)
            }
            sentPrepares.append(prepare)
            guard sent == 1 else {
                sendFailure = Self.makeError(handle: handle, result: nil, query: statement.sql, secrets: secrets)
                break
            }
        }
        if sendFailure == nil, PQpipelineSync(handle) != 1 {
            sendFailure = Self.makeError(handle: handle, result: nil, query: "pipeline sync", secrets: secrets)
        }
        if let sendFailure {
            // The connection is unusable for this pipeline (a broken socket, most likely).
            PQexitPipelineMode(handle)
            throw sendFailure
        }

        // Results arrive in order: a prepare's result (when sent), then the statement's, each followed
        // by a NULL; then the sync.
        var results: [PostgresRows] = []
        var failure: PostgresError? = nil
        func next() -> OpaquePointer? { PQgetResult(handle) }
        func consumeTerminator() {
            // The NULL that ends one command's results.
            while let extra = PQgetResult(handle) { PQclear(extra) }
        }
        for (statement, prepare) in zip(statements, sentPrepares) {
            if let prepare {
                let result = next()
                let status = result.map { PQresultStatus($0) } ?? PGRES_FATAL_ERROR
                if status == PGRES_COMMAND_OK {
                    preparedStatements[prepare.sql] = prepare.name
                } else if failure == nil, status != PGRES_PIPELINE_ABORTED {
                    failure = Self.makeError(handle: handle, result: result, query: statement.sql, secrets: secrets)
                }
                PQclear(result)
                consumeTerminator()
            }
            let result = next()
            let status = result.map { PQresultStatus($0) } ?? PGRES_FATAL_ERROR
            switch status {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
                results.append(Self.rows(of: result!))
            case PGRES_PIPELINE_ABORTED:
                break
            default:
                if failure == nil {
                    failure = Self.makeError(handle: handle, result: result, query: statement.sql, secrets: secrets)
                }
            }
            PQclear(result)
            consumeTerminator()
        }
        // The sync.
        while let result = PQgetResult(handle) {
            let status = PQresultStatus(result)
            PQclear(result)
            if status == PGRES_PIPELINE_SYNC { break }
        }
        PQexitPipelineMode(handle)
        if PQstatus(handle) != CONNECTION_OK, failure == nil {
            failure = PostgresError(
                code: .connectionFailure, message: secrets.redact(Self.connectionMessage(handle)), query: nil)
        }
        if var failure {
            if PQstatus(handle) != CONNECTION_OK { failure.code = .connectionFailure }
            throw failure
        }
        return results
    }

    private static func connectionMessage(_ handle: OpaquePointer) -> String {
        guard let pointer = PQerrorMessage(handle) else { return "the connection was lost" }
        let text = String(cString: pointer).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "the connection was lost" : text
    }
}
