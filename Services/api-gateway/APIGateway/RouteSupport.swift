import ConveyorModels
import Foundation
import Hummingbird

/// What every route needs: JSON responses, path and query parameters read with clear problems.
enum RouteSupport {
    /// A re-run that may be a dry run (`?dryRun=true`): 200 with the plan of a dry run, 201 with
    /// the jobs submitted otherwise.
    static func rerunPlan(_ request: Request, _ call: (Bool) async throws -> RerunChainPlan) async throws -> Response {
        var query = QueryReader(request)
        let dryRun = query.bool("dryRun") ?? false
        try query.check()
        return try json(try await call(dryRun), status: dryRun ? .ok : .created)
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try ConveyorJSON.encode(value))))
    }

    /// A JSON response with a body written elsewhere (by metadata), passed on as it is.
    static func json(passing body: Data, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The UUID in path parameter `name`.
    static func uuid(_ context: GatewayContext, _ name: String = "id") throws -> UUID {
        guard let text = context.parameters.get(name), let id = UUID(uuidString: text) else {
            throw Problem(.badRequest, "the \(name) in the path is not a UUID", errors: [FieldProblem(field: name, reason: "not a UUID")])
        }
        return id
    }

    /// Reads a request body of at most `limit` bytes as `T`, reporting every problem against `shape`.
    static func decode<T: Decodable>(_ type: T.Type, _ request: Request, limit: Int, shape: JSONShape) async throws -> T {
        let body = try await request.body.collect(upTo: limit)
        return try ConveyorJSON.decode(type, from: Data(buffer: body), checking: shape)
    }
}

/// Query parameters read one by one, collecting every problem before failing.
struct QueryReader {
    let query: Parameters
    var problems: [FieldProblem] = []

    init(_ request: Request) {
        self.query = request.uri.queryParameters
    }

    func string(_ name: String) -> String? { query[Substring(name)].map(String.init) }

    mutating func integer(_ name: String, in range: ClosedRange<Int>) -> Int? {
        guard let text = query[Substring(name)] else { return nil }
        guard let value = Int(String(text)), range.contains(value) else {
            problems.append(FieldProblem(field: name, reason: "must be an integer between \(range.lowerBound) and \(range.upperBound)"))
            return nil
        }
        return value
    }

    mutating func uuid(_ name: String) -> UUID? {
        guard let text = query[Substring(name)] else { return nil }
        guard let id = UUID(uuidString: String(text)) else {
            problems.append(FieldProblem(field: name, reason: "not a UUID"))
            return nil
        }
        return id
    }

    mutating func date(_ name: String) -> Date? {
        guard let text = query[Substring(name)] else { return nil }
        guard let date = Timestamp.parse(String(text)) else {
            problems.append(FieldProblem(field: name, reason: "must be an ISO 8601 date-time with an offset, e.g. 2026-11-21T12:00:00Z"))
            return nil
        }
        return date
    }

    mutating func bool(_ name: String) -> Bool? {
        guard let text = query[Substring(name)] else { return nil }
        switch text.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default:
            problems.append(FieldProblem(field: name, reason: "must be true or false"))
            return nil
        }
    }

    /// A comma-separated list of enumeration values (repeating the parameter works too).
    mutating func list<E: RawRepresentable & CaseIterable>(_ name: String, _ type: E.Type) -> [E]? where E.RawValue == String {
        let texts = query.getAll(name).flatMap { $0.split(separator: ",") }.map { String($0).trimmingCharacters(in: .whitespaces) }
        guard !texts.isEmpty else { return nil }
        var values: [E] = []
        for text in texts {
            if let value = E(rawValue: text.uppercased()) ?? E(rawValue: text) {
                values.append(value)
            } else {
                problems.append(FieldProblem(field: name, reason: "unknown value '\(text.prefix(60))' (expected one of \(E.allCases.map(\.rawValue).joined(separator: ", ")))"))
            }
        }
        return values
    }

    func check() throws {
        guard problems.isEmpty else { throw Problem(.badRequest, "invalid query parameters", errors: problems) }
    }
}
