import Foundation

/// What a caller may do. Each role includes the one before it.
public enum Role: String, Codable, Sendable, CaseIterable, Comparable {
    /// Submits jobs and objects; sees, follows, cancels and re-runs only their own (and reads the
    /// objects shared with their teams).
    case user
    /// A user who also sees and cancels every job, and reads every object.
    case `operator`
    /// An operator who also issues and revokes tokens and reads the audit.
    case admin

    private var rank: Int { Role.allCases.firstIndex(of: self)! }
    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
}

/// Who made a request, as the gateway established it (from an API token or a JWT).
public struct Principal: Codable, Sendable, Hashable {
    /// The principal's name: the owner of what they submit and create.
    public var name: String
    public var role: Role
    /// The teams the principal belongs to (objects shared with one of them are readable).
    public var teams: [String]
    /// How the identity was proven: `token` (an API token) or `jwt`.
    public var method: String
    /// The API token used, when one was.
    public var tokenId: UUID?
    /// The most requests a second this identity may make at the gateway (0: no limit).
    public var requestsPerSecond: Int?

    public init(name: String, role: Role, teams: [String] = [], method: String, tokenId: UUID? = nil, requestsPerSecond: Int? = nil) {
        self.name = name
        self.role = role
        self.teams = teams
        self.method = method
        self.tokenId = tokenId
        self.requestsPerSecond = requestsPerSecond
    }

    /// Whether the principal sees and cancels every job (operators and admins).
    public var seesEverything: Bool { role >= .operator }

    /// The rule for principal names, the same as for a job's `owner`: 1 to 200 printable characters.
    public static func nameProblem(_ name: String) -> String? {
        name.isEmpty || !JobValidator.isPlainText(name, maxLength: 200) ? "must be 1-200 printable characters" : nil
    }
}
