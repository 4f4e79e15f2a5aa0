import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files of a run's own folder (parameters, the list of inputs): written with plain system calls
/// and never synced to disk, since the folder does not outlive the run. (Foundation's `Data.write`
/// syncs every file, which costs a run more than starting its process.)
///
/// A recycled folder still holds the last run's file: it is written over from the start and cut to
/// its new length only when it was longer, never emptied first (ext4 flushes a file emptied by
/// `O_TRUNC` when it is closed).
enum ScratchFile {
    /// Makes `path` an empty file (kept in a recycled folder, so no inode is allocated per run).
    static func empty(_ path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard descriptor >= 0 else { throw JobFailure("cannot empty \(path): \(String(cString: strerror(errno)))") }
        close(descriptor)
    }

    static func write(_ data: Data, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard descriptor >= 0 else { throw JobFailure("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        try data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let count = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { throw JobFailure("cannot write \(path): \(String(cString: strerror(errno)))") }
                offset += count
            }
        }
        var status = stat()
        if fstat(descriptor, &status) == 0, Int(status.st_size) > data.count {
            guard ftruncate(descriptor, off_t(data.count)) == 0 else {
                throw JobFailure("cannot write \(path): \(String(cString: strerror(errno)))")
            }
        }
    }
}
