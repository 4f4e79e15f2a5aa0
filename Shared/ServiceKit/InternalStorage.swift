import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Conveyor's internal storage: an append-only tree of files under `storage.root`.
///
/// A snapshot is written to a staging folder first and moved into place with one rename; a single
/// file is written to a temporary name beside it and linked into place (``store(_:at:)``). Either
/// way a reader never sees half of it, and a path that exists is never written again.
public struct InternalStorage: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// The absolute path of a storage-relative path.
    public func path(_ relative: String) -> String {
        root + "/" + relative
    }

    /// Stores a file or folder at `relative`, moving `source` there atomically. When `source` is on
    /// another file system (a worker's local disk, the storage a shared volume), it is copied into a
    /// staging folder of the storage first, and that is renamed into place.
    /// - Throws: ``InternalStorageError`` when the destination exists already (storage is append-only).
    public func store(moving source: String, to relative: String) throws {
        let destination = path(relative)
        let fileManager = FileManager.default
        guard !fileManager.fileExists(atPath: destination) else {
            throw InternalStorageError("internal storage already holds \(relative); it is append-only")
        }
        try fileManager.createDirectory(
            atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if rename(source, destination) == 0 { return }
        guard errno == EXDEV else {
            throw InternalStorageError("cannot move \(source) into storage at \(relative): \(String(cString: strerror(errno)))")
        }
        let staging = try stagingFolder()
        defer { try? fileManager.removeItem(atPath: staging) }
        let copy = staging + "/" + (source as NSString).lastPathComponent
        do {
            try fileManager.copyItem(atPath: source, toPath: copy)
            try Self.sync(copy)
        } catch {
            throw InternalStorageError("cannot copy \(source) into storage at \(relative): \(error)")
        }
        guard rename(copy, destination) == 0 else {
            throw InternalStorageError("cannot move \(copy) into storage at \(relative): \(String(cString: strerror(errno)))")
        }
        try? fileManager.removeItem(atPath: source)
    }

    /// Flushes a copied file, or every file of a copied folder, to disk before it is renamed into place.
    static func sync(_ path: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { return }
        let files = isFolder.boolValue
            ? (FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String }.map { path + "/" + $0 } ?? [])
            : [path]
        for file in files {
            let descriptor = open(file, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            defer { close(descriptor) }
            guard fsync(descriptor) == 0 else {
                throw InternalStorageError("cannot flush \(file) to disk: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// A new empty staging folder inside the storage root (same file system, so moves are renames).
    public func stagingFolder() throws -> String {
        let folder = path(".staging/\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }
}

/// Why internal storage refused a write.
public struct InternalStorageError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension InternalStorage {
    /// Writes `data` as a new file at `relative`: to a temporary name beside it, synced to disk, then
    /// linked into place, so a reader never sees half a file and an existing file is never written again.
    public func store(_ data: Data, at relative: String) throws {
        let destination = path(relative)
        try FileManager.default.createDirectory(
            atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // Named apart from the file (whose name may already be 255 bytes long, the most a name may be).
        let temporary = (destination as NSString).deletingLastPathComponent + "/.partial-" + UUID().uuidString
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw InternalStorageError("cannot write \(relative): \(String(cString: strerror(errno)))")
        }
        defer { unlink(temporary) }
        let written = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let count = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { return false }
                offset += count
            }
            return true
        }
        // Durable before anything refers to it (a row committed after this returns).
        let synced = written && fsync(descriptor) == 0
        let failure = errno
        close(descriptor)
        guard synced else {
            throw InternalStorageError("cannot write \(relative): \(String(cString: strerror(failure)))")
        }
        guard link(temporary, destination) == 0 else {
            if errno == EEXIST { throw InternalStorageError("internal storage already holds \(relative); it is append-only") }
            throw InternalStorageError("cannot store \(relative): \(String(cString: strerror(errno)))")
        }
    }
}
