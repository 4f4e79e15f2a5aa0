import ConveyorModels
import Foundation
import Messaging
import ServiceKit
import Synchronization

/// Turns a bearer credential into a ``Principal``: an API token (`cvy_...`, verified by metadata
/// and remembered for `auth.cacheSeconds`, so a revocation takes effect within that time) or, when
/// issuers are configured, a JWT (verified here, see ``JWTVerifier``).
final class Authenticator: Sendable {
    private let metadata: MetadataClient
    private let jwt: JWTVerifier?
    private let cacheTime: Duration
    /// Recent answers by the secret's hash (positive and negative), at most `maxCached` of them.
    private let cache = Mutex<[String: (token: APIToken?, until: ContinuousClock.Instant)]>([:])
    private static let maxCached = 10_000

    init(metadata: MetadataClient, jwt: JWTVerifier?, cacheTime: Duration) {
        self.metadata = metadata
        self.jwt = jwt
        self.cacheTime = cacheTime
    }

    /// The caller named by an `Authorization` header.
    /// - Throws: a 401 ``Problem`` saying what is wrong with the credential.
    func principal(authorization: String?) async throws -> Principal {
        guard let authorization, !authorization.isEmpty else {
            throw Problem(.unauthorized, "this request needs an identity: send Authorization: Bearer <token>")
        }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
            throw Problem(.unauthorized, "the Authorization header must be 'Bearer <token>'")
        }
        let credential = String(parts[1]).trimmingCharacters(in: .whitespaces)
        if credential.hasPrefix("cvy_") { return try await apiToken(credential) }
        if credential.split(separator: ".", omittingEmptySubsequences: false).count == 3 {
            guard let jwt else { throw Problem(.unauthorized, "this gateway accepts no JWTs (no issuer is configured); use an API token") }
            return try await jwt.principal(credential)
        }
        throw Problem(.unauthorized, "the bearer credential is neither a Conveyor API token (cvy_...) nor a JWT")
    }

    private func apiToken(_ secret: String) async throws -> Principal {
        let hash = ContentDigest.sha256(Data(secret.utf8))
        let now = ContinuousClock.now
        let cached = cache.withLock { cache in cache[hash].flatMap { $0.until > now ? $0 : nil } }
        let token: APIToken?
        if let cached {
            token = cached.token
        } else {
            token = try await metadata.call(VerifyToken(secretHash: hash)).token
            cache.withLock { cache in
                if cache.count >= Self.maxCached { cache.removeAll(keepingCapacity: true) }
                cache[hash] = (token, now + cacheTime)
            }
        }
        guard let token, token.expiresAt > Date() else {
            throw Problem(.unauthorized, "the API token is unknown, revoked or expired")
        }
        return Principal(
            name: token.principal, role: token.role, teams: token.teams, method: "token", tokenId: token.tokenId,
            requestsPerSecond: token.requestsPerSecond)
    }
}
