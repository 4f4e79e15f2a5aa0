import Foundation

/// A fresh internal-storage folder for a test.
enum TestStorage {
    static func folder() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("conveyor-storage-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
