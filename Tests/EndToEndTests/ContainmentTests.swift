import AMQPClient
import ConveyorModels
import Foundation
import Logging
import Testing

/// Hostile models through the running platform: each attempt's processes are contained (a control
/// group with the job's memory, CPU and process limits, killed as a whole) and measured.
@Suite("Containment", .serialized)
struct ContainmentTests {
    static func hostile() async throws -> String {
        try await Platform.importModel(path: "hostile-model", entryPoint: "hostile.py", language: "python")
    }

    static func job(_ model: String, _ parameters: String, resources: String = #"{"memoryMB":256}"#) -> String {
        #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{\#(parameters)}},"resources":\#(resources)}"#
    }

    /// Processes of this host whose command line holds `marker`.
    static func processes(carrying marker: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            return String(decoding: data, as: UTF8.self).contains(marker) ? pid : nil
        }
    }

    static func failure(_ job: [String: Any]) -> [String: Any] {
        (job["result"] as? [String: Any])?["failure"] as? [String: Any] ?? [:]
    }

    static func log(_ id: String) async throws -> String {
        try await Platform.request("GET", "/api/v1/jobs/\(id)/log").text
    }

    @Test("a memory hog ends FAILED, out of memory, within seconds; the runner and the next job are unharmed")
    func memoryHog() async throws {
        let model = try await Self.hostile()
        let started = Date()
        let id = try await Platform.submit(Self.job(model, #""behaviour":"hog""#))
        let job = try await Platform.waitForEnd(id, timeout: .seconds(60))
        #expect(job["status"] as? String == "FAILED")
        #expect(Self.failure(job)["kind"] as? String == "OUT_OF_MEMORY", "\(job["result"] ?? "")")
        #expect((job["statusMessage"] as? String ?? "").contains("ran out of memory (limit 256 MB)"), "\(job["statusMessage"] ?? "")")
        #expect(Date().timeIntervalSince(started) < 30)
        let next = try await Platform.waitForEnd(try await Platform.submit(Self.job(model, #""behaviour":"allocate","megabytes":10"#)))
        #expect(next["status"] as? String == "SUCCEEDED", "the runner runs the next job")
    }

    @Test("a retry after running out of memory asks for more (memoryFactor) and succeeds")
    func retryWithMoreMemory() async throws {
        let model = try await Self.hostile()
        let id = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"behaviour":"allocate","megabytes":300}},"resources":{"memoryMB":256},"retry":{"maxAttempts":2,"backoffSeconds":1,"retryOn":["OUT_OF_MEMORY"],"memoryFactor":2}}"#)
        let job = try await Platform.waitForEnd(id, timeout: .seconds(60))
        #expect(job["status"] as? String == "SUCCEEDED" && job["attempt"] as? Int == 2, "\(job["statusMessage"] ?? "")")
        let earlier = ((job["result"] as? [String: Any])?["earlierAttempts"] as? [[String: Any]])?.first
        #expect((earlier?["failure"] as? [String: Any])?["kind"] as? String == "OUT_OF_MEMORY", "\(job["result"] ?? "")")
        let updates = (job["updates"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }
        #expect(updates.contains { $0.contains("512") }, "the retry asked for 512 MB: \(updates)")
    }

    @Test("the memory of a job is its processes' peak, within 10 % of what it allocated; samples while it ran; the e-mail states peak against limit")
    func usage() async throws {
        let model = try await Self.hostile()
        let id = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"behaviour":"allocate","megabytes":300,"seconds":3}},"resources":{"memoryMB":1024},"notification":{"email":["usage@example.com"]}}"#)
        let job = try await Platform.waitForEnd(id, timeout: .seconds(60))
        try #require(job["status"] as? String == "SUCCEEDED", "\(job["statusMessage"] ?? "")")
        let answer = try await Platform.request("GET", "/api/v1/jobs/\(id)/usage")
        #expect(answer.status == 200, "\(answer.text)")
        let usage = try #require(answer.json["usage"] as? [String: Any], "\(answer.text)")
        let peakMB = Double(usage["maxResidentKB"] as? Int ?? 0) / 1024
        #expect(abs(peakMB - 300) <= 30, "peak \(peakMB) MB for 300 MB allocated")
        #expect((usage["cpuUserSeconds"] as? Double ?? 0) + (usage["cpuSystemSeconds"] as? Double ?? 0) > 0)
        #expect(usage["memoryLimitMB"] as? Int == 1024 && (answer.json["requested"] as? [String: Any])?["memoryMB"] as? Int == 1024)
        // make test samples every second (RUNNER_USAGE_SAMPLE_SECONDS=1).
        let samples = usage["samples"] as? [[String: Any]] ?? []
        #expect(samples.count >= 2, "\(samples)")
        #expect(samples.contains { ($0["memoryBytes"] as? Int ?? 0) > 250 << 20 }, "a sample saw the memory held: \(samples)")
        let mail = try await Platform.waitForMail(forJob: id)
        #expect(mail.contains("Memory:    3") && mail.contains("MB peak of 1024 MB"), "\(mail)")
        let unknown = try await Platform.request("GET", "/api/v1/jobs/\(UUID())/usage")
        #expect(unknown.status == 404)
    }

    @Test("a job whose work folder outgrows its disk quota ends FAILED with DISK_LIMIT")
    func diskQuota() async throws {
        let model = try await Self.hostile()
        // make test gives each attempt 64 MB of disk (RUNNER_DISK_MB=64).
        let id = try await Platform.submit(Self.job(model, #""behaviour":"fill","megabytes":160"#))
        let job = try await Platform.waitForEnd(id, timeout: .seconds(60))
        #expect(job["status"] as? String == "FAILED" && Self.failure(job)["kind"] as? String == "DISK_LIMIT", "\(job["result"] ?? "")")
        #expect((job["statusMessage"] as? String ?? "").contains("outgrew its disk quota of 64 MB"), "\(job["statusMessage"] ?? "")")
        let usage = try await Platform.request("GET", "/api/v1/jobs/\(id)/usage").json["usage"] as? [String: Any] ?? [:]
        #expect((usage["ioWriteBytes"] as? Int ?? 0) >= 64 << 20, "the bytes it wrote are counted: \(usage)")
        #expect((usage["peakDiskBytes"] as? Int ?? 0) > 64 << 20 && usage["diskLimitBytes"] as? Int == 64 << 20, "\(usage)")
    }

    @Test("a fork of 2,000 children is capped at the process limit and every child ends with the job")
    func forkBomb() async throws {
        let model = try await Self.hostile()
        let marker = "fork-\(UUID().uuidString.prefix(8))"
        // make test caps processes at 256 (RUNNER_MAX_PROCESSES); each child holds about 1 MB.
        let id = try await Platform.submit(
            Self.job(model, #""behaviour":"forks","children":2000,"marker":"\#(marker)""#, resources: #"{"memoryMB":512}"#))
        let job = try await Platform.waitForEnd(id, timeout: .seconds(90))
        let log = try await Self.log(id)
        let line = log.split(separator: "\n").first { $0.hasPrefix("fork failed after") || $0.hasPrefix("started ") } ?? ""
        #expect(line.hasPrefix("fork failed after"), "the process limit stopped it: \(line) (\(job["status"] ?? ""), \(job["statusMessage"] ?? ""))\n\(log.suffix(2000))")
        let started = Int(line.split(separator: " ").dropFirst(3).first ?? "") ?? Int.max
        #expect(started < 256, "fewer children than the limit (the model itself counts too)")
        #expect(Self.processes(carrying: marker).isEmpty)
    }

    /// The resident memory of a running service, in MB (its pid file in .conveyor/run).
    static func residentMB(of service: String) throws -> Double {
        let pidFile = Platform.repositoryRoot.appendingPathComponent(".conveyor/run/\(service).pid").path
        let pid = try #require(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) as String?)
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return Double(line.split(separator: " ").dropFirst().first ?? "0").map { $0 / 1024 } ?? 0
    }

    @Test("a model printing 1 GB keeps a log cut at the cap with one marker, and the runner's memory stays flat")
    func printsWithoutEnd() async throws {
        let model = try await Self.hostile()
        _ = try await Platform.waitForEnd(try await Platform.submit(Self.job(model, #""behaviour":"print","megabytes":1"#)))
        let before = try Self.residentMB(of: "runner")
        let id = try await Platform.submit(Self.job(model, #""behaviour":"print","megabytes":1024"#))
        var peak = before
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, !["SUCCEEDED", "FAILED"].contains(try await Platform.job(id)["status"] as? String ?? "") {
            peak = max(peak, try Self.residentMB(of: "runner"))
            try await Task.sleep(for: .milliseconds(100))
        }
        let job = try await Platform.waitForEnd(id)
        #expect(job["status"] as? String == "SUCCEEDED", "\(job["statusMessage"] ?? "")")
        let result = try #require(job["result"] as? [String: Any])
        let logBytes = result["logBytes"] as? Int ?? 0
        #expect(logBytes >= 1 << 30 && logBytes < (1 << 30) + 1024, "every byte counted (and the runner's line): \(logBytes)")
        #expect(result["logTruncated"] as? Bool == true)
        let log = try await Self.log(id)
        #expect(log.utf8.count < 9 * 1024 * 1024, "the log kept is the cap (8 MiB) and the marker: \(log.utf8.count) bytes")
        #expect(log.components(separatedBy: "[conveyor] log truncated").count == 2, "one marker")
        #expect(peak - before < 100, "the runner grew \(peak - before) MB (from \(before) MB)")
    }

    @Test("models run as users of their own: one reads its own input, not another running job's input nor the internal storage")
    func isolation() async throws {
        let model = try await Self.hostile()
        let upload = try await Platform.request("POST", "/api/v1/data", body: Data("secret\n".utf8), headers: ["Content-Type": "text/plain"])
        try #require(upload.status == 201, "\(upload.text)")
        let input = (upload.json["objectId"] as? String ?? "").lowercased()
        let stored = Platform.repositoryRoot.appendingPathComponent(".conveyor/storage/" + (upload.json["storagePath"] as? String ?? "")).path
        #expect(FileManager.default.fileExists(atPath: stored), "the stored object: \(stored)")
        // Two slots, so that the reader runs while the holder holds its copy of the input.
        await Platform.restart("runner", with: ["RUNNER_SLOTS": "2", "RUNNER_CPUS": "2"])
        let holder = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"behaviour":"hold","seconds":20},"inputs":{"data":{"objectId":"\#(input)"}}}}"#)
        try await Platform.waitFor(holder, status: "RUNNING")
        let work = Platform.repositoryRoot.appendingPathComponent(".conveyor/work").path
        var copy: String?
        for _ in 0..<50 where copy == nil {
            for worker in (try? FileManager.default.contentsOfDirectory(atPath: work)) ?? [] {
                let folder = "\(work)/\(worker)/\(holder.lowercased())-a1/inputs/data"
                if let file = try? FileManager.default.contentsOfDirectory(atPath: folder).first { copy = folder + "/" + file }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let holderCopy = try #require(copy, "the holder's copy of its input")
        func read(_ path: String) async throws -> String {
            let id = try await Platform.submit(
                #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"behaviour":"read","path":"\#(path)"},"inputs":{"data":{"objectId":"\#(input)"}}}}"#)
            let job = try await Platform.waitForEnd(id, timeout: .seconds(30))
            #expect(job["status"] as? String == "SUCCEEDED", "\(job["statusMessage"] ?? "")")
            return try await Self.log(id)
        }
        let another = try await read(holderCopy)
        #expect(another.contains("read my input: 7 bytes"), "\(another)")
        #expect(another.contains("cannot read \(holderCopy): Permission denied"), "\(another)")
        let storage = try await read(stored)
        #expect(storage.contains("cannot read \(stored): Permission denied"), "\(storage)")
        _ = try await Platform.request("POST", "/api/v1/jobs/\(holder)/cancel")
        await Platform.restart("runner", with: [:])
    }

    @Test("an execution profile: its environment and interpreter reach the model, its defaults are filled in; unknown profiles and requests beyond it are refused")
    func profile() async throws {
        let model = try await Self.hostile()
        // make test configures profile `lean` (PROFILES_*: an environment variable, /usr/bin/python3, 300 MB by default, 512 MB at most).
        let id = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","profile":"lean","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"behaviour":"env","variable":"CONVEYOR_PROFILE_CHECK"}}}"#)
        let job = try await Platform.waitForEnd(id)
        #expect(job["status"] as? String == "SUCCEEDED", "\(job["statusMessage"] ?? "")")
        let log = try await Self.log(id)
        #expect(log.contains("CONVEYOR_PROFILE_CHECK=lean-profile") && log.contains("interpreter /usr/bin/python3"), "\(log)")
        #expect(((job["definition"] as? [String: Any])?["resources"] as? [String: Any])?["memoryMB"] as? Int == 300, "the profile's default")
        let usage = try await Platform.request("GET", "/api/v1/jobs/\(id)/usage")
        #expect((usage.json["usage"] as? [String: Any])?["memoryLimitMB"] as? Int == 300, "\(usage.text)")

        func refused(_ body: String) async throws -> String {
            let answer = try await Platform.request("POST", "/api/v1/jobs", body: Data(body.utf8))
            #expect(answer.status == 422, "\(answer.text)")
            return answer.text
        }
        let tooBig = try await refused(
            #"{"jobType":"RUN_MODEL","profile":"lean","resources":{"memoryMB":1024},"runModel":{"model":{"objectId":"\#(model)"}}}"#)
        #expect(tooBig.contains("resources.memoryMB") && tooBig.contains("profile 'lean' allows at most 512 MB"), "\(tooBig)")
        let unknown = try await refused(#"{"jobType":"RUN_MODEL","profile":"huge","runModel":{"model":{"objectId":"\#(model)"}}}"#)
        #expect(unknown.contains("no execution profile 'huge' (this deployment has lean)"), "\(unknown)")
    }

    @Test("a running model says how far it is, its results and events through $CONVEYOR_PROGRESS: shown while it runs, published as job.progress, kept with its result, in its e-mail")
    func progress() async throws {
        let model = try await Self.hostile()
        // A consumer of progress events, as another team's service would bind one.
        var logger = Logger(label: "e2e")
        logger.logLevel = .warning
        let queue = "e2e-progress-\(UUID().uuidString.prefix(8))"
        let events = try AMQPConnection(
            name: "e2e-progress",
            configuration: AMQPConfiguration(url: ProcessInfo.processInfo.environment["CONVEYOR_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/"),
            topology: AMQPTopology(queues: [
                AMQPTopology.Queue(name: queue, expiresMilliseconds: 60_000, bindings: [(Topology.eventsExchange, "progress.run_model")])
            ]),
            logger: logger)
        defer { Task { await events.close() } }
        try await Task.sleep(for: .milliseconds(500))
        let id = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"behaviour":"report","seconds":4}},"notification":{"email":["progress@example.com"]}}"#)
        var seen: [String: Any]?
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, seen == nil {
            let job = try await Platform.job(id)
            if job["status"] as? String == "RUNNING", let progress = job["progress"] as? [String: Any], (progress["fraction"] as? Double ?? 0) > 0 {
                seen = progress
            }
            if (job["status"] as? String).map({ ["SUCCEEDED", "FAILED", "CANCELLED"].contains($0) }) == true { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let running = try #require(seen, "the job showed its progress while it ran")
        #expect((running["message"] as? String ?? "").hasPrefix("step "), "\(running)")
        // The first progress event of this job (the consumer stops after 10 s at most).
        let received = Task { () -> JobProgressEvent? in
            for await delivery in events.consume(queue: queue) {
                events.ack(delivery)
                guard delivery.routingKey == "progress.run_model", delivery.type == JobProgressEvent.messageType,
                    let event = try? Envelope<JobProgressEvent>.decode(delivery.body).payload
                else { continue }
                if event.jobId == UUID(uuidString: id) { return event }
            }
            return nil
        }
        let stop = Task {
            try await Task.sleep(for: .seconds(10))
            received.cancel()
        }
        let announced = await received.value
        stop.cancel()
        let said = announced?.progress.message ?? ""
        #expect(announced?.jobType == .runModel && (said == "starting" || said.hasPrefix("step ")), "\(String(describing: announced))")

        let job = try await Platform.waitForEnd(id)
        #expect(job["status"] as? String == "SUCCEEDED", "\(job["statusMessage"] ?? "")")
        let last = try #require((job["result"] as? [String: Any])?["progress"] as? [String: Any], "\(job["result"] ?? "")")
        #expect(last["fraction"] as? Double == 1 && last["message"] as? String == "done")
        let results = last["results"] as? [String: [String: Any]] ?? [:]
        #expect(results["rows"]?["value"] as? Int == 1200 && results["score"]?["value"] as? Double == 0.93 && results["label"]?["value"] as? String == "ok", "\(results)")
        #expect((last["events"] as? [[String: Any]])?.first?["message"] as? String == "checkpoint written")
        #expect(last["ignoredLines"] as? Int == 1, "the line that is not JSON is counted")
        #expect(job["progress"] == nil, "an ended job keeps it in its result")
        let mail = try await Platform.waitForMail(forJob: id)
        #expect(mail.contains("Progress:  done") && mail.contains("Results:   label: ok, rows: 1200, score: 0.93"), "\(mail)")
    }

    @Test("a model that ignores SIGTERM is killed after the grace period past its time limit")
    func ignoresTerm() async throws {
        let model = try await Self.hostile()
        let started = Date()
        let id = try await Platform.submit(Self.job(model, #""behaviour":"ignore-term""#, resources: #"{"memoryMB":256,"maxRunSeconds":2}"#))
        let job = try await Platform.waitForEnd(id, timeout: .seconds(60))
        #expect(job["status"] as? String == "FAILED" && Self.failure(job)["kind"] as? String == "TIMEOUT", "\(job["result"] ?? "")")
        // 2 s, then 2 s of grace (make test), then the report.
        #expect(Date().timeIntervalSince(started) < 20)
    }

    @Test("a child that leaves the process group with setsid and holds the output ends with the job, at its time limit or when the model exits")
    func setsidEscape() async throws {
        let model = try await Self.hostile()
        let marker = "escape-\(UUID().uuidString.prefix(8))"
        let started = Date()
        let staying = try await Platform.submit(
            Self.job(model, #""behaviour":"escape","marker":"\#(marker)""#, resources: #"{"memoryMB":256,"maxRunSeconds":3}"#))
        let timedOut = try await Platform.waitForEnd(staying, timeout: .seconds(60))
        #expect(timedOut["status"] as? String == "FAILED" && Self.failure(timedOut)["kind"] as? String == "TIMEOUT")
        #expect(Date().timeIntervalSince(started) < 20, "ended at its time limit, not when the child would")
        #expect(Self.processes(carrying: marker).isEmpty, "nothing left running")

        let leaving = try await Platform.submit(Self.job(model, #""behaviour":"escape","leave":true,"marker":"\#(marker)""#))
        let left = try await Platform.waitForEnd(leaving, timeout: .seconds(30))
        #expect(left["status"] as? String == "SUCCEEDED", "the model itself exited 0")
        #expect(Self.processes(carrying: marker).isEmpty, "the child it left was ended with it")
    }
}
