import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The gateway's HTTP API as the CLI uses it: JSON requests with the bearer token, problems turned
/// into ``CLIError/refused(status:detail:problems:)``, server-sent events read as they arrive.
/// Foundation's `URLSession` carries it (the CLI sends one request at a time).
struct GatewayClient: Sendable {
    let base: String
    let token: String

    enum Method: String { case GET, POST, PUT, DELETE }

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: Data
        var json: Any? { try? JSONSerialization.jsonObject(with: body) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    private func request(_ method: Method, _ path: String, body: Data?, contentType: String?, headers: [(String, String)]) throws -> URLRequest {
        let address = base.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path
        guard let url = URL(string: address) else { throw CLIError.unreachable("\(address) is not a URL") }
        var request = URLRequest(url: url, timeoutInterval: 60)
        request.httpMethod = method.rawValue
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.setValue(contentType ?? "application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = body
        }
        return request
    }

    private static func answer(_ response: URLResponse, body: Data) -> Answer {
        let http = response as? HTTPURLResponse
        let headers = (http?.allHeaderFields ?? [:]).reduce(into: [String: String]()) { $0["\($1.key)"] = "\($1.value)" }
        return Answer(status: http?.statusCode ?? 0, headers: headers, body: body)
    }

    /// Sends a request and returns the answer, or throws the problem the gateway answered with.
    @discardableResult
    func send(
        _ method: Method, _ path: String, body: Data? = nil, contentType: String? = nil, headers: [(String, String)] = [],
        accepting: Set<Int> = []
    ) async throws -> Answer {
        let request = try request(method, path, body: body, contentType: contentType, headers: headers)
        let answer: Answer
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            answer = Self.answer(response, body: data)
        } catch {
            throw CLIError.unreachable("cannot reach \(base): \(error.localizedDescription)")
        }
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
        var request = try request(.GET, path, body: nil, contentType: nil, headers: headers)
        request.timeoutInterval = StreamedResponse.noTimeout
        let stream = StreamedResponse(request)
        defer { stream.cancel() }
        let response: URLResponse
        do {
            response = try await stream.response()
        } catch {
            throw CLIError.unreachable("cannot reach \(base): \(error.localizedDescription)")
        }
        if let http = response as? HTTPURLResponse, http.statusCode >= 400 {
            var body = Data()
            for try await chunk in stream.chunks where body.count < 1 << 20 { body += chunk }
            throw Self.problem(Self.answer(response, body: body))
        }
        var parser = ServerSentEventParser()
        var first = true
        for try await chunk in stream.chunks {
            if first {
                first = false
                if !(try await opened()) { return }
            }
            for event in parser.feed(Array(chunk)) {
                if !(try await handle(event)) { return }
            }
        }
    }
}

/// A response read as it arrives: its head once received, then its body chunk by chunk (Foundation
/// on Linux has no `URLSession.bytes(for:)`, so a data delegate feeds an async stream).
final class StreamedResponse: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let chunks: AsyncThrowingStream<Data, any Error>
    /// A stream is followed as long as it lasts: a year (Foundation on Linux converts a timeout to
    /// whole milliseconds, which `.infinity` cannot be).
    static let noTimeout: TimeInterval = 365 * 86_400
    private let continuation: AsyncThrowingStream<Data, any Error>.Continuation
    private let head = HeadSlot()
    private var session: URLSession!
    private var task: URLSessionDataTask!

    init(_ request: URLRequest) {
        (chunks, continuation) = AsyncThrowingStream.makeStream(of: Data.self)
        super.init()
        let configuration = URLSessionConfiguration.default
        configuration.timeoutIntervalForRequest = Self.noTimeout
        configuration.timeoutIntervalForResource = Self.noTimeout
        session = URLSession(configuration: configuration, delegate: self, delegateQueue: nil)
        task = session.dataTask(with: request)
        task.resume()
    }

    /// The response's head (status and headers), or the error that came instead.
    func response() async throws -> URLResponse { try await head.value() }

    func cancel() {
        task.cancel()
        session.invalidateAndCancel()
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        head.fill(.success(response))
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        continuation.yield(data)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        if let error {
            head.fill(.failure(error))
            continuation.finish(throwing: error)
        } else {
            continuation.finish()
        }
    }

    /// Holds the response head for the one caller that waits for it.
    private final class HeadSlot: @unchecked Sendable {
        private let lock = NSLock()
        private var result: Result<URLResponse, any Error>?
        private var waiter: CheckedContinuation<URLResponse, any Error>?

        func fill(_ value: Result<URLResponse, any Error>) {
            lock.lock()
            guard result == nil else { return lock.unlock() }
            result = value
            let waiting = waiter
            waiter = nil
            lock.unlock()
            waiting?.resume(with: value)
        }

        func value() async throws -> URLResponse {
            try await withCheckedThrowingContinuation { continuation in
                lock.lock()
                if let result {
                    lock.unlock()
                    continuation.resume(with: result)
                } else {
                    waiter = continuation
                    lock.unlock()
                }
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
