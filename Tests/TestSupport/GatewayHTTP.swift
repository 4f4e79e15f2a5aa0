import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The chaos suite's HTTP client for the gateway: Foundation's `URLSession` with keep-alive
/// connections, as many per host as requests in flight, and a bearer token on every request. (The
/// benchmark has a cheaper client of its own, whose CPU counts in what it measures; it shares
/// ``Method``.)
public struct GatewayHTTP: Sendable {
    public enum Method: String, Sendable { case GET, POST, PUT, DELETE }

    private let session: URLSession
    private let token: String
    private let timeout: TimeInterval

    /// - Parameters:
    ///   - connections: the most connections kept open to one gateway (URLSession's default is six).
    ///   - token: the bearer token (the local admin's, see ``LocalAdminToken``).
    public init(connections: Int, token: String, timeout: TimeInterval = 60) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = max(6, connections)
        configuration.timeoutIntervalForRequest = timeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
        self.token = token
        self.timeout = timeout
    }

    /// The status and body of one request to `url`.
    /// - Throws: when the gateway cannot be reached or does not answer in time.
    public func send(_ method: Method, _ url: String, json: Data? = nil) async throws -> (status: Int, body: Data) {
        guard let address = URL(string: url) else { throw URLError(.badURL) }
        var request = URLRequest(url: address, timeoutInterval: timeout)
        request.httpMethod = method.rawValue
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = json
        }
        let (body, response) = try await session.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, body)
    }

    public func shutdown() {
        session.finishTasksAndInvalidate()
    }
}
