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
        Case(
            name: "misspelt field", body: #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(UUID())"}},"priorty":1}"#,
            status: 422, field: "priorty"),
        Case(
            name: "malformed typed parameter",
            body: #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(UUID())"},"parameters":{"day":{"type":"DATE","value":"2026-13-01"}}}}"#,
            status: 422, field: "runModel.parameters.day.value"),
        Case(
            name: "flow without models", body: #"{"jobType":"RUN_FLOW","runFlow":{"flow":{"objectId":"\#(UUID())"},"models":{}}}"#,
            status: 422, field: "runFlow.models"),
        Case(
            name: "empty group", body: #"{"jobType":"JOB_GROUP","jobGroup":{"groupType":"PARALLEL","jobs":[]}}"#,
            status: 422, field: "jobGroup.jobs"),
        Case(
            name: "unknown storage",
            body: #"{"jobType":"IMPORT_DATA","importData":{"imports":{"raw":{"storage":"s3; rm -rf /","path":"x.csv"}}}}"#,
            status: 422, field: "importData.imports.raw.storage"),
        Case(
            name: "a file to import that is not there",
            body: #"{"jobType":"IMPORT_DATA","importData":{"imports":{"raw":{"path":"no/such/file-\#(UUID()).csv"}}}}"#,
            status: 422, field: "importData.imports.raw.path"),
        Case(
            name: "resources beyond the deployment's limits",
            body: #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(UUID())"}},"resources":{"cpus":100000}}"#,
            status: 422, field: "resources.cpus"),
        // Only addresses the notifier can deliver to are accepted (one rule for both).
        Case(
            name: "an international address",
            body: #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(UUID())"}},"notification":{"email":["ok@example.com","jöhn@exämple.com"]}}"#,
            status: 422, field: "notification.email[1]"),
        Case(
            name: "a list in one address",
            body: #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(UUID())"}},"notification":{"email":["a,b@example.com"]}}"#,
            status: 422, field: "notification.email[0]"),
        Case(
            name: "an address literal",
            body: #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(UUID())"}},"notification":{"email":["a@[127.0.0.1]"]}}"#,
            status: 422, field: "notification.email[0]"),
        Case(
            name: "a line separator before Bcc",
            body: #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(UUID())"}},"notification":{"email":["a@example.com\u2028Bcc: x@example.com"]}}"#,
            status: 422, field: "notification.email[0]"),
        Case(
            name: "too many recipients",
            body: #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(UUID())"}},"notification":{"email":[\#((0..<51).map { "\"r\($0)@example.com\"" }.joined(separator: ","))]}}"#,
            status: 422, field: "notification.email"),
        // What the store cannot keep is refused where the request is decoded, never a 500.
        Case(
            name: "NUL in a label", body: #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(UUID())"}},"labels":{"team":"a\u0000b"}}"#,
            status: 422, field: "labels.team"),
        Case(
            name: "NUL in a STRING parameter",
            body: #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(UUID())"},"parameters":{"s":{"type":"STRING","value":"\u0000"},"list":["ok","x\u0000"]}}}"#,
            status: 422, field: "runModel.parameters.list[1]"),
        Case(
            name: "DATETIME in year 0",
            body: #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(UUID())"},"parameters":{"t":{"type":"DATETIME","value":"0000-01-01T00:00:00Z"}}}}"#,
            status: 422, field: "runModel.parameters.t.value"),
        Case(
            name: "DATETIME that falls into year 0 in UTC",
            body: #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(UUID())"},"parameters":{"t":{"type":"DATETIME","value":"0001-01-01T00:30:00+01:00"}}}}"#,
            status: 422, field: "runModel.parameters.t.value"),
        Case(
            name: "a plain integer beyond 64 bits",
            body: #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(UUID())"},"parameters":{"n":123456789012345678901234567890}}}"#,
            status: 422, field: "runModel.parameters.n"),
        Case(
            name: "a typed INTEGER beyond 64 bits",
            body: #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(UUID())"},"parameters":{"n":{"type":"INTEGER","value":18446744073709551616}}}}"#,
            status: 422, field: "runModel.parameters.n.value"),
        Case(
            name: "nesting 1,000 levels deep",
            body: #"{"jobType":"RUN_MODEL","labels":"# + String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000) + "}",
            status: 400, field: "$"),
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

    @Test("a file named with the longest name allowed (255 bytes) is stored, not a 500; one byte more is refused")
    func longestFileName() async throws {
        let name = String(repeating: "n", count: 251) + ".txt"
        let stored = try await Platform.request("POST", "/api/v1/files?name=\(name)", body: Data("x".utf8))
        #expect(stored.status == 201, "\(stored.text)")
        let tooLong = try await Platform.request("POST", "/api/v1/files?name=x\(name)", body: Data("x".utf8))
        #expect(tooLong.status == 422 || tooLong.status == 400, "\(tooLong.text)")
    }

    @Test("a NUL in a query parameter gets 400 naming the parameter")
    func nulInQuery() async throws {
        for (path, field) in [("/api/v1/jobs?label=a:%00", "label"), ("/api/v1/jobs?owner=a%00b", "owner"), ("/api/v1/objects/\(UUID())?objectVersion=1%00", "objectVersion")] {
            let result = try await Platform.request("GET", path)
            #expect(result.status == 400, "\(path): \(result.text)")
            let errors = result.json["errors"] as? [[String: Any]] ?? []
            #expect(errors.contains { $0["field"] as? String == field && ($0["reason"] as? String ?? "").contains("NUL") }, "\(path): \(errors)")
        }
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

    @Test("a reference to an object of the wrong type is refused, naming the field")
    func wrongObjectType() async throws {
        let file = try await Platform.request("POST", "/api/v1/files?name=x.txt", body: Data("x".utf8))
        try #require(file.status == 201)
        let id = try #require(file.json["objectId"] as? String)
        let result = try await Platform.request(
            "POST", "/api/v1/jobs", body: Data(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(id)"}}}"#.utf8))
        #expect(result.status == 422)
        let errors = result.json["errors"] as? [[String: Any]] ?? []
        #expect(errors.contains { $0["field"] as? String == "runModel.model.objectId" && ($0["reason"] as? String ?? "").contains("is a FILE object, expected MODEL") })
    }

    @Test("SQL metacharacters in filters and search values are only data")
    func sqlMetacharacters() async throws {
        for path in [
            "/api/v1/jobs?owner=%27%20OR%201%3D1%20--", "/api/v1/jobs?label=team:%27%20OR%20%271%27%3D%271",
        ] {
            let result = try await Platform.request("GET", path)
            #expect(result.status == 200, "\(result.text)")
            #expect((result.json["jobs"] as? [[String: Any]])?.isEmpty == true)
        }
        let search = try await Platform.request(
            "POST", "/api/v1/search", body: Data(#"{"search":{"term":{"attrName":"dataset","operator":"EQ","value":"x' OR '1'='1"}}}"#.utf8))
        #expect(search.status == 200)
        #expect((search.json["objects"] as? [[String: Any]])?.isEmpty == true)
        let badName = try await Platform.request(
            "POST", "/api/v1/search", body: Data(#"{"search":{"term":{"attrName":"a; DROP TABLE objects","operator":"EXISTS"}}}"#.utf8))
        #expect(badName.status == 422)
    }

    @Test("bad object and search requests get a problem naming the field; nothing is written")
    func objectRequests() async throws {
        func newestFlow() async throws -> String? {
            let page = try await Platform.request("POST", "/api/v1/search", body: Data(#"{"objectType":"FLOW","limit":1}"#.utf8))
            return (page.json["objects"] as? [[String: Any]])?.first?["objectId"] as? String
        }
        let before = try await newestFlow()
        let cases: [(String, String, Data, Int, String?)] = [
            ("/api/v1/objects", "invalid UTF-8", Data([0x7B, 0xFF, 0x7D]), 400, "$"),
            ("/api/v1/objects", "unknown object type", Data(#"{"definition":{"objectType":"SPREADSHEET"}}"#.utf8), 422, "definition.objectType"),
            ("/api/v1/objects", "missing section", Data(#"{"definition":{"objectType":"FLOW"}}"#.utf8), 422, "definition.flow"),
            ("/api/v1/objects", "a cyclic flow", Data(#"{"definition":{"objectType":"FLOW","flow":{"nodes":{"a":{"nodeType":"MODEL_NODE","inputs":["in"],"outputs":["out"]},"b":{"nodeType":"MODEL_NODE","inputs":["in"],"outputs":["out"]}},"edges":[{"source":{"node":"a","socket":"out"},"target":{"node":"b","socket":"in"}},{"source":{"node":"b","socket":"out"},"target":{"node":"a","socket":"in"}}]}}}"#.utf8), 422, "definition.flow.edges"),
            ("/api/v1/objects", "a MODEL without a job", Data(#"{"definition":{"objectType":"MODEL","model":{"language":"python","repository":"r","version":"v","entryPoint":"m.py"}}}"#.utf8), 422, "definition.objectType"),
            ("/api/v1/objects", "bad attribute name", Data(#"{"definition":{"objectType":"SCHEMA","schema":{"fields":[{"fieldName":"a","fieldType":"STRING"}]}},"attrs":[{"attrName":"no spaces allowed","value":1}]}"#.utf8), 422, "attrs[0].attrName"),
            ("/api/v1/search", "unknown operator", Data(#"{"search":{"term":{"attrName":"a","operator":"LIKE","value":"x"}}}"#.utf8), 422, "search.term.operator"),
            ("/api/v1/search", "IN without an array", Data(#"{"search":{"term":{"attrName":"a","operator":"IN","value":"x"}}}"#.utf8), 422, "search.term.value"),
            ("/api/v1/search", "two keys in one node", Data(#"{"search":{"and":[],"or":[]}}"#.utf8), 422, nil),
            ("/api/v1/objects", "NUL in a tag value", Data(#"{"definition":{"objectType":"SCHEMA","schema":{"fields":[{"fieldName":"a","fieldType":"STRING"}]}},"attrs":[{"attrName":"t","value":"x\u0000"}]}"#.utf8), 422, "attrs[0].value"),
            ("/api/v1/objects", "NUL in a schema field label", Data(#"{"definition":{"objectType":"SCHEMA","schema":{"fields":[{"fieldName":"a","fieldType":"STRING","label":"\u0000"}]}}}"#.utf8), 422, "definition.schema.fields[0].label"),
            ("/api/v1/search", "NUL in a search value", Data(#"{"search":{"term":{"attrName":"a","operator":"EQ","value":"\u0000"}}}"#.utf8), 422, "search.term.value"),
            ("/api/v1/search", "nesting 1,000 levels deep", Data(("{\"search\":" + String(repeating: "{\"and\":[", count: 500) + String(repeating: "]}", count: 500) + "}").utf8), 400, "$"),
        ]
        for (path, name, body, status, field) in cases {
            let result = try await Platform.request("POST", path, body: body)
            #expect(result.status == status, "\(name): \(result.text)")
            #expect(result.headers["content-type"]?.contains("application/problem+json") == true, "\(name)")
            if let field {
                let fields = (result.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
                #expect(fields.contains(field), "\(name): \(fields)")
            }
        }
        let big = Data(#"{"definition":{"objectType":"SCHEMA","schema":{"fields":[{"fieldName":"a","fieldType":"STRING","label":""#.utf8)
            + Data(repeating: 0x61, count: 2 << 20) + Data(#""}]}}}"#.utf8)
        #expect(try await Platform.request("POST", "/api/v1/objects", body: big).status == 413)
        #expect(try await newestFlow() == before, "nothing was written")
        #expect(try await Platform.request("GET", "/api/v1/objects/\(UUID())").status == 404)
        #expect(try await Platform.request("GET", "/api/v1/objects/\(UUID())?objectVersion=0").status == 400)
    }
}
