import ConveyorModels
import Foundation
import Postgres
import ServiceKit

/// API tokens: issued with a random secret that is returned once and kept only as its SHA-256
/// (a token has 256 random bits, so a fast hash is enough), listed, revoked and verified.
struct TokenStore: Sendable {
    let pool: PostgresPool

    /// The prefix of every token's secret, so that a leaked one is recognisable (secret scanners).
    static let secretPrefix = "cvy_"

    /// A new secret: the prefix and 32 random bytes in base64url.
    static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let base64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return secretPrefix + base64
    }

    func issue(_ call: IssueToken) async throws -> IssuedToken {
        let request = call.request
        let problems = request.problems
        guard problems.isEmpty else { throw MetadataError.invalid("the token request is not valid", problems: problems) }
        let secret = Self.newSecret()
        let days = request.expiresInDays ?? TokenRequest.defaultDays
        let rows = try await pool.query(
            """
            INSERT INTO api_tokens (token_id, secret_hash, principal, role, teams, label, created_by, created_at, expires_at, requests_per_second)
            VALUES ($1, $2, $3, $4, $5, $6, $7, now(), now() + make_interval(days => $8), $9)
            RETURNING *
            """,
            [
                UUID(), ContentDigest.sha256(Data(secret.utf8)), request.principal, (request.role ?? .user).rawValue,
                try PostgresJSON(ConveyorJSON.encode(request.teams ?? [])), request.label ?? "token for \(request.principal)", call.issuedBy,
                days, request.requestsPerSecond,
            ])
        return IssuedToken(token: secret, record: try Self.token(rows[0]))
    }

    func list(_ call: ListTokens) async throws -> [APIToken] {
        let rows = try await pool.query(
            "SELECT * FROM api_tokens WHERE $1::text IS NULL OR principal = $1 ORDER BY created_at DESC, token_id LIMIT 10000",
            [call.principal])
        return try rows.map(Self.token)
    }

    func revoke(_ call: RevokeToken) async throws -> APIToken {
        let rows = try await pool.query(
            """
            UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE token_id = $1 RETURNING *
            """, [call.tokenId])
        guard let row = rows.first else { throw MetadataError.notFound("no token \(call.tokenId.lowercased)") }
        return try Self.token(row)
    }

    func verify(_ call: VerifyToken) async throws -> TokenVerification {
        let rows = try await pool.query(
            "SELECT * FROM api_tokens WHERE secret_hash = $1 AND revoked_at IS NULL AND expires_at > now()", [call.secretHash])
        return TokenVerification(token: try rows.first.map(Self.token))
    }

    private static func token(_ row: PostgresRow) throws -> APIToken {
        APIToken(
            tokenId: try row.uuid("token_id"), principal: try row.string("principal"),
            role: Role(rawValue: try row.string("role")) ?? .user,
            teams: try ConveyorJSON.decode([String].self, from: Data(try row.string("teams").utf8)),
            label: try row.string("label"), createdAt: try row.date("created_at"), createdBy: try row.string("created_by"),
            expiresAt: try row.date("expires_at"), revokedAt: row.dateIfPresent("revoked_at"),
            requestsPerSecond: row.intIfPresent("requests_per_second"))
    }
}
