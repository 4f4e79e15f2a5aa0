import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The folders runs work in, recycled: a finished run's folder is emptied (its `model/` and
/// `outputs/` folders stay) and kept as a spare, and the next run's folder is a spare renamed into
/// place. Creating and removing three folders per run costs a run more on a journaling file system
/// than starting its process; emptying a few files and a rename do not.
public final class RunFolders: Sendable {
    private let spares = Mutex<[String]>([])
    private let counter = Atomic<Int>(0)
    /// The most spares kept.
    let capacity: Int

    public init(capacity: Int = 64) {
        self.capacity = capacity
    }

    /// An empty folder at `path` (its parent exists), with empty `model/` and `outputs/` folders.
    public func take(_ path: String) throws -> String {
        let parent = (path as NSString).deletingLastPathComponent
        let spare = spares.withLock { spares -> String? in
            guard let index = spares.lastIndex(where: { ($0 as NSString).deletingLastPathComponent == parent }) else { return nil }
            return spares.remove(at: index)
        }
        if let spare, rename(spare, path) == 0 { return path }
        if let spare { try? FileManager.default.removeItem(atPath: spare) }
        try FileTree.makeFolder(path)
        try FileTree.makeFolder(path + "/model")
        try FileTree.makeFolder(path + "/outputs")
        return path
    }

    /// Empties a run's folder and keeps it as a spare (or removes it, when there are enough spares
    /// or it cannot be emptied).
    public func giveBack(_ path: String) {
        let parent = (path as NSString).deletingLastPathComponent
        do {
            guard spares.withLock({ $0.count }) < capacity else { throw JobFailure("enough spares") }
            for (name, kind) in try FileTree.entries(path) {
                let entry = path + "/" + name
                if kind == .folder, name == "model" || name == "outputs" {
                    try FileTree.removeContents(of: entry)
                } else if kind == .folder {
                    try FileTree.removeContents(of: entry)
                    guard rmdir(entry) == 0 else { throw JobFailure("cannot remove \(entry)") }
                } else {
                    guard unlink(entry) == 0 else { throw JobFailure("cannot remove \(entry)") }
                }
            }
            let spare = parent + "/.spare-\(counter.add(1, ordering: .relaxed).newValue)"
            guard rename(path, spare) == 0 else { throw JobFailure("cannot keep \(path)") }
            spares.withLock { $0.append(spare) }
        } catch {
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}
