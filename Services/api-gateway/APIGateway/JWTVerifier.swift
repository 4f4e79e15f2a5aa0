import ConveyorModels
import Foundation
import JWTKit
import Logging
import ServiceLifecycle
import ServiceKit
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Verifies JWT bearer tokens of a deployment's identity provider: the signature against the keys
/// of a JWKS (a file, or a URL fetched at start and every `auth.jwt.jwksRefreshSeconds`), the
/// issuer against `auth.jwt.issuers`, the audience against `auth.jwt.audience` when set, and the
/// expiry. The principal is the `sub` claim; the role the `role` claim (`user` when absent) and the
/// teams the `teams` claim.
final class JWTVerifier: Sendable {
    struct Settings: Sendable {
        var issuers: [String]
        var audience: String?
        var jwksFile: String?
        var jwksURL: URL?
        var refresh: Duration

        /// Nil when no issuer is configured (JWTs are then refused).
        init?(_ settings: ConveyorSettings) {
            issuers = settings.list("auth.jwt.issuers")
            guard !issuers.isEmpty else { return nil }
            let audience = settings.string("auth.jwt.audience", default: "")
            self.audience = audience.isEmpty ? nil : audience
            let file = settings.string("auth.jwt.jwksFile", default: "")
            jwksFile = file.isEmpty ? nil : file
            jwksURL = URL(string: settings.string("auth.jwt.jwksURL", default: ""))
            refresh = .seconds(max(10, settings.int("auth.jwt.jwksRefreshSeconds", default: 300)))
        }
    }

    /// The claims Conveyor reads.
    struct Claims: JWTPayload {
        var sub: SubjectClaim
        var iss: IssuerClaim
        var exp: ExpirationClaim
        var aud: AudienceClaim?
        var role: String?
        var teams: [String]?

        func verify(using algorithm: some JWTAlgorithm) async throws {
            try exp.verifyNotExpired()
        }
    }

    let settings: Settings
    private let keys = JWTKeyCollection()
    private let logger: Logger

    init(settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// Loads the keys (and, from a URL, keeps them fresh until cancelled).
    /// - Throws: when the first load fails: a gateway that cannot check JWTs does not start.
    func loadKeys() async throws {
        try await keys.add(jwksJSON: try await jwksText())
        logger.info("JWT keys loaded", metadata: ["issuers": "\(settings.issuers)", "source": "\(settings.jwksFile ?? settings.jwksURL?.absoluteString ?? "-")"])
    }

    /// Reloads the keys from the URL every refresh period (a rotated key is picked up).
    func refreshKeys() async {
        guard settings.jwksURL != nil else { return }
        while (try? await Task.sleep(for: settings.refresh)) != nil {
            do {
                let text = try await jwksText()
                _ = await keys.removeAll()
                try await keys.add(jwksJSON: text)
            } catch {
                logger.warning("JWT keys not refreshed; the previous keys stay", metadata: ["error": "\(error)"])
            }
        }
    }

    private func jwksText() async throws -> String {
        if let file = settings.jwksFile {
            return try String(contentsOfFile: file, encoding: .utf8)
        }
        guard let url = settings.jwksURL else { throw JWTConfigurationError(message: "auth.jwt.jwksFile or auth.jwt.jwksURL must be set") }
        let (data, response) = try await URLSession.shared.data(from: url)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw JWTConfigurationError(message: "the JWKS at \(url) answered \((response as? HTTPURLResponse)?.statusCode ?? 0)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The principal a JWT names.
    /// - Throws: a 401 ``Problem`` saying why the token is not accepted.
    func principal(_ token: String) async throws -> Principal {
        let claims: Claims
        do {
            claims = try await keys.verify(token, as: Claims.self)
        } catch let error as JWTError {
            throw Problem(.unauthorized, "the JWT is not accepted: \(error.reason ?? "\(error.errorType)")")
        } catch {
            throw Problem(.unauthorized, "the JWT is not accepted: its signature or claims could not be verified")
        }
        guard settings.issuers.contains(claims.iss.value) else {
            throw Problem(.unauthorized, "the JWT's issuer '\(claims.iss.value.prefix(200))' is not one this gateway trusts")
        }
        if let audience = settings.audience {
            guard let aud = claims.aud, aud.value.contains(audience) else {
                throw Problem(.unauthorized, "the JWT is not meant for this gateway (audience must include '\(audience)')")
            }
        }
        guard Principal.nameProblem(claims.sub.value) == nil else {
            throw Problem(.unauthorized, "the JWT's subject must be 1-200 printable characters")
        }
        let role: Role
        if let text = claims.role {
            guard let named = Role(rawValue: text) else {
                throw Problem(.unauthorized, "the JWT's role '\(text.prefix(60))' is not one of user, operator, admin")
            }
            role = named
        } else {
            role = .user
        }
        return Principal(name: claims.sub.value, role: role, teams: (claims.teams ?? []).filter { Principal.nameProblem($0) == nil }, method: "jwt")
    }
}

struct JWTConfigurationError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Keeps the JWT keys fetched from a URL fresh while the gateway runs.
struct JWTKeyRefresher: Service {
    let verifier: JWTVerifier
    func run() async throws {
        await verifier.refreshKeys()
    }
}
