import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The few file-system operations a run's folder needs, as plain system calls: copying a model's
/// snapshot, emptying a folder, listing its files. Foundation's `FileManager` does the same with
/// many more calls per file, and a run pays for every one of them.
enum FileTree {
    /// Creates a folder (its parent must exist); an existing folder is fine.
    static func makeFolder(_ path: String) throws {
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw failure("cannot create", path) }
    }

    /// Copies the tree at `source` into the existing, empty folder `destination`: files with their
    /// permission bits, symbolic links as links, folders recursively.
    static func copyContents(of source: String, into destination: String) throws {
        for (name, kind) in try entries(source) {
            let from = source + "/" + name
            let to = destination + "/" + name
            switch kind {
            case .folder:
                try makeFolder(to)
                try copyContents(of: from, into: to)
            case .link:
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let count = readlink(from, &buffer, buffer.count - 1)
                guard count >= 0 else { throw failure("cannot read the link", from) }
                buffer[count] = 0
                guard symlink(buffer, to) == 0 else { throw failure("cannot create the link", to) }
            case .file:
                try copyFile(from, to)
            }
        }
    }

    /// Removes everything inside `path` (the folder itself stays).
    static func removeContents(of path: String) throws {
        for (name, kind) in try entries(path) {
            let entry = path + "/" + name
            if kind == .folder {
                try removeContents(of: entry)
                guard rmdir(entry) == 0 else { throw failure("cannot remove", entry) }
            } else {
                guard unlink(entry) == 0 else { throw failure("cannot remove", entry) }
            }
        }
    }

    /// Gives `path` and everything under it (links themselves, not what they point to) to `uid`:`gid`.
    static func changeOwner(of path: String, uid: UInt32, gid: UInt32) throws {
        guard lchown(path, uid, gid) == 0 else { throw failure("cannot change the owner of", path) }
        for (name, kind) in try entries(path) {
            let entry = path + "/" + name
            if kind == .folder {
                try changeOwner(of: entry, uid: uid, gid: gid)
            } else if lchown(entry, uid, gid) != 0 {
                throw failure("cannot change the owner of", entry)
            }
        }
    }

    /// The disk space the tree at `path` takes (allocated blocks; links not followed).
    static func diskBytes(of path: String) -> Int {
        var status = stat()
        guard lstat(path, &status) == 0 else { return 0 }
        var total = Int(status.st_blocks) * 512
        if status.st_mode & S_IFMT == S_IFDIR, let entries = try? entries(path) {
            for (name, _) in entries { total += diskBytes(of: path + "/" + name) }
        }
        return total
    }

    /// The regular files directly in `path`, by name.
    static func files(in path: String) throws -> [String] {
        try entries(path).filter { $0.kind == .file }.map(\.name)
    }

    enum Kind: Equatable { case file, folder, link }

    /// The entries of a folder (without `.` and `..`), with their kind (not following links).
    static func entries(_ path: String) throws -> [(name: String, kind: Kind)] {
        guard let directory = opendir(path) else { throw failure("cannot read", path) }
        defer { closedir(directory) }
        var result: [(String, Kind)] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            var kind: Kind
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_DIR): kind = .folder
            case Int32(DT_LNK): kind = .link
            case Int32(DT_REG): kind = .file
            default:
                // A file system that does not say: ask.
                var status = stat()
                guard lstat(path + "/" + name, &status) == 0 else { continue }
                switch status.st_mode & S_IFMT {
                case S_IFDIR: kind = .folder
                case S_IFLNK: kind = .link
                default: kind = .file
                }
            }
            result.append((name, kind))
        }
        return result
    }

    private static func copyFile(_ source: String, _ destination: String) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw failure("cannot read", source) }
        defer { close(input) }
        var status = stat()
        guard fstat(input, &status) == 0 else { throw failure("cannot read", source) }
        let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, status.st_mode & 0o7777)
        guard output >= 0 else { throw failure("cannot create", destination) }
        defer { close(output) }
        var remaining = Int(status.st_size)
        while remaining > 0 {
            let copied = sendfile(output, input, nil, remaining)
            if copied < 0 && errno == EINTR { continue }
            guard copied > 0 else { throw failure("cannot copy to", destination) }
            remaining -= copied
        }
    }

    private static func failure(_ what: String, _ path: String) -> JobFailure {
        JobFailure("\(what) \(path): \(String(cString: strerror(errno)))")
    }
}
