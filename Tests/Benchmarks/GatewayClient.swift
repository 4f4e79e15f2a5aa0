import Foundation
import TestSupport

/// The benchmark's HTTP client: ``GatewayHTTP`` with as many keep-alive connections to the gateway
/// as requests in flight, paths relative to the gateway's address.
struct GatewayClient: Sendable {
    let base: String
    let http: GatewayHTTP
    /// The local admin's token (see ``LocalAdminToken``).
    static let token = LocalAdminToken.read()

    init(base: String, connections: Int) {
        self.base = base
        http = GatewayHTTP(connections: connections, token: Self.token)
    }

    /// The status and body of a request.
    func send(_ method: GatewayHTTP.Method, _ path: String, json: Data? = nil) async throws -> (status: Int, body: Data) {
        try await http.send(method, base + path, json: json)
    }

    func shutdown() async {
        http.shutdown()
    }
}
