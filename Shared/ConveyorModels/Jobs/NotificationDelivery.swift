import Foundation

/// What became of a job's completion e-mail, as the notifier reports it (`notificationDelivery` on
/// the job): waiting to be sent again after a failure, sent, or failed for good.
public struct NotificationDelivery: Sendable, Codable, Hashable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        /// Not sent yet: the last try failed and another is due at `nextAttemptAt`.
        case pending = "PENDING"
        case sent = "SENT"
        /// Refused for good (the server's permanent reply, or still failing when the delivery expired).
        case failed = "FAILED"
    }

    public var status: Status
    /// The tries so far.
    public var attempts: Int
    /// Why the last try failed (the server's reply where it gave one).
    public var lastError: String?
    public var nextAttemptAt: Date?
    public var sentAt: Date?
    /// The delivery gives up (FAILED) when it is still not sent by then.
    public var expiresAt: Date?
    public var updatedAt: Date

    public init(
        status: Status, attempts: Int, lastError: String? = nil, nextAttemptAt: Date? = nil, sentAt: Date? = nil, expiresAt: Date? = nil,
        updatedAt: Date
    ) {
        self.status = status
        self.attempts = attempts
        self.lastError = lastError
        self.nextAttemptAt = nextAttemptAt
        self.sentAt = sentAt
        self.expiresAt = expiresAt
        self.updatedAt = updatedAt
    }
}
