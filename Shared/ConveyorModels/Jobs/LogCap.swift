import Foundation

/// The per-attempt log size cap (`metadata.logCapBytes`): bytes beyond it are dropped, and one marker
/// line at the cap says so. The worker applies it as the model writes (nothing beyond the cap
/// leaves the host); metadata applies it again to what it is sent.
public enum LogCap {
    public static func marker(cap: Int) -> Data {
        Data("\n[conveyor] log truncated: the job wrote more than \(cap) bytes; the rest was dropped\n".utf8)
    }

    /// The part of a chunk that is kept (with the marker appended to the chunk that crosses the cap),
    /// or nil when it lies wholly beyond the cap.
    public static func kept(_ chunk: LogChunk, cap: Int) -> Data? {
        let end = chunk.offset + chunk.data.count
        if end <= cap { return chunk.data }
        if chunk.offset > cap { return nil }
        if chunk.offset == cap { return marker(cap: cap) }
        return chunk.data.prefix(cap - chunk.offset) + marker(cap: cap)
    }
}
