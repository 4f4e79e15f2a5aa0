import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Request/reply over RabbitMQ's direct reply-to: requests go to a queue, replies come back on the
/// pseudo-queue `amq.rabbitmq.reply-to` of this connection, matched by correlation id.
public final class AMQPRPCClient: Service, Sendable {
    private let connection: AMQPConnection
    private enum Slot {
        case waiting(CheckedContinuation<AMQPDelivery, any Error>?)
        case replied(AMQPDelivery)
        /// The request could not be published.
        case failed(AMQPError)
    }
    private let pending = Mutex<[String: Slot]>([:])
    private let logger: Logger

    /// - Parameter configuration: the broker to use; the client opens its own connection.
    public init(name: String, configuration: AMQPConfiguration, logger: Logger) throws {
        connection = try AMQPConnection(name: name, configuration: configuration, confirms: false, logger: logger)
        self.logger = logger
    }

    /// Routes replies until shutdown.
    public func run() async throws {
        let replies = connection.consume(queue: "amq.rabbitmq.reply-to", noAck: true)
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await reply in replies.cancelOnGracefulShutdown() {
                    guard let id = reply.correlationId else { continue }
                    let continuation: CheckedContinuation<AMQPDelivery, any Error>?? = self.pending.withLock { state in
                        switch state[id] {
                        case .waiting(let continuation?):
                            state[id] = nil
                            return .some(continuation)
                        case .waiting(nil):
                            state[id] = .replied(reply)
                            return .some(nil)
                        default:
                            return nil
                        }
                    }
                    switch continuation {
                    case .some(let waiting?): waiting.resume(returning: reply)
                    case .some(nil): break
                    case nil: self.logger.debug("late RPC reply dropped", metadata: ["correlationId": "\(id)"])
                    }
                }
            }
        }
        await connection.close()
        let waiting = pending.withLock { state in
            defer { state = [:] }
            return state
        }
        for case .waiting(let continuation?) in waiting.values {
            continuation.resume(throwing: AMQPError(.closed, "RPC client closed"))
        }
    }

    /// Suspends until the connection is up.
    public func waitUntilConnected() async throws {
        try await connection.waitUntilConnected()
    }

    public var isConnected: Bool { connection.isConnected }

    /// Sends `body` to `queue` and waits for the reply.
    /// - Throws: ``AMQPError`` with code `timeout` when no reply came within `timeout`.
    public func call(
        queue: String, body: Data, type: String, contentType: String = "application/json", timeout: Duration
    ) async throws -> AMQPDelivery {
        let correlationId = UUID().uuidString
        let message = OutgoingMessage(
            exchange: "", routingKey: queue, body: body, persistent: false, contentType: contentType, correlationId: correlationId,
            replyTo: "amq.rabbitmq.reply-to", type: type,
            expirationMilliseconds: max(1, Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)))
        pending.withLock { $0[correlationId] = .waiting(nil) }
        defer { _ = pending.withLock { $0.removeValue(forKey: correlationId) } }
        // Not awaited: the reply is. A publish that fails ends the wait with its error.
        connection.publish(message) { [self] result in
            guard case .failure(let error) = result else { return }
            let waiting = self.pending.withLock { state -> CheckedContinuation<AMQPDelivery, any Error>? in
                guard case .waiting(let continuation) = state[correlationId] else { return nil }
                state[correlationId] = continuation == nil ? .failed(error) : nil
                return continuation
            }
            waiting?.resume(throwing: error)
        }
        return try await withThrowingTaskGroup(of: AMQPDelivery.self) { group in
            group.addTask {
                try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { continuation in
                        let ready: Result<AMQPDelivery, any Error>? = self.pending.withLock { state in
                            switch state[correlationId] {
                            case .replied(let reply):
                                state[correlationId] = nil
                                return .success(reply)
                            case .failed(let error):
                                state[correlationId] = nil
                                return .failure(error)
                            case .waiting:
                                state[correlationId] = .waiting(continuation)
                                return nil
                            case nil:
                                return .failure(CancellationError())
                            }
                        }
                        if let ready { continuation.resume(with: ready) }
                    }
                } onCancel: {
                    let slot = self.pending.withLock { $0.removeValue(forKey: correlationId) }
                    if case .waiting(let continuation?) = slot { continuation.resume(throwing: CancellationError()) }
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw AMQPError(.timeout, "no reply from \(queue) within \(timeout)")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }
}
