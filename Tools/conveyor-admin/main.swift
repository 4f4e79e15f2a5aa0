// conveyor-admin: administers a deployment from a host that reaches its broker (no token needed:
// whoever may talk to the broker is already inside). Today: API tokens.
//
//   conveyor-admin tokens issue --principal NAME [--role user|operator|admin] [--team T ...]
//                               [--label TEXT] [--days N] [--rate N]
//   conveyor-admin tokens list [--principal NAME]
//   conveyor-admin tokens revoke TOKEN_ID
//   conveyor-admin tokens bootstrap --file PATH   an admin token in PATH (mode 0600), unless PATH
//                                                 already holds one that is still valid
//
// Reads the services' configuration (configs/conveyor.json, CONVEYOR_CONFIG, AMQP_URL, ...).

import ArgumentParser
import ConveyorModels
import Foundation
import Logging
import Messaging
import ServiceKit

@main
struct ConveyorAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conveyor-admin", abstract: "Administers a Conveyor deployment through its broker.",
        subcommands: [Tokens.self])
}

struct Tokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Issue, list, revoke and bootstrap API tokens.", subcommands: [Issue.self, List.self, Revoke.self, Bootstrap.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issues a token and prints its secret (shown this once).")
        @Option(help: "Who the token speaks for: the owner of what is submitted with it.") var principal: String
        @Option(help: "user, operator or admin.") var role: String = "user"
        @Option(name: .customLong("team"), help: "A team the principal belongs to (repeatable).") var teams: [String] = []
        @Option(help: "What the token is for.") var label: String?
        @Option(help: "Days until it expires (1-\(TokenRequest.maxDays)).") var days: Int = TokenRequest.defaultDays
        @Option(help: "Requests a second it may make (0: no limit).") var rate: Int?
        @Flag(help: "Print the whole record as JSON.") var json = false

        func run() async throws {
            guard let role = Role(rawValue: role) else { throw ValidationError("--role must be user, operator or admin") }
            let request = TokenRequest(principal: principal, role: role, teams: teams, label: label, expiresInDays: days, requestsPerSecond: rate)
            if let problem = request.problems.first { throw ValidationError("\(problem.field): \(problem.reason)") }
            let issued = try await withMetadata { try await $0.call(IssueToken(request: request, issuedBy: "conveyor-admin"), timeout: .seconds(10)) }
            if json {
                print(String(decoding: try ConveyorJSON.encode(issued), as: UTF8.self))
            } else {
                print(issued.token)
                FileHandle.standardError.write(Data("token \(issued.record.tokenId.uuidString.lowercased()) for \(principal) (\(role.rawValue)), expires \(Timestamp.format(issued.record.expiresAt))\n".utf8))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lists the tokens issued, newest first.")
        @Option(help: "Only this principal's tokens.") var principal: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let tokens = try await withMetadata { try await $0.call(ListTokens(principal: principal), timeout: .seconds(10)) }
            if json {
                print(String(decoding: try ConveyorJSON.encode(tokens), as: UTF8.self))
                return
            }
            print("TOKEN ID                              PRINCIPAL            ROLE      EXPIRES               STATE")
            for token in tokens {
                let state = token.revokedAt != nil ? "revoked" : token.expiresAt < Date() ? "expired" : "valid"
                print(
                    [token.tokenId.uuidString.lowercased(), token.principal.padding(toLength: 20, withPad: " ", startingAt: 0),
                        token.role.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0), Timestamp.format(token.expiresAt), state,
                    ].joined(separator: "  "))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revokes a token.")
        @Argument(help: "The token's id (from 'tokens list').") var tokenId: String

        func run() async throws {
            guard let id = UUID(uuidString: tokenId) else { throw ValidationError("the token id must be a UUID") }
            let token = try await withMetadata { try await $0.call(RevokeToken(tokenId: id), timeout: .seconds(10)) }
            print("revoked \(token.tokenId.uuidString.lowercased()) (\(token.principal))")
        }
    }

    struct Bootstrap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Writes an admin token to a file (mode 0600) unless the file holds one that is still valid.")
        @Option(help: "The file to keep the token in.") var file: String
        @Option(help: "The admin's principal name.") var principal: String = "admin"

        /// How long to ride out a metadata service that is busy or still connecting: services.sh runs
        /// this right after metadata starts, when a restarted metadata may first work through a
        /// backlog of reports (the chaos run kills it under load).
        static let patience = Duration.seconds(120)

        func run() async throws {
            let existing = (try? String(contentsOfFile: file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            let token = try await withMetadata { metadata -> String? in
                if let existing, !existing.isEmpty,
                    let valid = try await metadata.callRetrying(
                        VerifyToken(secretHash: ContentDigest.sha256(Data(existing.utf8))), patience: Self.patience
                    ).token,
                    valid.role == .admin
                {
                    return nil
                }
                let request = TokenRequest(principal: principal, role: .admin, label: "local admin (conveyor-admin tokens bootstrap)", expiresInDays: 365)
                return try await metadata.callRetrying(IssueToken(request: request, issuedBy: "conveyor-admin"), patience: Self.patience).token
            }
            guard let token else {
                FileHandle.standardError.write(Data("\(file) already holds a valid admin token\n".utf8))
                return
            }
            let url = URL(fileURLWithPath: file)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: file, contents: nil, attributes: [.posixPermissions: 0o600])
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
            try Data((token + "\n").utf8).write(to: url)
            FileHandle.standardError.write(Data("wrote a new admin token to \(file)\n".utf8))
        }
    }
}

/// Runs `body` with a connected metadata client.
func withMetadata<T: Sendable>(_ body: @Sendable @escaping (MetadataClient) async throws -> T) async throws -> T {
    var logger = Logger(label: "conveyor-admin")
    logger.logLevel = .warning
    let settings = try await ConveyorSettings.load()
    let metadata = try MetadataClient(name: "conveyor-admin", settings: settings, logger: logger)
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await metadata.run()
            return nil
        }
        group.addTask {
            try await metadata.waitUntilConnected()
            return try await body(metadata)
        }
        defer { group.cancelAll() }
        while let next = try await group.next() {
            if let value = next { return value }
        }
        throw CancellationError()
    }
}
