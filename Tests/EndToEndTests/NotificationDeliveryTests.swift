import Foundation
import Testing

/// Completion e-mails survive an SMTP outage: they wait in the notifier's table and are sent once
/// when the server returns (across a notifier restart), and a permanent refusal ends the delivery
/// FAILED with the server's reason; the job shows what became of its e-mail.
@Suite("E-mail delivery", .serialized)
struct NotificationDeliveryTests {
    static func delivery(_ jobId: String) async throws -> [String: Any]? {
        try await Platform.job(jobId)["notificationDelivery"] as? [String: Any]
    }

    /// Waits until the job's delivery satisfies `condition`.
    static func waitForDelivery(_ jobId: String, timeout: Duration = .seconds(60), _ condition: ([String: Any]) -> Bool) async throws
        -> [String: Any]
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let delivery = try await delivery(jobId), condition(delivery) { return delivery }
            try await Task.sleep(for: .milliseconds(250))
        }
        Issue.record("the delivery of \(jobId) never got there: \(String(describing: try await delivery(jobId)))")
        return [:]
    }

    @Test("a permanent refusal (SMTP 550) ends the delivery FAILED with the server's reply, at once")
    func permanentRefusal() async throws {
        let model = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        let id = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"}},"notification":{"email":["reject-me@example.com"]}}"#)
        _ = try await Platform.waitForEnd(id)
        let delivery = try await Self.waitForDelivery(id) { $0["status"] as? String == "FAILED" }
        #expect(delivery["attempts"] as? Int == 1)
        #expect((delivery["lastError"] as? String ?? "").contains("550"), "\(delivery)")
        #expect(Platform.mails(forJob: id).isEmpty)
    }

    @Test("an e-mail during an SMTP outage waits, survives a notifier restart, and is sent exactly once when the server returns")
    func outage() async throws {
        let model = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        #expect(await Platform.infra(["smtp-down"]) == 0)
        var id = ""
        do {
            id = try await Platform.submit(
                #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"}},"notification":{"email":["outage@example.com"]}}"#)
            #expect(try await Platform.waitForEnd(id)["status"] as? String == "SUCCEEDED")
            // Tried, failed, waiting (the tests' backoff is at most 2 s).
            let pending = try await Self.waitForDelivery(id) { $0["status"] as? String == "PENDING" && ($0["attempts"] as? Int ?? 0) >= 2 }
            #expect(pending["nextAttemptAt"] != nil && pending["lastError"] != nil, "\(pending)")
            #expect(await Platform.services(["restart", "notifier"]) == 0)
            try await Task.sleep(for: .seconds(3))
        } catch {
            _ = await Platform.infra(["smtp-up"])
            throw error
        }
        #expect(await Platform.infra(["smtp-up"]) == 0)
        let sent = try await Self.waitForDelivery(id) { $0["status"] as? String == "SENT" }
        #expect((sent["attempts"] as? Int ?? 0) >= 3 && sent["sentAt"] != nil, "\(sent)")
        _ = try await Platform.waitForMail(forJob: id)
        try await Task.sleep(for: .seconds(3))
        #expect(Platform.mails(forJob: id).count == 1, "exactly one e-mail")
    }
}
