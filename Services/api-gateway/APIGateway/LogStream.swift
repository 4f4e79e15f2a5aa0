import ConveyorModels
import Foundation
import Hummingbird
import Messaging
import ServiceKit

/// `GET /api/v1/jobs/{id}/log/stream?offset=`: follows a job's log as server-sent events.
///
/// Each `log` event carries whole lines as `data:` lines and has `<attempt>:<offset>` as its `id`
/// (the byte offset after them in that attempt's log), so a client that reconnects (sending
/// `Last-Event-ID`, or `offset=`) resumes exactly where it stopped. When the job is re-queued, its
/// new attempt writes a new log: an `attempt` event says so and the stream goes on from the start of
/// the new log. When the job is terminal and the log is read to its end, an `end` event carries the
/// final status and the stream closes.
struct LogStream: Sendable {
    let metadata: MetadataClient
    static let pageBytes = 64 * 1024
    static let keepAlive = Duration.seconds(15)

    @Sendable func follow(request: Request, context: GatewayContext) async throws -> Response {
        var query = QueryReader(request)
        var offset = query.integer("offset", in: 0...Int.max) ?? 0
        var resumedAttempt: Int? = nil
        try query.check()
        if let lastEventId = request.headers[.init("Last-Event-ID")!] {
            let parts = lastEventId.split(separator: ":")
            guard (1...2).contains(parts.count), let resumed = Int(parts.last!), resumed >= 0,
                parts.count == 1 || Int(parts[0]) != nil
            else {
                throw Problem(.badRequest, "invalid Last-Event-ID", errors: [FieldProblem(field: "Last-Event-ID", reason: "must be an id sent by this stream (attempt:offset)")])
            }
            offset = resumed
            resumedAttempt = parts.count == 2 ? Int(parts[0]) : nil
        }
        let jobId = try RouteSupport.uuid(context)
        // 404 (no such job) or 403 (another owner's) before the stream starts.
        let job = try await metadata.call(GetJob(jobId: jobId))
        try AccessPolicy.read(job: jobId.uuidString.lowercased(), ownedBy: job.owner, as: try context.caller())
        let metadata = self.metadata
        let start = offset
        let startAttempt = resumedAttempt
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", .init("X-Accel-Buffering")!: "no"],
            body: ResponseBody { writer in
                var position = start
                var attempt = startAttempt
                var idle = Duration.milliseconds(100)
                var silentSince = ContinuousClock.now
                while !Task.isCancelled {
                    let log = try await metadata.callRetrying(GetJobLog(jobId: jobId, offset: position, limit: Self.pageBytes), patience: .seconds(30))
                    let current = log.attempt ?? 0
                    if let known = attempt, known != current {
                        // A new attempt: its log starts again from byte 0.
                        attempt = current
                        position = 0
                        try await writer.write(ByteBuffer(string: Self.event("attempt", id: "\(current):0", data: "{\"attempt\":\(current)}")))
                        continue
                    }
                    attempt = current
                    // A full page may end inside a character: only a short page of a finished job is its end.
                    let (text, consumed) = Self.completeLines(log.data, final: log.complete && log.data.count < Self.pageBytes)
                    if consumed > 0 {
                        position += consumed
                        try await writer.write(ByteBuffer(string: Self.event("log", id: "\(current):\(position)", data: text)))
                        idle = .milliseconds(100)
                        silentSince = .now
                        continue
                    }
                    if log.complete {
                        let job = try await metadata.callRetrying(GetJob(jobId: jobId), patience: .seconds(30))
                        let end = (try? ConveyorJSON.encode(JobStatusUpdate(status: job.status, message: job.statusMessage, at: job.finishedAt ?? Date()))) ?? Data()
                        try await writer.write(ByteBuffer(string: Self.event("end", id: "\(current):\(position)", data: String(decoding: end, as: UTF8.self))))
                        break
                    }
                    if ContinuousClock.now - silentSince >= Self.keepAlive {
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        silentSince = .now
                    }
                    try await Task.sleep(for: idle)
                    idle = min(idle * 2, .seconds(1))
                }
                try await writer.finish(nil)
            })
    }

    /// The complete lines at the start of `data` (all of it when `final`) and how many bytes they are.
    /// A single line longer than a page is sent in pieces, cut at a UTF-8 character boundary.
    static func completeLines(_ data: Data, final: Bool) -> (String, Int) {
        guard !data.isEmpty else { return ("", 0) }
        var end = final ? data.count : (data.lastIndex(of: UInt8(ascii: "\n")).map { $0 - data.startIndex + 1 } ?? 0)
        if end == 0, data.count >= pageBytes {
            // Cut before the character that starts at or spans the end (never inside a character).
            let bytes = [UInt8](data)
            end = bytes.count - 1
            while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }
            if end == 0 { end = bytes.count }
        }
        return (String(decoding: data.prefix(end), as: UTF8.self), end)
    }

    /// One server-sent event; every line of `data` becomes a `data:` line.
    static func event(_ name: String, id: String? = nil, data: String) -> String {
        var text = "event: \(name)\n" + (id.map { "id: \($0)\n" } ?? "")
        var lines = data.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        for line in lines { text += "data: " + line.replacingOccurrences(of: "\r", with: "") + "\n" }
        return text + "\n"
    }
}
