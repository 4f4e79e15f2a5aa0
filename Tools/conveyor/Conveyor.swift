// conveyor: the command line of a Conveyor deployment, over its HTTP API (see README.md).

import ArgumentParser

@main
struct Conveyor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conveyor",
        abstract: "Submit, follow and manage jobs and objects of a Conveyor deployment.",
        discussion: """
            The gateway and token come from --url/--token, CONVEYOR_URL/CONVEYOR_TOKEN, or the
            configuration that 'conveyor login' writes (~/.config/conveyor/config.json). Exit status:
            0 done (for 'wait', the job SUCCEEDED), 1 the job FAILED or was CANCELLED, 2 bad usage,
            3 the API refused the request, 4 the gateway could not be reached.
            Shell completion: conveyor --generate-completion-script bash|zsh|fish.
            """,
        subcommands: [
            Login.self, Submit.self, Validate.self, Jobs.self, Show.self, Logs.self, Wait.self, Cancel.self, Rerun.self,
            Queue.self, Objects.self, Search.self, Upload.self, Share.self, Tokens.self,
        ])
}

/// The options every command that calls the API takes.
struct Connection: ParsableArguments {
    @Option(help: "The gateway's address (default: CONVEYOR_URL, the saved one, or http://127.0.0.1:8080).")
    var url: String?

    @Option(help: "An API token or JWT (default: CONVEYOR_TOKEN or the saved one).")
    var token: String?

    /// The client for these options.
    func client() throws -> GatewayClient {
        let saved = CLIConfiguration.load()
        // An empty variable counts as unset, as in most command lines.
        let environment = ProcessInfo.processInfo.environment.filter { !$0.value.isEmpty }
        let base = url ?? environment["CONVEYOR_URL"] ?? saved.url ?? "http://127.0.0.1:8080"
        guard let token = token ?? environment["CONVEYOR_TOKEN"] ?? saved.token, !token.isEmpty else {
            throw CLIError.usage("no token: run 'conveyor login', or set CONVEYOR_TOKEN, or pass --token")
        }
        return GatewayClient(base: base, token: token)
    }
}

import Foundation
