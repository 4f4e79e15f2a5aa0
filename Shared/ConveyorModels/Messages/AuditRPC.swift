import Foundation

/// One change made through the API (or an attempt refused): who, from where, what, on what, and how
/// it ended. The gateway writes one for every request that changes something.
public struct AuditEntry: Codable, Sendable, Hashable {
    /// Metadata's id (increasing), set once stored.
    public var id: Int64?
    public var at: Date
    public var principal: String
    public var role: Role
    /// What was done: `job.submit`, `job.cancel`, `job.rerun`, `job.rerunChain`, `object.create`,
    /// `object.version`, `object.tag`, `object.rerunDownstream`, `file.upload`, `data.upload`,
    /// `token.issue`, `token.revoke`, `notification.default`.
    public var action: String
    public var method: String
    public var path: String
    /// The job, object or token acted on (for a creation, the one created), when there is one.
    public var target: String?
    /// The HTTP status of the answer (4xx: refused, nothing changed).
    public var status: Int
    public var remoteAddress: String?
    /// The request's `X-Request-Id` (the client's, or the gateway's own).
    public var requestId: String

    public init(
        id: Int64? = nil, at: Date, principal: String, role: Role, action: String, method: String, path: String, target: String?,
        status: Int, remoteAddress: String?, requestId: String
    ) {
        self.id = id
        self.at = at
        self.principal = principal
        self.role = role
        self.action = action
        self.method = method
        self.path = path
        self.target = target
        self.status = status
        self.remoteAddress = remoteAddress
        self.requestId = requestId
    }
}

/// `metadata.audit.record`: stores audit entries (the gateway sends what gathered in a moment).
public struct RecordAudit: MetadataCall {
    public typealias Result = AuditRecorded
    public static let messageType = "metadata.audit.record"
    public var entries: [AuditEntry]
    public init(entries: [AuditEntry]) { self.entries = entries }
}

public struct AuditRecorded: Codable, Sendable, Hashable {
    public var count: Int
    public init(count: Int) { self.count = count }
}

/// `metadata.audit.list`: audit entries, newest first, filtered, a page at a time.
public struct ListAudit: MetadataCall {
    public typealias Result = AuditPage
    public static let messageType = "metadata.audit.list"
    public var principal: String?
    public var action: String?
    public var target: String?
    public var from: Date?
    public var to: Date?
    /// Entries older than this id (the previous page's `nextCursor`).
    public var before: Int64?
    public var limit: Int
    public init(principal: String? = nil, action: String? = nil, target: String? = nil, from: Date? = nil, to: Date? = nil, before: Int64? = nil, limit: Int = 50) {
        self.principal = principal
        self.action = action
        self.target = target
        self.from = from
        self.to = to
        self.before = before
        self.limit = limit
    }
    public static let maxLimit = 500
}

public struct AuditPage: Codable, Sendable, Hashable {
    public var entries: [AuditEntry]
    /// Pass as `cursor` for the next (older) page; absent on the last.
    public var nextCursor: String?
    public init(entries: [AuditEntry], nextCursor: String?) {
        self.entries = entries
        self.nextCursor = nextCursor
    }
}
