import Foundation

/// `metadata.notification.default.get`: the e-mail settings a principal's jobs get when their
/// definition has no `notification` section.
public struct GetNotificationDefault: MetadataCall {
    public typealias Result = NotificationDefault
    public static let messageType = "metadata.notification.default.get"
    public var principal: String
    public init(principal: String) { self.principal = principal }
}

/// `metadata.notification.default.set`: sets (or, with no `settings`, clears) a principal's default.
public struct SetNotificationDefault: MetadataCall {
    public typealias Result = NotificationDefault
    public static let messageType = "metadata.notification.default.set"
    public var principal: String
    public var settings: NotificationSettings?
    public init(principal: String, settings: NotificationSettings?) {
        self.principal = principal
        self.settings = settings
    }
}

/// A principal's default e-mail settings (none: their jobs send e-mail only when they ask).
public struct NotificationDefault: Codable, Sendable, Hashable {
    public var principal: String
    public var settings: NotificationSettings?
    public var updatedAt: Date?
    public init(principal: String, settings: NotificationSettings?, updatedAt: Date?) {
        self.principal = principal
        self.settings = settings
        self.updatedAt = updatedAt
    }
}
