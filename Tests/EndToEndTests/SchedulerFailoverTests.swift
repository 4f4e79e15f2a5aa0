import AMQPClient
import ConveyorModels
import Foundation
import Logging
import TestSupport
import Testing

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
