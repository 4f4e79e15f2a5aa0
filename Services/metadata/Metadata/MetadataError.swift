import ConveyorModels

/// Why metadata refused a request. The stores throw it; only the RPC layer turns it into the wire's
/// ``RPCFailure`` (a database that cannot be reached stays a `PostgresError` until then).
enum MetadataError: Error, Equatable, CustomStringConvertible {
    /// The request is malformed or refers to what cannot be used; `problems` name each field.
    case invalid(String, problems: [FieldProblem] = [])
    /// No such job, object or object version.
    case notFound(String)
    /// The state of the job or object does not allow it (any more).
    case conflict(String)
    /// A limit of the deployment was reached (an owner's queued jobs).
    case quota(String)
    /// The caller may not read or change what the request names (another owner's object).
    case forbidden(String, problems: [FieldProblem] = [])

    var description: String {
        switch self {
        case .invalid(let message, let problems):
            problems.isEmpty ? "invalid: \(message)" : "invalid: \(message) (\(problems.map(\.description).joined(separator: "; ")))"
        case .notFound(let message): "not found: \(message)"
        case .conflict(let message): "conflict: \(message)"
        case .quota(let message): "quota: \(message)"
        case .forbidden(let message, _): "forbidden: \(message)"
        }
    }

    /// The wire form.
    var rpcFailure: RPCFailure {
        switch self {
        case .invalid(let message, let problems): RPCFailure(code: .invalid, message: message, problems: problems.isEmpty ? nil : problems)
        case .notFound(let message): RPCFailure(code: .notFound, message: message)
        case .conflict(let message): RPCFailure(code: .conflict, message: message)
        case .quota(let message): RPCFailure(code: .quota, message: message)
        case .forbidden(let message, let problems):
            RPCFailure(code: .forbidden, message: message, problems: problems.isEmpty ? nil : problems)
        }
    }
}
