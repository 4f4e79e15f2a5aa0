import Foundation

/// Many envelopes in one message: newline-delimited JSON (content type `application/x-ndjson`), one
/// envelope per line, in order. A batch carries what would otherwise be many small messages (the
/// metadata calls of one moment, a worker's reports, the dispatches for one worker), so the broker
/// routes, stores and confirms one message instead of many. Envelopes never contain a raw newline
/// (JSON escapes it in strings), so the lines split unambiguously.
public enum MessageBatch {
    /// The content type of a batch message.
    public static let contentType = "application/x-ndjson"

    /// One body holding every envelope, one per line.
    public static func join(_ envelopes: [Data]) -> Data {
        var body = Data()
        body.reserveCapacity(envelopes.reduce(0) { $0 + $1.count + 1 })
        for (index, envelope) in envelopes.enumerated() {
            if index > 0 { body.append(0x0A) }
            body.append(envelope)
        }
        return body
    }

    /// The envelopes of a batch body, in order (empty lines are skipped).
    public static func split(_ body: Data) -> [Data] {
        body.withUnsafeBytes { buffer -> [Data] in
            guard let base = buffer.baseAddress else { return [] }
            var lines: [Data] = []
            var start = 0
            while start < buffer.count {
                let found = memchr(base + start, 0x0A, buffer.count - start)
                let end = found.map { base.distance(to: UnsafeRawPointer($0)) } ?? buffer.count
                if end > start { lines.append(Data(bytes: base + start, count: end - start)) }
                start = end + 1
            }
            return lines
        }
    }
}
