import ConveyorModels
import Foundation
import TestSupport
import Testing

/// The scheduler's policy through the running platform: dependencies, retries, queue positions and
/// estimates, a queue quota, jobs that fit no worker, and a job whose worker is lost again and again.
@Suite("Scheduling", .serialized)
struct SchedulingTests {
    static func noop() async throws -> String {
        try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
    }

    static func failing() async throws -> String {
        try await Platform.importModel(path: "failing-model", entryPoint: "fail.sh", language: "shell")
    }

    static func date(_ value: Any?) -> Date? { (value as? String).flatMap(Timestamp.parse) }

    @Test("a dependency chain: the jobs after a failure are CANCELLED naming it, with their e-mails; a success releases the next")
    func dependencyChain() async throws {
        let (noop, failing) = (try await Self.noop(), try await Self.failing())
        let first = try await Platform.submit(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(failing)"}}}"#)
        let second = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"}},"dependsOn":{"jobIds":["\#(first)"]},"notification":{"email":["deps@example.com"]}}"#)
        let third = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"}},"dependsOn":{"jobIds":["\#(second)"]}}"#)
        let anyway = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"}},"dependsOn":{"jobIds":["\#(first)"],"condition":"ENDED"}}"#)
        // It waits in PENDING (the failing model may already have ended and cancelled it: the history says).
        #expect(Platform.statuses(try await Platform.job(third)).contains("PENDING"))

        #expect(try await Platform.waitForEnd(first)["status"] as? String == "FAILED")
        let (cancelled, next) = (try await Platform.waitForEnd(second), try await Platform.waitForEnd(third))
        #expect(cancelled["status"] as? String == "CANCELLED" && (cancelled["statusMessage"] as? String ?? "").contains(first.lowercased()))
        #expect(next["status"] as? String == "CANCELLED" && (next["statusMessage"] as? String ?? "").contains(second.lowercased()))
        #expect(try await Platform.waitForEnd(anyway)["status"] as? String == "SUCCEEDED")
        #expect(try await Platform.waitForMail(forJob: second).contains("CANCELLED"), "one e-mail for the cancelled job")

        let ok = try await Platform.submit(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"}}}"#)
        let after = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"}},"dependsOn":{"jobIds":["\#(ok)"]}}"#)
        #expect(try await Platform.waitForEnd(after)["status"] as? String == "SUCCEEDED")
        let unknown = try await Platform.request(
            "POST", "/api/v1/jobs", body: Data(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"}},"dependsOn":{"jobIds":["\#(UUID())"]}}"#.utf8))
        #expect(unknown.status == 422 && unknown.text.contains("dependsOn.jobIds[0]"))
    }

    @Test("a chain re-run: a dry run says what would run; then only the failed job and what it held up run again, what succeeded is kept")
    func rerunChain() async throws {
        let noop = try await Self.noop()
        let flaky = try await Platform.importModel(path: "flaky-model", entryPoint: "flaky.sh", language: "shell")
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("conveyor-flaky-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: marker, contents: Data())
        defer { try? FileManager.default.removeItem(atPath: marker) }
        func noopAfter(_ id: String, _ condition: String = "SUCCEEDED") -> String {
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"}},"dependsOn":{"jobIds":["\#(id)"],"condition":"\#(condition)"}}"#
        }
        let first = try await Platform.submit(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"}}}"#)
        let flakyJob = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(flaky)"},"parameters":{"failWhile":"\#(marker)"}},"dependsOn":{"jobIds":["\#(first)"]}}"#)
        let heldUp = try await Platform.submit(noopAfter(flakyJob))
        let anyway = try await Platform.submit(noopAfter(flakyJob, "ENDED"))
        #expect(try await Platform.waitForEnd(flakyJob)["status"] as? String == "FAILED")
        #expect(try await Platform.waitForEnd(heldUp)["status"] as? String == "CANCELLED")
        #expect(try await Platform.waitForEnd(anyway)["status"] as? String == "SUCCEEDED")
        func ids(_ value: Any?) -> [String] { (value as? [Any] ?? []).compactMap { ($0 as? String)?.lowercased() } }
        func steps(_ plan: [String: Any]) -> [[String: Any]] { plan["jobs"] as? [[String: Any]] ?? [] }

        let newest = try await Platform.request("GET", "/api/v1/jobs?limit=1")
        let dry = try await Platform.request("POST", "/api/v1/jobs/\(flakyJob)/rerun-chain?dryRun=true")
        #expect(dry.status == 200 && dry.json["dryRun"] as? Bool == true, "\(dry.text)")
        #expect(steps(dry.json).compactMap { ($0["rerunOf"] as? String)?.lowercased() } == [flakyJob.lowercased(), heldUp.lowercased()])
        #expect(steps(dry.json).allSatisfy { $0["jobId"] == nil }, "a dry run makes no job")
        #expect(ids(steps(dry.json).last?["dependsOn"]) == [flakyJob.lowercased()], "named by the job it re-runs")
        #expect(ids(dry.json["reused"]) == [anyway.lowercased()], "what succeeded after it is kept")
        let stillNewest = try await Platform.request("GET", "/api/v1/jobs?limit=1")
        #expect(
            (newest.json["jobs"] as? [[String: Any]])?.first?["jobId"] as? String == (stillNewest.json["jobs"] as? [[String: Any]])?.first?["jobId"] as? String,
            "nothing written")

        try FileManager.default.removeItem(atPath: marker)  // the failure was transient
        let run = try await Platform.request("POST", "/api/v1/jobs/\(flakyJob)/rerun-chain")
        #expect(run.status == 201, "\(run.text)")
        let newIds = steps(run.json).compactMap { $0["jobId"] as? String }
        try #require(newIds.count == 2)
        #expect(ids(steps(run.json)[0]["dependsOn"]) == [first.lowercased()], "the job that succeeded before it is depended on as it is")
        #expect(ids(steps(run.json)[1]["dependsOn"]) == [newIds[0].lowercased()], "the job it held up now waits for its re-run")
        let rerunFlaky = try await Platform.waitForEnd(newIds[0])
        #expect(rerunFlaky["status"] as? String == "SUCCEEDED" && (rerunFlaky["rerunOf"] as? String)?.lowercased() == flakyJob.lowercased())
        #expect(try await Platform.waitForEnd(newIds[1])["status"] as? String == "SUCCEEDED")
        #expect(try await Platform.job(anyway)["status"] as? String == "SUCCEEDED")

        let running = try await Platform.submit(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"},"parameters":{"sleep":5}}}"#)
        let refused = try await Platform.request("POST", "/api/v1/jobs/\(running)/rerun-chain")
        #expect(refused.status == 409, "a job that has not ended is not re-run: \(refused.text)")
        _ = try await Platform.request("POST", "/api/v1/jobs/\(running)/cancel")
    }

    @Test("a chain re-run of a flow keeps the nodes that finished; of a group, the jobs that succeeded")
    func rerunKeepsFinishedStages() async throws {
        let (noop, upper) = (try await Self.noop(), try await Platform.importModel(path: "upper-model", entryPoint: "upper.py", language: "python"))
        let flaky = try await Platform.importModel(path: "flaky-model", entryPoint: "flaky.sh", language: "shell")
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("conveyor-flaky-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: marker, contents: Data())
        defer { try? FileManager.default.removeItem(atPath: marker) }
        func steps(_ plan: [String: Any]) -> [[String: Any]] { plan["jobs"] as? [[String: Any]] ?? [] }

        // A flow: shout (upper case) feeds the report and a check that fails while the marker exists.
        let upload = try await Platform.request("POST", "/api/v1/data", body: Data("keep me\n".utf8), headers: ["Content-Type": "text/plain"])
        try #require(upload.status == 201, "\(upload.text)")
        let input = (upload.json["objectId"] as? String ?? "").lowercased()
        let flow = try await Platform.request(
            "POST", "/api/v1/objects",
            body: Data(#"{"definition":{"objectType":"FLOW","flow":{"nodes":{"raw":{"nodeType":"INPUT_NODE"},"shout":{"nodeType":"MODEL_NODE","inputs":["source"],"outputs":["result"]},"check":{"nodeType":"MODEL_NODE","inputs":["source"]},"report":{"nodeType":"OUTPUT_NODE"}},"edges":[{"source":{"node":"raw"},"target":{"node":"shout","socket":"source"}},{"source":{"node":"shout","socket":"result"},"target":{"node":"check","socket":"source"}},{"source":{"node":"shout","socket":"result"},"target":{"node":"report"}}]}}}"#.utf8))
        try #require(flow.status == 201, "\(flow.text)")
        let flowId = (flow.json["objectId"] as? String ?? "").lowercased()
        let failedFlow = try await Platform.submit(
            #"{"jobType":"RUN_FLOW","runFlow":{"flow":{"objectId":"\#(flowId)"},"models":{"shout":{"objectId":"\#(upper)"},"check":{"objectId":"\#(flaky)"}},"parameters":{"failWhile":"\#(marker)"},"inputs":{"raw":{"objectId":"\#(input)"}}}}"#)
        let failed = try await Platform.waitForEnd(failedFlow)
        #expect(failed["status"] as? String == "FAILED" && (failed["statusMessage"] as? String ?? "").contains("flow node 'check' failed"))
        let kept = ((failed["result"] as? [String: Any])?["outputs"] as? [String: Any])?["shout.result"] as? [String: Any]
        #expect(kept != nil, "the failed flow kept the output of the node that finished: \(failed["result"] ?? "")")

        let dryFlow = try await Platform.request("POST", "/api/v1/jobs/\(failedFlow)/rerun-chain?dryRun=true")
        #expect(dryFlow.status == 200 && steps(dryFlow.json).first?["keptNodes"] as? [String] == ["shout"], "\(dryFlow.text)")
        try FileManager.default.removeItem(atPath: marker)
        let flowRun = try await Platform.request("POST", "/api/v1/jobs/\(failedFlow)/rerun-chain")
        let flowAgain = try #require(steps(flowRun.json).first?["jobId"] as? String, "\(flowRun.text)")
        let ranAgain = try await Platform.waitForEnd(flowAgain)
        try #require(ranAgain["status"] as? String == "SUCCEEDED", "\(ranAgain["statusMessage"] ?? "")")
        let log = try await Platform.request("GET", "/api/v1/jobs/\(flowAgain)/log")
        #expect(log.text.contains("flow node 'shout' kept from an earlier run") && !log.text.contains("flow node 'shout'\n"), "\(log.text)")
        let report = try #require(((ranAgain["result"] as? [String: Any])?["outputs"] as? [String: Any])?["report"] as? [String: Any])
        let content = try await Platform.request("GET", "/api/v1/objects/\((report["objectId"] as? String ?? "").lowercased())/content")
        #expect(content.text == "KEEP ME\n", "the kept output fed the flow's output")

        // A sequential group whose second job fails: the first is kept, the second and third run.
        FileManager.default.createFile(atPath: marker, contents: Data())
        let noopJob = #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"}}}"#
        let flakyJob = #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(flaky)"},"parameters":{"failWhile":"\#(marker)"}}}"#
        let group = try await Platform.submit(#"{"jobType":"JOB_GROUP","jobGroup":{"groupType":"SEQUENTIAL","jobs":[\#(noopJob),\#(flakyJob),\#(noopJob)]}}"#)
        let failedGroup = try await Platform.waitForEnd(group)
        #expect(failedGroup["status"] as? String == "FAILED")
        let firstChildren = (failedGroup["childJobIds"] as? [String] ?? []).map { $0.lowercased() }
        try #require(firstChildren.count == 2, "the third job never started: \(firstChildren)")
        try FileManager.default.removeItem(atPath: marker)
        let groupRun = try await Platform.request("POST", "/api/v1/jobs/\(group)/rerun-chain")
        let step = try #require(steps(groupRun.json).first, "\(groupRun.text)")
        #expect((step["keptJobs"] as? [String])?.map { $0.lowercased() } == [firstChildren[0]])
        let groupAgain = try await Platform.waitForEnd(try #require(step["jobId"] as? String))
        #expect(groupAgain["status"] as? String == "SUCCEEDED", "\(groupAgain["statusMessage"] ?? "")")
        let children = groupAgain["childJobIds"] as? [String] ?? []
        try #require(children.count == 3)
        let keptChild = try await Platform.job(children[0])
        #expect(keptChild["status"] as? String == "SUCCEEDED" && (keptChild["rerunOf"] as? String)?.lowercased() == firstChildren[0])
        #expect((keptChild["statusMessage"] as? String ?? "").hasPrefix("kept the result of job"))
        #expect(Platform.statuses(keptChild) == ["VALIDATED", "SUCCEEDED"], "the kept job never ran again")
        #expect(Platform.statuses(try await Platform.job(children[1])).contains("RUNNING"), "the failed job ran again")
    }

    @Test("a re-run downstream of a newer input version: a dry run names the jobs that read an older version; they run again on the latest")
    func rerunDownstream() async throws {
        let upper = try await Platform.importModel(path: "upper-model", entryPoint: "upper.py", language: "python")
        func steps(_ plan: [String: Any]) -> [[String: Any]] { plan["jobs"] as? [[String: Any]] ?? [] }
        func run(_ input: String) -> String { #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(upper)"},"inputs":{"source":{"objectId":"\#(input)"}}}}"# }
        func output(_ job: [String: Any]) async throws -> String {
            let selector = ((job["result"] as? [String: Any])?["outputs"] as? [String: Any])?["result"] as? [String: Any]
            return try await Platform.request("GET", "/api/v1/objects/\((selector?["objectId"] as? String ?? "").lowercased())/content").text
        }
        let first = try await Platform.request("POST", "/api/v1/data", body: Data("first\n".utf8), headers: ["Content-Type": "text/plain"])
        try #require(first.status == 201, "\(first.text)")
        let input = (first.json["objectId"] as? String ?? "").lowercased()
        let old = try await Platform.submit(run(input))
        #expect(try await output(try await Platform.waitForEnd(old)) == "FIRST\n")
        let second = try await Platform.request(
            "POST", "/api/v1/data?objectId=\(input)&priorVersion=1", body: Data("second\n".utf8), headers: ["Content-Type": "text/plain"])
        try #require(second.status == 201, "\(second.text)")
        let fresh = try await Platform.submit(run(input))
        #expect(try await Platform.waitForEnd(fresh)["status"] as? String == "SUCCEEDED")

        let dry = try await Platform.request("POST", "/api/v1/objects/\(input)/rerun-downstream?dryRun=true")
        #expect(dry.status == 200 && dry.json["objectVersion"] as? Int == 2, "\(dry.text)")
        #expect(steps(dry.json).map { ($0["rerunOf"] as? String ?? "").lowercased() } == [old.lowercased()], "only the job that read version 1")
        #expect(steps(dry.json).first?["readVersions"] as? [String: Int] == ["runModel.inputs.source": 1])
        #expect((dry.json["reused"] as? [String])?.map { $0.lowercased() } == [fresh.lowercased()], "the job that read version 2 is kept")
        #expect(steps(dry.json).first?["jobId"] == nil, "a dry run makes no job")

        let ran = try await Platform.request("POST", "/api/v1/objects/\(input)/rerun-downstream")
        #expect(ran.status == 201, "\(ran.text)")
        let again = try await Platform.waitForEnd(try #require(steps(ran.json).first?["jobId"] as? String))
        #expect(again["status"] as? String == "SUCCEEDED" && (again["rerunOf"] as? String)?.lowercased() == old.lowercased())
        #expect(try await output(again) == "SECOND\n", "the re-run read the latest version")
        let nothingLeft = try await Platform.request("POST", "/api/v1/objects/\(input)/rerun-downstream?dryRun=true")
        #expect(steps(nothingLeft.json).isEmpty, "every line of jobs has read the latest: \(nothingLeft.text)")
        let unknown = try await Platform.request("POST", "/api/v1/objects/\(UUID())/rerun-downstream?dryRun=true")
        #expect(unknown.status == 404, "\(unknown.text)")
    }

    @Test("a retry with backoff: the failed attempt is kept, the next starts after the backoff, the last failure ends the job")
    func retry() async throws {
        let failing = try await Self.failing()
        let id = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(failing)"},"parameters":{"code":7}},"retry":{"maxAttempts":2,"backoffSeconds":2,"retryOn":["EXIT_CODE"]},"notification":{"email":["retry@example.com"]}}"#)
        let job = try await Platform.waitForEnd(id, timeout: .seconds(60))
        #expect(job["status"] as? String == "FAILED" && job["attempt"] as? Int == 2)
        let updates = job["updates"] as? [[String: Any]] ?? []
        let retried = try #require(updates.first { ($0["message"] as? String ?? "").hasPrefix("attempt 1 failed (exit code 7)") })
        let secondStart = try #require(updates.last { $0["status"] as? String == "RUNNING" })
        let waited = try #require(Self.date(secondStart["at"])).timeIntervalSince(try #require(Self.date(retried["at"])))
        #expect(waited >= 2 * 0.8, "the backoff (2 s, ±20 %) passed before attempt 2: \(waited) s")
        let result = try #require(job["result"] as? [String: Any])
        #expect((result["failure"] as? [String: Any])?["kind"] as? String == "EXIT_CODE")
        #expect(((result["earlierAttempts"] as? [[String: Any]])?.first?["failure"] as? [String: Any])?["exitCode"] as? Int == 7)
        let mail = try await Platform.waitForMail(forJob: id)
        #expect(mail.contains("Reason:    exit code 7") && mail.contains("Attempts:  2"))
    }

    @Test("a queued job says where it stands and when it should start; the queue summary counts it")
    func queuePosition() async throws {
        let noop = try await Self.noop()
        func job(_ sleep: Double) -> String { #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"},"parameters":{"sleep":\#(sleep)}},"owner":"queue-test"}"# }
        // One runner slot (make test). A first run teaches the scheduler how long this model takes.
        _ = try await Platform.waitForEnd(try await Platform.submit(job(1)))
        let ids = [try await Platform.submit(job(1)), try await Platform.submit(job(1)), try await Platform.submit(job(1))]
        try await Platform.waitFor(ids[0], status: "RUNNING")
        let record = try await Platform.job(ids[2])
        let queue = try #require(record["queue"] as? [String: Any], "a queued job's record says where it stands: \(record)")
        #expect(queue["position"] as? Int == 2)
        #expect((queue["ahead"] as? [String: Any])?["first"] as? [String] == [ids[1].uppercased()])
        let asked = Date()
        let estimate = try #require(Self.date(queue["estimatedStartAt"]))
        let summary = try await Platform.request("GET", "/api/v1/queue")
        #expect(summary.status == 200)
        let owners = summary.json["owners"] as? [String: [String: Any]] ?? [:]
        #expect(owners["queue-test"]?["queued"] as? Int == 2 && owners["queue-test"]?["running"] as? Int == 1)
        #expect(((summary.json["capacity"] as? [String: Any])?["slots"] as? Int ?? 0) >= 1)

        let started = try #require(Self.date(try await Platform.waitForEnd(ids[2])["startedAt"]))
        // Two jobs of about a second each are ahead of it (one running): it should start in about 2 s.
        let error = abs(started.timeIntervalSince(estimate))
        #expect(error <= max(0.5, 0.25 * started.timeIntervalSince(asked)), "estimated \(estimate), started \(started)")
    }

    @Test("a job that fits no worker waits, saying why; a quota refuses an owner's jobs past it with 429")
    func unschedulableAndQuota() async throws {
        let noop = try await Self.noop()
        let huge = #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"}},"resources":{"cpus":64},"owner":"greedy"}"#
        let waiting = try await Platform.submit(huge)
        try await Task.sleep(for: .seconds(1))
        let record = try await Platform.job(waiting)
        #expect(record["status"] as? String == "QUEUED")
        let reason = (record["queue"] as? [String: Any])?["waitingReason"] as? String ?? ""
        #expect(reason.contains("64 cpus"), "the reason names what no worker has: \(reason)")

        // Metadata with a quota of 2 waiting jobs per owner.
        setenv("QUOTAS_MAX_QUEUED_PER_OWNER", "2", 1)
        defer { unsetenv("QUOTAS_MAX_QUEUED_PER_OWNER") }
        #expect(await Platform.services(["restart", "metadata"]) == 0)
        let second = try await Platform.submit(huge)
        let refused = try await Platform.request("POST", "/api/v1/jobs", body: Data(huge.utf8))
        #expect(refused.status == 429 && refused.text.contains("owner greedy has 2 jobs waiting"))
        let other = try await Platform.request("POST", "/api/v1/jobs", body: Data(huge.replacingOccurrences(of: "greedy", with: "modest").utf8))
        #expect(other.status == 201, "another owner is not held up")
        for id in [waiting, second, other.json["jobId"] as? String ?? ""] {
            _ = try await Platform.request("POST", "/api/v1/jobs/\(id)/cancel")
        }
        unsetenv("QUOTAS_MAX_QUEUED_PER_OWNER")
        #expect(await Platform.services(["restart", "metadata"]) == 0)
    }

    @Test("a job whose worker is lost three times fails with reason worker lost")
    func lostWorkerCap() async throws {
        let noop = try await Self.noop()
        let id = try await Platform.submit(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"},"parameters":{"sleep":30}}}"#)
        let pidFile = ScriptRunner.repositoryRoot.appendingPathComponent(".conveyor/run/runner.pid").path
        for loss in 1...3 {
            try await Platform.waitFor(id, status: "RUNNING", timeout: .seconds(60))
            #expect(try await Platform.job(id)["attempt"] as? Int == loss)
            #expect(await ScriptRunner.run(["/bin/bash", "-c", "kill -9 $(cat '\(pidFile)')"]) == 0)
            #expect(await Platform.services(["start", "runner"]) == 0)
            if loss < 3 {
                // Its lease (6 s under make test) expires and metadata puts it back in the queue.
                let deadline = ContinuousClock.now + .seconds(30)
                while ContinuousClock.now < deadline, try await Platform.job(id)["attempt"] as? Int == loss,
                    try await Platform.job(id)["status"] as? String != "QUEUED"
                {
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
        }
        let job = try await Platform.waitForEnd(id, timeout: .seconds(60))
        #expect(job["status"] as? String == "FAILED")
        #expect((job["statusMessage"] as? String ?? "").hasPrefix("worker lost 3 times"))
        let result = job["result"] as? [String: Any]
        #expect((result?["failure"] as? [String: Any])?["kind"] as? String == "WORKER_LOST")
        #expect((result?["earlierAttempts"] as? [[String: Any]])?.count == 2)
    }
}
