import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The folders runs work in, recycled. A finished run's folder is emptied and kept as a spare; the
/// next run's folder is a spare renamed into place. What stays in a spare: its empty `outputs/`,
/// `params.json` and `inputs.json` (written over by the next run), and the copy of the model in
/// `model/` while it is intact, so the next run of the same model version needs no new copy.
///
/// On a journaling file system, creating and removing files and folders is what a run costs most
/// (inode allocation); renaming a folder and writing over a file do not allocate anything.
public final class RunFolders: Sendable {
    private struct Spare {
        var parent: String
        var path: String
        var copy: ModelCopy?
    }

    private struct State {
        var spares: [Spare] = []
        /// The folders of runs in progress.
        var taken: Set<String> = []
        /// The model copies in the folders of runs in progress, by folder.
        var copies: [String: ModelCopy] = [:]
    }

    private let state = Mutex(State())
    private let counter = Atomic<Int>(0)
    /// The most spares kept.
    let capacity: Int

    public init(capacity: Int = 64) {
        self.capacity = capacity
    }

    /// A folder at `path` (its parent exists) holding nothing of an earlier run but, possibly, an intact
    /// copy of the model `snapshot` (a spare that ran it is preferred), with an empty `outputs/`.
    public func take(_ path: String, for snapshot: String? = nil) throws -> String {
        let parent = Self.parent(of: path)
        let spare = state.withLock { state -> Spare? in
            guard
                let index = state.spares.lastIndex(where: { $0.parent == parent && $0.copy?.snapshot == snapshot })
                    ?? state.spares.lastIndex(where: { $0.parent == parent })
            else { return nil }
            return state.spares.remove(at: index)
        }
        if let spare {
            if rename(spare.path, path) == 0 {
                state.withLock { state in
                    state.taken.insert(path)
                    state.copies[path] = spare.copy
                }
                return path
            }
            try? FileManager.default.removeItem(atPath: spare.path)
        }
        try FileTree.makeFolder(path)
        try FileTree.makeFolder(path + "/model")
        try FileTree.makeFolder(path + "/outputs")
        state.withLock { _ = $0.taken.insert(path) }
        return path
    }

    /// Whether `folder/model` still holds the copy of `snapshot` made for an earlier run, untouched.
    func hasIntactCopy(of snapshot: String, in folder: String) -> Bool {
        guard let copy = state.withLock({ $0.copies[folder] }), copy.snapshot == snapshot else { return false }
        return ModelCopy.read(folder + "/model", snapshot: snapshot) == copy
    }

    /// Records the copy of `snapshot` just made in `folder/model`, when `folder` is one of these.
    func recordCopy(of snapshot: String, in folder: String) {
        guard state.withLock({ $0.taken.contains(folder) }) else { return }
        let copy = ModelCopy.read(folder + "/model", snapshot: snapshot)
        state.withLock { $0.copies[folder] = copy }
    }

    /// Empties a run's folder and keeps it as a spare (or removes it, when there are enough spares
    /// or it cannot be emptied). A folder a model ran in as a user of its own is emptied whole and
    /// given back to the worker's user first: nothing that user could have changed (a model copy
    /// with its times put back, a link in place of `params.json`) serves a later run.
    public func giveBack(_ path: String) {
        let parent = Self.parent(of: path)
        var copy = state.withLock { state in
            state.taken.remove(path)
            return state.copies.removeValue(forKey: path)
        }
        do {
            guard state.withLock({ $0.spares.count }) < capacity else { throw JobFailure("enough spares") }
            var status = stat()
            guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else { throw JobFailure("not a folder") }
            if status.st_uid != getuid() {
                try FileTree.removeContents(of: path)
                guard lchown(path, getuid(), getgid()) == 0, chmod(path, 0o755) == 0 else { throw JobFailure("cannot take back \(path)") }
                copy = nil
            }
            if let kept = copy, ModelCopy.read(path + "/model", snapshot: kept.snapshot) != kept {
                // The run changed its model's files: the next run copies them afresh.
                try FileTree.removeContents(of: path + "/model")
                copy = nil
            }
            for (name, kind) in try FileTree.entries(path) {
                let entry = path + "/" + name
                switch (name, kind) {
                case ("model", .folder) where copy != nil, ("params.json", .file), ("inputs.json", .file), ("progress.ndjson", .file):
                    continue
                case ("model", .folder), ("outputs", .folder):
                    try FileTree.removeContents(of: entry)
                case (_, .folder):
                    try FileTree.removeContents(of: entry)
                    guard rmdir(entry) == 0 else { throw JobFailure("cannot remove \(entry)") }
                default:
                    guard unlink(entry) == 0 else { throw JobFailure("cannot remove \(entry)") }
                }
            }
            let spare = parent + "/.spare-\(counter.add(1, ordering: .relaxed).newValue)"
            guard rename(path, spare) == 0 else { throw JobFailure("cannot keep \(path)") }
            state.withLock { $0.spares.append(Spare(parent: parent, path: spare, copy: copy)) }
        } catch {
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}

extension RunFolders {
    /// The folder `path` is in (the paths here are built by appending `/<name>`).
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }
}

/// What a copy of a model looks like on disk: every entry with its kind, size, permissions and
/// modification time. A run that writes, removes or adds a file changes it.
struct ModelCopy: Sendable, Equatable {
    struct Entry: Sendable, Equatable {
        var path: String
        var mode: UInt32
        var size: Int
        var modified: Int
    }

    var snapshot: String
    var entries: [Entry]

    /// The copy in `folder` as it is now (nil when it cannot be read).
    static func read(_ folder: String, snapshot: String) -> ModelCopy? {
        var entries: [Entry] = []
        func walk(_ relative: String) -> Bool {
            guard let listing = try? FileTree.entries(relative.isEmpty ? folder : folder + "/" + relative) else { return false }
            for (name, kind) in listing.sorted(by: { $0.name < $1.name }) {
                let path = relative.isEmpty ? name : relative + "/" + name
                var status = stat()
                guard lstat(folder + "/" + path, &status) == 0 else { return false }
                entries.append(
                    Entry(
                        path: path, mode: status.st_mode, size: Int(status.st_size),
                        modified: Int(status.st_mtim.tv_sec) * 1_000_000_000 + Int(status.st_mtim.tv_nsec)))
                if kind == .folder, !walk(path) { return false }
            }
            return true
        }
        return walk("") ? ModelCopy(snapshot: snapshot, entries: entries) : nil
    }
}
