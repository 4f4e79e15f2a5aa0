import ArgumentParser
import Foundation
import Yams

/// Prints JSON as it came, or pretty-printed.
func printJSON(_ answer: GatewayClient.Answer) {
    if let object = answer.json, let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) {
        print(String(decoding: data, as: UTF8.self))
    } else {
        print(answer.text)
    }
}

/// A job definition from a JSON or YAML file (`-`: standard input), as JSON.
func definitionJSON(_ path: String) throws -> Data {
    let data: Data
    if path == "-" {
        data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
        guard let contents = FileManager.default.contents(atPath: path) else { throw CLIError.usage("cannot read \(path)") }
        data = contents
    }
    let text = String(decoding: data, as: UTF8.self)
    if (try? JSONSerialization.jsonObject(with: data)) != nil { return data }
    do {
        guard let value = try Yams.load(yaml: text) else { throw CLIError.usage("\(path) is empty") }
        return try JSONSerialization.data(withJSONObject: plainJSON(value))
    } catch let error as CLIError {
        throw error
    } catch {
        throw CLIError.usage("\(path) is neither JSON nor YAML: \(error)")
    }
}

/// YAML's values as JSON's (dates as ISO 8601 text, bytes as base64).
func plainJSON(_ value: Any) -> Any {
    switch value {
    case let map as [String: Any]: return map.mapValues(plainJSON)
    case let map as [AnyHashable: Any]: return Dictionary(uniqueKeysWithValues: map.map { ("\($0.key)", plainJSON($0.value)) })
    case let list as [Any]: return list.map(plainJSON)
    case let date as Date: return ISO8601DateFormatter().string(from: date)
    case let data as Data: return data.base64EncodedString()
    default: return value
    }
}

/// A command-line value as JSON: a number, true/false or JSON text as such, anything else a string.
func jsonValue(_ text: String) -> Any {
    if let data = text.data(using: .utf8), let value = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) { return value }
    return text
}

/// `name=value` pairs.
func pairs(_ items: [String], option: String) throws -> [(String, String)] {
    try items.map { item in
        guard let equals = item.firstIndex(of: "="), equals != item.startIndex else { throw CLIError.usage("\(option) takes name=value, not '\(item)'") }
        return (String(item[..<equals]), String(item[item.index(after: equals)...]))
    }
}

struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Submit a job from a JSON or YAML file, or from flags for the common job types.",
        discussion: """
            Examples:
              conveyor submit job.yaml --wait
              conveyor submit --run-model <MODEL ID> --param text='hello world' --param top=3 --email ann@example.com
              conveyor submit --import-model --repository https://git.example.org/models.git --path sample-model \\
                --entry-point model.py --language python --version v1.0
            """)
    @OptionGroup var connection: Connection
    @Argument(help: "A job definition (JSON or YAML; - reads standard input).") var file: String?
    @Option(help: "Run this MODEL object (RUN_MODEL).") var runModel: String?
    @Option(name: .customLong("param"), help: "A parameter, name=value (value as JSON when it parses).") var parameters: [String] = []
    @Option(name: .customLong("input"), help: "An input, name=objectId.") var inputs: [String] = []
    @Flag(help: "Import a model from git (IMPORT_MODEL) with the options below.") var importModel = false
    @Option(help: "IMPORT_MODEL: the git repository.") var repository: String?
    @Option(help: "IMPORT_MODEL: the model's folder in it.") var path: String?
    @Option(help: "IMPORT_MODEL: the entry point.") var entryPoint: String?
    @Option(help: "IMPORT_MODEL: python, shell or trac.") var language: String?
    @Option(help: "IMPORT_MODEL: the tag, branch or commit.") var version: String?
    @Option(help: "Priority 0-100.") var priority: Int?
    @Option(name: .customLong("email"), help: "Who gets an e-mail at the end (repeatable).") var emails: [String] = []
    @Option(help: "When to send it: ALWAYS, FAILURE or NEVER.") var notify: String?
    @Option(help: "An idempotency key: the same key again answers with the first job.") var idempotencyKey: String?
    @Flag(help: "Wait for the job to end (exit status as 'wait').") var wait = false
    @Flag(help: "Print the job record as JSON.") var json = false

    func definition() throws -> Data {
        if let file {
            guard runModel == nil, !importModel else { throw CLIError.usage("give a file or the flags of a job type, not both") }
            return try definitionJSON(file)
        }
        var job: [String: Any]
        if let runModel {
            var section: [String: Any] = ["model": ["objectId": runModel]]
            let parameterPairs = try pairs(parameters, option: "--param")
            if !parameterPairs.isEmpty { section["parameters"] = Dictionary(parameterPairs.map { ($0.0, jsonValue($0.1)) }) { $1 } }
            let inputPairs = try pairs(inputs, option: "--input")
            if !inputPairs.isEmpty { section["inputs"] = Dictionary(inputPairs.map { ($0.0, ["objectId": $0.1]) }) { $1 } }
            job = ["jobType": "RUN_MODEL", "runModel": section]
        } else if importModel {
            guard let repository, let path, let entryPoint, let language else {
                throw CLIError.usage("--import-model needs --repository, --path, --entry-point and --language")
            }
            var section: [String: Any] = ["repository": repository, "path": path, "entryPoint": entryPoint, "language": language]
            if let version { section["version"] = version }
            job = ["jobType": "IMPORT_MODEL", "importModel": section]
        } else {
            throw CLIError.usage("give a job file, --run-model or --import-model")
        }
        if let priority { job["priority"] = priority }
        if !emails.isEmpty || notify != nil {
            var notification: [String: Any] = ["email": emails]
            if let notify { notification["when"] = notify.uppercased() }
            job["notification"] = notification
        }
        return try JSONSerialization.data(withJSONObject: job)
    }

    func run() async throws {
        try await reporting {
            let client = try connection.client()
            var headers: [(String, String)] = []
            if let idempotencyKey { headers.append(("Idempotency-Key", idempotencyKey)) }
            let answer = try await client.send(.POST, "/api/v1/jobs", body: try definition(), headers: headers)
            let id = (answer.object["jobId"] as? String ?? "").lowercased()
            if json { printJSON(answer) } else { print(id) }
            if wait { try await JobWaiter(client: client).wait(for: id, quiet: json) }
        }
    }
}

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check a job definition without submitting it (every problem by field).")
    @OptionGroup var connection: Connection
    @Argument(help: "A job definition (JSON or YAML; - reads standard input).") var file: String
    @Flag(help: "Print the pinned definition as JSON.") var json = false

    func run() async throws {
        try await reporting {
            let answer = try await connection.client().send(.POST, "/api/v1/jobs/validate", body: try definitionJSON(file))
            if json { printJSON(answer) } else { print("valid: the definition would be accepted") }
        }
    }
}

struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List jobs, newest first, as a table or JSON.")
    @OptionGroup var connection: Connection
    @Option(help: "Statuses, comma-separated.") var status: String?
    @Option(help: "Job types, comma-separated.") var type: String?
    @Option(help: "An owner (operators and admins).") var owner: String?
    @Option(name: .customLong("label"), help: "name:value (repeatable).") var labels: [String] = []
    @Option(help: "How many (1-500).") var limit: Int = 20
    @Option(help: "The cursor of the next page (printed after the table).") var cursor: String?
    @Flag(help: "Print the page as JSON.") var json = false

    func run() async throws {
        try await reporting {
            var query: [URLQueryItem] = [URLQueryItem(name: "limit", value: String(limit))]
            if let status { query.append(URLQueryItem(name: "status", value: status)) }
            if let type { query.append(URLQueryItem(name: "jobType", value: type)) }
            if let owner { query.append(URLQueryItem(name: "owner", value: owner)) }
            if let cursor { query.append(URLQueryItem(name: "cursor", value: cursor)) }
            for label in labels { query.append(URLQueryItem(name: "label", value: label)) }
            var components = URLComponents()
            components.path = "/api/v1/jobs"
            components.queryItems = query
            let answer = try await connection.client().send(.GET, components.string ?? "/api/v1/jobs")
            if json { return printJSON(answer) }
            let jobs = answer.object["jobs"] as? [[String: Any]] ?? []
            print(Table.render(
                header: ["JOB ID", "TYPE", "STATUS", "OWNER", "SUBMITTED", "MESSAGE"],
                rows: jobs.map { job in
                    [(job["jobId"] as? String ?? "").lowercased(), job["jobType"] as? String ?? "", job["status"] as? String ?? "",
                        job["owner"] as? String ?? "", job["submittedAt"] as? String ?? "", String((job["statusMessage"] as? String ?? "").prefix(60))]
                }))
            if let next = answer.object["nextCursor"] as? String { print("next page: --cursor \(next)") }
        }
    }
}

struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a job: status, history, result.")
    @OptionGroup var connection: Connection
    @Argument(help: "The job id.") var jobId: String
    @Flag(help: "Print the record as JSON.") var json = false

    func run() async throws {
        try await reporting {
            let answer = try await connection.client().send(.GET, "/api/v1/jobs/\(jobId)")
            if json { return printJSON(answer) }
            let job = answer.object
            print("job      \((job["jobId"] as? String ?? "").lowercased())")
            print("type     \(job["jobType"] as? String ?? "")")
            print("owner    \(job["owner"] as? String ?? "")")
            print("status   \(job["status"] as? String ?? "") (\(job["statusMessage"] as? String ?? ""))")
            if let queue = job["queue"] as? [String: Any], let position = queue["position"] { print("queue    position \(position)") }
            print("history")
            for update in job["updates"] as? [[String: Any]] ?? [] {
                print("  \(update["at"] as? String ?? "")  \((update["status"] as? String ?? "").padding(toLength: 10, withPad: " ", startingAt: 0)) \(update["message"] as? String ?? "")")
            }
            if let result = job["result"] as? [String: Any], let outputs = result["outputs"] as? [String: Any], !outputs.isEmpty {
                print("outputs")
                for (name, output) in outputs.sorted(by: { $0.key < $1.key }) {
                    print("  \(name): \(((output as? [String: Any])?["objectId"] as? String ?? "").lowercased())")
                }
            }
        }
    }
}

struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a job's log; with -f, follow it until the job ends.")
    @OptionGroup var connection: Connection
    @Argument(help: "The job id.") var jobId: String
    @Flag(name: .shortAndLong, help: "Follow the log as it grows.") var follow = false

    func run() async throws {
        try await reporting {
            let client = try connection.client()
            guard follow else {
                let answer = try await client.send(.GET, "/api/v1/jobs/\(jobId)/log")
                FileHandle.standardOutput.write(answer.body)
                return
            }
            try await client.events("/api/v1/jobs/\(jobId)/log/stream") { event in
                switch event.name {
                case "log": print(event.data)
                case "attempt": FileHandle.standardError.write(Data("-- a new attempt: \(event.data)\n".utf8))
                case "end":
                    FileHandle.standardError.write(Data("-- the job ended: \(event.data)\n".utf8))
                    return false
                default: break
                }
                return true
            }
        }
    }
}

/// Waits for a job to end by following the event stream (no polling).
struct JobWaiter {
    let client: GatewayClient

    func wait(for jobId: String, quiet: Bool = false) async throws {
        let id = jobId.lowercased()
        var final: (status: String, message: String)?
        // The stream is opened first; the job's current state is read once it is open, so that no
        // change falls between the two.
        try await client.events("/api/v1/events") { event in
            guard let data = event.data.data(using: .utf8), let change = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                (change["jobId"] as? String)?.lowercased() == id
            else { return true }
            if event.name == "queue", !quiet, let position = change["position"] as? Int {
                // Where it waits, on standard error (standard output keeps only the final status).
                let start = (change["estimatedStartAt"] as? String).map { ", expected to start at \($0)" } ?? ""
                FileHandle.standardError.write(Data("queued: position \(position), \(change["ahead"] as? Int ?? 0) ahead\(start)\n".utf8))
            }
            guard event.name == "job", let status = change["status"] as? String else { return true }
            if ["SUCCEEDED", "FAILED", "CANCELLED"].contains(status) {
                final = (status, change["message"] as? String ?? "")
                return false
            }
            return true
        } opened: {
            let job = try await client.send(.GET, "/api/v1/jobs/\(id)").object
            if let status = job["status"] as? String, ["SUCCEEDED", "FAILED", "CANCELLED"].contains(status) {
                final = (status, job["statusMessage"] as? String ?? "")
                return false
            }
            return true
        }
        guard let final else { throw CLIError.unreachable("the event stream ended before job \(id) did") }
        if !quiet { print("\(final.status): \(final.message)") }
        guard final.status == "SUCCEEDED" else { throw CLIError.jobDidNotSucceed("job \(id) \(final.status): \(final.message)") }
    }
}

struct Wait: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Wait until a job ends; exit 0 if it SUCCEEDED, 1 if it FAILED or was CANCELLED.")
    @OptionGroup var connection: Connection
    @Argument(help: "The job id.") var jobId: String

    func run() async throws {
        try await reporting { try await JobWaiter(client: try connection.client()).wait(for: jobId) }
    }
}

struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cancel a job that has not ended.")
    @OptionGroup var connection: Connection
    @Argument(help: "The job id.") var jobId: String
    @Option(help: "Why (goes into its status message).") var reason: String?

    func run() async throws {
        try await reporting {
            let body = try reason.map { try JSONSerialization.data(withJSONObject: ["reason": $0]) }
            let answer = try await connection.client().send(.POST, "/api/v1/jobs/\(jobId)/cancel", body: body)
            print("\(answer.object["status"] as? String ?? ""): \(answer.object["statusMessage"] as? String ?? "")")
        }
    }
}

struct Rerun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Submit a finished job again with the same pinned versions.")
    @OptionGroup var connection: Connection
    @Argument(help: "The job id.") var jobId: String
    @Flag(help: "Wait for the new job to end.") var wait = false

    func run() async throws {
        try await reporting {
            let client = try connection.client()
            let answer = try await client.send(.POST, "/api/v1/jobs/\(jobId)/rerun")
            let id = (answer.object["jobId"] as? String ?? "").lowercased()
            print(id)
            if wait { try await JobWaiter(client: client).wait(for: id) }
        }
    }
}

struct Queue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "What is queued and running, per job type, and the workers' capacity.")
    @OptionGroup var connection: Connection
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await reporting {
            let answer = try await connection.client().send(.GET, "/api/v1/queue")
            if json { return printJSON(answer) }
            let types = answer.object["types"] as? [String: [String: Any]] ?? [:]
            print(Table.render(
                header: ["JOB TYPE", "QUEUED", "RUNNING"],
                rows: types.sorted { $0.key < $1.key }.map { [$0.key, "\($0.value["queued"] ?? 0)", "\($0.value["running"] ?? 0)"] }))
            print("workers: \(answer.object["workers"] ?? 0)")
        }
    }
}

/// A plain text table with aligned columns.
enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
