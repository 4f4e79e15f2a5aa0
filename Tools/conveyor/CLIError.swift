import ArgumentParser
import Foundation

/// Why a command failed, with its exit status.
enum CLIError: Error, CustomStringConvertible {
    /// The command was used wrongly (exit 2).
    case usage(String)
    /// The API answered with a problem (exit 3): status, detail and each field's problem.
    case refused(status: Int, detail: String, problems: [String])
    /// The gateway could not be reached (exit 4).
    case unreachable(String)
    /// A job ended without succeeding (exit 1).
    case jobDidNotSucceed(String)

    var description: String {
        switch self {
        case .usage(let message): message
        case .refused(let status, let detail, let problems):
            ([("\(status): \(detail)")] + problems.map { "  " + $0 }).joined(separator: "\n")
        case .unreachable(let message): message
        case .jobDidNotSucceed(let message): message
        }
    }

    var exitCode: ExitCode {
        switch self {
        case .usage: ExitCode(2)
        case .refused: ExitCode(3)
        case .unreachable: ExitCode(4)
        case .jobDidNotSucceed: ExitCode(1)
        }
    }
}

/// Runs a command's body, printing a failure to standard error and exiting with its status.
func reporting(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as CLIError {
        FileHandle.standardError.write(Data("conveyor: \(error)\n".utf8))
        throw error.exitCode
    }
}
