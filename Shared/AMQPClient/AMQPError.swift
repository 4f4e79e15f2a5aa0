/// An AMQP failure: what kind, and a message that names the cause (never the password).
public struct AMQPError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public static let invalidConfiguration = Code(name: "invalidConfiguration")
        /// The TCP connection or login failed.
        public static let connectionFailed = Code(name: "connectionFailed")
        /// The connection dropped while the operation was in flight: its outcome is unknown, retry it.
        public static let connectionLost = Code(name: "connectionLost")
        /// The broker refused the operation (channel or connection closed with a reply code).
        public static let brokerRefused = Code(name: "brokerRefused")
        /// The broker nacked a publish.
        public static let publishNacked = Code(name: "publishNacked")
        /// No reply arrived in time.
        public static let timeout = Code(name: "timeout")
        /// The connection was closed by its owner.
        public static let closed = Code(name: "closed")
        public var description: String { name }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "AMQP \(code): \(message)" }
}
