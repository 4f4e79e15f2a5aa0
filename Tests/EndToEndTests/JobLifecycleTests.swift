import AMQPClient
import ConveyorModels
import Foundation
import Logging
import TestSupport
import Testing

/// End to end through the public HTTP API, against the real services, RabbitMQ, PostgreSQL and SMTP sink.
@Suite("Jobs end to end", .serialized)
struct JobLifecycleTests {
    @Test("import, run and export a model; the run's history, log, output and e-mail are all there")
    func importRunExport() async throws {
        let model = try await Platform.importModel(path: "sample-model", entryPoint: "model.py", language: "python")

        let runId = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"text":"a b a c a","top":1}},"notification":{"email":["e2e@example.com"]},"owner":"e2e"}"#)
        let run = try await Platform.waitForEnd(runId)
        #expect(run["status"] as? String == "SUCCEEDED")
        #expect(Platform.statuses(run) == ["VALIDATED", "QUEUED", "SUBMITTED", "RUNNING", "SUCCEEDED"])
        let pinned = ((run["definition"] as? [String: Any])?["runModel"] as? [String: Any])?["model"] as? [String: Any]
        #expect(pinned?["objectVersion"] as? Int == 1, "the model version is pinned in the stored definition")

        let log = try await Platform.request("GET", "/api/v1/jobs/\(runId)/log")
        #expect(log.status == 200)
        #expect(log.text.contains("step 3/3: counting"))
        #expect(log.headers["conveyor-log-complete"] == "true")

        let dataId = try #require(Platform.firstObjectId(run))
        let path = "e2e/\(runId.lowercased()).json"
        let exportId = try await Platform.submit(
            #"{"jobType":"EXPORT_DATA","exportData":{"inputs":{"summary":{"objectId":"\#(dataId)"}},"exports":{"summary":{"path":"\#(path)"}}}}"#)
        let export = try await Platform.waitForEnd(exportId)
        #expect(export["status"] as? String == "SUCCEEDED")
        let exported = Platform.repositoryRoot.appendingPathComponent(".conveyor/exports/\(path)").path
        let summary = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: exported))) as? [String: Any]
        #expect(summary?["words"] as? Int == 5)

        let mail = try await Platform.waitForMail(forJob: runId)
        #expect(mail.contains("Subject: [Conveyor] RUN_MODEL job \(runId.lowercased().prefix(8)) SUCCEEDED"))
        #expect(mail.contains("To: e2e@example.com"))
        #expect(mail.contains("X-Conveyor-Status: SUCCEEDED"))
        #expect(mail.contains("multipart/alternative"))
        #expect(mail.contains("step 3/3: counting"), "the e-mail carries the tail of the log")
    }

    @Test("a model that exits non-zero ends FAILED with its exit code, and a failure e-mail is sent")
    func failingModel() async throws {
        let model = try await Platform.importModel(path: "failing-model", entryPoint: "fail.sh", language: "shell")
        let runId = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"code":7}},"notification":{"email":["fail@example.com"]}}"#)
        let run = try await Platform.waitForEnd(runId)
        #expect(run["status"] as? String == "FAILED")
        #expect((run["statusMessage"] as? String)?.contains("exit") == true)
        #expect((run["statusMessage"] as? String)?.contains("7") == true)
        #expect((run["result"] as? [String: Any])?["exitCode"] as? Int == 7)
        let mail = try await Platform.waitForMail(forJob: runId)
        #expect(mail.contains("X-Conveyor-Status: FAILED"))
        #expect(mail.contains("Exit code: 7"))
        #expect(mail.contains("exiting with code 7"))
    }

    @Test("with more queued jobs than slots, the highest priority runs first, then submission order")
    func priorityOrder() async throws {
        // make test runs one runner with one slot (RUNNER_SLOTS=1).
        let model = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        let blocker = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"sleep":2}}}"#)
        try await Platform.waitFor(blocker, status: "RUNNING")
        var ids: [(priority: Int, id: String)] = []
        for priority in [10, 50, 90, 50, 30] {
            let id = try await Platform.submit(
                #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"}},"priority":\#(priority)}"#)
            ids.append((priority, id))
        }
        var started: [(String, String)] = []
        for (_, id) in ids {
            let job = try await Platform.waitForEnd(id)
            #expect(job["status"] as? String == "SUCCEEDED")
            started.append((id, try #require(job["startedAt"] as? String)))
        }
        let order = started.sorted { $0.1 < $1.1 }.map(\.0)
        let expected = [ids[2].id, ids[1].id, ids[3].id, ids[4].id, ids[0].id]
        #expect(order == expected)
    }

    @Test("a redelivered terminal event, before and after a notifier restart, sends no second e-mail")
    func noDuplicateMail() async throws {
        let model = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        let runId = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"}},"notification":{"email":["once@example.com"]}}"#)
        let run = try await Platform.waitForEnd(runId)
        _ = try await Platform.waitForMail(forJob: runId)

        // Publish the job's SUCCEEDED event again, as a broker redelivery would.
        let event = JobEvent(
            jobId: UUID(uuidString: runId)!, jobType: .runModel, status: .succeeded, previousStatus: .running,
            message: run["statusMessage"] as? String ?? "", owner: "anonymous", priority: 50, attempt: 1,
            submittedAt: Date(), occurredAt: Date(), notification: NotificationSettings(email: ["once@example.com"]),
            startedAt: Date())
        var logger = Logger(label: "e2e")
        logger.logLevel = .warning
        let connection = try AMQPConnection(
            name: "e2e", configuration: AMQPConfiguration(url: ProcessInfo.processInfo.environment["CONVEYOR_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/"),
            logger: logger)
        func redeliver() async throws {
            try await connection.publish(
                OutgoingMessage(
                    exchange: Topology.eventsExchange, routingKey: event.routingKey, body: try Envelope(event).encoded(),
                    type: JobEvent.messageType))
        }
        try await redeliver()
        try await Task.sleep(for: .seconds(2))
        #expect(await Platform.services(["restart", "notifier"]) == 0)
        try await redeliver()
        try await redeliver()
        try await Task.sleep(for: .seconds(3))
        await connection.close()
        #expect(Platform.mails(forJob: runId).count == 1)
    }
}
