import Foundation
import Testing

/// Bad input gets a 4xx JSON problem naming the field and the reason, and nothing is written.
@Suite("Bad requests", .serialized)
struct BadRequestTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var body: String
        var status: Int
        var field: String?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "not JSON", body: "{jobType: RUN_MODEL", status: 400, field: "$"),
        Case(name: "invalid UTF-8", body: "\u{FFFD}", status: 400, field: "$"),
        Case(name: "unknown job type", body: #"{"jobType":"RUN_EVERYTHING"}"#, status: 422, field: "jobType"),
        Case(name: "missing section", body: #"{"jobType":"RUN_MODEL"}"#, status: 422, field: "runModel"),
        Case(
            name: "wrong type", body: #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(UUID())"}},"priority":"urgent"}"#,
            status: 422, field: "priority"),
        Case(
            name: "unknown object", body: #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(UUID())"}}}"#,
            status: 422, field: "runModel.model.objectId"),
        Case(
            name: "bad uuid", body: #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"'; DROP TABLE jobs; --"}}}"#,
            status: 422, field: "runModel.model.objectId"),
        Case(
            name: "path escaping the export root",
            body: #"{"jobType":"EXPORT_DATA","exportData":{"inputs":{"d":{"objectId":"\#(UUID())"}},"exports":{"d":{"path":"../../etc/passwd"}}}}"#,
            status: 422, field: "exportData.exports.d.path"),
        Case(
            name: "bad e-mail address",
            body: #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(UUID())"}},"notification":{"email":["x@y\r\nBcc: z@w"]}}"#,
            status: 422, field: "notification.email[0]"),
    ]

    @Test("each bad request gets a problem naming the field; no job is created", arguments: cases)
    func badRequest(_ item: Case) async throws {
        let before = try await Platform.request("GET", "/api/v1/jobs?limit=1")
        let body: Data = item.name == "invalid UTF-8" ? Data([0x7B, 0xFF, 0xFE, 0x7D]) : Data(item.body.utf8)
        let result = try await Platform.request("POST", "/api/v1/jobs", body: body)
        #expect(result.status == item.status, "\(result.text)")
        #expect(result.headers["content-type"]?.contains("application/problem+json") == true)
        let errors = result.json["errors"] as? [[String: Any]] ?? []
        if let field = item.field {
            #expect(errors.contains { $0["field"] as? String == field }, "problems: \(errors)")
        }
        #expect(errors.allSatisfy { !($0["reason"] as? String ?? "").isEmpty })
        let after = try await Platform.request("GET", "/api/v1/jobs?limit=1")
        let newest = { (r: Platform.HTTPResult) in ((r.json["jobs"] as? [[String: Any]])?.first?["jobId"] as? String) }
        #expect(newest(before) == newest(after), "nothing was written")
    }

    @Test("an oversized body gets 413")
    func oversized() async throws {
        let big = Data(#"{"jobType":"RUN_MODEL","labels":{"x":""#.utf8) + Data(repeating: 0x61, count: 2 << 20) + Data(#""}}"#.utf8)
        let result = try await Platform.request("POST", "/api/v1/jobs", body: big)
        #expect(result.status == 413)
    }

    @Test("unknown job ids and malformed ids get 404 and 400")
    func unknownJob() async throws {
        #expect(try await Platform.request("GET", "/api/v1/jobs/\(UUID())").status == 404)
        #expect(try await Platform.request("GET", "/api/v1/jobs/not-a-uuid").status == 400)
        let bad = try await Platform.request("GET", "/api/v1/jobs?status=SLEEPING&limit=0")
        #expect(bad.status == 400)
        let fields = Set((bad.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
        #expect(fields == ["status", "limit"])
    }

    @Test("listing is newest first and pages with a cursor")
    func listing() async throws {
        let first = try await Platform.request("GET", "/api/v1/jobs?limit=2")
        #expect(first.status == 200)
        let jobs = first.json["jobs"] as? [[String: Any]] ?? []
        guard jobs.count == 2, let cursor = first.json["nextCursor"] as? String else { return }
        #expect((jobs[0]["submittedAt"] as? String ?? "") >= (jobs[1]["submittedAt"] as? String ?? ""))
        let second = try await Platform.request("GET", "/api/v1/jobs?limit=2&cursor=\(cursor)")
        let next = second.json["jobs"] as? [[String: Any]] ?? []
        #expect(!next.contains { $0["jobId"] as? String == jobs[1]["jobId"] as? String })
    }
}
