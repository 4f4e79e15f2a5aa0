import ConveyorModels
import Foundation
import Mustache
import SMTPClient

/// The e-mail that tells a job's owner how it ended.
public enum CompletionEmail {
    /// What the notifier learned of the job beyond its event: its earlier attempts (a retried job)
    /// and its stages (a JOB_GROUP), listed in its one e-mail.
    public struct Details: Sendable {
        public var attempts: [AttemptSummary]
        public var stages: [JobRecord]
        public init(attempts: [AttemptSummary] = [], stages: [JobRecord] = []) {
            self.attempts = attempts
            self.stages = stages
        }
    }

    /// Builds the message for a terminal job event from the templates.
    /// - Throws: `SMTPError` when an address is unusable.
    public static func message(
        for event: JobEvent, from: EmailAddress, to recipients: [String], details: Details = Details(),
        templates: CompletionTemplates
    ) throws -> EmailMessage {
        let id = event.jobId.uuidString.lowercased()
        let context = Self.context(event, details: details)
        return EmailMessage(
            from: from, to: try recipients.map { try EmailAddress(address: $0) },
            subject: templates.subject.render(context).replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " "),
            textBody: templates.text.render(context), htmlBody: templates.html.render(context),
            messageID: messageID(for: event, domain: String(from.domain)),
            date: Date(), headers: [("X-Conveyor-Job-Id", id), ("X-Conveyor-Status", event.status.rawValue)])
    }

    /// What the templates see (see ``CompletionTemplates``); absent values are left out.
    static func context(_ event: JobEvent, details: Details) -> [String: Any] {
        let id = event.jobId.uuidString.lowercased()
        var context: [String: Any] = [
            "jobId": id, "jobIdShort": String(id.prefix(8)), "jobType": event.jobType.rawValue, "status": event.status.rawValue,
            "message": event.message, "owner": event.owner, "submittedAt": Timestamp.format(event.submittedAt),
            "finishedAt": Timestamp.format(event.occurredAt),
            "duration": event.startedAt.map { format(event.occurredAt.timeIntervalSince($0)) } ?? "did not start",
            "logTail": (event.logTail ?? "").isEmpty ? "(the job wrote no log)" : event.logTail!,
        ]
        context["exitCode"] = event.exitCode.map(String.init)
        context["reason"] = event.failure?.description
        context["attemptCount"] = event.attempt > 1 ? String(event.attempt) : nil
        context["memory"] = memory(event)
        context["progress"] = event.progressMessage
        context["results"] = results(event)
        if !details.attempts.isEmpty {
            context["hasAttempts"] = true
            context["attempts"] = details.attempts.map { attempt -> [String: Any] in
                ["attempt": String(attempt.attempt), "failure": attempt.failure.description, "message": attempt.message,
                    "endedAt": Timestamp.format(attempt.endedAt)]
            }
        }
        if !details.stages.isEmpty {
            context["hasStages"] = true
            context["stages"] = details.stages.enumerated().map { index, stage -> [String: Any] in
                ["position": String(index + 1), "jobId": stage.jobId.uuidString.lowercased(), "jobType": stage.jobType.rawValue,
                    "status": stage.status.rawValue, "message": stage.statusMessage]
            }
        }
        return context
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
}
