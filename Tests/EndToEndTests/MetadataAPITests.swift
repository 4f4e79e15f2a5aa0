import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The system of record through the HTTP API: objects and versions, tags, search, validation,
/// every job type, results, logs (also followed as server-sent events), re-runs.
@Suite("Metadata through the HTTP API", .serialized)
struct MetadataAPITests {
    static func json(_ text: String) -> Data { Data(text.utf8) }

    static func post(_ path: String, _ body: String, expect status: Int = 201) async throws -> [String: Any] {
        let result = try await Platform.request("POST", path, body: json(body))
        try #require(result.status == status, "POST \(path) answered \(result.status): \(result.text)")
        return result.json
    }

    static func get(_ path: String) async throws -> Platform.HTTPResult {
        let result = try await Platform.request("GET", path)
        try #require(result.status == 200, "GET \(path) answered \(result.status): \(result.text)")
        return result
    }

    static func id(_ object: [String: Any]) -> String { (object["objectId"] as? String ?? "").lowercased() }

    @Test("files: upload, new version, read any version, tags with compare-and-set, search, as of")
    func files() async throws {
        let marker = "e2e\(UUID().uuidString.prefix(8).lowercased())"
        let first = try await Platform.request(
            "POST", "/api/v1/files?name=notes.txt", body: Data("first\n".utf8), headers: ["Content-Type": "text/plain"])
        try #require(first.status == 201, "\(first.text)")
        let fileId = Self.id(first.json)
        let second = try await Platform.request(
            "POST", "/api/v1/files?name=notes.txt&objectId=\(fileId)&priorVersion=1", body: Data("second\n".utf8),
            headers: ["Content-Type": "text/plain"])
        #expect(second.status == 201)
        #expect(second.json["objectVersion"] as? Int == 2)
        #expect(try await Self.get("/api/v1/objects/\(fileId)/content").text == "second\n")
        #expect(try await Self.get("/api/v1/objects/\(fileId)/content?objectVersion=1").text == "first\n")
        let stale = try await Platform.request(
            "POST", "/api/v1/files?name=notes.txt&objectId=\(fileId)&priorVersion=1", body: Data("third\n".utf8))
        #expect(stale.status == 409, "a stale prior version is a conflict")

        let tagged = try await Self.post(
            "/api/v1/objects/\(fileId)/tags", #"{"tagVersion":1,"updates":[{"attrName":"project","value":"\#(marker)"},{"attrName":"rows","value":{"type":"INTEGER","value":7}}]}"#,
            expect: 200)
        #expect(tagged["tagVersion"] as? Int == 2)
        let conflict = try await Platform.request(
            "POST", "/api/v1/objects/\(fileId)/tags", body: Self.json(#"{"tagVersion":1,"updates":[{"attrName":"x","value":1}]}"#))
        #expect(conflict.status == 409)
        let tagVersions = try await Self.get("/api/v1/objects/\(fileId)/versions/2/tags")
        #expect((try JSONSerialization.jsonObject(with: tagVersions.body) as? [[String: Any]])?.count == 2)
        let versions = try await Self.get("/api/v1/objects/\(fileId)/versions")
        #expect((try JSONSerialization.jsonObject(with: versions.body) as? [[String: Any]])?.map { $0["objectVersion"] as? Int } == [1, 2])

        let search = #"{"objectType":"FILE","search":{"and":[{"term":{"attrName":"project","operator":"EQ","value":"\#(marker)"}},{"term":{"attrName":"rows","operator":"GE","value":5}}]}}"#
        let found = try await Self.post("/api/v1/search", search, expect: 200)
        #expect((found["objects"] as? [[String: Any]])?.map(Self.id) == [fileId])
        let createdAt = try #require(first.json["createdAt"] as? String)
        let then = try await Self.post(
            "/api/v1/search", #"{"objectType":"FILE","asOf":"\#(createdAt)","search":{"term":{"attrName":"project","operator":"EXISTS"}}}"#, expect: 200)
        #expect(!((then["objects"] as? [[String: Any]]) ?? []).map(Self.id).contains(fileId), "as of its creation it had no tags")
        let old = try await Self.get("/api/v1/objects/\(fileId)?objectAsOf=\(createdAt)")
        #expect(old.json["objectVersion"] as? Int == 1)
    }

    @Test("schemas, data sets and flows are created directly; a cyclic or unconnected flow is refused")
    func directObjects() async throws {
        let schema = try await Self.post(
            "/api/v1/objects", #"{"definition":{"objectType":"SCHEMA","schema":{"fields":[{"fieldName":"id","fieldType":"INTEGER","businessKey":true},{"fieldName":"name","fieldType":"STRING"}]}}}"#)
        let data = try await Self.post(
            "/api/v1/objects", #"{"definition":{"objectType":"DATA","data":{"schema":{"objectId":"\#(Self.id(schema))"},"format":"text/csv"}},"attrs":[{"attrName":"dataset","value":"customers"}]}"#)
        #expect(((data["definition"] as? [String: Any])?["data"] as? [String: Any]).flatMap { ($0["schema"] as? [String: Any])?["objectVersion"] as? Int } == 1)
        let csv = try await Platform.request(
            "POST", "/api/v1/data?schemaId=\(Self.id(schema))", body: Data("id,name\n1,ann\n2,bob\n".utf8), headers: ["Content-Type": "text/csv"])
        #expect(csv.status == 201, "\(csv.text)")
        #expect(try await Self.get("/api/v1/objects/\(Self.id(csv.json))/content").text == "id,name\n1,ann\n2,bob\n")
        let mismatch = try await Platform.request(
            "POST", "/api/v1/data?schemaId=\(Self.id(schema))", body: Data("id,email\n1,a@b\n".utf8), headers: ["Content-Type": "text/csv"])
        #expect(mismatch.status == 422)
        #expect(mismatch.text.contains("the CSV header does not match the schema (missing name; not in the schema: email)"))
        let model = try await Platform.importModel(path: "count-model", entryPoint: "count.py", language: "python")
        let empty = try await Platform.request(
            "POST", "/api/v1/jobs", body: Self.json(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"inputs":{"source":{"objectId":"\#(Self.id(data))"}}}}"#))
        #expect(empty.status == 422)
        #expect(empty.text.contains("has no content"))
        let parameterNode = try await Platform.request(
            "POST", "/api/v1/objects",
            body: Self.json(#"{"definition":{"objectType":"FLOW","flow":{"nodes":{"p":{"nodeType":"PARAMETER_NODE"}},"edges":[]}}}"#))
        #expect(parameterNode.status == 422)
        let cyclic = try await Platform.request(
            "POST", "/api/v1/objects",
            body: Self.json(#"{"definition":{"objectType":"FLOW","flow":{"nodes":{"a":{"nodeType":"MODEL_NODE","inputs":["in"],"outputs":["out"]},"b":{"nodeType":"MODEL_NODE","inputs":["in"],"outputs":["out"]}},"edges":[{"source":{"node":"a","socket":"out"},"target":{"node":"b","socket":"in"}},{"source":{"node":"b","socket":"out"},"target":{"node":"a","socket":"in"}}]}}}"#))
        #expect(cyclic.status == 422)
        #expect(cyclic.text.contains("the flow has a cycle: a → b → a"))
        let unconnected = try await Platform.request(
            "POST", "/api/v1/objects",
            body: Self.json(#"{"definition":{"objectType":"FLOW","flow":{"nodes":{"m":{"nodeType":"MODEL_NODE","inputs":["in"],"outputs":["out"]},"o":{"nodeType":"OUTPUT_NODE"}},"edges":[{"source":{"node":"m","socket":"out"},"target":{"node":"o"}}]}}}"#))
        #expect(unconnected.status == 422)
        #expect(unconnected.text.contains("input 'in' is not connected"))
    }

    @Test("validation as a dry run: the pinned definition with defaults, or every problem; nothing written")
    func validation() async throws {
        let model = try await Platform.importModel(path: "sample-model", entryPoint: "model.py", language: "python")
        let ok = try await Self.post("/api/v1/jobs/validate", #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"text":"a b"}}}"#, expect: 200)
        #expect(ok["status"] as? String == "VALIDATED")
        let run = ((ok["definition"] as? [String: Any])?["runModel"] as? [String: Any])
        #expect((run?["model"] as? [String: Any])?["objectVersion"] as? Int == 1)
        #expect(((run?["parameters"] as? [String: Any])?["top"] as? [String: Any])?["value"] as? Int == 5, "the declared default is filled in")
        let before = try await Platform.request("GET", "/api/v1/jobs?limit=1")
        let bad = try await Platform.request(
            "POST", "/api/v1/jobs/validate",
            body: Self.json(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"top":"many","colour":"red"},"inputs":{"x":{"objectId":"\#(UUID())"}}}}"#))
        #expect(bad.status == 422)
        let fields = Set((bad.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
        #expect(fields == ["runModel.parameters.top", "runModel.parameters.colour", "runModel.parameters", "runModel.inputs.x", "runModel.inputs.x.objectId"])
        let after = try await Platform.request("GET", "/api/v1/jobs?limit=1")
        #expect((before.json["jobs"] as? [[String: Any]])?.first?["jobId"] as? String == (after.json["jobs"] as? [[String: Any]])?.first?["jobId"] as? String)
    }

    @Test("IMPORT_DATA, a two-model RUN_FLOW and EXPORT_DATA, end to end")
    func dataAndFlow() async throws {
        let tag = UUID().uuidString.prefix(8).lowercased()
        let exports = Platform.repositoryRoot.appendingPathComponent(".conveyor/exports/e2e-\(tag)")
        try FileManager.default.createDirectory(at: exports, withIntermediateDirectories: true)
        try Data("hello flow\nsecond line\n".utf8).write(to: exports.appendingPathComponent("input.txt"))

        let importJob = try await Platform.submit(#"{"jobType":"IMPORT_DATA","importData":{"imports":{"raw":{"path":"e2e-\#(tag)/input.txt"}},"importAttrs":[{"attrName":"source","value":"e2e"}]}}"#)
        let imported = try await Platform.waitForEnd(importJob)
        try #require(imported["status"] as? String == "SUCCEEDED", "\(imported["statusMessage"] ?? "")")
        let raw = try #require(((imported["result"] as? [String: Any])?["outputs"] as? [String: Any])?["raw"] as? [String: Any])

        let upper = try await Platform.importModel(path: "upper-model", entryPoint: "upper.py", language: "python")
        let count = try await Platform.importModel(path: "count-model", entryPoint: "count.py", language: "python")
        let flow = try await Self.post(
            "/api/v1/objects",
            #"{"definition":{"objectType":"FLOW","flow":{"nodes":{"raw":{"nodeType":"INPUT_NODE"},"shout":{"nodeType":"MODEL_NODE","inputs":["source"],"outputs":["result"]},"count":{"nodeType":"MODEL_NODE","inputs":["source"],"outputs":["counts"]},"report":{"nodeType":"OUTPUT_NODE"}},"edges":[{"source":{"node":"raw"},"target":{"node":"shout","socket":"source"}},{"source":{"node":"shout","socket":"result"},"target":{"node":"count","socket":"source"}},{"source":{"node":"count","socket":"counts"},"target":{"node":"report"}}]}}}"#)
        let runId = try await Platform.submit(
            #"{"jobType":"RUN_FLOW","runFlow":{"flow":{"objectId":"\#(Self.id(flow))"},"models":{"shout":{"objectId":"\#(upper)"},"count":{"objectId":"\#(count)"}},"parameters":{"label":"e2e"},"inputs":{"raw":{"objectId":"\#(raw["objectId"]!)"}}}}"#)
        let run = try await Platform.waitForEnd(runId)
        try #require(run["status"] as? String == "SUCCEEDED", "\(run["statusMessage"] ?? "")")
        let report = try #require(((run["result"] as? [String: Any])?["outputs"] as? [String: Any])?["report"] as? [String: Any])
        let content = try await Self.get("/api/v1/objects/\((report["objectId"] as! String).lowercased())/content")
        let counts = try JSONSerialization.jsonObject(with: content.body) as? [String: Any]
        #expect(counts?["text"] as? String == "HELLO FLOW\nSECOND LINE\n", "the first model's output fed the second")
        #expect(counts?["lines"] as? Int == 2 && counts?["label"] as? String == "e2e")

        let exportJob = try await Platform.submit(#"{"jobType":"EXPORT_DATA","exportData":{"inputs":{"report":{"objectId":"\#(report["objectId"]!)"}},"exports":{"report":{"path":"e2e-\#(tag)/report.json"}}}}"#)
        #expect(try await Platform.waitForEnd(exportJob)["status"] as? String == "SUCCEEDED")
        #expect(try Data(contentsOf: exports.appendingPathComponent("report.json")) == content.body)
    }

    @Test("IMPORT_DATA and EXPORT_DATA run a model when they name one")
    func importAndExportModels() async throws {
        let tag = UUID().uuidString.prefix(8).lowercased()
        let exports = Platform.repositoryRoot.appendingPathComponent(".conveyor/exports/e2e-models-\(tag)")
        try FileManager.default.createDirectory(at: exports, withIntermediateDirectories: true)
        try Data("alpha\nbeta\n".utf8).write(to: exports.appendingPathComponent("raw.txt"))
        let importer = try await Platform.importModel(path: "import-model", entryPoint: "import.py", language: "python")
        let exporter = try await Platform.importModel(path: "export-model", entryPoint: "export.py", language: "python")

        let importJob = try await Platform.submit(
            #"{"jobType":"IMPORT_DATA","importData":{"model":{"objectId":"\#(importer)"},"imports":{"raw":{"path":"e2e-models-\#(tag)/raw.txt"}}}}"#)
        let imported = try await Platform.waitForEnd(importJob)
        try #require(imported["status"] as? String == "SUCCEEDED", "\(imported["statusMessage"] ?? "")")
        let raw = try #require(((imported["result"] as? [String: Any])?["outputs"] as? [String: Any])?["raw"] as? [String: Any])
        let rawId = (raw["objectId"] as! String).lowercased()
        #expect(try await Self.get("/api/v1/objects/\(rawId)/content").text == "1: alpha\n2: beta\n", "the import model read and wrote it")

        let exportJob = try await Platform.submit(
            #"{"jobType":"EXPORT_DATA","exportData":{"model":{"objectId":"\#(exporter)"},"inputs":{"raw":{"objectId":"\#(rawId)"}},"exports":{"raw":{"path":"e2e-models-\#(tag)/out/raw.txt"}}}}"#)
        let exported = try await Platform.waitForEnd(exportJob)
        try #require(exported["status"] as? String == "SUCCEEDED", "\(exported["statusMessage"] ?? "")")
        let written = try String(contentsOf: exports.appendingPathComponent("out/raw.txt"), encoding: .utf8)
        #expect(written == "# exported by job \(exportJob.lowercased())\n1: alpha\n2: beta\n")
    }

    @Test("a sequential JOB_GROUP runs its jobs in order and succeeds")
    func group() async throws {
        let model = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        let groupId = try await Platform.submit(
            #"{"jobType":"JOB_GROUP","jobGroup":{"groupType":"SEQUENTIAL","jobs":[{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"}}},{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"sleep":0.2}}}]},"owner":"groups"}"#)
        let group = try await Platform.waitForEnd(groupId)
        #expect(group["status"] as? String == "SUCCEEDED", "\(group["statusMessage"] ?? "")")
        let children = try #require(group["childJobIds"] as? [String])
        #expect(children.count == 2)
        let first = try await Platform.job(children[0])
        let second = try await Platform.job(children[1])
        #expect((first["finishedAt"] as? String ?? "") <= (second["submittedAt"] as? String ?? ""), "the second started after the first ended")
        #expect(second["owner"] as? String == "groups")
    }

    @Test("results, the complete log as a FILE, the log followed as events and resumed, status as of, re-run")
    func resultsLogsAndRerun() async throws {
        let model = try await Platform.importModel(path: "sample-model", entryPoint: "model.py", language: "python")
        let runId = try await Platform.submit(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"text":"x y x"}},"labels":{"suite":"results"}}"#)
        let stream = try await Platform.request("GET", "/api/v1/jobs/\(runId)/log/stream")
        #expect(stream.status == 200)
        #expect(stream.headers["content-type"]?.hasPrefix("text/event-stream") == true)
        #expect(stream.text.contains("event: log\n"))
        #expect(stream.text.contains("data: step 3/3: counting\n"))
        #expect(stream.text.contains("event: end\n"))
        #expect(stream.text.contains("id: 1:"), "ids are attempt:offset")
        #expect(stream.text.contains("SUCCEEDED"))

        let log = try await Self.get("/api/v1/jobs/\(runId)/log")
        let middle = log.body.count / 2
        let resumed = try await Platform.request("GET", "/api/v1/jobs/\(runId)/log/stream", headers: ["Last-Event-ID": String(middle)])
        let resumedData = resumed.text.split(separator: "\n").filter { $0.hasPrefix("data: ") && !$0.contains("\"status\"") }.map { $0.dropFirst(6) }.joined(separator: "\n")
        #expect(log.text.hasSuffix(resumedData + "\n"), "resuming from an offset sends the rest of the log")
        #expect(!resumed.text.contains("running model"), "nothing before the offset")

        let result = try await Self.get("/api/v1/jobs/\(runId)/result")
        let logFile = try #require(result.json["logFile"] as? [String: Any])
        #expect(try await Self.get("/api/v1/objects/\((logFile["objectId"] as! String).lowercased())/content").body == log.body)
        #expect((result.json["resourceUsage"] as? [String: Any])?["wallSeconds"] is Double)

        let job = try await Platform.job(runId)
        let submittedAt = try #require(job["submittedAt"] as? String)
        #expect(try await Self.get("/api/v1/jobs/\(runId)/status?asOf=\(submittedAt)").json["status"] as? String == "QUEUED")
        #expect(try await Self.get("/api/v1/jobs/\(runId)/status").json["status"] as? String == "SUCCEEDED")

        let rerun = try await Self.post("/api/v1/jobs/\(runId)/rerun", "")
        #expect((rerun["rerunOf"] as? String)?.lowercased() == runId.lowercased())
        let rerunDefinition = rerun["definition"] as? [String: Any]
        #expect(((rerunDefinition?["runModel"] as? [String: Any])?["model"] as? [String: Any])?["objectVersion"] as? Int == 1)
        #expect(try await Platform.waitForEnd(rerun["jobId"] as! String)["status"] as? String == "SUCCEEDED")

        let listed = try await Self.get("/api/v1/jobs?label=suite:results&counts=true&status=SUCCEEDED,FAILED")
        #expect(((listed.json["jobs"] as? [[String: Any]]) ?? []).contains { ($0["jobId"] as? String)?.lowercased() == runId.lowercased() })
        #expect((listed.json["counts"] as? [String: Any])?["total"] as? Int ?? 0 >= 1)
    }

    @Test("the gateway serves the OpenAPI document kept in docs/")
    func openAPI() async throws {
        let served = try await Self.get("/api/v1/openapi.yaml")
        let kept = try Data(contentsOf: Platform.repositoryRoot.appendingPathComponent("docs/openapi.yaml"))
        #expect(served.body == kept, "the gateway serves docs/openapi.yaml from its resources: build it again after editing the document")
    }
}
