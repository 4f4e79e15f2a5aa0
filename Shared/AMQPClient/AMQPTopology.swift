/// Exchanges, queues and bindings a connection declares every time it (re)connects.
public struct AMQPTopology: Sendable {
    public struct Exchange: Sendable {
        public var name: String
        /// `direct`, `topic` or `fanout`.
        public var type: String
        public init(name: String, type: String) {
            self.name = name
            self.type = type
        }
    }

    public struct Queue: Sendable {
        public var name: String
        public var durable: Bool
        /// Dead-letter rejected messages to `<deadLetterExchange>` with the queue's name as routing key,
        /// into a queue named `<name>.dlq`.
        public var deadLetterExchange: String?
        /// Delete the queue when no consumer used it for this long (worker queues).
        public var expiresMilliseconds: Int?
        public var bindings: [(exchange: String, routingKey: String)]
        /// Bindings of an earlier version, removed on every declaration (removing one that is not
        /// there changes nothing).
        public var retiredBindings: [(exchange: String, routingKey: String)]
        /// Owned by this connection alone and deleted with it; a second connection that declares it
        /// is refused until then (a lock the broker releases when its holder goes away).
        public var exclusive: Bool

        /// The queue that receives this queue's rejected messages: `<name>.dlq`.
        public var deadLetterQueueName: String { "\(name).dlq" }

        public init(
            name: String, durable: Bool = true, deadLetterExchange: String? = nil, expiresMilliseconds: Int? = nil,
            bindings: [(exchange: String, routingKey: String)] = [],
            retiredBindings: [(exchange: String, routingKey: String)] = [], exclusive: Bool = false
        ) {
            self.name = name
            self.exclusive = exclusive
            self.durable = durable
            self.deadLetterExchange = deadLetterExchange
            self.expiresMilliseconds = expiresMilliseconds
            self.bindings = bindings
            self.retiredBindings = retiredBindings
        }
    }

    public var exchanges: [Exchange]
    public var queues: [Queue]

    public init(exchanges: [Exchange] = [], queues: [Queue] = []) {
        self.exchanges = exchanges
        self.queues = queues
    }

    /// Both topologies, declared in order.
    public func merged(with other: AMQPTopology) -> AMQPTopology {
        AMQPTopology(exchanges: exchanges + other.exchanges, queues: queues + other.queues)
    }
}
