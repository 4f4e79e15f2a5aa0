import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TestSupport

/// The benchmark's HTTP client: AsyncHTTPClient with a pool of keep-alive connections to the gateway,
/// as many as requests in flight (URLSession on Linux would keep at most six).
struct GatewayClient: Sendable {
    let base: String
    let client: HTTPClient
    /// The local admin's token (see ``LocalAdminToken``).
    static let token = LocalAdminToken.read()

    init(base: String, connections: Int) {
        self.base = base
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, connections))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// The status and body of a request.
    func send(_ method: HTTPMethod, _ path: String, json: Data? = nil) async throws -> (status: Int, body: Data) {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(Self.token)")
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: json))
        }
        let response = try await client.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), Data(body.readableBytesView))
    }

    func shutdown() async {
        try? await client.shutdown()
    }
}
