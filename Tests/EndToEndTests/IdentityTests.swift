import ConveyorModels
import Foundation
import JWTKit
import Testing

/// Identity and isolation through the running gateway: every operation of the OpenAPI document
/// without a credential and as the wrong user, owners set from the caller, roles, revocation, rate
/// limits, CORS and JWTs of a trusted issuer.
@Suite("Identity and isolation", .serialized)
struct IdentityTests {
    /// A token issued by the local admin.
    static func token(for principal: String, role: String = "user", extra: String = "") async throws -> String {
        let result = try await Platform.request(
            "POST", "/api/v1/tokens", body: Data(#"{"principal":"\#(principal)","role":"\#(role)"\#(extra)}"#.utf8))
        try #require(result.status == 201, "issuing a token answered \(result.status): \(result.text)")
        let token = try #require(result.json["token"] as? String)
        #expect(token.hasPrefix("cvy_") && token.count == 47)
        return token
    }

    static func `as`(_ token: String) -> [String: String] { ["Authorization": "Bearer \(token)"] }

    /// The operations of `docs/openapi.yaml`: method, path template and operationId.
    static func operations() throws -> [(method: String, path: String, id: String)] {
        let text = try String(contentsOf: Platform.repositoryRoot.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        var operations: [(String, String, String)] = []
        var path = ""
        var method = ""
        var inPaths = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            if inPaths, !line.hasPrefix(" "), !line.isEmpty { break }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") { path = String(line.dropFirst(2).dropLast()) }
            for candidate in ["get", "post", "delete", "put", "patch"] where line == "    \(candidate):" { method = candidate.uppercased() }
            if line.hasPrefix("      operationId: ") { operations.append((method, path, String(line.dropFirst("      operationId: ".count)))) }
        }
        return operations
    }

    /// What each operation does for a user who does not own what it names. Every operation of the
    /// document must be here: a new one is decided on, not forgotten.
    enum WrongUser {
        /// 403: another owner's job or object (`id` in the path: alice's object), or an operation for admins.
        case forbidden(query: String = "", body: String? = nil, id: String? = nil)
        /// Open to every user: what it shows or makes is the caller's own (or what they may read).
        case shared
        case `public`
    }

    static func wrongUserTable(aliceJob: String, aliceFile: String, aliceSchema: String) -> [String: WrongUser] {
        let schemaVersion = #"{"definition":{"objectType":"SCHEMA","schema":{"fields":[{"fieldName":"b","fieldType":"STRING"}]}}}"#
        return [
            "submitJob": .forbidden(body: #"{"jobType":"RUN_MODEL","owner":"alice","runModel":{"model":{"objectId":"\#(UUID())"}}}"#),
            "validateJob": .forbidden(body: #"{"jobType":"RUN_MODEL","owner":"alice","runModel":{"model":{"objectId":"\#(UUID())"}}}"#),
            "listJobs": .forbidden(query: "?owner=alice"),
            "getJob": .forbidden(), "getJobStatus": .forbidden(), "getJobUsage": .forbidden(), "getJobResult": .forbidden(),
            "getJobLog": .forbidden(), "followJobLog": .forbidden(), "followEvents": .forbidden(query: "?owner=alice"), "cancelJob": .forbidden(), "rerunJob": .forbidden(),
            "rerunJobChain": .forbidden(query: "?dryRun=true"), "rerunDownstream": .forbidden(query: "?dryRun=true"),
            "issueToken": .forbidden(body: #"{"principal":"bob","role":"admin"}"#), "listTokens": .forbidden(), "listAudit": .forbidden(), "revokeToken": .forbidden(),
            "getObject": .forbidden(id: aliceFile), "listObjectVersions": .forbidden(id: aliceFile),
            "createObjectVersion": .forbidden(body: schemaVersion, id: aliceSchema), "listTagVersions": .forbidden(id: aliceFile),
            "updateObjectTag": .forbidden(body: #"{"updates":[{"attrName":"x","value":"y"}]}"#, id: aliceFile),
            "shareObject": .forbidden(body: #"{"sharedWith":[]}"#, id: aliceFile), "getObjectContent": .forbidden(id: aliceFile),
            "uploadFile": .forbidden(query: "?name=x.txt&objectId=\(aliceFile)"), "uploadData": .forbidden(query: "?schemaId=\(aliceSchema)"),
            "getQueue": .shared, "getMe": .shared, "getNotificationDefault": .shared, "setNotificationDefault": .shared,
            "clearNotificationDefault": .shared, "createObject": .shared, "searchObjects": .shared,
            "getOpenAPI": .public, "health": .public,
        ]
    }

    static func concrete(_ template: String, job: String) -> String {
        template.replacingOccurrences(of: "{version}", with: "1")
            .replacingOccurrences(of: "{id}", with: template.hasPrefix("/api/v1/jobs") ? job : UUID().uuidString.lowercased())
    }

    @Test("every operation but the health check and the document answers 401, with a problem, without a valid credential")
    func everyOperationNeedsAnIdentity() async throws {
        let operations = try Self.operations()
        #expect(operations.count >= 30, "the document lists \(operations.count) operations")
        let job = UUID().uuidString.lowercased()
        for operation in operations {
            let path = Self.concrete(operation.path, job: job)
            for credential in ["", "Bearer cvy_notatokenatall", "Basic YWxpY2U6c2VjcmV0", "Bearer a.b.c"] {
                let result = try await Platform.request(
                    operation.method, path, body: operation.method == "POST" ? Data("{}".utf8) : nil, headers: ["Authorization": credential])
                if ["getOpenAPI", "health"].contains(operation.id) {
                    #expect(result.status == 200, "\(operation.id) is public")
                    continue
                }
                #expect(result.status == 401, "\(operation.id) \(operation.method) \(path) with '\(credential)' answered \(result.status)")
                #expect(result.headers["content-type"] == "application/problem+json")
                #expect(result.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
                #expect((result.json["detail"] as? String)?.isEmpty == false)
            }
        }
    }

    @Test("as the wrong user, every operation on another owner's job, every admin operation and naming another owner answer 403")
    func everyOperationAsTheWrongUser() async throws {
        let alice = try await Self.token(for: "alice")
        let bob = try await Self.token(for: "bob")
        let noop = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        let submitted = try await Platform.request(
            "POST", "/api/v1/jobs", body: Data(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"}}}"#.utf8), headers: Self.as(alice))
        try #require(submitted.status == 201, "\(submitted.text)")
        let job = try #require(submitted.json["jobId"] as? String).lowercased()
        #expect(submitted.json["owner"] as? String == "alice")
        _ = try await Platform.waitForEnd(job)
        let file = try await Platform.request("POST", "/api/v1/files?name=alice.txt", body: Data("alice\n".utf8), headers: Self.as(alice))
        try #require(file.status == 201, "\(file.text)")
        let schema = try await Platform.request(
            "POST", "/api/v1/objects", body: Data(#"{"definition":{"objectType":"SCHEMA","schema":{"fields":[{"fieldName":"a","fieldType":"STRING"}]}}}"#.utf8),
            headers: Self.as(alice))
        try #require(schema.status == 201, "\(schema.text)")
        let table = Self.wrongUserTable(
            aliceJob: job, aliceFile: try #require(file.json["objectId"] as? String).lowercased(),
            aliceSchema: try #require(schema.json["objectId"] as? String).lowercased())
        let operations = try Self.operations()
        let undecided = operations.map(\.id).filter { table[$0] == nil }
        #expect(undecided.isEmpty, "operations without a decision for the wrong user: \(undecided)")
        for operation in operations {
            guard case .forbidden(let query, let body, let id) = table[operation.id] else { continue }
            let path = Self.concrete(id.map { operation.path.replacingOccurrences(of: "{id}", with: $0) } ?? operation.path, job: job) + query
            let result = try await Platform.request(
                operation.method, path, body: (body ?? (operation.method == "POST" ? "{}" : nil)).map { Data($0.utf8) }, headers: Self.as(bob))
            #expect(result.status == 403, "\(operation.id) \(operation.method) \(path) as bob answered \(result.status): \(result.text.prefix(300))")
            #expect(result.headers["content-type"] == "application/problem+json")
        }
        // Alice herself may do all of it with her job.
        for (method, path) in [("GET", "/api/v1/jobs/\(job)"), ("GET", "/api/v1/jobs/\(job)/log"), ("GET", "/api/v1/jobs/\(job)/result"),
            ("POST", "/api/v1/jobs/\(job)/rerun-chain?dryRun=true")]
        {
            let result = try await Platform.request(method, path, headers: Self.as(alice))
            #expect(result.status == 200, "\(method) \(path) as alice answered \(result.status): \(result.text.prefix(300))")
        }
        // Bob's list and counts never show Alice's job.
        let list = try await Platform.request("GET", "/api/v1/jobs?counts=true&limit=500", headers: Self.as(bob))
        #expect(list.status == 200)
        let owners = Set(((list.json["jobs"] as? [[String: Any]]) ?? []).compactMap { $0["owner"] as? String })
        #expect(owners.isSubset(of: ["bob"]), "bob's list shows \(owners)")
        let queue = try await Platform.request("GET", "/api/v1/queue", headers: Self.as(bob))
        if queue.status == 200 {
            let shown = Set(((queue.json["owners"] as? [String: Any]) ?? [:]).keys)
            #expect(shown.isSubset(of: ["bob"]), "bob's queue summary shows the owners \(shown)")
        }
        let mine = try await Platform.request("GET", "/api/v1/jobs?limit=500", headers: Self.as(alice))
        #expect(((mine.json["jobs"] as? [[String: Any]]) ?? []).contains { ($0["jobId"] as? String)?.lowercased() == job })
    }

    @Test("a job's owner is who submits it; an admin may name another; an operator sees and cancels every job but re-runs only their own")
    func ownersAndRoles() async throws {
        let alice = try await Self.token(for: "alice")
        let operatorToken = try await Self.token(for: "olga", role: "operator")
        let noop = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        let body = #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"},"parameters":{"sleep":30}}}"#
        let mine = try await Platform.request("POST", "/api/v1/jobs", body: Data(body.utf8), headers: Self.as(alice))
        try #require(mine.status == 201, "\(mine.text)")
        let job = try #require(mine.json["jobId"] as? String)
        #expect(mine.json["owner"] as? String == "alice")
        let named = try await Platform.request(
            "POST", "/api/v1/jobs", body: Data(#"{"jobType":"RUN_MODEL","owner":"alice","runModel":{"model":{"objectId":"\#(noop)"}}}"#.utf8),
            headers: Self.as(alice))
        #expect(named.status == 201, "naming oneself is allowed")
        let forService = try await Platform.request(
            "POST", "/api/v1/jobs", body: Data(#"{"jobType":"RUN_MODEL","owner":"nightly-service","runModel":{"model":{"objectId":"\#(noop)"}}}"#.utf8))
        #expect(forService.status == 201 && forService.json["owner"] as? String == "nightly-service", "an admin names another owner")
        let seen = try await Platform.request("GET", "/api/v1/jobs/\(job)", headers: Self.as(operatorToken))
        #expect(seen.status == 200, "an operator sees every job")
        let listed = try await Platform.request("GET", "/api/v1/jobs?owner=alice&limit=500", headers: Self.as(operatorToken))
        #expect(((listed.json["jobs"] as? [[String: Any]]) ?? []).contains { ($0["jobId"] as? String)?.lowercased() == job.lowercased() })
        let rerun = try await Platform.request("POST", "/api/v1/jobs/\(job)/rerun", headers: Self.as(operatorToken))
        #expect(rerun.status == 403, "an operator does not re-run another's job: \(rerun.status)")
        let cancelled = try await Platform.request("POST", "/api/v1/jobs/\(job)/cancel", headers: Self.as(operatorToken))
        #expect(cancelled.status == 200, "an operator cancels every job: \(cancelled.text.prefix(300))")
        let tokens = try await Platform.request("GET", "/api/v1/tokens", headers: Self.as(operatorToken))
        #expect(tokens.status == 403, "tokens are for admins")
        let me = try await Platform.request("GET", "/api/v1/me", headers: Self.as(operatorToken))
        #expect(me.json["name"] as? String == "olga" && me.json["role"] as? String == "operator")
    }

    @Test("a revoked token is refused; tokens are listed without their secrets; bad token requests name each problem")
    func tokensAreRevokedAndNeverShown() async throws {
        let issued = try await Platform.request(
            "POST", "/api/v1/tokens", body: Data(#"{"principal":"dana","label":"dana's laptop","expiresInDays":7,"teams":["research"]}"#.utf8))
        try #require(issued.status == 201)
        let secret = try #require(issued.json["token"] as? String)
        let record = try #require(issued.json["record"] as? [String: Any])
        let tokenId = try #require(record["tokenId"] as? String)
        #expect(issued.headers["location"] == "/api/v1/tokens/\(tokenId.lowercased())")
        #expect(issued.headers["cache-control"] == "no-store")
        #expect(try await Platform.request("GET", "/api/v1/me", headers: Self.as(secret)).json["teams"] as? [String] == ["research"])
        let list = try await Platform.request("GET", "/api/v1/tokens?principal=dana")
        #expect(list.status == 200 && !list.text.contains(secret) && list.text.contains("dana's laptop"))
        let revoked = try await Platform.request("DELETE", "/api/v1/tokens/\(tokenId)")
        #expect(revoked.status == 200 && revoked.json["revokedAt"] != nil)
        // make test sets auth.cacheSeconds to 1.
        try await Task.sleep(for: .milliseconds(1500))
        #expect(try await Platform.request("GET", "/api/v1/me", headers: Self.as(secret)).status == 401)
        #expect(try await Platform.request("DELETE", "/api/v1/tokens/\(UUID())").status == 404)
        let bad = try await Platform.request(
            "POST", "/api/v1/tokens", body: Data(#"{"principal":"","role":"root","expiresInDays":0,"colour":"red"}"#.utf8))
        #expect(bad.status == 422)
        let fields = Set(((bad.json["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String })
        #expect(fields.isSuperset(of: ["role", "colour"]), "problems named: \(fields)")
        let invalid = try await Platform.request("POST", "/api/v1/tokens", body: Data(#"{"principal":"","expiresInDays":0}"#.utf8))
        let invalidFields = Set(((invalid.json["errors"] as? [[String: Any]]) ?? []).compactMap { $0["field"] as? String })
        #expect(invalid.status == 422 && invalidFields == ["principal", "expiresInDays"], "\(invalid.text)")
    }

    @Test("a token over its rate gets 429 with Retry-After")
    func rateLimit() async throws {
        let slow = try await Self.token(for: "erin", extra: #","requestsPerSecond":1"#)
        var statuses: [Int] = []
        var retryAfter: String?
        for _ in 0..<5 {
            let result = try await Platform.request("GET", "/api/v1/me", headers: Self.as(slow))
            statuses.append(result.status)
            if result.status == 429 { retryAfter = result.headers["retry-after"] }
        }
        #expect(statuses.prefix(2) == [200, 200] && statuses.contains(429), "statuses: \(statuses)")
        #expect(retryAfter.flatMap(Int.init).map { $0 >= 1 } == true)
        try await Task.sleep(for: .seconds(2))
        #expect(try await Platform.request("GET", "/api/v1/me", headers: Self.as(slow)).status == 200, "the bucket refills")
    }

    @Test("CORS: a configured origin gets its preflight and may read answers, errors included; another origin does not")
    func cors() async throws {
        let origin = "https://app.example.test"
        let preflight = try await Platform.request(
            "OPTIONS", "/api/v1/jobs",
            headers: ["Authorization": "", "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"])
        #expect(preflight.status == 204)
        #expect(preflight.headers["access-control-allow-origin"] == origin)
        #expect(preflight.headers["access-control-allow-credentials"] == "true")
        #expect(preflight.headers["access-control-allow-headers"]?.contains("Authorization") == true)
        #expect(preflight.headers["access-control-allow-methods"]?.contains("POST") == true)
        let other = try await Platform.request(
            "OPTIONS", "/api/v1/jobs", headers: ["Authorization": "", "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"])
        #expect(other.status == 403 && other.headers["access-control-allow-origin"] == nil)
        let read = try await Platform.request("GET", "/api/v1/me", headers: ["Origin": origin])
        #expect(read.status == 200 && read.headers["access-control-allow-origin"] == origin)
        #expect(read.headers["access-control-expose-headers"]?.contains("Location") == true)
        let refused = try await Platform.request("GET", "/api/v1/me", headers: ["Origin": origin, "Authorization": ""])
        #expect(refused.status == 401 && refused.headers["access-control-allow-origin"] == origin, "a browser can read the 401")
        let elsewhere = try await Platform.request("GET", "/api/v1/me", headers: ["Origin": "https://evil.example"])
        #expect(elsewhere.headers["access-control-allow-origin"] == nil)
    }

    struct TestClaims: JWTPayload {
        var sub: SubjectClaim
        var iss: IssuerClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var role: String?
        var teams: [String]?
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    @Test("a JWT of a trusted issuer, signed by a key of its JWKS, is an identity; other issuers, audiences, keys and expired ones are not")
    func jwtBearerTokens() async throws {
        let key = ES256PrivateKey()
        let other = ES256PrivateKey()
        func base64url(_ text: String) -> String {
            text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        let parameters = try #require(key.parameters)
        let jwks = #"{"keys":[{"kty":"EC","crv":"P-256","kid":"test-key","alg":"ES256","use":"sig","x":"\#(base64url(parameters.x))","y":"\#(base64url(parameters.y))"}]}"#
        let file = Platform.repositoryRoot.appendingPathComponent(".conveyor/test-jwks.json")
        try Data(jwks.utf8).write(to: file)
        await Platform.restart(
            "api-gateway",
            with: ["AUTH_JWT_ISSUERS": "https://idp.example.test", "AUTH_JWT_AUDIENCE": "conveyor", "AUTH_JWT_JWKS_FILE": file.path])
        func sign(_ claims: TestClaims, with signer: ES256PrivateKey = key) async throws -> String {
            let keys = JWTKeyCollection()
            await keys.add(ecdsa: signer, kid: "test-key")
            return try await keys.sign(claims, kid: "test-key")
        }
        let hour = Date().addingTimeInterval(3600)
        let good = TestClaims(sub: "carol", iss: "https://idp.example.test", aud: "conveyor", exp: .init(value: hour), role: "operator", teams: ["research"])
        let me = try await Platform.request("GET", "/api/v1/me", headers: Self.as(try await sign(good)))
        #expect(me.status == 200, "\(me.text)")
        #expect(me.json["name"] as? String == "carol" && me.json["role"] as? String == "operator" && me.json["method"] as? String == "jwt")
        var wrongIssuer = good
        wrongIssuer.iss = "https://other.example.test"
        var wrongAudience = good
        wrongAudience.aud = "someone-else"
        var expired = good
        expired.exp = .init(value: Date().addingTimeInterval(-60))
        var badRole = good
        badRole.role = "root"
        for (name, token) in [
            ("issuer", try await sign(wrongIssuer)), ("audience", try await sign(wrongAudience)), ("expired", try await sign(expired)),
            ("role", try await sign(badRole)), ("key", try await sign(good, with: other)),
        ] {
            let result = try await Platform.request("GET", "/api/v1/me", headers: Self.as(token))
            #expect(result.status == 401, "a JWT with the wrong \(name) answered \(result.status)")
        }
        // The JWT's subject owns what it submits.
        let validate = try await Platform.request(
            "POST", "/api/v1/jobs/validate", body: Data(#"{"jobType":"RUN_MODEL","owner":"alice","runModel":{"model":{"objectId":"\#(UUID())"}}}"#.utf8),
            headers: Self.as(try await sign(good)))
        #expect(validate.status == 403)
        await Platform.restart("api-gateway", with: [:])
    }
}
