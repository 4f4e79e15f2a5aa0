import ConveyorModels
import Foundation
import SMTPClient

/// The e-mail that tells a job's owner how it ended.
public enum CompletionEmail {
    /// Builds the message for a terminal job event.
    /// - Throws: `SMTPError` when an address is unusable.
    public static func message(for event: JobEvent, from: EmailAddress, to recipients: [String]) throws -> EmailMessage {
        let id = event.jobId.uuidString.lowercased()
        let duration = event.startedAt.map { format(event.occurredAt.timeIntervalSince($0)) } ?? "did not start"
        let tail = (event.logTail ?? "").isEmpty ? "(the job wrote no log)" : event.logTail!
        let exit = event.exitCode.map { "\nExit code: \($0)" } ?? ""
        let reason = event.failure.map { "\nReason:    \($0)" } ?? ""
        let attempts = event.attempt > 1 ? "\nAttempts:  \(event.attempt)" : ""
        let memory = Self.memory(event)
        let memoryLine = memory.map { "\nMemory:    \($0)" } ?? ""
        let results = Self.results(event)
        let said = (event.progressMessage.map { "\nProgress:  \($0)" } ?? "") + (results.map { "\nResults:   \($0)" } ?? "")
        let text = """
            Your Conveyor job finished.

            Job:       \(id)
            Type:      \(event.jobType.rawValue)
            Status:    \(event.status.rawValue)
            Message:   \(event.message)\(exit)\(reason)\(attempts)\(memoryLine)\(said)
            Owner:     \(event.owner)
            Submitted: \(Timestamp.format(event.submittedAt))
            Finished:  \(Timestamp.format(event.occurredAt))
            Duration:  \(duration)

            Last lines of the log:
            \(tail)
            """
        let html = """
            <html><body>
            <p>Your Conveyor job finished.</p>
            <table>
            <tr><th align="left">Job</th><td><code>\(escape(id))</code></td></tr>
            <tr><th align="left">Type</th><td>\(event.jobType.rawValue)</td></tr>
            <tr><th align="left">Status</th><td><strong>\(event.status.rawValue)</strong></td></tr>
            <tr><th align="left">Message</th><td>\(escape(event.message))</td></tr>
            \(event.exitCode.map { "<tr><th align=\"left\">Exit code</th><td>\($0)</td></tr>" } ?? "")
            \(event.failure.map { "<tr><th align=\"left\">Reason</th><td>\(escape($0.description))</td></tr>" } ?? "")
            \(event.attempt > 1 ? "<tr><th align=\"left\">Attempts</th><td>\(event.attempt)</td></tr>" : "")
            \(memory.map { "<tr><th align=\"left\">Memory</th><td>\(escape($0))</td></tr>" } ?? "")
            \(event.progressMessage.map { "<tr><th align=\"left\">Progress</th><td>\(escape($0))</td></tr>" } ?? "")
            \(results.map { "<tr><th align=\"left\">Results</th><td>\(escape($0))</td></tr>" } ?? "")
            <tr><th align="left">Owner</th><td>\(escape(event.owner))</td></tr>
            <tr><th align="left">Submitted</th><td>\(Timestamp.format(event.submittedAt))</td></tr>
            <tr><th align="left">Finished</th><td>\(Timestamp.format(event.occurredAt))</td></tr>
            <tr><th align="left">Duration</th><td>\(duration)</td></tr>
            </table>
            <p>Last lines of the log:</p>
            <pre>\(escape(tail))</pre>
            </body></html>
            """
        return EmailMessage(
            from: from, to: try recipients.map { try EmailAddress(address: $0) },
            subject: "[Conveyor] \(event.jobType.rawValue) job \(id.prefix(8)) \(event.status.rawValue)",
            textBody: text, htmlBody: html, messageID: messageID(for: event, domain: String(from.domain)),
            date: Date(), headers: [("X-Conveyor-Job-Id", id), ("X-Conveyor-Status", event.status.rawValue)])
    }

    /// The peak memory against the limit: `312 MB peak of 1024 MB (30 %)`, or the peak alone.
    static func memory(_ event: JobEvent) -> String? {
        guard let peak = event.peakMemoryMB else { return nil }
        guard let limit = event.memoryLimitMB, limit > 0 else { return "\(peak) MB peak" }
        return "\(peak) MB peak of \(limit) MB (\(Int((Double(peak) / Double(limit) * 100).rounded())) %)"
    }

    /// The model's results by name: `rows: 1200, score: 0.93`.
    static func results(_ event: JobEvent) -> String? {
        guard let results = event.results, !results.isEmpty else { return nil }
        return results.sorted { $0.key < $1.key }.map { "\($0.key): \(Self.text($0.value))" }.joined(separator: ", ")
    }

    static func text(_ value: Value) -> String {
        switch value {
        case .boolean(let flag): String(flag)
        case .integer(let number): String(number)
        case .float(let number): String(number)
        case .decimal(let text), .string(let text), .date(let text), .datetime(let text): text
        case .array, .map: String(decoding: (try? ConveyorJSON.encode(value.plainJSON)) ?? Data(), as: UTF8.self)
        }
    }

    /// One Message-ID per job, so even a repeated delivery is recognisable as the same message.
    public static func messageID(for event: JobEvent, domain: String) -> String {
        "job-\(event.jobId.uuidString.lowercased())@\(domain)"
    }

    static func format(_ seconds: TimeInterval) -> String {
        let total = max(0, seconds)
        if total < 60 { return String(format: "%.1f s", total) }
        let whole = Int(total)
        return whole >= 3600
            ? "\(whole / 3600) h \(whole % 3600 / 60) min \(whole % 60) s" : "\(whole / 60) min \(whole % 60) s"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
