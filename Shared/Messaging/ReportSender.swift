import AMQPClient
import ConveyorModels
import Foundation
import Logging
import Metrics
import ServiceKit

/// Sends a worker's reports to metadata (queue `metadata.reports`), confirmed, and never loses one:
/// a publish that fails is retried until the broker confirms it.
///
/// Reports are batched naturally: one message is in flight at a time, and the reports written
/// meanwhile (log chunks and finished reports of all the worker's jobs) go out together in the next
/// message (a ``MessageBatch``), in the order they were sent. So a job's reports reach metadata in
/// order, and a busy worker sends one message for many reports.
public final class ReportSender: Sendable {
    private let publisher: AMQPConnection
    public let batcher: Batcher<JobReport, Void>

    public init(publisher: AMQPConnection, logger: Logger) {
        Self.registered
        self.publisher = publisher
        batcher = Batcher(name: "reports", maxBatch: 200, concurrency: 1) { reports in
            await Self.publishRetrying(reports, with: publisher, logger: logger)
            return reports.map { _ in .success(()) }
        }
    }

    /// Sends a report and returns once the broker confirmed it (or the connection was closed for good).
    public func send(_ report: JobReport) async {
        Self.count(report)
        // Queued, never processed on the caller's task (as `submit` would when the batcher is idle):
        // a cancelled job still reports what it wrote, and the batcher's own task retries a publish
        // that failed until the broker takes it; the wait is not cut short by the caller's cancellation.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            batcher.enqueue(report) { _ in continuation.resume() }
        }
    }

    /// `conveyor_reports_total{kind}` (log, finished, progress, notification) and the bytes of log
    /// the log reports carry (`conveyor_report_log_bytes_total`).
    private static let reportsByKind = MetricFamily(labels: ["kind"]) { Counter(label: "conveyor_reports_total", dimensions: $0) }
    private static let logBytes = Counter(label: "conveyor_report_log_bytes_total")

    /// Makes the counters, at 0 until the first report of each kind.
    private static let registered: Void = {
        for kind in ["log", "finished", "progress", "notification"] { reportsByKind(kind).increment(by: 0) }
        logBytes.increment(by: 0)
    }()

    private static func count(_ report: JobReport) {
        switch report.kind {
        case .log(let chunk):
            reportsByKind("log").increment()
            logBytes.increment(by: chunk.data.count)
        case .finished: reportsByKind("finished").increment()
        case .progress: reportsByKind("progress").increment()
        case .notification: reportsByKind("notification").increment()
        }
    }

    private static func publishRetrying(_ reports: [JobReport], with publisher: AMQPConnection, logger: Logger) async {
        let message: OutgoingMessage
        do {
            let envelopes = try reports.map { try Envelope($0, correlationId: $0.jobId.uuidString).encoded() }
            let single = envelopes.count == 1
            message = OutgoingMessage(
                exchange: "", routingKey: Topology.metadataReportsQueue, body: single ? envelopes[0] : MessageBatch.join(envelopes),
                contentType: single ? "application/json" : MessageBatch.contentType, messageId: UUID().uuidString,
                type: JobReport.messageType)
        } catch {
            logger.error("reports cannot be encoded", metadata: ["error": "\(error)"])
            return
        }
        var delay = Duration.milliseconds(100)
        while true {
            do {
                try await publisher.publish(message)
                return
            } catch let error as AMQPError where error.code == .closed {
                return
            } catch {
                // The batcher's own task runs this (``send(_:)`` only queues), so a job's cancellation
                // cannot cut it short; only the worker's cancellation does.
                guard (try? await Task.sleep(for: delay)) != nil else {
                    logger.error("reports not sent: the worker was cancelled", metadata: ["count": "\(reports.count)"])
                    return
                }
                delay = min(delay * 2, .seconds(5))
            }
        }
    }
}
