import Foundation

/// The local platform's admin token for the tests, benchmarks and chaos runs: `CONVEYOR_TOKEN`, or
/// what `deploy/local/services.sh start` wrote to `$CONVEYOR_STATE/admin-token` (default
/// `.conveyor/admin-token` under the working directory).
public enum LocalAdminToken {
    public static func read(environment: [String: String] = ProcessInfo.processInfo.environment, root: String? = nil) -> String {
        if let token = environment["CONVEYOR_TOKEN"], !token.isEmpty { return token }
        let state = environment["CONVEYOR_STATE"] ?? ((root ?? FileManager.default.currentDirectoryPath) + "/.conveyor")
        return ((try? String(contentsOfFile: state + "/admin-token", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
