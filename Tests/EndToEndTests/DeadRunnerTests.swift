import AMQPClient
import ConveyorModels
import Foundation
import Logging
import TestSupport
import Testing

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

    @Test("a runner asked to stop lets its job run for worker.drainSeconds, then stops it and exits; the job runs again on the next runner")
    func drainTimeout() async throws {
        // A runner that drains for at most 2 s.
        await Platform.restart("runner", with: ["WORKER_DRAIN_SECONDS": "2"])
        let model = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        let id = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"sleep":8}}}"#)
        try await Platform.waitFor(id, status: "RUNNING")
        let workerId = try #require(try await Platform.job(id)["workerId"] as? String)
        let logPath = ScriptRunner.repositoryRoot.appendingPathComponent(".conveyor/logs/runner.log").path
        let logBefore = ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").count

        // services.sh stop waits 15 s before it kills: the runner must be gone well before.
        let stopping = ContinuousClock.now
        #expect(await Platform.services(["stop", "runner"]) == 0)
        let stopped = ContinuousClock.now - stopping
        let log = String(((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").dropFirst(logBefore))
        #expect(log.contains("did not finish within worker.drainSeconds"), "the runner stopped its attempt at the drain timeout")
        #expect(stopped < .seconds(12), "the runner exited after its drain timeout, not when it was killed (\(stopped))")
        #expect(Self.processes(of: workerId).isEmpty, "the attempt's model was stopped")

        // The next runner (as make test starts it) runs the job again; it ends once.
        #expect(await Platform.services(["start", "runner"]) == 0)
        let done = try await Platform.waitForEnd(id, timeout: .seconds(90))
        #expect(done["status"] as? String == "SUCCEEDED")
        #expect(done["attempt"] as? Int == 2)
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

    @Test("a runner killed mid-job is re-queued within the worker timeout even when the scheduler restarts in between")
    func requeuedAfterSchedulerRestart() async throws {
        let model = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        let id = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"sleep":10}}}"#)
        try await Platform.waitFor(id, status: "RUNNING")
        let pidFile = ScriptRunner.repositoryRoot.appendingPathComponent(".conveyor/run/runner.pid").path
        #expect(await ScriptRunner.run(["/bin/bash", "-c", "kill -9 $(cat '\(pidFile)')"]) == 0)
        let killed = ContinuousClock.now
        #expect(await Platform.services(["restart", "scheduler"]) == 0)
        // make test: SCHEDULER_WORKER_TIMEOUT_SECONDS=8; the lease (WORKER_LEASE_SECONDS) is 6 s and the
        // sweep runs every 2 s, so the re-queue comes at most 8 s after the last renewal (+ one poll).
        var requeuedAfter: Duration?
        while ContinuousClock.now - killed < .seconds(30), requeuedAfter == nil {
            let messages = Platform.statuses(try await Platform.job(id))
            if messages.last == "QUEUED" || messages.filter({ $0 == "RUNNING" }).count > 1 { requeuedAfter = ContinuousClock.now - killed }
            try await Task.sleep(for: .milliseconds(200))
        }
        let after = try #require(requeuedAfter, "the job was re-queued")
        #expect(after <= .seconds(9), "re-queued \(after) after the kill")
        #expect(await Platform.services(["start", "runner"]) == 0)
        let job = try await Platform.waitForEnd(id, timeout: .seconds(90))
        #expect(job["status"] as? String == "SUCCEEDED" && job["attempt"] as? Int == 2)
    }
}
