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
        body.split(separator: 0x0A).map { Data($0) }
    }
}
