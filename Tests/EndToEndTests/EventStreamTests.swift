import ConveyorModels
import Foundation
import TestSupport
import Testing

/// `GET /api/v1/events`: a front end follows its user's job changes live, and after a gateway
/// restart resumes from the last event it got without missing one.
@Suite("Job event stream", .serialized)
struct EventStreamTests {
    struct Event {
        var id: String
        var change: [String: Any]
    }

    /// Follows the stream with curl for `seconds` in the background; the events arrive in `file`.
    static func follow(token: String, seconds: Int, lastEventId: String? = nil, query: String = "") -> (file: String, done: Task<Int32, Never>) {
        let file = "/tmp/conveyor-events-\(UUID().uuidString).txt"
        var command = "curl -sN -m \(seconds) -H 'Authorization: Bearer \(token)'"
        if let lastEventId { command += " -H 'Last-Event-ID: \(lastEventId)'" }
        command += " '\(Platform.gateway)/api/v1/events\(query)' > \(file)"
        let done = Task { await ScriptRunner.run(["/bin/sh", "-c", command]) }
        return (file, done)
    }

    static func events(in file: String) -> [Event] {
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        var events: [Event] = []
        for block in text.components(separatedBy: "\n\n") {
            var id: String?
            var data = ""
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
                if line.hasPrefix("data: ") { data += line.dropFirst(6) }
            }
            if let id, let object = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any] {
                events.append(Event(id: id, change: object))
            }
        }
        return events
    }

    /// The events of one name (`queue`, `log`: they carry no id), with their data.
    static func named(_ name: String, in file: String) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        return text.components(separatedBy: "\n\n").compactMap { block in
            let lines = block.split(separator: "\n")
            guard lines.contains(where: { $0 == "event: \(name)" }) else { return nil }
            let data = lines.filter { $0.hasPrefix("data: ") }.map { $0.dropFirst(6) }.joined()
            return try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any]
        }
    }

    static func waitUntilOpen(_ file: String) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").contains("following job changes") { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the event stream did not open")
    }

    @Test("a user follows their own jobs' changes live, in order, and no one else's; after a gateway restart the stream resumes from Last-Event-ID")
    func followAndResume() async throws {
        let alice = try await IdentityTests.token(for: "alice")
        let bob = try await IdentityTests.token(for: "bob")
        let operatorToken = try await IdentityTests.token(for: "omar", role: "operator")
        let noop = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        let live = Self.follow(token: alice, seconds: 12)
        let everyone = Self.follow(token: operatorToken, seconds: 12)
        try await Self.waitUntilOpen(live.file)
        try await Self.waitUntilOpen(everyone.file)
        let body = Data(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"}}}"#.utf8)
        let mine = try await Platform.request("POST", "/api/v1/jobs", body: body, headers: IdentityTests.as(alice))
        let theirs = try await Platform.request("POST", "/api/v1/jobs", body: body, headers: IdentityTests.as(bob))
        let mineId = try #require(mine.json["jobId"] as? String).lowercased()
        let theirsId = try #require(theirs.json["jobId"] as? String).lowercased()
        _ = try await Platform.waitForEnd(mineId)
        _ = try await Platform.waitForEnd(theirsId)
        // The stream gets each change within a poll (250 ms); wait until it shows the end.
        let deadline = ContinuousClock.now + .seconds(8)
        while ContinuousClock.now < deadline,
            !Self.events(in: live.file).contains(where: { ($0.change["jobId"] as? String)?.lowercased() == mineId && $0.change["status"] as? String == "SUCCEEDED" })
        {
            try await Task.sleep(for: .milliseconds(100))
        }
        let events = Self.events(in: live.file)
        #expect(events.allSatisfy { $0.change["owner"] as? String == "alice" }, "alice's stream shows another owner's change")
        let statuses = events.filter { ($0.change["jobId"] as? String)?.lowercased() == mineId }.map { $0.change["status"] as? String ?? "" }
        #expect(statuses == ["VALIDATED", "QUEUED", "SUBMITTED", "RUNNING", "SUCCEEDED"], "alice's job went \(statuses): \(events.map(\.id))")
        #expect(Set(events.map(\.id)).count == events.count, "every change once")
        let order = events.compactMap { JobStatusChange.cursor($0.id) }.map { [$0.micros, Int64($0.seq)] }
        #expect(order == order.sorted { $0.lexicographicallyPrecedes($1) }, "in order")
        _ = await everyone.done.value
        let all = Self.events(in: everyone.file)
        let followed = Set(all.compactMap { ($0.change["jobId"] as? String)?.lowercased() })
        #expect(followed.isSuperset(of: [mineId, theirsId]), "an operator follows everyone")

        // A restart of the gateway, then a resume from the first event: every later change again.
        let first = try #require(events.first { ($0.change["jobId"] as? String)?.lowercased() == mineId })
        live.done.cancel()
        await Platform.restart("api-gateway", with: [:])
        let resumed = Self.follow(token: alice, seconds: 3, lastEventId: first.id)
        _ = await resumed.done.value
        let again = Self.events(in: resumed.file).filter { ($0.change["jobId"] as? String)?.lowercased() == mineId }
        #expect(again.map { $0.change["status"] as? String ?? "" }.suffix(statuses.count - 1) == statuses.dropFirst(),
            "resumed after \(first.id): \(again.map { $0.change["status"] as? String ?? "" })")
        #expect(Self.events(in: resumed.file).allSatisfy { $0.change["owner"] as? String == "alice" })
        for file in [live.file, everyone.file, resumed.file] { try? FileManager.default.removeItem(atPath: file) }

        // A malformed Last-Event-ID, and another owner's stream for a user.
        let bad = try await Platform.request("GET", "/api/v1/events", headers: ["Last-Event-ID": "yesterday"].merging(IdentityTests.as(alice)) { $1 })
        #expect(bad.status == 400)
        let other = try await Platform.request("GET", "/api/v1/events?owner=bob", headers: IdentityTests.as(alice))
        #expect(other.status == 403)
    }

    @Test("a queued job's place comes as queue events and a running job's growing log as log events")
    func queueAndLogEvents() async throws {
        let user = try await IdentityTests.token(for: "queue-\(UUID().uuidString.prefix(6))")
        let ticker = try await Platform.importModel(path: "ticker-model", entryPoint: "ticker.sh", language: "shell")
        let stream = Self.follow(token: user, seconds: 14)
        try await Self.waitUntilOpen(stream.file)
        // make test runs one runner slot: the second job waits while the first ticks.
        let body = Data(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(ticker)"},"parameters":{"count":40,"interval":0.2}}}"#.utf8)
        let first = try #require(try await Platform.request("POST", "/api/v1/jobs", body: body, headers: IdentityTests.as(user)).json["jobId"] as? String)
        try await Platform.waitFor(first, status: "RUNNING")
        let second = try #require(try await Platform.request("POST", "/api/v1/jobs", body: body, headers: IdentityTests.as(user)).json["jobId"] as? String)
        let deadline = ContinuousClock.now + .seconds(10)
        var queued: [[String: Any]] = []
        var logs: [[String: Any]] = []
        while ContinuousClock.now < deadline {
            queued = Self.named("queue", in: stream.file).filter { ($0["jobId"] as? String)?.lowercased() == second.lowercased() }
            logs = Self.named("log", in: stream.file).filter { ($0["jobId"] as? String)?.lowercased() == first.lowercased() }
            if !queued.isEmpty, logs.count >= 2 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        for id in [first, second] { _ = try await Platform.request("POST", "/api/v1/jobs/\(id)/cancel", body: Data("{}".utf8)) }
        stream.done.cancel()
        try? FileManager.default.removeItem(atPath: stream.file)
        #expect((queued.first?["position"] as? Int ?? 0) >= 1, "the waiting job's place: \(queued)")
        #expect(queued.first?["ahead"] is Int)
        let sizes = logs.compactMap { $0["bytes"] as? Int }
        #expect(sizes.count >= 2 && sizes == sizes.sorted() && Set(sizes).count == sizes.count, "the running job's log grew: \(sizes)")
        #expect(logs.allSatisfy { $0["attempt"] as? Int == 1 })
    }
}
