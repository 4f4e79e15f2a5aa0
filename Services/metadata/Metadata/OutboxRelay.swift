import AMQPClient
import ConveyorModels
import Foundation
import Logging
import PostgresClient
import ServiceLifecycle

/// Publishes the events that transactions wrote to the `outbox` table, in order, with publisher
/// confirms, and deletes them only once the broker confirmed them: a crash anywhere between commit
/// and publish loses nothing (an event may be published twice; consumers de-duplicate).
///
/// Woken right after each commit that wrote events, and every second as a safety net.
final class OutboxRelay: Service, Sendable {
    private let pool: PostgresPool
    private let publisher: AMQPConnection
    private let logger: Logger
    private let signals: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation
    static let batchSize = 500

    init(pool: PostgresPool, publisher: AMQPConnection, logger: Logger) {
        self.pool = pool
        self.publisher = publisher
        self.logger = logger
        (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks the relay to look at the outbox now.
    func notify() {
        signal.yield()
    }

    func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask {
                while (try? await Task.sleep(for: .seconds(1))) != nil { self.signal.yield() }
            }
            for await _ in signals.cancelOnGracefulShutdown() {
                await drain()
            }
            group.cancelAll()
        }
    }

    private func drain() async {
        var delay = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                let published = try await relayBatch()
                if published < Self.batchSize { return }
                delay = .milliseconds(100)
            } catch {
                logger.warning("outbox relay failed, retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// Publishes one batch of outbox rows and deletes them; returns how many.
    private func relayBatch() async throws -> Int {
        // While the broker is away, wait here rather than inside a transaction holding row locks.
        try await publisher.waitUntilConnected()
        return try await pool.withTransaction { connection in
            let rows = try await connection.query(
                """
                SELECT id, routing_key, message_type, message_id, body FROM outbox
                ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
                """, [Self.batchSize])
            guard !rows.isEmpty else { return 0 }
            let messages = try rows.map { row in
                OutgoingMessage(
                    exchange: Topology.eventsExchange, routingKey: try row.string("routing_key"), body: try row.data("body"),
                    messageId: try row.string("message_id"), type: try row.string("message_type"))
            }
            try await publisher.publish(messages)
            let ids = try rows.map { String(try $0.int64("id")) }.joined(separator: ",")
            _ = try await connection.query("DELETE FROM outbox WHERE id = ANY($1::bigint[])", ["{\(ids)}"])
            return rows.count
        }
    }
}
