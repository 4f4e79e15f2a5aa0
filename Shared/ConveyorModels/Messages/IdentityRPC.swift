import Foundation

/// An API token as metadata keeps it: never its secret, which is shown once, when it is issued.
public struct APIToken: Codable, Sendable, Hashable {
    public var tokenId: UUID
    /// The principal the token speaks for (the owner of what is submitted with it).
    public var principal: String
    public var role: Role
    public var teams: [String]
    /// What the token is for, in the words of whoever issued it.
    public var label: String
    public var createdAt: Date
    public var createdBy: String
    public var expiresAt: Date
    public var revokedAt: Date?
    /// The most requests a second the token may make (absent: the gateway's default).
    public var requestsPerSecond: Int?

    public init(
        tokenId: UUID, principal: String, role: Role, teams: [String], label: String, createdAt: Date, createdBy: String,
        expiresAt: Date, revokedAt: Date? = nil, requestsPerSecond: Int? = nil
    ) {
        self.tokenId = tokenId
        self.principal = principal
        self.role = role
        self.teams = teams
        self.label = label
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.requestsPerSecond = requestsPerSecond
    }
}

/// A newly issued token with its secret (`token`), the only time the secret is seen.
public struct IssuedToken: Codable, Sendable, Hashable {
    public var token: String
    public var record: APIToken
    public init(token: String, record: APIToken) {
        self.token = token
        self.record = record
    }
}

/// What the body of `POST /api/v1/tokens` asks for.
public struct TokenRequest: Codable, Sendable, Hashable {
    public var principal: String
    public var role: Role?
    public var teams: [String]?
    public var label: String?
    /// Days until the token expires (default 90, at most 3650).
    public var expiresInDays: Int?
    public var requestsPerSecond: Int?

    public init(principal: String, role: Role? = nil, teams: [String]? = nil, label: String? = nil, expiresInDays: Int? = nil, requestsPerSecond: Int? = nil) {
        self.principal = principal
        self.role = role
        self.teams = teams
        self.label = label
        self.expiresInDays = expiresInDays
        self.requestsPerSecond = requestsPerSecond
    }

    public static let defaultDays = 90
    public static let maxDays = 3650

    /// Every problem of the request, by field.
    public var problems: [FieldProblem] {
        var problems: [FieldProblem] = []
        if let problem = Principal.nameProblem(principal) { problems.append(FieldProblem(field: "principal", reason: problem)) }
        for (index, team) in (teams ?? []).enumerated() where Principal.nameProblem(team) != nil {
            problems.append(FieldProblem(field: "teams[\(index)]", reason: "must be 1-200 printable characters"))
        }
        if (teams ?? []).count > 100 { problems.append(FieldProblem(field: "teams", reason: "at most 100 teams")) }
        if let label, label.isEmpty || !JobValidator.isPlainText(label, maxLength: 200) {
            problems.append(FieldProblem(field: "label", reason: "must be 1-200 printable characters"))
        }
        if let days = expiresInDays, !(1...Self.maxDays).contains(days) {
            problems.append(FieldProblem(field: "expiresInDays", reason: "must be between 1 and \(Self.maxDays)"))
        }
        if let rate = requestsPerSecond, !(0...100_000).contains(rate) {
            problems.append(FieldProblem(field: "requestsPerSecond", reason: "must be between 0 (no limit) and 100000"))
        }
        return problems
    }
}

/// `metadata.token.issue`: issues a token; the reply holds its secret, which metadata keeps only hashed.
public struct IssueToken: MetadataCall {
    public typealias Result = IssuedToken
    public static let messageType = "metadata.token.issue"
    public var request: TokenRequest
    /// Who issues it (an admin's name, or `conveyor-admin`).
    public var issuedBy: String
    public init(request: TokenRequest, issuedBy: String) {
        self.request = request
        self.issuedBy = issuedBy
    }
}

/// `metadata.token.list`: the tokens issued, newest first (revoked and expired ones included).
public struct ListTokens: MetadataCall {
    public typealias Result = [APIToken]
    public static let messageType = "metadata.token.list"
    public var principal: String?
    public init(principal: String? = nil) { self.principal = principal }
}

/// `metadata.token.revoke`: revokes a token at once (the gateway forgets it within its cache time).
public struct RevokeToken: MetadataCall {
    public typealias Result = APIToken
    public static let messageType = "metadata.token.revoke"
    public var tokenId: UUID
    public init(tokenId: UUID) { self.tokenId = tokenId }
}

/// `metadata.token.verify`: the token whose secret hashes to `secretHash` (SHA-256, hex), if it is
/// neither revoked nor expired.
public struct VerifyToken: MetadataCall {
    public typealias Result = TokenVerification
    public static let messageType = "metadata.token.verify"
    public var secretHash: String
    public init(secretHash: String) { self.secretHash = secretHash }
}

/// The answer to ``VerifyToken``: the token, or none when it is unknown, revoked or expired.
public struct TokenVerification: Codable, Sendable, Hashable {
    public var token: APIToken?
    public init(token: APIToken?) { self.token = token }
}
