import Metrics
import ServiceKit

/// The e-mails' metrics: sent, tried again later, and failed for good by why
/// (`reason`: `refused` by the server with a 5xx, `expired` before it could be sent, `unwritable`
/// when the message cannot be made), and the time one SMTP send took.
enum EmailMetrics {
    static let sent = Counter(label: "conveyor_emails_sent_total")
    static let retried = Counter(label: "conveyor_emails_retried_total")
    static let failed = MetricFamily(labels: ["reason"]) { Counter(label: "conveyor_emails_failed_total", dimensions: $0) }
    static let sendTime = Timer(label: "conveyor_email_send_seconds", preferredDisplayUnit: .seconds)
    static let failureReasons = ["refused", "expired", "unwritable"]

    /// Makes every counter now, so that each reads 0 until its first e-mail (a rate over a series
    /// that appears only with its first failure misses that failure).
    static func register() {
        sent.increment(by: 0)
        retried.increment(by: 0)
        for reason in failureReasons { failed(reason).increment(by: 0) }
    }
}
