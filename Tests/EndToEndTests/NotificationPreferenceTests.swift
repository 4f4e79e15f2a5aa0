import Foundation
import Testing

/// What a user chooses about their e-mail: a default for their jobs (always, only on failure,
/// never), a job's own choice over it, one e-mail for a retried job or a group listing its
/// attempts or stages, and templates a deployment replaces.
@Suite("Notification preferences", .serialized)
struct NotificationPreferenceTests {
    static func noMail(forJob id: String) async throws {
        // The notifier gets the end within a second; give it three.
        try await Task.sleep(for: .seconds(3))
        #expect(Platform.mails(forJob: id).isEmpty, "job \(id) sent an e-mail")
    }

    @Test("a user's default (only on failure) applies to jobs that name none; a job's own choice wins; a retried job sends one e-mail listing its attempts")
    func defaultsAndRetries() async throws {
        let frank = try await IdentityTests.token(for: "frank")
        let me = IdentityTests.as(frank)
        let address = "frank-\(UUID().uuidString.prefix(6).lowercased())@example.com"
        let set = try await Platform.request(
            "PUT", "/api/v1/me/notification", body: Data(#"{"email":["\#(address)"],"when":"FAILURE"}"#.utf8), headers: me)
        #expect(set.status == 200, "\(set.text)")
        let read = try await Platform.request("GET", "/api/v1/me/notification", headers: me)
        #expect((read.json["settings"] as? [String: Any])?["when"] as? String == "FAILURE")
        #expect(read.json["principal"] as? String == "frank")

        let noop = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        let failing = try await Platform.importModel(path: "failing-model", entryPoint: "fail.sh", language: "shell")
        func submit(_ body: String) async throws -> String {
            let result = try await Platform.request("POST", "/api/v1/jobs", body: Data(body.utf8), headers: me)
            try #require(result.status == 201, "\(result.text)")
            return try #require(result.json["jobId"] as? String)
        }
        let succeeded = try await submit(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"}}}"#)
        let job = try await Platform.waitForEnd(succeeded)
        let recorded = ((job["definition"] as? [String: Any])?["notification"] as? [String: Any])
        #expect(recorded?["when"] as? String == "FAILURE" && recorded?["email"] as? [String] == [address], "the default is recorded with the job")
        try await Self.noMail(forJob: succeeded)

        let retried = try await submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(failing)"}},"retry":{"maxAttempts":2,"backoffSeconds":0.2,"retryOn":["EXIT_CODE"]}}"#)
        let failed = try await Platform.waitForEnd(retried)
        #expect(failed["status"] as? String == "FAILED")
        let mail = try await Platform.waitForMail(forJob: retried)
        try await Task.sleep(for: .seconds(1))
        #expect(Platform.mails(forJob: retried).count == 1, "one e-mail for the job, not one per attempt")
        #expect(mail.contains("Attempts:  2") && mail.contains("Earlier attempts:") && mail.contains("1. exit code 3: model exited with code 3"), "\(mail.prefix(1500))")

        let silenced = try await submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(failing)"}},"notification":{"email":[],"when":"NEVER"}}"#)
        _ = try await Platform.waitForEnd(silenced)
        try await Self.noMail(forJob: silenced)

        let bad = try await Platform.request(
            "PUT", "/api/v1/me/notification", body: Data(#"{"email":["\#(address)"],"when":"ALWAYS","on":["RUNNING"]}"#.utf8), headers: me)
        let fields = Set(((bad.json["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String })
        #expect(bad.status == 422 && fields == ["when", "on[0]"], "\(bad.text)")
        let unknown = try await Platform.request("PUT", "/api/v1/me/notification", body: Data(#"{"email":[],"when":"SOMETIMES"}"#.utf8), headers: me)
        #expect(unknown.status == 422)
        let cleared = try await Platform.request("DELETE", "/api/v1/me/notification", headers: me)
        #expect(cleared.status == 200 && cleared.json["settings"] == nil)
    }

    @Test("a group sends one e-mail at its end listing its stages; a deployment's own templates replace the built-in ones")
    func groupsAndTemplates() async throws {
        let noop = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        let stage = #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"}}}"#
        let group = try await Platform.submit(
            #"{"jobType":"JOB_GROUP","jobGroup":{"groupType":"SEQUENTIAL","jobs":[\#(stage),\#(stage)]},"notification":{"email":["groups@example.com"],"when":"ALWAYS"}}"#)
        let ended = try await Platform.waitForEnd(group)
        let children = (ended["childJobIds"] as? [String] ?? []).map { $0.lowercased() }
        #expect(children.count == 2)
        let mail = try await Platform.waitForMail(forJob: group)
        #expect(mail.contains("Stages:") && children.allSatisfy { mail.contains($0) }, "\(mail.prefix(2000))")
        for child in children { #expect(Platform.mails(forJob: child).isEmpty, "a stage sent its own e-mail") }

        let folder = Platform.repositoryRoot.appendingPathComponent(".conveyor/test-templates")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("Custom: {{{status}}} {{{jobIdShort}}} for {{{owner}}}".utf8).write(to: folder.appendingPathComponent("subject.mustache"))
        try Data("Plain words: {{{message}}}\n".utf8).write(to: folder.appendingPathComponent("text.mustache"))
        await Platform.restart("notifier", with: ["NOTIFIER_TEMPLATES": folder.path])
        let job = try await Platform.submit(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"}},"notification":{"email":["templates@example.com"]}}"#)
        _ = try await Platform.waitForEnd(job)
        let custom = try await Platform.waitForMail(forJob: job)
        await Platform.restart("notifier", with: [:])
        #expect(custom.contains("Subject: Custom: SUCCEEDED \(job.lowercased().prefix(8)) for admin"), "\(custom.prefix(800))")
        #expect(custom.contains("Plain words:"))
        #expect(custom.contains("<table>"), "the HTML part stays the built-in one")
    }
}
