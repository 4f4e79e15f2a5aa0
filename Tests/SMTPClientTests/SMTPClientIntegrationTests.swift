import Foundation
import Logging
import Testing

@testable import SMTPClient

/// Delivery through a real SMTP server: an aiosmtpd maildir sink that the project's scripts start, e.g.
/// `/usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:2525 -c aiosmtpd.handlers.Mailbox .conveyor/mail`.
///
/// `CONVEYOR_TEST_SMTP_URL` (default `smtp://127.0.0.1:2525`) and `CONVEYOR_TEST_MAILDIR` (default
/// `.conveyor/mail` under the package root; relative paths are resolved against the package root) locate it.
@Suite("SMTPClient integration")
struct SMTPClientIntegrationTests {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var smtpURL: String {
        ProcessInfo.processInfo.environment["CONVEYOR_TEST_SMTP_URL"] ?? "smtp://127.0.0.1:2525"
    }

    static var maildir: URL {
        let path = ProcessInfo.processInfo.environment["CONVEYOR_TEST_MAILDIR"] ?? ".conveyor/mail"
        return path.hasPrefix("/") ? URL(fileURLWithPath: path) : packageRoot.appendingPathComponent(path)
    }

    static let logger = Logger(label: "SMTPClientTests")

    /// Finds the delivered file whose Message-ID header is `messageID`, polling briefly.
    static func deliveredMessage(withID messageID: String) async throws -> ParsedMessage? {
        let newDirectory = maildir.appendingPathComponent("new")
        for _ in 0..<50 {
            let files = (try? FileManager.default.contentsOfDirectory(at: newDirectory, includingPropertiesForKeys: nil)) ?? []
            for file in files {
                guard let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
                let parsed = ParsedMessage(text)
                if parsed.header("Message-ID") == "<\(messageID)>" { return parsed }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    @Test func deliversMultipartMessageToMaildir() async throws {
        let messageID = "\(UUID().uuidString.lowercased())@conveyor.test"
        let subject = "Integration ✅ \(messageID) — " + String(repeating: "Ünïcødé ", count: 6)
        let text = "Hello from the SMTPClient integration test.\n.A line starting with a dot\n✅ done\n"
        let html = "<html><body><p>Hello <b>integration</b> ✅</p>\n<p>.dot</p></body></html>\n"
        let message = EmailMessage(
            from: try EmailAddress(name: "Conveyor Tests", address: "tests@conveyor.test"),
            to: [
                try EmailAddress(name: "Zoë Recipient", address: "zoe@example.test"),
                try EmailAddress(address: "ops@example.test"),
            ],
            subject: subject, textBody: text, htmlBody: html, messageID: messageID,
            headers: [("X-Conveyor-Test", "integration")])
        let client = SMTPClient(
            configuration: SMTPConfiguration(url: Self.smtpURL, timeoutSeconds: 10), logger: Self.logger)

        do {
            try await client.send(message)
        } catch let error as SMTPError {
            Issue.record("send failed: \(error). Is the SMTP sink running at \(Self.smtpURL)?")
            return
        }

        let delivered = try #require(
            try await Self.deliveredMessage(withID: messageID),
            "message \(messageID) not found in \(Self.maildir.path)/new")
        #expect(ParsedMessage.decodeHeader(try #require(delivered.header("Subject"))) == subject)
        let to = ParsedMessage.decodeHeader(try #require(delivered.header("To")))
        #expect(to == "Zoë Recipient <zoe@example.test>, ops@example.test")
        // aiosmtpd's Mailbox handler records the SMTP envelope recipients.
        if let envelope = delivered.header("X-RcptTo") {
            #expect(envelope.contains("zoe@example.test") && envelope.contains("ops@example.test"))
        }
        #expect(delivered.header("X-Conveyor-Test") == "integration")
        let parts = delivered.parts
        try #require(parts.count == 2)
        #expect(parts[0].header("Content-Type") == "text/plain; charset=utf-8")
        #expect(parts[1].header("Content-Type") == "text/html; charset=utf-8")
        #expect(parts[0].decodedBody == text)
        #expect(parts[1].decodedBody == html)
    }

    @Test func deliversPlainTextMessage() async throws {
        let messageID = "\(UUID().uuidString.lowercased())@conveyor.test"
        let message = EmailMessage(
            from: try EmailAddress(address: "tests@conveyor.test"), to: [try EmailAddress(address: "a@example.test")],
            subject: "Plain \(messageID)", textBody: "Just text.", messageID: messageID)
        let client = SMTPClient(
            configuration: SMTPConfiguration(url: Self.smtpURL, heloDomain: "client.conveyor.test"), logger: Self.logger)
        try await client.send(message)
        let delivered = try #require(try await Self.deliveredMessage(withID: messageID))
        #expect(delivered.header("Subject") == "Plain \(messageID)")
        #expect(delivered.decodedBody == "Just text.\n")
    }

    @Test func connectionRefusedIsAPromptTransportError() async throws {
        // Port 1 (tcpmux) is closed on any test machine; the kernel refuses the connection at once.
        let client = SMTPClient(
            configuration: SMTPConfiguration(url: "smtp://127.0.0.1:1", timeoutSeconds: 20), logger: Self.logger)
        let message = EmailMessage(
            from: try EmailAddress(address: "tests@conveyor.test"), to: [try EmailAddress(address: "a@example.test")],
            subject: "unreachable", textBody: "x")
        let clock = ContinuousClock()
        let start = clock.now
        let error = await #expect(throws: SMTPError.self) { try await client.send(message) }
        #expect(clock.now - start < .seconds(5))
        #expect(error?.code == .transport(7))  // CURLE_COULDNT_CONNECT
    }

    @Test func silentServerTimesOutWithTransportError() async throws {
        let server = try SilentServer()
        let client = SMTPClient(
            configuration: SMTPConfiguration(url: "smtp://127.0.0.1:\(server.port)", timeoutSeconds: 1),
            logger: Self.logger)
        let message = EmailMessage(
            from: try EmailAddress(address: "tests@conveyor.test"), to: [try EmailAddress(address: "a@example.test")],
            subject: "timeout", textBody: "x")
        let error = await #expect(throws: SMTPError.self) { try await client.send(message) }
        #expect(error?.code == .transport(28))  // CURLE_OPERATION_TIMEDOUT
        withExtendedLifetime(server) {}
    }

    @Test func cancellingTheTaskAbortsTheTransfer() async throws {
        let server = try SilentServer()
        let client = SMTPClient(
            configuration: SMTPConfiguration(url: "smtp://127.0.0.1:\(server.port)", timeoutSeconds: 30),
            logger: Self.logger)
        let message = EmailMessage(
            from: try EmailAddress(address: "tests@conveyor.test"), to: [try EmailAddress(address: "a@example.test")],
            subject: "cancel", textBody: "x")
        let clock = ContinuousClock()
        let start = clock.now
        let task = Task { try await client.send(message) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(clock.now - start < .seconds(5))
        withExtendedLifetime(server) {}
    }

    @Test func messageWithoutRecipientsIsRefusedBeforeConnecting() async throws {
        let client = SMTPClient(configuration: SMTPConfiguration(url: "smtp://127.0.0.1:1"), logger: Self.logger)
        let message = EmailMessage(
            from: try EmailAddress(address: "tests@conveyor.test"), to: [], subject: "nobody", textBody: "x")
        let error = await #expect(throws: SMTPError.self) { try await client.send(message) }
        #expect(error?.code == .invalidMessage)
    }
}
