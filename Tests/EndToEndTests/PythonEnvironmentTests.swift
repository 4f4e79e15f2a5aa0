import Foundation
import Testing

/// Python models that ship `requirements.txt`: the importer builds their environment from the
/// package index once (content-addressed), and the runner runs them with its interpreter.
@Suite("Python environments", .serialized)
struct PythonEnvironmentTests {
    static func importJob(_ path: String) -> String {
        #"{"jobType":"IMPORT_MODEL","importModel":{"repository":"\#(Platform.modelRepository)","path":"\#(path)","entryPoint":"model.py","language":"python","version":"v1.0"}}"#
    }

    @Test("a model with requirements.txt runs with its package; a second import reuses the environment; unmet requirements fail the import with pip's message")
    func requirements() async throws {
        let first = try await Platform.waitForEnd(try await Platform.submit(Self.importJob("requirements-model")), timeout: .seconds(300))
        try #require(first["status"] as? String == "SUCCEEDED", "\(first["statusMessage"] ?? "")")
        let model = try #require(Platform.firstObjectId(first))
        let record = try await Platform.request("GET", "/api/v1/objects/\(model.lowercased())")
        let key = try #require(((record.json["definition"] as? [String: Any])?["model"] as? [String: Any])?["environment"] as? String, "\(record.text)")
        #expect(key.hasPrefix("py-"))

        let run = try await Platform.waitForEnd(
            try await Platform.submit(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"}}}"#), timeout: .seconds(60))
        #expect(run["status"] as? String == "SUCCEEDED", "\(run["statusMessage"] ?? "")")
        let log = try await Platform.request("GET", "/api/v1/jobs/\(run["jobId"] as? String ?? "")/log").text
        #expect(log.contains("six 1.16.0") && log.contains("/\(key)/bin/python"), "\(log)")

        let again = try await Platform.submit(Self.importJob("requirements-model"))
        #expect(try await Platform.waitForEnd(again, timeout: .seconds(120))["status"] as? String == "SUCCEEDED")
        #expect(try await Platform.request("GET", "/api/v1/jobs/\(again)/log").text.contains("reusing Python environment \(key)"))

        let bad = try await Platform.waitForEnd(try await Platform.submit(Self.importJob("bad-requirements-model")), timeout: .seconds(300))
        #expect(bad["status"] as? String == "FAILED")
        let message = bad["statusMessage"] as? String ?? ""
        #expect(message.contains("could not install the requirements") && message.contains("conveyor-no-such-package-for-tests"), "\(message)")
    }
}
