import ConveyorModels
import Foundation
import Testing

@Suite("Message envelopes")
struct EnvelopeTests {
    func event() -> JobEvent {
        JobEvent(
            jobId: UUID(), jobType: .runModel, status: .succeeded, previousStatus: .running, message: "done",
            owner: "ana", priority: 50, attempt: 2, submittedAt: Date(timeIntervalSince1970: 1_800_000_000.123),
            occurredAt: Date(timeIntervalSince1970: 1_800_000_010.5), notification: NotificationSettings(email: ["a@b.c"]),
            exitCode: 0, logTail: "héllo\nworld")
    }

    @Test("an envelope round-trips its payload and header fields")
    func roundTrip() throws {
        let envelope = Envelope(event(), correlationId: "c-1")
        let decoded = try Envelope<JobEvent>.decode(try envelope.encoded())
        #expect(decoded.payload.jobId == envelope.payload.jobId)
        #expect(decoded.payload.logTail == "héllo\nworld")
        #expect(abs(decoded.payload.submittedAt.timeIntervalSince(envelope.payload.submittedAt)) < 0.001)
        #expect(decoded.type == "job.event")
        #expect(decoded.schemaVersion == 1)
        #expect(decoded.messageId == envelope.messageId)
        #expect(decoded.correlationId == "c-1")
    }

    @Test("a wrong type or an unknown schema version is refused with a clear message")
    func refused() throws {
        let body = try Envelope(event()).encoded()
        #expect(throws: MessageDecodingError.self) { try Envelope<Heartbeat>.decode(body) }
        var json = try JSONSerialization.jsonObject(with: body) as! [String: Any]
        json["schemaVersion"] = 99
        let future = try JSONSerialization.data(withJSONObject: json)
        do {
            _ = try Envelope<JobEvent>.decode(future)
            Issue.record("expected a failure")
        } catch let error as MessageDecodingError {
            #expect(error.description.contains("unsupported schema version 99"))
        }
    }

    @Test("a report's log chunk carries bytes that are not UTF-8")
    func binaryLog() throws {
        let bytes = Data([0xFF, 0x00, 0x41])
        let report = JobReport(jobId: UUID(), attempt: 1, workerId: "w", kind: .log(LogChunk(offset: 10, data: bytes)))
        let decoded = try Envelope<JobReport>.decode(try Envelope(report).encoded()).payload
        #expect(decoded.kind == .log(LogChunk(offset: 10, data: bytes)))
    }
}
