import ConveyorModels
import Hummingbird
import NIOCore

/// The context of every gateway request: who makes it (set by ``AuthMiddleware``) and from where.
struct GatewayContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The authenticated caller; nil only on the public routes (health, the OpenAPI document).
    var principal: Principal?
    /// The client's address, for the log and the audit.
    let remoteAddress: String?
    /// The request's id (`X-Request-Id`, see ``RequestIdMiddleware``).
    var requestId = ""

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.principal = nil
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// The caller, on a route that requires one (``AuthMiddleware`` has answered 401 otherwise).
    func caller() throws -> Principal {
        guard let principal else { throw Problem(.unauthorized, "this request needs an identity: send Authorization: Bearer <token>") }
        return principal
    }
}
