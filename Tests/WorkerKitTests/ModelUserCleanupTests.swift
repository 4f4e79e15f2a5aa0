import CChildSpawn
import Foundation
import Testing

@testable import WorkerKit

/// Without a control group (the rlimits floor), what a model user left running, even a child that
/// left the process group with `setsid`, ends when its run's user id is handed back.
@Suite("Model user clean-up")
struct ModelUserCleanupTests {
    /// The processes running as `uid` (from /proc).
    static func processes(of uid: UInt32) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { entry in
            guard Int(entry) != nil, let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8) else { return false }
            let real = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }.flatMap { $0.split(separator: "\t").dropFirst().first }
            return real.map(String.init) == String(uid) && !status.contains("State:\tZ")
        }
    }

    @Test("a setsid child of a model user outlives its run and is killed with the user's processes", .enabled(if: getuid() == 0))
    func setsidChild() async throws {
        let uid: UInt32 = 61_099
        let confinement = ChildProcess.Confinement(credentials: (uid: uid, gid: uid), killGrace: .seconds(1))
        let (termination, _) = try await ChildProcess.runMeasured(
            ["/bin/sh", "-c", "setsid sleep 300 > /dev/null 2>&1 < /dev/null & sleep 0.5; exit 0"], workingDirectory: "/", environment: ["PATH": "/usr/bin:/bin"],
            timeout: .seconds(10), confinement: confinement
        ) { _ in }
        #expect(termination == .exited(0))
        try await Task.sleep(for: .milliseconds(200))
        #expect(!Self.processes(of: uid).isEmpty, "the setsid child outlived its run")
        #expect(conveyor_kill_user(uid) == 0)
        try await Task.sleep(for: .milliseconds(200))
        #expect(Self.processes(of: uid).isEmpty, "nothing of the user is left")
        #expect(conveyor_kill_user(0) != 0, "root's processes are never the target")
    }
}
