import AMQPClient
import ConveyorModels
import Foundation
import Logging
import TestSupport
import Testing

/// The dead-letter queues can be looked at and replayed with `conveyor-dlq`: an event the notifier
/// dead-lettered (as its old policy did after 8 failed sends) is replayed and its e-mail sent; a
/// malformed message goes back to the dead-letter queue, and nothing is lost on the way.
@Suite("Dead-letter queues", .serialized)
struct DeadLetterTests {
    /// Runs `conveyor-dlq` with `arguments`; its exit status and output.
    static func dlq(_ arguments: [String]) async -> (status: Int32, output: String) {
        let binaries = ProcessInfo.processInfo.environment["CONVEYOR_BIN_DIR"]
            ?? ScriptRunner.repositoryRoot.appendingPathComponent(".build/debug").path
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("dlq-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let quoted = ([binaries + "/conveyor-dlq"] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let status = await ScriptRunner.run(["/bin/bash", "-c", "\(quoted) > '\(output)' 2>&1"])
        return (status, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    static func depth(_ listing: String, _ queue: String) -> Int? {
        listing.split(separator: "\n").first { $0.hasPrefix(queue + "\t") }.flatMap { Int($0.split(separator: "\t").last ?? "") }
    }

    @Test("list, show and replay: a dead-lettered e-mail event is replayed and sent; a malformed message is dead-lettered again")
    func replay() async throws {
        let model = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        let id = try await Platform.submit(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"}}}"#)
        _ = try await Platform.waitForEnd(id)

        var logger = Logger(label: "e2e")
        logger.logLevel = .warning
        let connection = try AMQPConnection(
            name: "e2e-dlq",
            configuration: AMQPConfiguration(url: ProcessInfo.processInfo.environment["CONVEYOR_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/"),
            logger: logger)
        let before = try #require(Self.depth(await Self.dlq(["list"]).output, "notifier.events.dlq"))
        // An event dead-lettered earlier (the notifier's old policy gave up after 8 sends), and a
        // message nobody can read.
        let event = JobEvent(
            jobId: UUID(uuidString: id)!, jobType: .runModel, status: .succeeded, previousStatus: .running, message: "replayed",
            owner: "anonymous", priority: 50, attempt: 1, submittedAt: Date(), occurredAt: Date(),
            notification: NotificationSettings(email: ["replayed@example.com"]), startedAt: Date())
        let envelope = Envelope(event)
        try await connection.publish(
            OutgoingMessage(
                exchange: "", routingKey: "notifier.events.dlq", body: try envelope.encoded(), messageId: envelope.messageId.uuidString,
                type: JobEvent.messageType))
        try await connection.publish(OutgoingMessage(exchange: "", routingKey: "notifier.events", body: Data("not an envelope".utf8), type: JobEvent.messageType))
        await connection.close()
        var listing = ""
        for _ in 0..<50 {
            listing = await Self.dlq(["list"]).output
            if Self.depth(listing, "notifier.events.dlq") == before + 2 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(Self.depth(listing, "notifier.events.dlq") == before + 2, "\(listing)")
        #expect(listing.contains("metadata.rpc.dlq") && listing.contains("scheduler.events.dlq"))

        let shown = await Self.dlq(["show", "notifier.events", "--limit", "\(before + 2)"])
        #expect(shown.status == 0 && shown.output.contains(envelope.messageId.uuidString) && shown.output.contains("not an envelope"), "\(shown.output)")
        #expect(Self.depth(await Self.dlq(["list"]).output, "notifier.events.dlq") == before + 2, "showing leaves them where they are")

        let replayed = await Self.dlq(["replay", "notifier.events.dlq"])
        #expect(replayed.status == 0 && replayed.output.contains("replayed \(before + 2) message(s)"), "\(replayed.output)")
        let mail = try await Platform.waitForMail(forJob: id)
        #expect(mail.contains("replayed@example.com"))
        // The malformed one (and whatever else cannot be read) is dead-lettered again.
        for _ in 0..<50 where Self.depth(await Self.dlq(["list"]).output, "notifier.events.dlq") == 0 {
            try await Task.sleep(for: .milliseconds(200))
        }
        let after = Self.depth(await Self.dlq(["list"]).output, "notifier.events.dlq") ?? -1
        #expect(after >= 1 && after <= before + 1, "\(after)")
        #expect(await Self.dlq(["replay"]).status == 2, "a queue must be named")
    }
}
