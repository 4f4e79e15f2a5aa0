import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The gateway's HTTP API as the CLI uses it: JSON requests with the bearer token, problems turned
/// into ``CLIError/refused(status:detail:problems:)``, server-sent events read as they arrive.
struct GatewayClient: Sendable {
    let base: String
    let token: String

    struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
        var json: Any? { try? JSONSerialization.jsonObject(with: body) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    private func request(_ method: HTTPMethod, _ path: String, body: Data?, contentType: String?, headers: [(String, String)]) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: base.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType ?? "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    /// Sends a request and returns the answer, or throws the problem the gateway answered with.
    @discardableResult
    func send(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, contentType: String? = nil, headers: [(String, String)] = [],
        accepting: Set<Int> = []
    ) async throws -> Answer {
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request(method, path, body: body, contentType: contentType, headers: headers), timeout: .seconds(60))
        } catch {
            throw CLIError.unreachable("cannot reach \(base): \(error)")
        }
        let bytes = try await response.body.collect(upTo: 64 << 20)
        let answer = Answer(status: Int(response.status.code), headers: response.headers, body: Data(bytes.readableBytesView))
        if answer.status >= 400, !accepting.contains(answer.status) { throw Self.problem(answer) }
        return answer
    }

    static func problem(_ answer: Answer) -> CLIError {
        let object = answer.object
        let detail = object["detail"] as? String ?? (answer.text.isEmpty ? "HTTP \(answer.status)" : String(answer.text.prefix(500)))
        let problems = (object["errors"] as? [[String: Any]] ?? []).map { "\($0["field"] as? String ?? "?"): \($0["reason"] as? String ?? "")" }
        return .refused(status: answer.status, detail: detail, problems: problems)
    }

    /// Follows a server-sent event stream, handing each event (name, id, data) to `handle` until it
    /// returns false or the stream ends.
    /// `opened` runs once the first bytes arrived (the server follows from then on); returning
    /// false ends the stream there.
    func events(
        _ path: String, lastEventId: String? = nil, _ handle: (ServerSentEvent) async throws -> Bool,
        opened: () async throws -> Bool = { true }
    ) async throws {
        var headers: [(String, String)] = [("Accept", "text/event-stream")]
        if let lastEventId { headers.append(("Last-Event-ID", lastEventId)) }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request(.GET, path, body: nil, contentType: nil, headers: headers), deadline: .distantFuture)
        } catch {
            throw CLIError.unreachable("cannot reach \(base): \(error)")
        }
        if response.status.code >= 400 {
            let bytes = try await response.body.collect(upTo: 1 << 20)
            throw Self.problem(Answer(status: Int(response.status.code), headers: response.headers, body: Data(bytes.readableBytesView)))
        }
        var parser = ServerSentEventParser()
        var first = true
        for try await chunk in response.body {
            if first {
                first = false
                if !(try await opened()) { return }
            }
            for event in parser.feed(Array(chunk.readableBytesView)) {
                if !(try await handle(event)) { return }
            }
        }
    }
}

/// One server-sent event.
struct ServerSentEvent {
    var name: String
    var id: String?
    var data: String
}

/// Reads server-sent events from a byte stream, whatever the chunks' boundaries.
struct ServerSentEventParser {
    private var buffer: [UInt8] = []
    private var name = "message"
    private var id: String?
    private var data: [String] = []

    mutating func feed(_ bytes: [UInt8]) -> [ServerSentEvent] {
        buffer += bytes
        var events: [ServerSentEvent] = []
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            var line = String(decoding: buffer[..<newline], as: UTF8.self)
            buffer.removeSubrange(...newline)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.isEmpty {
                if !data.isEmpty { events.append(ServerSentEvent(name: name, id: id, data: data.joined(separator: "\n"))) }
                name = "message"
                data = []
                continue
            }
            if line.hasPrefix(":") { continue }
            let field = line.prefix { $0 != ":" }
            var value = line.dropFirst(field.count)
            if value.hasPrefix(":") { value = value.dropFirst() }
            if value.hasPrefix(" ") { value = value.dropFirst() }
            switch field {
            case "event": name = String(value)
            case "id": id = String(value)
            case "data": data.append(String(value))
            default: break
            }
        }
        return events
    }
}
