import Foundation

/// How to reach RabbitMQ and how a connection behaves.
public struct AMQPConfiguration: Sendable {
    /// `amqp://user:password@host:port/vhost`, or several separated by commas: the nodes of a
    /// cluster, tried in turn (a connection that fails or is lost goes on to the next). The
    /// password is never logged.
    public var url: String
    /// Heartbeat interval negotiated with the broker, in seconds (0 turns heartbeats off).
    public var heartbeatSeconds: Int
    /// Confirmed publishes allowed in flight before `publish` waits.
    public var maxUnconfirmed: Int
    /// First and longest wait between reconnect attempts.
    public var reconnectDelay: (initial: Duration, maximum: Duration)
    /// `classic` for one node, `quorum` for a cluster (replicated durable queues).
    public var queueType: String

    public init(
        url: String, heartbeatSeconds: Int = 30, maxUnconfirmed: Int = 1000,
        reconnectDelay: (initial: Duration, maximum: Duration) = (.milliseconds(100), .seconds(5)),
        queueType: String = "classic"
    ) {
        self.url = url
        self.heartbeatSeconds = heartbeatSeconds
        self.maxUnconfirmed = maxUnconfirmed
        self.reconnectDelay = reconnectDelay
        self.queueType = queueType
    }
}

/// The parts of an AMQP URL.
struct AMQPEndpoint: Sendable, CustomStringConvertible {
    /// The endpoints of a comma-separated list of URLs (at least one).
    static func list(_ urls: String) throws -> [AMQPEndpoint] {
        let parts = urls.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !parts.isEmpty else { throw AMQPError(.invalidConfiguration, "no AMQP URL given") }
        return try parts.map { try AMQPEndpoint(url: $0) }
    }

    var host: String
    var port: Int
    var user: String
    var password: String
    var vhost: String

    /// Parses `amqp://user:password@host:port/vhost` (percent-encoded parts allowed).
    init(url: String) throws {
        guard url.hasPrefix("amqp://") else {
            throw AMQPError(.invalidConfiguration, "AMQP URL must start with amqp:// (got scheme of '\(url.prefix(while: { $0 != ":" }))')")
        }
        var rest = Substring(url.dropFirst("amqp://".count))
        var userInfo: Substring = ""
        if let at = rest.lastIndex(of: "@") {
            userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
        }
        let hostPort: Substring
        var vhostPart: Substring? = nil
        if let slash = rest.firstIndex(of: "/") {
            hostPort = rest[..<slash]
            vhostPart = rest[rest.index(after: slash)...]
        } else {
            hostPort = rest
        }
        if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            guard let parsed = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(parsed) else {
                throw AMQPError(.invalidConfiguration, "AMQP URL has an invalid port")
            }
            port = parsed
        } else {
            host = String(hostPort)
            port = 5672
        }
        if host.isEmpty { host = "localhost" }
        if userInfo.isEmpty {
            user = "guest"
            password = "guest"
        } else if let colon = userInfo.firstIndex(of: ":") {
            user = String(userInfo[..<colon]).removingPercentEncoding ?? String(userInfo[..<colon])
            let secret = userInfo[userInfo.index(after: colon)...]
            password = String(secret).removingPercentEncoding ?? String(secret)
        } else {
            user = String(userInfo).removingPercentEncoding ?? String(userInfo)
            password = ""
        }
        if let vhostPart, !vhostPart.isEmpty {
            vhost = String(vhostPart).removingPercentEncoding ?? String(vhostPart)
        } else {
            vhost = "/"
        }
    }

    /// The URL without the password, for logs and errors.
    var description: String { "amqp://\(user)@\(host):\(port)/\(vhost == "/" ? "" : vhost)" }
}

extension String {
    fileprivate var removingPercentEncoding: String? {
        var bytes: [UInt8] = []
        var iterator = utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                    let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
