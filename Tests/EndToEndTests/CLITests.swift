import Foundation
import TestSupport
import Testing

/// The `conveyor` command line against the running platform, as a user types it.
@Suite("Command line", .serialized)
struct CLITests {
    static let binary = Platform.repositoryRoot.appendingPathComponent(".build/debug/conveyor").path
    static let home = FileManager.default.temporaryDirectory.appendingPathComponent("conveyor-cli-\(UUID().uuidString)").path

    /// Runs `conveyor` with `arguments` (and `environment`); its exit status and its output (both streams).
    static func cli(_ arguments: [String], environment: [String: String] = [:], input: String? = nil) async -> (status: Int32, output: String) {
        func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let output = home + "/out-\(UUID().uuidString).txt"
        try? FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let settings = ["XDG_CONFIG_HOME": home, "CONVEYOR_URL": "", "CONVEYOR_TOKEN": ""].merging(environment) { $1 }
        var command = "env " + settings.map { "\($0.key)=\(quote($0.value))" }.joined(separator: " ") + " "
        command += ([binary] + arguments).map(quote).joined(separator: " ") + " > \(quote(output)) 2>&1"
        if let input { command = "printf '%s\\n' \(quote(input)) | " + command }
        let status = await ScriptRunner.run(["/bin/sh", "-c", command])
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: output)
        return (status, text)
    }

    @Test("login, submit from flags and from YAML, wait with the job's status as exit status, list, show, logs, cancel, validate, upload, share, search, queue, tokens; every failure with its exit status")
    func everyCommand() async throws {
        let alice = try await IdentityTests.token(for: "alice")
        let noop = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        let failing = try await Platform.importModel(path: "failing-model", entryPoint: "fail.sh", language: "shell")

        // Without a token: a usage error; a gateway that is not there: unreachable.
        #expect(await Self.cli(["jobs"]).status == 2)
        #expect(await Self.cli(["jobs", "--url", "http://127.0.0.1:1", "--token", alice]).status == 4)
        // login reads the token from standard input, checks it and saves it.
        let login = await Self.cli(["login", "--url", Platform.gateway], input: alice)
        #expect(login.status == 0 && login.output.contains("as alice (user)"), "\(login.output)")
        let saved = Self.home + "/conveyor/config.json"
        #expect(((try? FileManager.default.attributesOfItem(atPath: saved))?[.posixPermissions] as? Int) == 0o600)
        #expect(await Self.cli(["login", "--url", Platform.gateway, "--token", "cvy_wrong"]).status == 3)

        let run = await Self.cli(["submit", "--run-model", noop, "--param", "sleep=0.1", "--wait"])
        #expect(run.status == 0 && run.output.contains("SUCCEEDED"), "\(run.output)")
        let runId = String(run.output.split(separator: "\n").first ?? "")
        #expect(UUID(uuidString: runId) != nil)

        let yaml = Self.home + "/failing.yaml"
        try Data("jobType: RUN_MODEL\nrunModel:\n  model:\n    objectId: \(failing)\nlabels:\n  via: cli\n".utf8).write(to: URL(fileURLWithPath: yaml))
        let submitted = await Self.cli(["submit", yaml])
        let failedId = submitted.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(submitted.status == 0 && UUID(uuidString: failedId) != nil, "\(submitted.output)")
        let waited = await Self.cli(["wait", failedId])
        #expect(waited.status == 1 && waited.output.contains("FAILED"), "wait exits 1 for a failed job: \(waited.output)")

        let table = await Self.cli(["jobs", "--label", "via:cli"])
        #expect(table.status == 0 && table.output.contains("JOB ID") && table.output.contains(failedId.lowercased()))
        let listed = await Self.cli(["jobs", "--json", "--limit", "50"])
        let page = (try? JSONSerialization.jsonObject(with: Data(listed.output.utf8))) as? [String: Any]
        let ids = ((page?["jobs"] as? [[String: Any]]) ?? []).compactMap { ($0["jobId"] as? String)?.lowercased() }
        #expect(ids.contains(runId.lowercased()) && ids.contains(failedId.lowercased()), "\(listed.output.prefix(300))")
        let shown = await Self.cli(["show", runId])
        #expect(shown.status == 0 && shown.output.contains("SUCCEEDED") && shown.output.contains("history"))
        #expect(await Self.cli(["logs", failedId]).status == 0)
        let followed = await Self.cli(["logs", "-f", runId])
        #expect(followed.status == 0 && followed.output.contains("the job ended"), "\(followed.output)")

        let long = await Self.cli(["submit", "--run-model", noop, "--param", "sleep=30"])
        let longId = long.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let cancelled = await Self.cli(["cancel", longId, "--reason", "from the command line"])
        #expect(cancelled.status == 0 && cancelled.output.contains("CANCELLED"), "\(cancelled.output)")
        #expect(await Self.cli(["wait", longId]).status == 1)
        #expect(await Self.cli(["rerun", runId, "--wait"]).status == 0)

        let bad = Self.home + "/bad.json"
        try Data(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"}},"priority":500,"resources":{"cpus":0}}"#.utf8).write(to: URL(fileURLWithPath: bad))
        let refused = await Self.cli(["validate", bad])
        #expect(refused.status == 3 && refused.output.contains("priority: must be between 0 and 100") && refused.output.contains("resources.cpus"), "\(refused.output)")

        let notes = Self.home + "/notes.txt"
        try Data("written from the command line\n".utf8).write(to: URL(fileURLWithPath: notes))
        let uploaded = await Self.cli(["upload", notes])
        let fileId = uploaded.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(uploaded.status == 0 && UUID(uuidString: fileId) != nil, "\(uploaded.output)")
        let object = await Self.cli(["objects", fileId])
        #expect(object.status == 0 && object.output.contains("FILE") && object.output.contains("owner    alice"), "\(object.output)")
        let shared = await Self.cli(["share", fileId, "--team", "*"])
        #expect(shared.status == 0 && shared.output.contains("shared with *"), "\(shared.output)")
        #expect(await Self.cli(["share", fileId, "--team", "not-my-team"]).status == 3, "a team alice is not in: refused")
        #expect(await Self.cli(["objects", noop]).status == 0, "a model shared with everyone")
        let found = await Self.cli(["search", "--type", "FILE", "--limit", "500"])
        #expect(found.status == 0 && found.output.contains(fileId.lowercased()), "\(found.output.prefix(500))")
        #expect(await Self.cli(["queue"]).output.contains("workers:"))
        #expect(await Self.cli(["tokens", "list"]).status == 3, "tokens are for admins")
        let issued = await Self.cli(["tokens", "issue", "--principal", "cli-made", "--token", Platform.adminToken])
        #expect(issued.status == 0 && issued.output.hasPrefix("cvy_"))

        let completion = await Self.cli(["--generate-completion-script", "bash"])
        #expect(completion.status == 0 && completion.output.contains("conveyor"))
        try? FileManager.default.removeItem(atPath: Self.home)
    }
}
