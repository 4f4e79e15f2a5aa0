import Foundation
import TestSupport
import Testing

/// Runners, importers and exporters on "hosts" of their own: network namespaces made by
/// `deploy/local/hosts.sh`, each reaching the broker over its own link and the internal storage only
/// through its shared view (the machine's own path of it is covered in their mount namespace).
/// The local runner, importer and exporter are stopped meanwhile, so every job runs on a host.
/// Needs root (CI runs as root); skipped otherwise.
@Suite("Workers on hosts of their own", .serialized, .enabled(if: getuid() == 0, "network namespaces need root"))
struct WorkerHostsTests {
    static func hosts(_ arguments: [String], settings: [String: String] = [:]) async -> Int32 {
        let saved = settings.keys.map { name in (name, getenv(name).map { String(cString: $0) }) }
        for (name, value) in settings { setenv(name, value, 1) }
        defer {
            for (name, value) in saved {
                if let value { setenv(name, value, 1) } else { unsetenv(name) }
            }
        }
        return await ScriptRunner.script("deploy/local/hosts.sh", arguments)
    }

    static let state = ProcessInfo.processInfo.environment["CONVEYOR_STATE"] ?? Platform.repositoryRoot.appendingPathComponent(".conveyor").path

    /// A worker's log (`runner-host2` → `.conveyor/logs/runner-host2.log`).
    static func log(_ name: String) -> String {
        (try? String(contentsOfFile: state + "/logs/\(name).log", encoding: .utf8)) ?? ""
    }

    /// The host a worker id names (`runner-conveyor-host2-...` → 2).
    static func host(ofWorker worker: String?) -> Int? {
        guard let worker, let range = worker.range(of: "conveyor-host") else { return nil }
        return Int(worker[range.upperBound...].prefix { $0.isNumber })
    }

