import Foundation
import ServiceKit
import Testing

@Suite("Internal storage")
struct InternalStorageTests {
    /// A storage root on the disk and a worker's folder on another file system (/dev/shm, a tmpfs):
    /// a move between them cannot be a rename.
    static func folders() throws -> (storage: String, local: String) {
        let id = UUID().uuidString
        let storage = NSTemporaryDirectory() + "conveyor-storage-\(id)"
        let local = "/dev/shm/conveyor-work-\(id)"
        try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: local + "/outputs/sub", withIntermediateDirectories: true)
        return (storage, local)
    }

    @Test("a file and a folder from another file system are copied in and moved into place whole", .enabled(if: FileManager.default.fileExists(atPath: "/dev/shm")))
    func acrossFileSystems() throws {
        let (root, local) = try Self.folders()
        defer {
            try? FileManager.default.removeItem(atPath: root)
            try? FileManager.default.removeItem(atPath: local)
        }
        let storage = InternalStorage(root: root)
        try Data("one".utf8).write(to: URL(fileURLWithPath: local + "/result.json"))
        try Data("two".utf8).write(to: URL(fileURLWithPath: local + "/outputs/sub/part.csv"))

        try storage.store(moving: local + "/result.json", to: "data/a/result.json")
        try storage.store(moving: local + "/outputs", to: "data/b/outputs")

        #expect(try String(contentsOfFile: storage.path("data/a/result.json"), encoding: .utf8) == "one")
        #expect(try String(contentsOfFile: storage.path("data/b/outputs/sub/part.csv"), encoding: .utf8) == "two")
        #expect(!FileManager.default.fileExists(atPath: local + "/result.json"), "the source is moved, not left behind")
        #expect(!FileManager.default.fileExists(atPath: local + "/outputs"))
        #expect((try FileManager.default.contentsOfDirectory(atPath: storage.path(".staging"))).isEmpty, "no staging copy is left")
        // Append-only, across file systems too.
        try Data("three".utf8).write(to: URL(fileURLWithPath: local + "/again.json"))
        #expect(throws: InternalStorageError.self) { try storage.store(moving: local + "/again.json", to: "data/a/result.json") }
    }
}
