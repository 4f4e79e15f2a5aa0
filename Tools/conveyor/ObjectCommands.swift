import ArgumentParser
import Foundation

struct Objects: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show an object (latest version, or --version), or its versions.")
    @OptionGroup var connection: Connection
    @Argument(help: "The object id.") var objectId: String
    @Option(help: "An object version.") var version: Int?
    @Flag(help: "List every version instead.") var versions = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await reporting {
            let client = try connection.client()
            if versions {
                let answer = try await client.send(.GET, "/api/v1/objects/\(objectId)/versions")
                if json { return printJSON(answer) }
                let list = answer.json as? [[String: Any]] ?? []
                print(Table.render(
                    header: ["VERSION", "TYPE", "CREATED", "TAG"],
                    rows: list.map { ["\($0["objectVersion"] ?? "")", $0["objectType"] as? String ?? "", $0["createdAt"] as? String ?? "", "\($0["tagVersion"] ?? "")"] }))
                return
            }
            let answer = try await client.send(.GET, "/api/v1/objects/\(objectId)" + (version.map { "?objectVersion=\($0)" } ?? ""))
            if json { return printJSON(answer) }
            let object = answer.object
            print("object   \((object["objectId"] as? String ?? "").lowercased()) v\(object["objectVersion"] ?? "") (tag v\(object["tagVersion"] ?? ""))")
            print("type     \(object["objectType"] as? String ?? "")")
            print("created  \(object["createdAt"] as? String ?? "")")
            print("owner    \(object["owner"] as? String ?? "-")")
            if let teams = object["sharedWith"] as? [String] { print("shared   \(teams.joined(separator: ", "))") }
            if let attributes = object["attributes"] as? [String: Any], !attributes.isEmpty {
                print("attributes")
                for (name, value) in attributes.sorted(by: { $0.key < $1.key }) {
                    let shown = (value as? [String: Any])?["value"].map { "\($0)" } ?? "\(value)"
                    print("  \(name) = \(shown)")
                }
            }
        }
    }
}

struct Search: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search objects by attributes (all terms must match).",
        discussion: "Example: conveyor search --type DATA --attr project=demo --attr rows=1200")
    @OptionGroup var connection: Connection
    @Option(help: "MODEL, DATA, FILE, FLOW, SCHEMA or JOB.") var type: String?
    @Option(name: .customLong("attr"), help: "name=value: the attribute equals the value (value as JSON when it parses).") var terms: [String] = []
    @Option(help: "How many (1-500).") var limit: Int = 50
    @Flag(help: "Print the page as JSON.") var json = false

    func run() async throws {
        try await reporting {
            var body: [String: Any] = ["limit": limit]
            if let type { body["objectType"] = type.uppercased() }
            let expressions: [[String: Any]] = try pairs(terms, option: "--attr").map { name, value in
                ["term": ["attrName": name, "operator": "EQ", "value": jsonValue(value)]]
            }
            if expressions.count == 1 { body["search"] = expressions[0] } else if expressions.count > 1 { body["search"] = ["and": expressions] }
            let answer = try await connection.client().send(.POST, "/api/v1/search", body: try JSONSerialization.data(withJSONObject: body))
            if json { return printJSON(answer) }
            let objects = answer.object["objects"] as? [[String: Any]] ?? []
            print(Table.render(
                header: ["OBJECT ID", "VERSION", "TYPE", "CREATED"],
                rows: objects.map {
                    [($0["objectId"] as? String ?? "").lowercased(), "\($0["objectVersion"] ?? "")", $0["objectType"] as? String ?? "",
                        $0["createdAt"] as? String ?? ""]
                }))
        }
    }
}

struct Share: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Share an object (every version) with teams, replacing its teams; no --team: share it with nobody.")
    @OptionGroup var connection: Connection
    @Argument(help: "The object id.") var objectId: String
    @Option(name: .customLong("team"), help: "A team whose members may read it ('*': everyone; repeatable).") var teams: [String] = []
    @Flag(help: "Print the answer as JSON.") var json = false

    func run() async throws {
        try await reporting {
            let body = try JSONSerialization.data(withJSONObject: ["sharedWith": teams])
            let answer = try await connection.client().send(.PUT, "/api/v1/objects/\(objectId)/sharing", body: body, contentType: "application/json")
            if json { return printJSON(answer) }
            let shared = answer.object["sharedWith"] as? [String] ?? []
            print("\(objectId.lowercased()): owner \(answer.object["owner"] as? String ?? "-"), shared with \(shared.isEmpty ? "nobody" : shared.joined(separator: ", "))")
        }
    }
}

