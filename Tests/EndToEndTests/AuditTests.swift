import Foundation
import Testing

/// The audit trail: every change through the API, and every refused attempt, with who, when, from
/// where and the request id; read by admins, filtered and paged.
@Suite("Audit trail", .serialized)
struct AuditTests {
    static func entries(_ query: String) async throws -> [[String: Any]] {
        let page = try await Platform.request("GET", "/api/v1/audit?" + query)
        try #require(page.status == 200, "\(page.text)")
        return page.json["entries"] as? [[String: Any]] ?? []
    }

    @Test("a submit, a cancel, a refused cancel and a token issued are recorded with who, what, on what, how it ended and the request id")
    func changesAreRecorded() async throws {
        let alice = try await IdentityTests.token(for: "alice-audit")
        let bob = try await IdentityTests.token(for: "bob-audit")
        let noop = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        let requestId = "audit-\(UUID().uuidString.prefix(8))"
        let submitted = try await Platform.request(
            "POST", "/api/v1/jobs", body: Data(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"},"parameters":{"sleep":30}}}"#.utf8),
            headers: IdentityTests.as(alice).merging(["X-Request-Id": requestId]) { $1 })
        #expect(submitted.status == 201 && submitted.headers["x-request-id"] == requestId)
        let job = try #require(submitted.json["jobId"] as? String).lowercased()
        let refused = try await Platform.request("POST", "/api/v1/jobs/\(job)/cancel", headers: IdentityTests.as(bob))
        #expect(refused.status == 403)
        let generated = try #require(refused.headers["x-request-id"])
        #expect(UUID(uuidString: generated) != nil, "the gateway gives a request without an id its own")
        #expect(try await Platform.request("POST", "/api/v1/jobs/\(job)/cancel", headers: IdentityTests.as(alice)).status == 200)
        // A read and a dry run change nothing and are not recorded.
        _ = try await Platform.request("GET", "/api/v1/jobs/\(job)", headers: IdentityTests.as(alice))

        // The gateway sends its entries every 200 ms.
        var trail: [[String: Any]] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            trail = try await Self.entries("target=\(job)")
            if trail.count >= 3 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let summary = trail.map { "\($0["principal"] ?? "") \($0["action"] ?? "") \($0["status"] ?? "")" }
        #expect(summary == ["alice-audit job.cancel 200", "bob-audit job.cancel 403", "alice-audit job.submit 201"], "\(summary)")
        let submit = try #require(trail.last)
        #expect(submit["requestId"] as? String == requestId && submit["remoteAddress"] as? String == "127.0.0.1")
        #expect(submit["method"] as? String == "POST" && submit["path"] as? String == "/api/v1/jobs" && submit["role"] as? String == "user")
        #expect(trail[1]["requestId"] as? String == generated)

        let issued = try await IdentityTests.token(for: "carol-audit")
        _ = issued
        try await Task.sleep(for: .seconds(1))
        let tokens = try await Self.entries("action=token.issue&limit=5")
        #expect(tokens.first?["principal"] as? String == "admin" && tokens.first?["status"] as? Int == 201 && tokens.first?["target"] != nil)

        // Paged, newest first; admins only.
        let first = try await Platform.request("GET", "/api/v1/audit?principal=alice-audit&limit=1")
        let cursor = try #require(first.json["nextCursor"] as? String)
        let second = try await Self.entries("principal=alice-audit&limit=1&cursor=\(cursor)")
        #expect((first.json["entries"] as? [[String: Any]])?.first?["action"] as? String == "job.cancel")
        #expect(second.first?["action"] as? String == "job.submit")
        #expect(try await Platform.request("GET", "/api/v1/audit", headers: IdentityTests.as(alice)).status == 403)
        #expect(try await Platform.request("GET", "/api/v1/audit?cursor=yesterday").status == 400)
    }
}