    static func date(_ value: Any?) -> Date? {
        guard let text = value as? String else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    /// The most jobs that ran at the same time, from their start and end times.
    static func mostAtOnce(_ jobs: [[String: Any]]) -> Int {
        let edges = jobs.flatMap { job -> [(Date, Int)] in
            guard let start = date(job["startedAt"]), let end = date(job["finishedAt"]) else { return [] }
            return [(start, 1), (end, -1)]
        }.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
        var running = 0
        var most = 0
        for (_, change) in edges {
            running += change
            most = max(most, running)
        }
        return most
    }

    /// From the first job's start to the last one's end, in seconds.
    static func span(_ jobs: [[String: Any]]) -> Double {
        let starts = jobs.compactMap { date($0["startedAt"]) }
        let ends = jobs.compactMap { date($0["finishedAt"]) }
        guard let first = starts.min(), let last = ends.max() else { return 0 }
        return last.timeIntervalSince(first)
    }

    /// Submits `count` ticker jobs that each take about `seconds` and waits for them all: their records.
    static func runBatch(model: String, count: Int, seconds: Double) async throws -> [[String: Any]] {
        var ids: [String] = []
        for _ in 0..<count {
            ids.append(
                try await Platform.submit(
                    #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"count":2,"interval":\#(seconds / 2)}}}"#))
        }
        var jobs: [[String: Any]] = []
        for id in ids { jobs.append(try await Platform.waitForEnd(id, timeout: .seconds(120))) }
        return jobs
    }

    /// The processes of model users `ids` (a host's range) still running.
    static func processes(ofUsers ids: ClosedRange<Int>) -> [String] {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.filter { Int($0) != nil } ?? []
        return pids.filter { pid in
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") }),
                let uid = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap({ Int($0) })
            else { return false }
            return ids.contains(uid)
        }
    }

    @Test(
        "three hosts: an import, run and export through host workers; capacity adds up from one host to three; a host cut off mid-job leaves the job run once, elsewhere"
    )
    func threeHosts() async throws {
        #expect(await Platform.services(["stop", "runner", "importer", "exporter"]) == 0)
        #expect(await Self.hosts(["up", "3"]) == 0)
        // Two slots per host runner: each host is a machine of two job slots.
        let twoSlots = ["RUNNER_SLOTS": "2", "RUNNER_CPUS": "2"]
        #expect(await Self.hosts(["start", "1", "runner", "importer", "exporter"], settings: twoSlots) == 0)
        do {
            try await importRunExport()
            let ticker = try await Platform.importModel(path: "ticker-model", entryPoint: "ticker.sh", language: "shell")

            // One host: at most its two slots at once.
            let one = try await Self.runBatch(model: ticker, count: 12, seconds: 3)
            #expect(one.allSatisfy { $0["status"] as? String == "SUCCEEDED" })
            #expect(Set(one.compactMap { Self.host(ofWorker: $0["workerId"] as? String) }) == [1])
            let oneAtOnce = Self.mostAtOnce(one)
            #expect(oneAtOnce <= 2)

            // Three hosts: their slots add up.
            #expect(await Self.hosts(["start", "2"], settings: twoSlots) == 0)
            #expect(await Self.hosts(["start", "3"], settings: twoSlots) == 0)
            let three = try await Self.runBatch(model: ticker, count: 12, seconds: 3)
            #expect(three.allSatisfy { $0["status"] as? String == "SUCCEEDED" })
            #expect(Set(three.compactMap { Self.host(ofWorker: $0["workerId"] as? String) }) == [1, 2, 3])
            let threeAtOnce = Self.mostAtOnce(three)
            #expect(threeAtOnce > 4, "three hosts of two slots ran at most \(threeAtOnce) jobs at once")
            print(
                String(
                    format: "WorkerHostsTests: 12 jobs of 3 s: one host %.1f s (%d at once), three hosts %.1f s (%d at once)",
                    Self.span(one), oneAtOnce, Self.span(three), threeAtOnce))

            try await cutOffMidJob(ticker: ticker)
        } catch {
            Issue.record(error)
        }
        #expect(await Self.hosts(["down"]) == 0)
        #expect(await Platform.services(["start", "runner", "importer", "exporter"]) == 0)
    }

    /// The sample model imported, run and its output exported by workers of host 1, which reach
    /// the storage only through their view of it.
    func importRunExport() async throws {
        let model = try await Platform.importModel(path: "sample-model", entryPoint: "model.py", language: "python")
        let runId = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"text":"x y x","top":1}}}"#)
        let run = try await Platform.waitForEnd(runId)
        #expect(run["status"] as? String == "SUCCEEDED", "\(run["statusMessage"] ?? "")")
        #expect(Self.host(ofWorker: run["workerId"] as? String) == 1)
        let dataId = try #require(Platform.firstObjectId(run))
        let path = "hosts/\(runId.lowercased()).json"
        let exportId = try await Platform.submit(
            #"{"jobType":"EXPORT_DATA","exportData":{"inputs":{"summary":{"objectId":"\#(dataId)"}},"exports":{"summary":{"path":"\#(path)"}}}}"#)
        let export = try await Platform.waitForEnd(exportId)
        #expect(export["status"] as? String == "SUCCEEDED", "\(export["statusMessage"] ?? "")")
        #expect(Self.host(ofWorker: export["workerId"] as? String) == 1)
        // Host 1's export root is its own.
        let exported = Self.state + "/hosts/1/exports/\(path)"
        let summary = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: exported))) as? [String: Any]
        #expect(summary?["words"] as? Int == 3)
    }

    /// A job of about 20 s; its host is cut off while it runs. The host's runner stops the attempt
    /// when it cannot renew the lease; only after the lease has expired does the job go to another
    /// host, where it succeeds; once the link is back, nothing changes it.
    func cutOffMidJob(ticker: String) async throws {
        let id = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(ticker)"},"parameters":{"count":40,"interval":0.5}},"notification":{"email":["cut@example.com"]}}"#)
        try await Platform.waitFor(id, status: "RUNNING")
        let first = try await Platform.job(id)
        let cut = try #require(Self.host(ofWorker: first["workerId"] as? String))
        let cutUsers = (61000 + 100 * cut)...(61000 + 100 * cut + 63)
        try await Task.sleep(for: .seconds(1))
        #expect(!Self.processes(ofUsers: cutUsers).isEmpty, "the model runs on host \(cut)")
        let logBefore = Self.log("runner-host\(cut)").count
        #expect(await Self.hosts(["cut", "\(cut)"]) == 0)

        // Until the job runs again elsewhere, and at that moment: the cut host's model is gone.
        let deadline = ContinuousClock.now + .seconds(60)
        var again: [String: Any] = [:]
        while ContinuousClock.now < deadline {
            again = try await Platform.job(id)
            if (again["attempt"] as? Int ?? 0) >= 2 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(again["attempt"] as? Int == 2)
        #expect(Self.processes(ofUsers: cutUsers).isEmpty, "the cut host's attempt was stopped before the job ran again")
        let done = try await Platform.waitForEnd(id, timeout: .seconds(90))
        #expect(done["status"] as? String == "SUCCEEDED")
        #expect(done["attempt"] as? Int == 2)
        let finalHost = Self.host(ofWorker: done["workerId"] as? String)
        #expect(finalHost != nil && finalHost != cut)
        // Re-queued by metadata when the lease expired, or by the scheduler when the worker fell
        // silent (whichever came first; the lease had expired either way).
        let messages = ((done["updates"] as? [[String: Any]]) ?? []).compactMap { $0["message"] as? String }
        #expect(messages.contains { $0.contains("re-queued") }, "\(messages)")

        // The link back: the cut runner finishes with the attempt it stopped (it does not report
        // it: metadata re-queued it); the job stays as it ended, with one e-mail.
        #expect(await Self.hosts(["heal", "\(cut)"]) == 0)
        let letGo = { Self.log("runner-host\(cut)").dropFirst(logBefore).contains("attempt stopped without a lease") }
        let settleDeadline = ContinuousClock.now + .seconds(90)
        while !letGo(), ContinuousClock.now < settleDeadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(letGo(), "the cut runner let go of its attempt")
        _ = try await Platform.waitForMail(forJob: id)
        try await Task.sleep(for: .seconds(5))
        let after = try await Platform.job(id)
        #expect(after["status"] as? String == "SUCCEEDED")
        #expect(after["attempt"] as? Int == 2)
        #expect(Platform.mails(forJob: id).count == 1)
    }
}
