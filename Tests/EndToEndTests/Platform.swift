import ConveyorModels
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Drives the running platform the way a user does: over its public HTTP API, and reads the
/// e-mails that arrive in the SMTP sink's maildir. `make test` starts the real services first.
enum Platform {
    static let environment = ProcessInfo.processInfo.environment
    static let gateway = environment["CONVEYOR_GATEWAY_URL"] ?? "http://127.0.0.1:8080"
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let maildir = environment["CONVEYOR_TEST_MAILDIR"] ?? repositoryRoot.appendingPathComponent(".conveyor/mail").path

    struct HTTPResult {
        var status: Int
        var body: Data
        var headers: [String: String]
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// The local admin token (`CONVEYOR_TOKEN`, or what `services.sh start` wrote to `.conveyor/admin-token`).
    static let adminToken = LocalAdminToken.read(root: repositoryRoot.path)

    /// A request to the gateway, as the local admin unless `headers` names another `Authorization`
    /// (an empty one: no credential at all).
    static func request(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws
        -> HTTPResult
    {
        var request = URLRequest(url: URL(string: gateway + path)!)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 30
        if body != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        request.setValue("Bearer \(adminToken)", forHTTPHeaderField: "Authorization")
        for (name, value) in headers { request.setValue(value.isEmpty && name == "Authorization" ? nil : value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (key, value) in http.allHeaderFields { fields[String(describing: key).lowercased()] = String(describing: value) }
        return HTTPResult(status: http.statusCode, body: data, headers: fields)
    }

    /// Submits a job and returns its id, expecting 201.
    static func submit(_ json: String) async throws -> String {
        let result = try await request("POST", "/api/v1/jobs", body: Data(json.utf8))
        try #require(result.status == 201, "submit answered \(result.status): \(result.text)")
        return try #require(result.json["jobId"] as? String)
    }

    static func job(_ id: String) async throws -> [String: Any] {
        let result = try await request("GET", "/api/v1/jobs/\(id)")
        try #require(result.status == 200, "GET job answered \(result.status): \(result.text)")
        return result.json
    }

    /// Waits until the job is terminal and returns it.
    static func waitForEnd(_ id: String, timeout: Duration = .seconds(60)) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let job = try await job(id)
            if let status = job["status"] as? String, ["SUCCEEDED", "FAILED", "CANCELLED"].contains(status) { return job }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("job \(id) did not end within \(timeout)")
        return try await job(id)
    }

    /// Waits until the job reaches `status` (or is terminal).
    static func waitFor(_ id: String, status: String, timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let current = try await job(id)["status"] as? String
            if current == status || ["SUCCEEDED", "FAILED", "CANCELLED"].contains(current ?? "") { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("job \(id) did not reach \(status)")
    }

    static func statuses(_ job: [String: Any]) -> [String] {
        (job["updates"] as? [[String: Any]] ?? []).compactMap { $0["status"] as? String }
    }

    static func firstObjectId(_ job: [String: Any]) -> String? {
        ((job["result"] as? [String: Any])?["objects"] as? [[String: Any]])?.first?["objectId"] as? String
    }

    /// A git repository with the example models, tagged v1.0 (made once per test process).
    static let modelRepository: String = {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("conveyor-models-\(UUID().uuidString)").path
        try! FileManager.default.copyItem(atPath: repositoryRoot.appendingPathComponent("examples").path, toPath: folder)
        for arguments in [
            ["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "models"],
            ["tag", "v1.0"],
        ] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
            process.arguments = ["-C", folder] + arguments
            try! process.run()
            process.waitUntilExit()
            precondition(process.terminationStatus == 0, "git \(arguments) failed")
        }
        return folder
    }()

    /// Imports one of the example models and returns its MODEL object id.
    static func importModel(path: String, entryPoint: String, language: String) async throws -> String {
        let id = try await submit(
            #"{"jobType":"IMPORT_MODEL","importModel":{"repository":"\#(modelRepository)","path":"\#(path)","entryPoint":"\#(entryPoint)","language":"\#(language)","version":"v1.0"}}"#)
        let job = try await waitForEnd(id)
        try #require(job["status"] as? String == "SUCCEEDED", "import failed: \(job["statusMessage"] ?? "")")
        let model = try #require(firstObjectId(job))
        // The test models are for every test's users: shared with everyone (the admin owns them).
        let shared = try await request("PUT", "/api/v1/objects/\(model)/sharing", body: Data(#"{"sharedWith":["*"]}"#.utf8))
        try #require(shared.status == 200, "sharing the model answered \(shared.status): \(shared.text)")
        return model
    }

    /// The e-mails in the maildir about a job (by the `X-Conveyor-Job-Id` header).
    static func mails(forJob id: String) -> [String] {
        let folder = maildir + "/new"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.compactMap { name in
            guard let data = FileManager.default.contents(atPath: folder + "/" + name) else { return nil }
            let text = String(decoding: data, as: UTF8.self)
            return text.range(of: "X-Conveyor-Job-Id: \(id.lowercased())", options: .caseInsensitive) != nil ? text : nil
        }
    }

    /// Waits for the first e-mail about a job.
    static func waitForMail(forJob id: String, timeout: Duration = .seconds(20)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let mail = mails(forJob: id).first { return mail }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("no e-mail for job \(id) in \(maildir)/new")
        return ""
    }

    /// Runs the project's service script (e.g. to restart one service).
    static func services(_ arguments: [String]) async -> Int32 {
        await ScriptRunner.script("deploy/local/services.sh", arguments)
    }

    /// Restarts a service with these settings (environment overrides); with none, as `make test` started it.
    static func restart(_ service: String, with settings: [String: String]) async {
        let saved = settings.keys.map { name in (name, getenv(name).map { String(cString: $0) }) }
        for (name, value) in settings { setenv(name, value, 1) }
        #expect(await services(["restart", service]) == 0)
        for (name, value) in saved {
            if let value { setenv(name, value, 1) } else { unsetenv(name) }
        }
    }

    /// Runs `deploy/local/infra.sh` (e.g. `smtp-down`, `smtp-up`, `restart-postgres`).
    static func infra(_ arguments: [String]) async -> Int32 {
        await ScriptRunner.script("deploy/local/infra.sh", arguments)
    }
}
