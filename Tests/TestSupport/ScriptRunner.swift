import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs the project's shell scripts from tests.
///
/// Foundation's `Process.waitUntilExit()` can hang inside the test runner when the script leaves a
/// daemon behind (as `services.sh restart` does), so this spawns with `posix_spawn`, sends the
/// script's output to /dev/null (or appends it to a file) and waits with `waitpid` on its own thread.
public enum ScriptRunner {
    /// The repository's root folder.
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Runs `arguments` (the first is looked up on PATH) and returns its exit status.
    /// - Parameter outputPath: a file its standard output and error are appended to; /dev/null if nil.
    public static func run(_ arguments: [String], outputPath: String? = nil) async -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let outputPath {
            posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            for fd: Int32 in 1...2 {
                posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
            }
        }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ) == 0 else { return -1 }
        let child = pid
        return await withCheckedContinuation { continuation in
            Thread {
                var status: Int32 = 0
                while waitpid(child, &status, 0) < 0 && errno == EINTR {}
                continuation.resume(returning: (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f))
            }.start()
        }
    }

    /// Runs a script of the repository (`deploy/local/...`) with bash.
    public static func script(_ path: String, _ arguments: [String], outputPath: String? = nil) async -> Int32 {
        await run(["/bin/bash", repositoryRoot.appendingPathComponent(path).path] + arguments, outputPath: outputPath)
    }
}
