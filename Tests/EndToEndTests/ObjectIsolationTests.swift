import Foundation
import Testing

/// Objects through the running gateway as three users: alice (team risk) owns what she creates and
/// what her jobs write; carol (team risk) reads what alice shares with the team; bob (no team) reads
/// only what is his or shared with everyone. Reads, searches, downloads, changes and jobs referring
/// to objects all follow the rule of `ObjectAccess`.
@Suite("Object isolation by owner and team", .serialized)
struct ObjectIsolationTests {
    static func `as`(_ token: String) -> [String: String] { ["Authorization": "Bearer \(token)"] }

    static func ids(_ page: Platform.HTTPResult) -> Set<String> {
        Set(((page.json["objects"] as? [[String: Any]]) ?? []).compactMap { ($0["objectId"] as? String)?.lowercased() })
    }

    /// Searches as `token` for the objects labelled with this run's `mark`.
    static func search(_ mark: String, as token: String) async throws -> Set<String> {
        let body = #"{"search":{"term":{"attrName":"isolation_run","operator":"EQ","value":"\#(mark)"}},"limit":50}"#
        let page = try await Platform.request("POST", "/api/v1/search", body: Data(body.utf8), headers: Self.as(token))
        try #require(page.status == 200, "search answered \(page.status): \(page.text)")
        return ids(page)
    }

