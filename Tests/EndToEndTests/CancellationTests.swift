import AMQPClient
import ConveyorModels
import Foundation
import Logging
import TestSupport
import Testing

/// `POST /api/v1/jobs/{id}/cancel` ends a queued or running job as CANCELLED, once.
@Suite("Cancellation", .serialized)
struct CancellationTests {
    @Test("a queued job is cancelled before it runs; a running job's model is stopped; both e-mail CANCELLED")
    func cancel() async throws {
        let model = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        // make test runs one runner slot: the first job runs, the second waits in the queue.
        let running = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"sleep":30}},"notification":{"email":["cancel@example.com"]}}"#)
        try await Platform.waitFor(running, status: "RUNNING")
        let queued = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"}},"notification":{"email":["cancel@example.com"]}}"#)

        let first = try await Platform.request("POST", "/api/v1/jobs/\(queued)/cancel", body: Data(#"{"reason":"not needed"}"#.utf8))
        #expect(first.status == 200, "\(first.text)")
        #expect(first.json["status"] as? String == "CANCELLED")
        #expect(first.json["statusMessage"] as? String == "cancelled: not needed")
        let again = try await Platform.request("POST", "/api/v1/jobs/\(queued)/cancel")
        #expect(again.status == 409)

        // Its log is readable while it runs.
        var partial = try await Platform.request("GET", "/api/v1/jobs/\(running)/log")
        let logDeadline = ContinuousClock.now + .seconds(5)
        while !partial.text.contains("running model"), ContinuousClock.now < logDeadline {
            try await Task.sleep(for: .milliseconds(100))
            partial = try await Platform.request("GET", "/api/v1/jobs/\(running)/log")
        }
        #expect(partial.text.contains("running model"))
        #expect(partial.headers["conveyor-log-complete"] == "false")

        let workerId = try #require(try await Platform.job(running)["workerId"] as? String)
        let stopped = try await Platform.request("POST", "/api/v1/jobs/\(running)/cancel")
        #expect(stopped.status == 200)
        let deadline = ContinuousClock.now + .seconds(10)
        while !DeadRunnerTests.processes(of: workerId).isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(DeadRunnerTests.processes(of: workerId).isEmpty, "the model was stopped")

        for id in [queued, running] {
            let job = try await Platform.job(id)
            #expect(job["status"] as? String == "CANCELLED")
            #expect(Platform.statuses(job).last == "CANCELLED")
            let mail = try await Platform.waitForMail(forJob: id)
            #expect(mail.contains("X-Conveyor-Status: CANCELLED"))
        }
        #expect(!Platform.statuses(try await Platform.job(queued)).contains("RUNNING"), "the queued job never ran")
        var cancelledResult = try await Platform.job(running)["result"] as? [String: Any]
        let resultDeadline = ContinuousClock.now + .seconds(10)
        while cancelledResult?["logFile"] == nil, ContinuousClock.now < resultDeadline {
            try await Task.sleep(for: .milliseconds(100))
            cancelledResult = try await Platform.job(running)["result"] as? [String: Any]
        }
        #expect(cancelledResult?["status"] as? String == "CANCELLED")
        #expect(cancelledResult?["logFile"] != nil, "the stopped attempt's log is kept as a FILE")
        #expect(try await Platform.request("POST", "/api/v1/jobs/\(UUID())/cancel").status == 404)

        // The runner's slot is free again.
        let next = try await Platform.submit(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"}}}"#)
        #expect(try await Platform.waitForEnd(next)["status"] as? String == "SUCCEEDED")
    }
}