struct Upload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Upload a file as a FILE object, or with --data as a DATA object (optionally described by a SCHEMA).")
    @OptionGroup var connection: Connection
    @Argument(help: "The file to upload.") var file: String
    @Flag(help: "Upload as DATA (e.g. CSV) rather than FILE.") var data = false
    @Option(help: "DATA: the SCHEMA object describing it.") var schema: String?
    @Option(help: "The media type (default from the file's extension).") var contentType: String?
    @Option(help: "The next version of this object, instead of a new one.") var objectId: String?
    @Option(name: .customLong("share"), help: "A team whose members may read it ('*': everyone; repeatable).") var teams: [String] = []
    @Flag(help: "Print the object record as JSON.") var json = false

    func run() async throws {
        try await reporting {
            guard let content = FileManager.default.contents(atPath: file) else { throw CLIError.usage("cannot read \(file)") }
            let name = URL(fileURLWithPath: file).lastPathComponent
            var query: [URLQueryItem] = []
            if data {
                if let schema { query.append(URLQueryItem(name: "schemaId", value: schema)) }
            } else {
                query.append(URLQueryItem(name: "name", value: name))
            }
            if let objectId { query.append(URLQueryItem(name: "objectId", value: objectId)) }
            if !teams.isEmpty { query.append(URLQueryItem(name: "sharedWith", value: teams.joined(separator: ","))) }
            var components = URLComponents()
            components.path = data ? "/api/v1/data" : "/api/v1/files"
            components.queryItems = query.isEmpty ? nil : query
            let type = contentType ?? Self.mediaType(name)
            let answer = try await connection.client().send(.POST, components.string ?? components.path, body: content, contentType: type)
            if json { printJSON(answer) } else { print((answer.object["objectId"] as? String ?? "").lowercased()) }
        }
    }

    static func mediaType(_ name: String) -> String {
        switch URL(fileURLWithPath: name).pathExtension.lowercased() {
        case "csv": "text/csv"
        case "json": "application/json"
        case "txt", "md": "text/plain"
        case "parquet": "application/vnd.apache.parquet"
        default: "application/octet-stream"
        }
    }
}

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Save the gateway's address and a token (checked first) in ~/.config/conveyor/config.json.")
    @Option(help: "The gateway's address.") var url: String = "http://127.0.0.1:8080"
    @Option(help: "The token (default: read from standard input).") var token: String?

    func run() async throws {
        try await reporting {
            let secret = (token ?? readLine(strippingNewline: true) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !secret.isEmpty else { throw CLIError.usage("give a token with --token or on standard input") }
            let me = try await GatewayClient(base: url, token: secret).send(.GET, "/api/v1/me").object
            try CLIConfiguration(url: url, token: secret).save()
            print("logged in to \(url) as \(me["name"] as? String ?? "?") (\(me["role"] as? String ?? "?")); saved in \(CLIConfiguration.path)")
        }
    }
}

struct Tokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Issue, list and revoke API tokens (admins).", subcommands: [Issue.self, List.self, Revoke.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a token; its secret is printed this once.")
        @OptionGroup var connection: Connection
        @Option(help: "Who it speaks for.") var principal: String
        @Option(help: "user, operator or admin.") var role: String = "user"
        @Option(name: .customLong("team"), help: "A team (repeatable).") var teams: [String] = []
        @Option(help: "Days until it expires.") var days: Int = 90
        @Option(help: "What it is for.") var label: String?

        func run() async throws {
            try await reporting {
                var body: [String: Any] = ["principal": principal, "role": role, "expiresInDays": days]
                if !teams.isEmpty { body["teams"] = teams }
                if let label { body["label"] = label }
                let answer = try await connection.client().send(.POST, "/api/v1/tokens", body: try JSONSerialization.data(withJSONObject: body))
                print(answer.object["token"] as? String ?? "")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The tokens issued, newest first.")
        @OptionGroup var connection: Connection
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reporting {
                let answer = try await connection.client().send(.GET, "/api/v1/tokens")
                if json { return printJSON(answer) }
                let tokens = answer.json as? [[String: Any]] ?? []
                print(Table.render(
                    header: ["TOKEN ID", "PRINCIPAL", "ROLE", "EXPIRES", "REVOKED", "LABEL"],
                    rows: tokens.map {
                        [($0["tokenId"] as? String ?? "").lowercased(), $0["principal"] as? String ?? "", $0["role"] as? String ?? "",
                            $0["expiresAt"] as? String ?? "", $0["revokedAt"] as? String ?? "-", $0["label"] as? String ?? ""]
                    }))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token.")
        @OptionGroup var connection: Connection
        @Argument(help: "The token id.") var tokenId: String

        func run() async throws {
            try await reporting {
                try await connection.client().send(.DELETE, "/api/v1/tokens/\(tokenId)")
                print("revoked \(tokenId)")
            }
        }
    }
}
