import ConveyorModels
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The scheduler's ordering and packing through the running platform: the jobs are queued while
/// their workers are stopped, then a worker with a known capacity starts and the order and overlap
/// of the runs (from the job records' startedAt and endedAt) are what the policy says. A worker cut
/// off from the broker stops its attempt, which runs once elsewhere.
@Suite("Scheduling policy end to end", .serialized)
struct SchedulingPolicyEndToEndTests {
    static func date(_ value: Any?) -> Date? { (value as? String).flatMap(Timestamp.parse) }

    /// The ended jobs' (id, startedAt, finishedAt), ordered by start.
    static func runs(_ ids: [String]) async throws -> [(id: String, start: Date, end: Date)] {
        var runs: [(id: String, start: Date, end: Date)] = []
        for id in ids {
            let job = try await Platform.waitForEnd(id, timeout: .seconds(120))
            try #require(job["status"] as? String == "SUCCEEDED", "\(id): \(job["statusMessage"] ?? "")")
            runs.append((id, try #require(date(job["startedAt"])), try #require(date(job["finishedAt"]))))
        }
        return runs.sorted { $0.start < $1.start }
    }

    /// Stops a worker service, then waits until the active scheduler no longer counts it live (it
    /// heard the worker drain, or stopped hearing it): until then it may still dispatch to it. First
    /// it waits until the scheduler counts exactly the three workers of `make test` (a scheduler just
    /// restarted hears them within a heartbeat; one stopped earlier drops out once quiet).
    static func stopWorker(_ service: String) async throws {
        func liveWorkers() async throws -> Int { try await Platform.request("GET", "/api/v1/queue").json["workers"] as? Int ?? -1 }
        func wait(until count: Int) async throws -> Bool {
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                if try await liveWorkers() == count { return true }
                try await Task.sleep(for: .milliseconds(200))
            }
            return false
        }
        if !(try await wait(until: 3)) { Issue.record("the scheduler does not count the three workers of make test") }
        #expect(await Platform.services(["stop", service]) == 0)
        if !(try await wait(until: 2)) { Issue.record("the scheduler still counts \(service) live after it stopped") }
    }

    @Test("one order across the two job types a worker serves: the high-priority job of either type first, then by submission")
    func noStarvationBetweenTypes() async throws {
        let tag = UUID().uuidString.prefix(8).lowercased()
        let folder = Platform.repositoryRoot.appendingPathComponent(".conveyor/exports/types-\(tag)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("x\n".utf8).write(to: folder.appendingPathComponent("data.txt"))
        func importData(_ priority: Int) -> String {
            #"{"jobType":"IMPORT_DATA","priority":\#(priority),"importData":{"imports":{"raw":{"path":"types-\#(tag)/data.txt"}}}}"#
        }
        func importModel(_ priority: Int) -> String {
            #"{"jobType":"IMPORT_MODEL","priority":\#(priority),"importModel":{"repository":"\#(Platform.modelRepository)","path":"noop-model","entryPoint":"run.sh","language":"shell","version":"v1.0"}}"#
        }
        // The importer takes IMPORT_MODEL and IMPORT_DATA; it is stopped while the jobs queue.
        try await Self.stopWorker("importer")
        var lowData: [String] = []
        var lowModels: [String] = []
        for _ in 0..<3 { lowData.append(try await Platform.submit(importData(10))) }
        let highModel = try await Platform.submit(importModel(90))
        for _ in 0..<3 { lowModels.append(try await Platform.submit(importModel(10))) }
        let highData = try await Platform.submit(importData(90))
        await Platform.restart("importer", with: ["IMPORTER_SLOTS": "1"])

        let order = try await Self.runs(lowData + [highModel] + lowModels + [highData]).map(\.id)
        #expect(order == [highModel, highData] + lowData + lowModels, "priority first across both types, then submission order")
        await Platform.restart("importer", with: [:])
    }

    @Test("packing by memory: on a worker with 4 slots and 1,000 MB, 600 MB jobs never run together, 400 MB jobs never three at once, a 600 and a 400 together")
    func packingByMemory() async throws {
        let noop = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        func job(_ memoryMB: Int) -> String {
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"},"parameters":{"sleep":1}},"resources":{"memoryMB":\#(memoryMB),"cpus":1}}"#
        }
        try await Self.stopWorker("runner")
        var large: [String] = []
        var small: [String] = []
        for _ in 0..<3 { large.append(try await Platform.submit(job(600))) }
        for _ in 0..<4 { small.append(try await Platform.submit(job(400))) }
        await Platform.restart("runner", with: ["RUNNER_SLOTS": "4", "RUNNER_CPUS": "4", "RUNNER_MEMORY_MB": "1000"])

        func mostAtOnce(_ runs: [(id: String, start: Date, end: Date)]) -> Int {
            runs.map { run in runs.filter { $0.start <= run.start && $0.end > run.start }.count }.max() ?? 0
        }
        let largeRuns = try await Self.runs(large)
        let smallRuns = try await Self.runs(small)
        #expect(mostAtOnce(largeRuns) == 1, "two 600 MB jobs never run together on 1,000 MB")
        #expect(mostAtOnce(smallRuns) <= 2, "three 400 MB jobs never run together")
        #expect(mostAtOnce(largeRuns + smallRuns) == 2, "the slots are not what limits: at most two jobs (1,000 MB), and two did run at once")
        // With the runner up, 400 MB jobs arriving together start two at a time.
        let pair = [try await Platform.submit(job(400)), try await Platform.submit(job(400)), try await Platform.submit(job(400))]
        #expect(mostAtOnce(try await Self.runs(pair)) == 2)
        await Platform.restart("runner", with: [:])
    }

    @Test("fair share: two owners with 150 equal jobs each, the first queued all at once, share the first 200 runs within 10 %")
    func fairShareBetweenOwners() async throws {
        let noop = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        try await Self.stopWorker("runner")
        var owners: [String: String] = [:]
        for owner in ["first-owner", "second-owner"] {
            for _ in 0..<150 {
                let id = try await Platform.submit(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"}},"owner":"\#(owner)"}"#)
                owners[id] = owner
            }
        }
        await Platform.restart("runner", with: [:])
        let first200 = try await Self.runs(Array(owners.keys)).prefix(200)
        let firstOwner = first200.filter { owners[$0.id] == "first-owner" }.count
        #expect((90...110).contains(firstOwner), "the owner who queued first got \(firstOwner) of the first 200 runs")
    }

    @Test("aging: a priority-0 job starts within its bound behind a steady stream of priority-20 jobs")
    func agingBoundsTheWait() async throws {
        let noop = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        // Two points an hour... per second: a gap of 20 points is closed after 10 s of waiting.
        await Platform.restart("scheduler", with: ["SCHEDULER_AGING_PER_HOUR": "7200"])
        func job(_ priority: Int) -> String {
            #"{"jobType":"RUN_MODEL","priority":\#(priority),"runModel":{"model":{"objectId":"\#(noop)"},"parameters":{"sleep":0.5}}}"#
        }
        var stream = [try await Platform.submit(job(20)), try await Platform.submit(job(20))]
        let low = try await Platform.submit(job(0))
        let submitted = Date()
        // Keep three high-priority jobs waiting for 20 s (one slot, 0.5 s a job).
        var lowStarted: Date?
        while Date().timeIntervalSince(submitted) < 20 {
            var waiting = 0
            for id in stream.suffix(6) where try await Platform.job(id)["status"] as? String == "QUEUED" { waiting += 1 }
            for _ in waiting..<3 { stream.append(try await Platform.submit(job(20))) }
            if lowStarted == nil, let started = Self.date(try await Platform.job(low)["startedAt"]) { lowStarted = started }
            try await Task.sleep(for: .milliseconds(200))
        }
        let started = try #require(lowStarted, "the low-priority job started while the stream went on")
        let waited = started.timeIntervalSince(submitted)
        #expect(waited >= 8 && waited <= 14, "20 points at 2 a second: it starts after about 10 s (one job's run more at most), not \(waited) s")
        let later = try await Self.runs(stream).filter { $0.start > started }
        #expect(!later.isEmpty, "the stream went on after it")
        await Platform.restart("scheduler", with: [:])
    }

    @Test("a worker cut off from the broker stops its attempt before its lease ends; the job runs once more, elsewhere, and the late worker changes nothing")
    func partitionedWorker() async throws {
        let noop = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        let amqp = URL(string: Platform.environment["CONVEYOR_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/")!
        let proxyPort = 20_000 + Int(getpid()) % 10_000
        let proxy = try Self.launch(
            ["/usr/bin/env", "python3", Platform.repositoryRoot.appendingPathComponent("Tests/tools/partition-proxy.py").path, "\(proxyPort)",
             amqp.host ?? "127.0.0.1", "\(amqp.port ?? 5672)"], environment: [:])
        defer { proxy.terminate() }
        // The runner of `make test` is stopped; a second runner talks to RabbitMQ through the proxy.
        try await Self.stopWorker("runner")
        let binaries = Platform.environment["CONVEYOR_BIN_DIR"] ?? Platform.repositoryRoot.appendingPathComponent(".build/debug").path
        try await Task.sleep(for: .milliseconds(500))
        let cutOff = try Self.launch(
            [binaries + "/runner"],
            environment: ["AMQP_URL": "amqp://guest:guest@127.0.0.1:\(proxyPort)/", "RUNNER_HEALTH_PORT": "8195", "RUNNER_SLOTS": "1"])
        defer { Self.stop(cutOff) }
        try await Self.waitHealthy(port: 8195)

        let id = try await Platform.submit(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"},"parameters":{"sleep":20}}}"#)
        try await Platform.waitFor(id, status: "RUNNING")
        let firstWorker = try #require(try await Platform.job(id)["workerId"] as? String)
        #expect(await Platform.services(["start", "runner"]) == 0)
        try await Task.sleep(for: .milliseconds(300))
        #expect(!DeadRunnerTests.processes(of: firstWorker).isEmpty, "the first attempt runs")

        #expect(kill(proxy.processIdentifier, SIGUSR1) == 0)  // the partition
        let partitioned = Date()
        var stoppedAt: Date?
        var secondStart: Date?
        let deadline = Date().addingTimeInterval(40)
        while Date() < deadline, stoppedAt == nil || secondStart == nil {
            if stoppedAt == nil, DeadRunnerTests.processes(of: firstWorker).isEmpty { stoppedAt = Date() }
            let job = try await Platform.job(id)
            let starts = (job["updates"] as? [[String: Any]] ?? []).filter { $0["status"] as? String == "RUNNING" }
            if secondStart == nil, starts.count == 2, let started = Self.date(starts[1]["at"]) { secondStart = started }
            try await Task.sleep(for: .milliseconds(100))
        }
        let stopped = try #require(stoppedAt, "the cut-off worker stopped its attempt")
        let second = try #require(secondStart, "a second attempt started elsewhere")
        // The lease is 6 s under make test: the worker stops the attempt with a margin before it ends,
        // metadata re-queues it only once it has ended.
        #expect(stopped.timeIntervalSince(partitioned) <= 6, "stopped \(stopped.timeIntervalSince(partitioned)) s after the partition")
        #expect(stopped < second, "never two attempts at once: stopped at \(stopped), the second began at \(second)")

        let job = try await Platform.waitForEnd(id, timeout: .seconds(60))
        #expect(job["status"] as? String == "SUCCEEDED" && job["attempt"] as? Int == 2)
        #expect(job["workerId"] as? String != firstWorker)
        // The partition heals: what the cut-off worker says late changes nothing.
        #expect(kill(proxy.processIdentifier, SIGUSR2) == 0)
        try await Task.sleep(for: .seconds(4))
        let after = try await Platform.job(id)
        #expect(after["status"] as? String == "SUCCEEDED" && after["attempt"] as? Int == 2 && after["finishedAt"] as? String == job["finishedAt"] as? String)
        let runs = (job["updates"] as? [[String: Any]] ?? []).filter { $0["status"] as? String == "RUNNING" }
        #expect(runs.count == 2, "two attempts started, one per worker")
    }

    /// Stops a launched process: SIGTERM, and SIGKILL when it has not ended 5 s later (a worker cut
    /// off from the broker may not finish a graceful shutdown).
    static func stop(_ process: Process) {
        guard process.isRunning else { return }
        process.terminate()
        for _ in 0..<50 where process.isRunning { usleep(100_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Starts a process in the repository root with the test environment plus `environment`.
    static func launch(_ arguments: [String], environment: [String: String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.currentDirectoryURL = Platform.repositoryRoot
        process.environment = Platform.environment.merging(environment) { $1 }
        let log = Platform.repositoryRoot.appendingPathComponent(".conveyor/logs/partition-test.log")
        if !FileManager.default.fileExists(atPath: log.path) { FileManager.default.createFile(atPath: log.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    static func waitHealthy(port: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let (_, response) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/healthz")!),
                (response as? HTTPURLResponse)?.statusCode == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("nothing healthy on port \(port)")
    }
}
