import Foundation

/// Reads through the gateway under load: `wrk` (2 threads, 32 connections) against
/// `GET /api/v1/jobs/{id}` of a finished job for a number of seconds; requests/s, latency p50/p99
/// and errors (socket errors and answers other than 2xx/3xx).
enum ReadBench {
    struct Result {
        var requestsPerSecond: Double
        var p50Milliseconds: Double
        var p99Milliseconds: Double
        var errors: Int
    }

    static func run(url: String, seconds: Int, connections: Int = 32) -> Result? {
        guard let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            print("reads: wrk is not installed (apt-get install wrk); skipped")
            return nil
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments = ["-t2", "-c\(connections)", "-d\(seconds)s", "--latency", "-H", "Authorization: Bearer \(GatewayClient.token)", url]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        do { try process.run() } catch {
            print("reads: wrk did not start: \(error)")
            return nil
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, let result = parse(text) else {
            print("reads: wrk failed:\n\(text)")
            return nil
        }
        return result
    }

    /// Reads wrk's report (`--latency`): `Requests/sec:`, the 50 % and 99 % latency lines, and the
    /// error lines it prints only when there were errors.
    static func parse(_ text: String) -> Result? {
        var result = Result(requestsPerSecond: 0, p50Milliseconds: .nan, p99Milliseconds: .nan, errors: 0)
        var sawRate = false
        for line in text.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if line.hasPrefix("Requests/sec:"), let value = fields.last.flatMap(Double.init) {
                result.requestsPerSecond = value
                sawRate = true
            } else if fields.count == 2, fields[0] == "50%" {
                result.p50Milliseconds = milliseconds(fields[1]) ?? .nan
            } else if fields.count == 2, fields[0] == "99%" {
                result.p99Milliseconds = milliseconds(fields[1]) ?? .nan
            } else if line.hasPrefix("Non-2xx or 3xx responses:"), let value = fields.last.flatMap(Int.init) {
                result.errors += value
            } else if line.hasPrefix("Socket errors:") {
                // "Socket errors: connect 0, read 0, write 0, timeout 0"
                result.errors += line.split(whereSeparator: { $0 == "," || $0 == " " }).compactMap { Int($0) }.reduce(0, +)
            }
        }
        return sawRate ? result : nil
    }

    /// wrk's durations: `812.00us`, `1.23ms`, `2.01s`.
    static func milliseconds(_ text: String) -> Double? {
        for (unit, factor) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0)] where text.hasSuffix(unit) {
            return Double(text.dropLast(unit.count)).map { $0 * factor }
        }
        return nil
    }
}
