import Foundation

/// A message to publish.
public struct OutgoingMessage: Sendable {
    public var exchange: String
    public var routingKey: String
    public var body: Data
    /// Survives a broker restart (delivery mode 2) when published to a durable queue.
    public var persistent: Bool
    public var contentType: String
    public var messageId: String?
    public var correlationId: String?
    public var replyTo: String?
    public var type: String?
    /// Per-message time to live, in milliseconds.
    public var expirationMilliseconds: Int?

    public init(
        exchange: String, routingKey: String, body: Data, persistent: Bool = true,
        contentType: String = "application/json", messageId: String? = nil, correlationId: String? = nil,
        replyTo: String? = nil, type: String? = nil, expirationMilliseconds: Int? = nil
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.persistent = persistent
        self.contentType = contentType
        self.messageId = messageId
        self.correlationId = correlationId
        self.replyTo = replyTo
        self.type = type
        self.expirationMilliseconds = expirationMilliseconds
    }
}

/// A message delivered to a consumer. Acknowledge it through the connection that delivered it.
public struct AMQPDelivery: Sendable {
    public var body: Data
    public var exchange: String
    public var routingKey: String
    public var redelivered: Bool
    public var messageId: String?
    public var correlationId: String?
    public var replyTo: String?
    public var type: String?
    public var contentType: String?
    /// The broker's tag, valid only on the connection generation that delivered it.
    public var deliveryTag: UInt64
    let generation: UInt64
}
