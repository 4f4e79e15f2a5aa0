import Foundation
import Testing

/// A model written for TRAC's own runtime (examples/trac-model): imported from a git repository
/// with its declarations read from the class, run by `python -m tracdap.rt.launch` on a CSV input,
/// its output stored with TRAC's schema and row count, and exported.
@Suite("TRAC models", .serialized)
struct TracModelTests {
    static func output(_ job: [String: Any], _ name: String) -> String? {
        (((job["result"] as? [String: Any])?["outputs"] as? [String: Any])?[name] as? [String: Any])?["objectId"] as? String
    }

    /// Imports a CSV from the export root as a DATA object.
    static func importCSV(_ text: String, folder: URL, tag: String, name: String) async throws -> String {
        try Data(text.utf8).write(to: folder.appendingPathComponent(name))
        let job = try await Platform.waitForEnd(
            try await Platform.submit(#"{"jobType":"IMPORT_DATA","importData":{"imports":{"accounts":{"path":"e2e-trac-\#(tag)/\#(name)"}}}}"#))
        try #require(job["status"] as? String == "SUCCEEDED", "\(job["statusMessage"] ?? "")")
        return try #require(output(job, "accounts"))
    }

    @Test("a TRAC model is imported from git with its declarations, runs on a CSV, and its output is stored with TRAC's schema and exported; TRAC's failures are the job's")
    func tracModel() async throws {
        let imported = try await Platform.waitForEnd(
            try await Platform.submit(
                #"{"jobType":"IMPORT_MODEL","importModel":{"repository":"\#(Platform.modelRepository)","path":"trac-model","entryPoint":"trac_example.scale_model.ScaleModel","language":"trac","version":"v1.0"}}"#),
            timeout: .seconds(600))
        try #require(imported["status"] as? String == "SUCCEEDED", "\(imported["statusMessage"] ?? "")")
        let model = try #require(Platform.firstObjectId(imported))
        let record = try await Platform.request("GET", "/api/v1/objects/\(model.lowercased())")
        let definition = try #require((record.json["definition"] as? [String: Any])?["model"] as? [String: Any], "\(record.text)")
        let parameters = definition["parameters"] as? [String: [String: Any]] ?? [:]
        #expect(parameters["factor"]?["paramType"] as? String == "FLOAT" && parameters["factor"]?["defaultValue"] == nil, "\(parameters)")
        #expect((parameters["suffix"]?["defaultValue"] as? [String: Any])?["value"] as? String == "", "\(parameters)")
        #expect((parameters["fail"]?["defaultValue"] as? [String: Any])?["value"] as? Bool == false, "\(parameters)")
        let inputSchema = (((definition["inputs"] as? [String: Any])?["accounts"] as? [String: Any])?["schema"] as? [String: Any])?["fields"] as? [[String: Any]]
        #expect(inputSchema?.compactMap { $0["fieldName"] as? String } == ["key", "value", "count"], "\(definition)")
        #expect((definition["outputs"] as? [String: Any])?["scaled"] != nil)

        let tag = UUID().uuidString.prefix(8).lowercased()
        let exports = Platform.repositoryRoot.appendingPathComponent(".conveyor/exports/e2e-trac-\(tag)")
        try FileManager.default.createDirectory(at: exports, withIntermediateDirectories: true)
        let accounts = try await Self.importCSV("key,value,count\nA001,10.5,3\nA002,20,1\nA003,-4.25,7\n", folder: exports, tag: tag, name: "accounts.csv")

        // A parameter of the wrong type is refused at submit: the declarations came from the model.
        let wrongType = try await Platform.request(
            "POST", "/api/v1/jobs",
            body: Data(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"factor":"abc"},"inputs":{"accounts":{"objectId":"\#(accounts)"}}}}"#.utf8))
        #expect(wrongType.status == 422, "\(wrongType.text)")

        let run = try await Platform.waitForEnd(
            try await Platform.submit(
                #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"factor":2.5,"suffix":"_x"},"inputs":{"accounts":{"objectId":"\#(accounts)"}}}}"#),
            timeout: .seconds(120))
        try #require(run["status"] as? String == "SUCCEEDED", "\(run["statusMessage"] ?? "")")
        let scaled = try #require(Self.output(run, "scaled"))
        let data = try await Platform.request("GET", "/api/v1/objects/\(scaled.lowercased())")
        let dataDefinition = try #require((data.json["definition"] as? [String: Any])?["data"] as? [String: Any], "\(data.text)")
        #expect(dataDefinition["rowCount"] as? Int == 3, "\(dataDefinition)")
        #expect(dataDefinition["format"] as? String == "text/csv")
        let fields = (dataDefinition["schemaDefinition"] as? [String: Any])?["fields"] as? [[String: Any]] ?? []
        #expect(fields.compactMap { $0["fieldName"] as? String } == ["key", "scaled_value", "count"], "\(dataDefinition)")
        #expect(fields.compactMap { $0["fieldType"] as? String } == ["STRING", "FLOAT", "INTEGER"])
        let content = try await Platform.request("GET", "/api/v1/objects/\(scaled.lowercased())/content").text
        #expect(content.contains("\"A001_x\",26.25,3") && content.contains("\"A003_x\",-10.625,7"), "\(content)")

        let export = try await Platform.waitForEnd(
            try await Platform.submit(#"{"jobType":"EXPORT_DATA","exportData":{"inputs":{"scaled":{"objectId":"\#(scaled)"}},"exports":{"scaled":{"path":"e2e-trac-\#(tag)/scaled.csv"}}}}"#))
        #expect(export["status"] as? String == "SUCCEEDED", "\(export["statusMessage"] ?? "")")
        #expect(try String(contentsOf: exports.appendingPathComponent("scaled.csv"), encoding: .utf8) == content)

        // The model's own failure, and data that does not match the declared schema, end FAILED
        // with TRAC's message.
        let failing = try await Platform.waitForEnd(
            try await Platform.submit(
                #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"factor":1,"fail":true},"inputs":{"accounts":{"objectId":"\#(accounts)"}}}}"#),
            timeout: .seconds(120))
        #expect(failing["status"] as? String == "FAILED")
        #expect((failing["statusMessage"] as? String ?? "").contains("failing on purpose"), "\(failing["statusMessage"] ?? "")")
        let missing = try await Self.importCSV("key,count\nA001,3\n", folder: exports, tag: tag, name: "missing-column.csv")
        let mismatched = try await Platform.waitForEnd(
            try await Platform.submit(
                #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"factor":1},"inputs":{"accounts":{"objectId":"\#(missing)"}}}}"#),
            timeout: .seconds(120))
        #expect(mismatched["status"] as? String == "FAILED")
        #expect((mismatched["statusMessage"] as? String ?? "").contains("missing one or more columns: [value]"), "\(mismatched["statusMessage"] ?? "")")
    }

    @Test("an entry point that is not module.Class, or a class that is not there, fails the import with the reason")
    func badEntryPoints() async throws {
        let badForm = try await Platform.request(
            "POST", "/api/v1/jobs",
            body: Data(#"{"jobType":"IMPORT_MODEL","importModel":{"repository":"\#(Platform.modelRepository)","path":"trac-model","entryPoint":"trac_example/scale_model.ScaleModel","language":"trac","version":"v1.0"}}"#.utf8))
        #expect(badForm.status == 422 && badForm.text.contains("importModel.entryPoint"), "\(badForm.text)")
        let noClass = try await Platform.waitForEnd(
            try await Platform.submit(
                #"{"jobType":"IMPORT_MODEL","importModel":{"repository":"\#(Platform.modelRepository)","path":"trac-model","entryPoint":"trac_example.scale_model.NoSuchModel","language":"trac","version":"v1.0"}}"#),
            timeout: .seconds(600))
        #expect(noClass["status"] as? String == "FAILED")
        #expect((noClass["statusMessage"] as? String ?? "").contains("NoSuchModel"), "\(noClass["statusMessage"] ?? "")")
    }
}
