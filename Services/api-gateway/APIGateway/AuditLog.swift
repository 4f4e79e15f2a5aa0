import ConveyorModels
import Foundation
import Hummingbird
import Logging
import Messaging
import ServiceKit
import ServiceLifecycle
import Synchronization

/// The entries of the audit trail this gateway made, sent to metadata (`metadata.audit.record`)
/// together every 200 ms, after the answers went out (a change never waits for its audit entry).
/// What metadata did not take is sent again; at most 100,000 wait (the oldest are dropped then,
/// with an error in the log), and what waits when the gateway is killed is lost.
final class AuditLog: Service, Sendable {
    private let metadata: MetadataClient
    private let logger: Logger
    private let pending = Mutex<[AuditEntry]>([])
    static let maxPending = 100_000

    init(metadata: MetadataClient, logger: Logger) {
        self.metadata = metadata
        self.logger = logger
    }

    func record(_ entry: AuditEntry) {
        let dropped = pending.withLock { pending -> Int in
            pending.append(entry)
            let excess = pending.count - Self.maxPending
            if excess > 0 { pending.removeFirst(excess) }
            return max(0, excess)
        }
        if dropped > 0 { logger.error("audit entries dropped: metadata has not taken them", metadata: ["dropped": "\(dropped)"]) }
    }

    func run() async throws {
        var backoff = Duration.milliseconds(200)
        while true {
            let stopping = (try? await Task.sleep(for: backoff)) == nil || Task.isShuttingDownGracefully
            let batch = pending.withLock { pending in Array(pending.prefix(1000)) }
            if !batch.isEmpty {
                do {
                    _ = try await metadata.call(RecordAudit(entries: batch), timeout: .seconds(10))
                    pending.withLock { pending in pending.removeFirst(min(batch.count, pending.count)) }
                    backoff = .milliseconds(200)
                } catch {
                    logger.warning("audit entries not recorded yet; trying again", metadata: ["entries": "\(batch.count)", "error": "\(error)"])
                    backoff = min(backoff * 2, .seconds(10))
                }
            }
            if stopping { return }
        }
    }
}

/// Records every request that changes something (and every such request refused) in the
/// ``AuditLog``: who (the caller), when, from where, what, on what and how it ended.
struct AuditMiddleware: RouterMiddleware {
    typealias Context = GatewayContext
    let log: AuditLog

    /// The action a request is, or nil for one that changes nothing (reads, dry runs, validation, search).
    static func action(method: HTTPRequest.Method, path: String, query: String?) -> (action: String, target: String?)? {
        guard [.post, .put, .delete].contains(method), path.hasPrefix("/api/v1/") else { return nil }
        if query?.contains("dryRun=true") == true || query?.contains("dryRun=1") == true { return nil }
        let parts = path.dropFirst("/api/v1/".count).split(separator: "/").map(String.init)
        switch (method, parts.count, parts.first ?? "", parts.last ?? "") {
        case (.post, 1, "jobs", _): return ("job.submit", nil)
        case (.post, 3, "jobs", "cancel"): return ("job.cancel", parts[1])
        case (.post, 3, "jobs", "rerun"): return ("job.rerun", parts[1])
        case (.post, 3, "jobs", "rerun-chain"): return ("job.rerunChain", parts[1])
        case (.post, 1, "objects", _): return ("object.create", nil)
        case (.post, 3, "objects", "versions"): return ("object.version", parts[1])
        case (.post, 3, "objects", "tags"): return ("object.tag", parts[1])
        case (.put, 3, "objects", "sharing"): return ("object.share", parts[1])
        case (.post, 3, "objects", "rerun-downstream"): return ("object.rerunDownstream", parts[1])
        case (.post, 1, "files", _): return ("file.upload", nil)
        case (.post, 1, "data", _): return ("data.upload", nil)
        case (.post, 1, "tokens", _): return ("token.issue", nil)
        case (.delete, 2, "tokens", _): return ("token.revoke", parts[1])
        case (.put, 2, "me", "notification"), (.delete, 2, "me", "notification"): return ("notification.default", nil)
        default: return nil
        }
    }

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response) async throws -> Response {
        guard let caller = context.principal,
            let (action, target) = Self.action(method: request.method, path: request.uri.path, query: request.uri.query)
        else { return try await next(request, context) }
        func entry(status: Int, created: String?) -> AuditEntry {
            AuditEntry(
                at: Date(), principal: caller.name, role: caller.role, action: action, method: request.method.rawValue, path: request.uri.path,
                target: (target ?? created)?.lowercased(), status: status, remoteAddress: context.remoteAddress, requestId: context.requestId)
        }
        do {
            let response = try await next(request, context)
            // A creation names what it made in its Location (`/api/v1/<kind>/<id>...`).
            let created = response.headers[.location].flatMap { location -> String? in
                let parts = location.split(separator: "?")[0].split(separator: "/")
                return parts.count >= 4 ? String(parts[3]) : nil
            }
            log.record(entry(status: Int(response.status.code), created: created))
            return response
        } catch {
            log.record(entry(status: Int(Problem.from(error).status.code), created: nil))
            throw error
        }
    }
}
