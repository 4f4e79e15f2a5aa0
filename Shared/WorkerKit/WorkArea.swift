import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The folder under which one worker process runs its jobs: `<root>/<workerId>/`, marked with the
/// worker's pid in `owner.pid`.
///
/// A worker that is killed leaves its folder and possibly the processes of its jobs behind (their
/// process groups outlive it). When a worker starts, it ends those orphans and removes the folders
/// of every worker whose process is gone; the scheduler re-queues their jobs in the meantime.
public struct WorkArea: Sendable {
    public let root: String
    public let folder: String

    /// Creates this worker's folder and marks it as owned by this process.
    public init(root: String, workerId: String) throws {
        self.root = root
        folder = root + "/" + workerId
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data("\(getpid())\n".utf8).write(to: URL(fileURLWithPath: folder + "/owner.pid"))
    }

    /// Ends the processes left in the folders of dead workers and removes those folders.
    /// - Returns: the folders removed.
    @discardableResult
    public func cleanUpAfterDeadWorkers() -> [String] {
        let fileManager = FileManager.default
        let entries = (try? fileManager.contentsOfDirectory(atPath: root)) ?? []
        var removed: [String] = []
        for entry in entries {
            let other = root + "/" + entry
            guard other != folder, let owner = Self.ownerPid(of: other), !Self.isAlive(owner) else { continue }
            for pid in Self.processes(workingUnder: other) { kill(pid, SIGKILL) }
            try? fileManager.removeItem(atPath: other)
            removed.append(other)
        }
        return removed
    }

    static func ownerPid(of folder: String) -> pid_t? {
        guard let data = FileManager.default.contents(atPath: folder + "/owner.pid") else { return nil }
        return pid_t(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Whether `pid` is a live process (not a zombie).
    static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 || errno == EPERM,
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        else { return false }
        return !status.split(separator: "\n").contains { $0.hasPrefix("State:") && ($0.contains("Z") || $0.contains("X")) }
    }

    /// Processes whose current directory lies under `folder`.
    static func processes(workingUnder folder: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry),
                let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/cwd"),
                cwd == folder || cwd.hasPrefix(folder + "/")
            else { return nil }
            return pid
        }
    }
}
