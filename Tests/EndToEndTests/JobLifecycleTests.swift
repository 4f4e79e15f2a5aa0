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
            #"{"jobType":"EXPORT_DATA","exportData":{"data":{"objectId":"\#(dataId)"},"path":"\#(path)"}}"#)
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

/// The platform survives its broker or its database going away: services wait and reconnect by
/// themselves, and every job accepted before, during or after the outage finishes once.
@Suite("Outages", .serialized)
struct OutageTests {
    enum Outage: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case rabbitMQRestart = "RabbitMQ restart"
        case postgreSQLRestart = "PostgreSQL restart"

        var testDescription: String { rawValue }

        func happen() async -> [Int32] {
            switch self {
            case .rabbitMQRestart:
                [
                    await ScriptRunner.script("deploy/local/infra.sh", ["rabbitmqctl", "stop_app"]),
                    await ScriptRunner.script("deploy/local/infra.sh", ["rabbitmqctl", "start_app"]),
                ]
            case .postgreSQLRestart:
                [await ScriptRunner.script("deploy/local/infra.sh", ["restart-postgres"])]
            }
        }
    }

    @Test("jobs accepted around an outage all succeed, none twice", arguments: Outage.allCases)
    func outage(_ outage: Outage) async throws {
        let model = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        let body = #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"sleep":0.5}}}"#
        var ids: [String] = []
        for _ in 0..<3 { ids.append(try await Platform.submit(body)) }

        #expect(await outage.happen().allSatisfy { $0 == 0 })

        // While services reconnect the gateway may answer 503/504: a client retries.
        for _ in 0..<3 {
            var accepted = false
            for _ in 0..<60 where !accepted {
                let result = try await Platform.request("POST", "/api/v1/jobs", body: Data(body.utf8))
                if result.status == 201, let id = result.json["jobId"] as? String {
                    ids.append(id)
                    accepted = true
                } else {
                    #expect([503, 504].contains(result.status), "\(result.status): \(result.text)")
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
            #expect(accepted)
        }
        for id in ids {
            let job = try await Platform.waitForEnd(id, timeout: .seconds(90))
            #expect(job["status"] as? String == "SUCCEEDED", "\(id): \(job["statusMessage"] ?? "")")
            #expect(Platform.statuses(job).filter { $0 == "SUCCEEDED" }.count == 1)
        }
    }
}

/// Only one scheduler is active; a second one stands by and takes over when the first goes away.
@Suite("Scheduler failover", .serialized)
struct SchedulerFailoverTests {
    @Test("a standby scheduler takes over when the active one stops, and jobs keep flowing")
    func failover() async throws {
        let binaries = ProcessInfo.processInfo.environment["CONVEYOR_BIN_DIR"] ?? ScriptRunner.repositoryRoot.appendingPathComponent(".build/debug").path
        let log = ScriptRunner.repositoryRoot.appendingPathComponent(".conveyor/logs/scheduler-standby.log").path
        let pidFile = ScriptRunner.repositoryRoot.appendingPathComponent(".conveyor/run/scheduler-standby.pid").path
        // A simple command in the background, so that $! is the scheduler itself.
        let start = "cd '\(ScriptRunner.repositoryRoot.path)' || exit 1; SCHEDULER_HEALTH_PORT=8192 '\(binaries)/scheduler' >> '\(log)' 2>&1 & echo $! > '\(pidFile)'"
        #expect(await ScriptRunner.run(["/bin/bash", "-c", start]) == 0)
        let stopStandby = ["/bin/bash", "-c", "kill $(cat '\(pidFile)') 2>/dev/null; rm -f '\(pidFile)'"]
        do {
            try await Task.sleep(for: .seconds(2))
            let model = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")

            #expect(await Platform.services(["stop", "scheduler"]) == 0)
            let body = #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"}}}"#
            let id = try await Platform.submit(body)
            let job = try await Platform.waitForEnd(id, timeout: .seconds(60))
            #expect(job["status"] as? String == "SUCCEEDED")
        } catch {
            _ = await ScriptRunner.run(stopStandby)
            _ = await Platform.services(["start", "scheduler"])
            throw error
        }
        _ = await ScriptRunner.run(stopStandby)
        #expect(await Platform.services(["start", "scheduler"]) == 0)
    }
}

/// A runner that dies is noticed: its job runs again elsewhere, and what it left running is ended.
@Suite("Dead runner", .serialized)
struct DeadRunnerTests {
    static let workRoot = ScriptRunner.repositoryRoot.appendingPathComponent(".conveyor/work").path

    /// Processes whose current directory is inside a job folder of the runner `workerId`.
    static func processes(of workerId: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { entry in
            guard Int(entry) != nil,
                let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/cwd"),
                cwd.hasPrefix(workRoot + "/" + workerId + "/"),
                let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8)
            else { return false }
            return !status.contains("State:\tZ")
        }
    }

    @Test("a runner killed mid-job: the job is re-queued and succeeds, the orphaned model process is ended")
    func runnerKilled() async throws {
        let model = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        let id = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"sleep":6}}}"#)
        try await Platform.waitFor(id, status: "RUNNING")
        let workerId = try #require(try await Platform.job(id)["workerId"] as? String)
        try await Task.sleep(for: .milliseconds(300))
        #expect(!Self.processes(of: workerId).isEmpty, "the model runs")

        let pidFile = ScriptRunner.repositoryRoot.appendingPathComponent(".conveyor/run/runner.pid").path
        #expect(await ScriptRunner.run(["/bin/bash", "-c", "kill -9 $(cat '\(pidFile)')"]) == 0)
        try await Task.sleep(for: .milliseconds(300))
        #expect(!Self.processes(of: workerId).isEmpty, "the model outlived its runner")

        #expect(await Platform.services(["start", "runner"]) == 0)
        #expect(Self.processes(of: workerId).isEmpty, "the new runner ended the orphan")

        let job = try await Platform.waitForEnd(id, timeout: .seconds(60))
        #expect(job["status"] as? String == "SUCCEEDED")
        #expect(job["attempt"] as? Int == 2)
        let messages = (job["updates"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }
        #expect(messages.contains { $0.contains("re-queued") && $0.contains(workerId) })
    }
}

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
        #expect(try await Platform.request("POST", "/api/v1/jobs/\(UUID())/cancel").status == 404)

        // The runner's slot is free again.
        let next = try await Platform.submit(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"}}}"#)
        #expect(try await Platform.waitForEnd(next)["status"] as? String == "SUCCEEDED")
    }
}