    @Test("owners read and change their objects, teams read what is shared with them, everyone else gets 403 and never finds them")
    func ownersTeamsAndEveryoneElse() async throws {
        let mark = String(UUID().uuidString.prefix(8)).lowercased()
        let alice = try await IdentityTests.token(for: "alice-\(mark)", extra: #","teams":["risk-\#(mark)"]"#)
        let carol = try await IdentityTests.token(for: "carol-\(mark)", extra: #","teams":["risk-\#(mark)"]"#)
        let bob = try await IdentityTests.token(for: "bob-\(mark)")

        // Alice's FILE (not shared) and SCHEMA (shared with her team).
        let file = try await Platform.request(
            "POST", "/api/v1/files?name=private.txt", body: Data("alice's numbers\n".utf8), headers: Self.as(alice))
        try #require(file.status == 201, "\(file.text)")
        let fileId = try #require(file.json["objectId"] as? String).lowercased()
        #expect(file.json["owner"] as? String == "alice-\(mark)" && file.json["sharedWith"] == nil)
        let tagged = try await Platform.request(
            "POST", "/api/v1/objects/\(fileId)/tags", body: Data(#"{"updates":[{"attrName":"isolation_run","value":"\#(mark)"}]}"#.utf8),
            headers: Self.as(alice))
        #expect(tagged.status == 200, "the owner tags her object: \(tagged.text)")
        let schemaBody = #"""
            {"definition":{"objectType":"SCHEMA","schema":{"fields":[{"fieldName":"amount","fieldType":"DECIMAL"}]}},
             "attrs":[{"attrName":"isolation_run","value":"\#(mark)"}],"sharedWith":["risk-\#(mark)"]}
            """#
        let schema = try await Platform.request("POST", "/api/v1/objects", body: Data(schemaBody.utf8), headers: Self.as(alice))
        try #require(schema.status == 201, "\(schema.text)")
        let schemaId = try #require(schema.json["objectId"] as? String).lowercased()
        #expect(schema.json["sharedWith"] as? [String] == ["risk-\(mark)"])

        // Bob: 403 on every read and change of either; his searches never show them.
        for path in [
            "/api/v1/objects/\(fileId)", "/api/v1/objects/\(fileId)/versions", "/api/v1/objects/\(fileId)/versions/1/tags",
            "/api/v1/objects/\(fileId)/content", "/api/v1/objects/\(schemaId)",
        ] {
            let result = try await Platform.request("GET", path, headers: Self.as(bob))
            #expect(result.status == 403, "GET \(path) as bob answered \(result.status): \(result.text.prefix(200))")
            #expect(result.headers["content-type"] == "application/problem+json")
        }
        #expect(try await Self.search(mark, as: bob).isEmpty)
        let bobTags = try await Platform.request(
            "POST", "/api/v1/objects/\(fileId)/tags", body: Data(#"{"updates":[{"attrName":"x","value":"y"}]}"#.utf8), headers: Self.as(bob))
        #expect(bobTags.status == 403, "\(bobTags.text)")
        let bobVersion = try await Platform.request(
            "POST", "/api/v1/files?name=mine.txt&objectId=\(fileId)", body: Data("bob's\n".utf8), headers: Self.as(bob))
        #expect(bobVersion.status == 403, "a new version of another's FILE: \(bobVersion.text)")
        let bobShare = try await Platform.request(
            "PUT", "/api/v1/objects/\(fileId)/sharing", body: Data(#"{"sharedWith":["*"]}"#.utf8), headers: Self.as(bob))
        #expect(bobShare.status == 403, "\(bobShare.text)")
        let bobShareTeam = try await Platform.request(
            "PUT", "/api/v1/objects/\(fileId)/sharing", body: Data(#"{"sharedWith":["ops-\#(mark)"]}"#.utf8), headers: Self.as(bob))
        #expect(bobShareTeam.status == 403, "who may not share hears that, not which team is wrong: \(bobShareTeam.text)")
        #expect(!bobShareTeam.text.contains("alice"), "a refusal to who may not read it does not name the owner: \(bobShareTeam.text)")
        let bobData = try await Platform.request(
            "POST", "/api/v1/data?schemaId=\(schemaId)", body: Data("amount\n1.5\n".utf8), headers: Self.as(bob))
        #expect(bobData.status == 403, "a DATA set described by another's schema: \(bobData.text)")

        // Carol, in the team: reads the schema, not the file; finds only the schema; changes nothing.
        #expect(try await Platform.request("GET", "/api/v1/objects/\(schemaId)", headers: Self.as(carol)).status == 200)
        #expect(try await Platform.request("GET", "/api/v1/objects/\(fileId)", headers: Self.as(carol)).status == 403)
        #expect(try await Self.search(mark, as: carol) == [schemaId])
        let carolTags = try await Platform.request(
            "POST", "/api/v1/objects/\(schemaId)/tags", body: Data(#"{"updates":[{"attrName":"x","value":"y"}]}"#.utf8),
            headers: Self.as(carol))
        #expect(carolTags.status == 403, "a team member reads, does not change: \(carolTags.text)")
        let carolData = try await Platform.request(
            "POST", "/api/v1/data?schemaId=\(schemaId)", body: Data("amount\n1.5\n".utf8), headers: Self.as(carol))
        #expect(carolData.status == 201, "a DATA set described by a schema shared with her team: \(carolData.text)")

        // Alice sees both; shares only with her own teams; shares the file with everyone.
        #expect(try await Self.search(mark, as: alice) == [fileId, schemaId])
        let foreignTeam = try await Platform.request(
            "PUT", "/api/v1/objects/\(fileId)/sharing", body: Data(#"{"sharedWith":["ops-\#(mark)"]}"#.utf8), headers: Self.as(alice))
        #expect(foreignTeam.status == 422, "\(foreignTeam.text)")
        let fields = ((foreignTeam.json["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String }
        #expect(fields == ["sharedWith[0]"], "\(foreignTeam.text)")
        let everyone = try await Platform.request(
            "PUT", "/api/v1/objects/\(fileId)/sharing", body: Data(#"{"sharedWith":["*"]}"#.utf8), headers: Self.as(alice))
        #expect(everyone.status == 200 && everyone.json["sharedWith"] as? [String] == ["*"], "\(everyone.text)")
        let content = try await Platform.request("GET", "/api/v1/objects/\(fileId)/content", headers: Self.as(bob))
        #expect(content.status == 200 && content.text == "alice's numbers\n")
        #expect(try await Self.search(mark, as: bob) == [fileId])
        // Operators and admins read everything.
        let operatorToken = try await IdentityTests.token(for: "olga-\(mark)", role: "operator")
        #expect(try await Self.search(mark, as: operatorToken) == [fileId, schemaId])
        #expect(try await Platform.request("GET", "/api/v1/objects/\(schemaId)", headers: Self.as(operatorToken)).status == 200)
        // A new version keeps the owner and the sharing.
        let second = try await Platform.request(
            "POST", "/api/v1/files?name=private.txt&objectId=\(fileId)", body: Data("v2\n".utf8), headers: Self.as(alice))
        #expect(second.status == 201 && second.json["objectVersion"] as? Int == 2, "\(second.text)")
        #expect(second.json["owner"] as? String == "alice-\(mark)" && second.json["sharedWith"] as? [String] == ["*"])
    }

    @Test("what a job writes belongs to its owner; a job reads only what its submitter may read and writes only what they own (403 naming the field), also when re-run; idempotency keys are per owner")
    func jobsAndTheirObjects() async throws {
        let mark = String(UUID().uuidString.prefix(8)).lowercased()
        let alice = try await IdentityTests.token(for: "alice-\(mark)", extra: #","teams":["risk-\#(mark)"]"#)
        let carol = try await IdentityTests.token(for: "carol-\(mark)", extra: #","teams":["risk-\#(mark)"]"#)
        let bob = try await IdentityTests.token(for: "bob-\(mark)")
        let importBody = #"{"jobType":"IMPORT_MODEL","importModel":{"repository":"\#(Platform.modelRepository)","path":"noop-model","entryPoint":"run.sh","language":"shell","version":"v1.0"}}"#
        let imported = try await Platform.request("POST", "/api/v1/jobs", body: Data(importBody.utf8), headers: Self.as(alice))
        try #require(imported.status == 201, "\(imported.text)")
        let importJob = try await Platform.waitForEnd(try #require(imported.json["jobId"] as? String))
        try #require(importJob["status"] as? String == "SUCCEEDED")
        let model = try #require(Platform.firstObjectId(importJob)).lowercased()
        let record = try await Platform.request("GET", "/api/v1/objects/\(model)", headers: Self.as(alice))
        #expect(record.status == 200 && record.json["owner"] as? String == "alice-\(mark)", "the model belongs to the import's owner: \(record.text)")

        let run = #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"}}}"#
        for path in ["/api/v1/jobs/validate", "/api/v1/jobs"] {
            let refused = try await Platform.request("POST", path, body: Data(run.utf8), headers: Self.as(bob))
            #expect(refused.status == 403, "\(path) with another's model answered \(refused.status): \(refused.text)")
            let fields = ((refused.json["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String }
            #expect(fields == ["runModel.model.objectId"], "\(refused.text)")
        }
        #expect(try await Platform.request("POST", "/api/v1/jobs/validate", body: Data(run.utf8), headers: Self.as(carol)).status == 403)
        let shared = try await Platform.request(
            "PUT", "/api/v1/objects/\(model)/sharing", body: Data(#"{"sharedWith":["risk-\#(mark)"]}"#.utf8), headers: Self.as(alice))
        #expect(shared.status == 200, "\(shared.text)")
        let carolRun = try await Platform.request("POST", "/api/v1/jobs", body: Data(run.utf8), headers: Self.as(carol))
        try #require(carolRun.status == 201, "a team member runs the shared model: \(carolRun.text)")
        let carolJob = try await Platform.waitForEnd(try #require(carolRun.json["jobId"] as? String))
        #expect(carolJob["status"] as? String == "SUCCEEDED")
        // The job's log FILE is carol's, not alice's.
        let log = try #require(((carolJob["result"] as? [String: Any])?["logFile"] as? [String: Any])?["objectId"] as? String)
        #expect(try await Platform.request("GET", "/api/v1/objects/\(log)", headers: Self.as(carol)).json["owner"] as? String == "carol-\(mark)")
        #expect(try await Platform.request("GET", "/api/v1/objects/\(log)", headers: Self.as(alice)).status == 403)
        #expect(try await Platform.request("POST", "/api/v1/jobs/validate", body: Data(run.utf8), headers: Self.as(bob)).status == 403)

        // A job writes new versions of its prior outputs: reading them (shared with the team) is not
        // enough, the submitter must own them.
        let data = try await Platform.request(
            "POST", "/api/v1/data?sharedWith=risk-\(mark)", body: Data("amount\n1.5\n".utf8),
            headers: Self.as(alice).merging(["Content-Type": "text/csv"]) { $1 })
        try #require(data.status == 201, "\(data.text)")
        let dataId = try #require(data.json["objectId"] as? String).lowercased()
        let upper = try await Platform.importModel(path: "upper-model", entryPoint: "upper.py", language: "python")
        let writing = #"""
            {"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(upper)"},"inputs":{"source":{"objectId":"\#(dataId)"}},
             "priorOutputs":{"result":{"objectId":"\#(dataId)"}}}}
            """#
        for path in ["/api/v1/jobs/validate", "/api/v1/jobs"] {
            let refused = try await Platform.request("POST", path, body: Data(writing.utf8), headers: Self.as(carol))
            #expect(refused.status == 403, "\(path) writing alice's object as carol answered \(refused.status): \(refused.text)")
            let fields = ((refused.json["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String }
            #expect(fields == ["runModel.priorOutputs.result.objectId"], "\(refused.text)")
        }
        let aliceWrites = try await Platform.request("POST", "/api/v1/jobs/validate", body: Data(writing.utf8), headers: Self.as(alice))
        #expect(aliceWrites.status == 200, "the owner writes her object: \(aliceWrites.text)")

        // An idempotency key is the owner's: another owner's submit with it gets 409, never the job.
        let key = "isolation-\(mark)"
        let keyed = try await Platform.request("POST", "/api/v1/jobs", body: Data(run.utf8), headers: Self.as(carol).merging(["Idempotency-Key": key]) { $1 })
        try #require(keyed.status == 201, "\(keyed.text)")
        let again = try await Platform.request("POST", "/api/v1/jobs", body: Data(run.utf8), headers: Self.as(carol).merging(["Idempotency-Key": key]) { $1 })
        #expect(again.status == 201 && again.json["jobId"] as? String == keyed.json["jobId"] as? String, "the same owner gets the first job: \(again.text)")
        let stolen = try await Platform.request("POST", "/api/v1/jobs", body: Data(run.utf8), headers: Self.as(bob).merging(["Idempotency-Key": key]) { $1 })
        #expect(stolen.status == 409, "another owner's key: \(stolen.status) \(stolen.text)")
        let keyedId = try #require(keyed.json["jobId"] as? String)
        #expect(stolen.json["jobId"] == nil && !stolen.text.contains(keyedId))
        _ = try await Platform.waitForEnd(keyedId)

        // A re-run is checked again: once alice stops sharing the model, carol's job does not run again.
        let unshared = try await Platform.request(
            "PUT", "/api/v1/objects/\(model)/sharing", body: Data(#"{"sharedWith":[]}"#.utf8), headers: Self.as(alice))
        #expect(unshared.status == 200, "\(unshared.text)")
        let carolJobId = try #require(carolRun.json["jobId"] as? String)
        for path in ["/api/v1/jobs/\(carolJobId)/rerun", "/api/v1/jobs/\(carolJobId)/rerun-chain?dryRun=true", "/api/v1/jobs/\(carolJobId)/rerun-chain"] {
            let rerun = try await Platform.request("POST", path, headers: Self.as(carol))
            #expect(rerun.status == 403, "\(path) with a model no longer shared answered \(rerun.status): \(rerun.text)")
            let fields = ((rerun.json["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String }
            #expect(fields == ["runModel.model.objectId"], "\(rerun.text)")
        }
        let aliceRun = try await Platform.request("POST", "/api/v1/jobs", body: Data(run.utf8), headers: Self.as(alice))
        try #require(aliceRun.status == 201)
        _ = try await Platform.waitForEnd(try #require(aliceRun.json["jobId"] as? String))
        let aliceRerun = try await Platform.request("POST", "/api/v1/jobs/\(try #require(aliceRun.json["jobId"] as? String))/rerun", headers: Self.as(alice))
        #expect(aliceRerun.status == 201, "the owner re-runs her own: \(aliceRerun.text)")
        if let id = aliceRerun.json["jobId"] as? String { _ = try await Platform.waitForEnd(id) }
    }
}
