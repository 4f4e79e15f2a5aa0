import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A resilient connection to RabbitMQ: publishes with publisher confirms, consumes with manual acks,
/// and reconnects on its own after the broker goes away, declaring its topology again and resuming
/// every consumer.
///
/// All librabbitmq calls run on the connection's own thread. Run it as a `Service` (it closes on
/// graceful shutdown) or call ``close()`` yourself.
public final class AMQPConnection: Service, Sendable {
    let session: AMQPSession

    /// Opens a connection in the background; operations wait until it is up.
    /// - Parameters:
    ///   - name: shown in logs and the thread name.
    ///   - configuration: reads `url`, `heartbeatSeconds`, `maxUnconfirmed`, `reconnectDelay`, `queueType`.
    ///   - topology: declared on every (re)connect before consumers start.
    ///   - confirms: put the channel in publisher-confirm mode; `publish` then returns once the broker
    ///     has taken responsibility for the message.
    /// - Throws: ``AMQPError`` when the URL is malformed.
    public init(
        name: String, configuration: AMQPConfiguration, topology: AMQPTopology = AMQPTopology(), confirms: Bool = true,
        logger: Logger
    ) throws {
        session = try AMQPSession(
            name: name, configuration: configuration, topology: topology, confirms: confirms, logger: logger)
        session.start()
    }

    /// Waits for graceful shutdown, then closes the connection after in-flight publishes settle.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// Whether the connection is up now.
    public var isConnected: Bool { session.isConnected }

    /// Suspends until the connection is up.
    /// - Throws: ``AMQPError`` with code `closed` when the connection was closed.
    public func waitUntilConnected() async throws {
        try await session.waitUntilConnected()
    }

    /// Publishes a message. With confirms, returns once the broker confirmed it; many publishes may
    /// be in flight at once (pipelined, bounded by `maxUnconfirmed`).
    /// - Throws: ``AMQPError``: `connectionLost` (outcome unknown: publish again), `publishNacked`, `closed`.
    public func publish(_ message: OutgoingMessage) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            session.submit(.publish(message) { continuation.resume(with: $0) })
        }
    }

    /// Publishes a message without waiting: it is queued now (messages go out in the order of these
    /// calls) and `completion` runs once the broker confirmed it (at once without confirms), or with
    /// the failure: `connectionLost` (outcome unknown: publish again), `publishNacked`, `closed`.
    public func publish(_ message: OutgoingMessage, completion: @escaping @Sendable (Result<Void, AMQPError>) -> Void) {
        session.submit(.publish(message, completion))
    }

    /// Publishes many messages, in this order, pipelined, and returns once all are confirmed.
    /// - Throws: the first failure; messages before it may or may not have been taken.
    public func publish(_ messages: [OutgoingMessage]) async throws {
        guard !messages.isEmpty else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let batch = PublishBatch(count: messages.count, continuation: continuation)
            for message in messages {
                session.submit(.publish(message) { batch.settle($0) })
            }
        }
    }

    /// Starts consuming `queue`. Deliveries must be acked (``ack(_:)``) unless `noAck` is set.
    /// The stream survives reconnects; it ends when the connection closes or the consumer is cancelled.
    public func consume(queue: String, prefetch: Int = 100, noAck: Bool = false) -> AMQPConsumer {
        let tag = "\(session.name)-\(queue)-\(UUID().uuidString.prefix(8))"
        let (stream, continuation) = AsyncStream.makeStream(of: AMQPDelivery.self)
        session.addConsumer(
            .init(tag: tag, queue: queue, prefetch: prefetch, noAck: noAck, continuation: continuation))
        return AMQPConsumer(tag: tag, stream: stream, session: session)
    }

    /// Acknowledges a delivery: the broker forgets it. An ack for a delivery from before a reconnect
    /// is dropped (the broker has already requeued that message).
    /// How many messages `queue` holds now (ready ones; a passive declare: the queue must exist).
    /// - Throws: ``AMQPError`` when the queue does not exist or the connection is closed.
    public func messageCount(queue: String) async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            session.submit(.messageCount(queue: queue) { result in continuation.resume(with: result) })
        }
    }

    public func ack(_ delivery: AMQPDelivery) {
        session.submit(.ack(tag: delivery.deliveryTag, generation: delivery.generation))
    }

    /// Rejects a delivery: requeued, or dead-lettered when `requeue` is false.
    public func nack(_ delivery: AMQPDelivery, requeue: Bool) {
        session.submit(.nack(tag: delivery.deliveryTag, generation: delivery.generation, requeue: requeue))
    }

    /// Closes the connection after in-flight publishes settle; later operations fail with `closed`.
    public func close() async {
        await session.stop()
    }
}

/// The deliveries of one consumer.
public struct AMQPConsumer: AsyncSequence, Sendable {
    public typealias Element = AMQPDelivery
    public let tag: String
    let stream: AsyncStream<AMQPDelivery>
    let session: AMQPSession

    public func makeAsyncIterator() -> AsyncStream<AMQPDelivery>.AsyncIterator {
        stream.makeAsyncIterator()
    }

    /// Stops the consumer; unacked deliveries go back to the queue.
    public func cancel() {
        session.cancelConsumer(tag)
    }
}

/// Resumes one continuation when every publish of a batch settled (with the first failure, if any).
final class PublishBatch: Sendable {
    private let state: Mutex<(remaining: Int, failure: AMQPError?, continuation: CheckedContinuation<Void, any Error>?)>

    init(count: Int, continuation: CheckedContinuation<Void, any Error>) {
        state = Mutex((count, nil, continuation))
    }

    func settle(_ result: Result<Void, AMQPError>) {
        let finished = state.withLock { state -> (CheckedContinuation<Void, any Error>, AMQPError?)? in
            if case .failure(let error) = result, state.failure == nil { state.failure = error }
            state.remaining -= 1
            guard state.remaining == 0, let continuation = state.continuation else { return nil }
            state.continuation = nil
            return (continuation, state.failure)
        }
        guard let (continuation, failure) = finished else { return }
        if let failure { continuation.resume(throwing: failure) } else { continuation.resume() }
    }
}
