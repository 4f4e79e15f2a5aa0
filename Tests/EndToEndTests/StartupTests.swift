import Foundation
import TestSupport
import Testing

/// A service asked to stop while it is still starting stops cleanly, as a running one does.
@Suite("Start-up", .serialized)
struct StartupTests {
    @Test("SIGTERM while metadata waits for its database: it stops without waiting it out, exit status 0, saying so")
    func stopWhileWaitingForDatabase() async throws {
        let binaries = Platform.environment["CONVEYOR_BIN_DIR"] ?? Platform.repositoryRoot.appendingPathComponent(".build/debug").path
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("conveyor-startup-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binaries + "/metadata")
        process.currentDirectoryURL = Platform.repositoryRoot
        var environment = Platform.environment
        // Nothing listens there: metadata keeps waiting for its database (up to 60 s).
        environment["POSTGRES_URL"] = "postgres://conveyor@127.0.0.1:1/conveyor"
        environment["METADATA_HEALTH_PORT"] = "8991"
        process.environment = environment
        let output = try FileHandle(forWritingTo: log)
        process.standardOutput = output
        process.standardError = output
        try process.run()
        try await Task.sleep(for: .seconds(2))
        #expect(process.isRunning, "metadata ended before it was asked to")

        let stopAsked = ContinuousClock.now
        process.terminate()  // SIGTERM
        while process.isRunning && ContinuousClock.now - stopAsked < .seconds(10) { try await Task.sleep(for: .milliseconds(50)) }
        // Still waiting 10 s later (its database wait lasts 60 s) is a failure: it is killed.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "ended with \(process.terminationReason) \(process.terminationStatus): \(text)")
        #expect(text.contains("stopped while starting"), "log: \(text)")
    }
}
