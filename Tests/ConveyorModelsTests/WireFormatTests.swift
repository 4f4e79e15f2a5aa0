import ConveyorModels
import Foundation
import Testing

/// The pieces the hot path reads and writes by hand: timestamps, batch messages, an envelope's type
/// read from its end, a value found in a document without decoding it, time-ordered ids.
@Suite("Wire format helpers")
struct WireFormatTests {
    /// Now, to the microsecond (what a timestamp keeps).
    static func now() -> Date { Timestamp.parse(Timestamp.format(Date()))! }

    @Test("timestamps: every instant formats as Foundation's ISO 8601 did, and parses back exactly")
    func timestamps() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            // 1900 to 2100: microseconds survive a Date (a Double of seconds) that far from 1970.
            let seconds = Double(Int64.random(in: -2_208_988_800...4_102_444_800, using: &generator))
            let micros = Double(Int64.random(in: 0..<1_000_000, using: &generator)) / 1_000_000
            let date = Date(timeIntervalSince1970: seconds + micros)
            let text = Timestamp.format(date)
            let whole = Date(timeIntervalSince1970: seconds).formatted(.iso8601)
            #expect(text.hasPrefix(String(whole.dropLast())), "\(text) vs \(whole)")
            let parsed = try #require(Timestamp.parse(text))
            #expect(Timestamp.format(parsed) == text)
        }
        #expect(Timestamp.format(Timestamp.parse("2026-11-21T13:00:00.5+01:00")!) == "2026-11-21T12:00:00.500000Z")
        #expect(Timestamp.format(Timestamp.parse("2026-11-21T10:30:00-01:30")!) == "2026-11-21T12:00:00.000000Z")
        #expect(Timestamp.format(Timestamp.parse("2024-02-29T23:59:59.9999999Z")!) == "2024-02-29T23:59:59.999999Z")
        #expect(Timestamp.parse("2026-11-21 12:00:00Z") == nil)
        #expect(Timestamp.parse("2026-11-21T12:00:00") == nil, "an offset is required")
        #expect(Timestamp.parse("yesterday") == nil)
    }

    @Test("a batch message holds envelopes one per line, in order")
    func batches() throws {
        let events = (0..<3).map { index in
            JobEvent(
                jobId: UUID(), jobType: .runModel, status: .queued, previousStatus: .validated,
                message: "line\nbreak \(index)", owner: "o", priority: index, attempt: 0, submittedAt: Self.now(), occurredAt: Self.now())
        }
        let body = MessageBatch.join(try events.map { try Envelope($0).encoded() })
        let lines = MessageBatch.split(body)
        #expect(lines.count == 3)
        #expect(try lines.map { try Envelope<JobEvent>.decode($0).payload } == events)
    }

    @Test("an envelope's type is read from its end, and from its header when written otherwise")
    func envelopeType() throws {
        let event = JobEvent(
            jobId: UUID(), jobType: .runModel, status: .queued, previousStatus: nil, message: #"a "type":"x" inside"#,
            owner: "o", priority: 1, attempt: 0, submittedAt: Date(), occurredAt: Date())
        #expect(EnvelopeHeader.type(of: try Envelope(event).encoded()) == "job.event")
        let unsorted = Data(#"{"type":"metadata.job.get","schemaVersion":1,"messageId":"6F1C2A9E-1F0E-4A44-9A57-4BD2A4C1B2D1","payload":{"jobId":"6F1C2A9E-1F0E-4A44-9A57-4BD2A4C1B2D1"},"sentAt":"2026-01-01T00:00:00Z"}"#.utf8)
        #expect(EnvelopeHeader.type(of: unsorted) == "metadata.job.get")
        #expect(EnvelopeHeader.type(of: Data("not json".utf8)) == nil)
    }

    @Test("a value is found by its path without decoding, skipping strings, escapes and nesting")
    func slices() throws {
        let document = Data(#"{"a":"x}\"{","b":[1,{"c":"]"}],"payload":{"error":null,"result":{"jobId":"ID","n":[1,2]}},"z":true}"#.utf8)
        let result = try #require(JSONSlice.range(of: ["payload", "result"], in: document))
        #expect(String(decoding: document[result], as: UTF8.self) == #"{"jobId":"ID","n":[1,2]}"#)
        #expect(JSONSlice.string(at: ["payload", "result", "jobId"], in: document) == "ID")
        #expect(JSONSlice.range(of: ["z"], in: document).map { String(decoding: document[$0], as: UTF8.self) } == "true")
        #expect(JSONSlice.range(of: ["payload", "missing"], in: document) == nil)
        #expect(JSONSlice.range(of: ["a", "b"], in: document) == nil, "a string is not an object")
        #expect(JSONSlice.range(of: ["a"], in: Data(#"{"a":"unterminated"#.utf8)) == nil)
        let record = JobRecord(
            jobId: UUID(), jobType: .runModel, owner: "o", priority: 1, definition: JobDefinition(jobType: .runModel),
            status: .queued, statusMessage: "m", attempt: 0, workerId: nil, submittedAt: Self.now(), startedAt: nil,
            finishedAt: nil, updates: [], result: nil)
        let reply = try Envelope(RPCReply(result: record)).encoded()
        let sliced = try #require(JSONSlice.range(of: ["payload", "result"], in: reply))
        #expect(try ConveyorJSON.decode(JobRecord.self, from: Data(reply[sliced])) == record)
    }

    @Test("time-ordered ids sort in the order they were made and are version 7")
    func timeOrderedIds() {
        let ids = (0..<10_000).map { _ in UUID.timeOrdered() }
        #expect(ids.map(\.uuidString) == ids.map(\.uuidString).sorted())
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.uuid.6 >> 4 == 7 && $0.uuid.8 >> 6 == 0b10 })
    }
}
