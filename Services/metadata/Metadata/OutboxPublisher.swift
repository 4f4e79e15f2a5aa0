import AMQPClient
import ConveyorModels
import Foundation
import Logging
import Metrics
import Postgres
import ServiceLifecycle
import Synchronization

/// Publishes the events that committed transactions wrote to the `outbox` table, and deletes their
/// rows once the broker has confirmed them: a crash anywhere between the commit and the confirm
/// loses nothing (an event may be published twice; consumers de-duplicate).
///
/// Each event goes to `conveyor.events` with its routing key, for whoever follows them. Conveyor's
/// own consumers are fed directly, one message per transaction (a ``MessageBatch``): the scheduler
/// (`scheduler.events`) gets the events it follows, the notifier (`notifier.events`) the ends that
/// ask for an e-mail; so a transaction of many jobs is one message for each, not one per job.
///
/// The job store hands over each transaction's events right after its commit (``publish(_:)``):
/// they are queued on the broker connection at once, in commit order, pipelined with publisher
/// confirms, so the store never reads them back. When all of a transaction's messages are confirmed
/// its rows are deleted, many at a time; when one is not, they are all published again (with
/// backoff). Rows left by a process that died are published by the relay: at start, every row;
/// then, every few seconds, rows older than ``staleAfter`` (not in flight anywhere any more).
final class OutboxPublisher: Service, Sendable {
    private let pool: PostgresPool
    private let publisher: AMQPConnection
    private let logger: Logger
    private let state = Mutex(State())
    private let wakeDeleter: AsyncStream<Void>.Continuation
    private let deleterSignals: AsyncStream<Void>
    static let relayBatchSize = 500
    static let staleAfter: Duration = .seconds(10)
    static let relayInterval: Duration = .seconds(2)
    static let deleteInterval: Duration = .milliseconds(100)
    /// The `message_type` of a row that holds all the events of one transaction, as a
    /// ``MessageBatch`` of their envelopes (one row per transaction, not per event; the relay splits
    /// it again). Rows written before hold one event each, with its routing key.
    static let batchRowType = "job.event.batch"

    private struct State {
        var confirmed: [Int64] = []
        var failed: [[OutboxEntry]] = []
    }

    init(pool: PostgresPool, publisher: AMQPConnection, logger: Logger) {
        self.pool = pool
        self.publisher = publisher
        self.logger = logger
        (deleterSignals, wakeDeleter) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Every message of a transaction's events: each event, and the feeds of the scheduler and the
    /// notifier (the events each follows, in order).
    static func messages(_ entries: [OutboxEntry]) -> [OutgoingMessage] {
        var messages = entries.map(\.message)
        for (queue, follows) in [
            (Topology.schedulerEventsQueue, Topology.schedulerFollows), (Topology.notifierEventsQueue, Topology.notifierFollows),
        ] {
            let fed = entries.filter { $0.event.map(follows) ?? false }
            guard !fed.isEmpty else { continue }
            messages.append(
                OutgoingMessage(
                    exchange: "", routingKey: queue, body: MessageBatch.join(fed.map(\.message.body)),
                    contentType: MessageBatch.contentType, messageId: UUID().uuidString, type: JobEvent.messageType))
        }
        return messages
    }

    /// Publishes a committed transaction's events now, in order; never waits.
    func publish(_ entries: [OutboxEntry]) {
        guard !entries.isEmpty else { return }
        let messages = Self.messages(entries)
        let outcome = TransactionOutcome(count: messages.count)
        for message in messages {
            publisher.publish(message) { [self] result in
                guard let failure = outcome.settle(result) else { return }
                if let error = failure {
                    logger.debug("events not confirmed; publishing them again", metadata: ["error": "\(error)"])
                    state.withLock { $0.failed.append(entries) }
                } else {
                    state.withLock { $0.confirmed.append(contentsOf: Set(entries.map(\.id))) }
                    wakeDeleter.yield()
                }
            }
        }
    }

    func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.deleteConfirmed() }
            group.addTask { await self.relayAndRetry() }
            group.addTask { await self.sampleDepth() }
            try? await gracefulShutdown()
            wakeDeleter.finish()
            group.cancelAll()
        }
        // What was confirmed during the shutdown goes too.
        try? await deleteRows(state.withLock { state in
            defer { state.confirmed = [] }
            return state.confirmed
        })
    }

    /// Deletes confirmed rows, as many as have gathered, one statement at most every
    /// ``deleteInterval`` (a statement per transaction would cost more than the rows).
    private func deleteConfirmed() async {
        for await _ in deleterSignals {
            try? await Task.sleep(for: Self.deleteInterval)
            let ids = state.withLock { state in
                defer { state.confirmed = [] }
                return state.confirmed
            }
            guard !ids.isEmpty else { continue }
            do {
                try await deleteRows(ids)
            } catch {
                // Deleted later (a row that stays is at worst published twice).
                logger.warning("confirmed outbox rows not deleted; retrying", metadata: ["error": "\(error)"])
                state.withLock { $0.confirmed.append(contentsOf: ids) }
                try? await Task.sleep(for: .seconds(1))
                wakeDeleter.yield()
            }
        }
    }

    private func deleteRows(_ ids: [Int64]) async throws {
        guard !ids.isEmpty else { return }
        _ = try await pool.withConnection { connection in
            try await connection.pipeline([
                try PostgresStatement("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [PostgresArray.literal(values: ids)])
            ])
        }
    }

    /// How many outbox rows wait and how old the oldest is (`conveyor_outbox_rows`,
    /// `conveyor_outbox_lag_seconds`), read every 5 s: rows stay only while their events are not
    /// confirmed, so a growing lag means events are not getting out.
    private func sampleDepth() async {
        let rowsGauge = Gauge(label: "conveyor_outbox_rows")
        let lagGauge = Gauge(label: "conveyor_outbox_lag_seconds")
        while (try? await Task.sleep(for: .seconds(5))) != nil {
            guard
                let row = try? await pool.query(
                    "SELECT count(*) AS waiting, COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - min(created_at)), 0)::float8 AS lag FROM outbox"
                ).first
            else { continue }
            rowsGauge.record((try? row.int("waiting")) ?? 0)
            lagGauge.record((try? row.double("lag")) ?? 0)
        }
    }

    /// Publishes again what the broker did not take, and relays rows no process publishes (all rows at
    /// start, then stale ones), until shutdown.
    private func relayAndRetry() async {
        var relayAll = true
        var delay = Duration.milliseconds(100)
        while !Task.isCancelled {
            let failed = state.withLock { state in
                defer { state.failed = [] }
                return state.failed
            }
            if !failed.isEmpty {
                try? await publisher.waitUntilConnected()
                for entries in failed.sorted(by: { ($0.first?.id ?? 0) < ($1.first?.id ?? 0) }) { publish(entries) }
            }
            do {
                while try await relayBatch(olderThan: relayAll ? nil : Self.staleAfter) == Self.relayBatchSize {}
                relayAll = false
                delay = .milliseconds(100)
                try await Task.sleep(for: failed.isEmpty ? Self.relayInterval : delay)
            } catch is CancellationError {
                return
            } catch {
                logger.warning("outbox relay failed, retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// Publishes one batch of left-over rows (confirmed), deletes them, and returns how many there were.
    private func relayBatch(olderThan age: Duration?) async throws -> Int {
        // While the broker is away, wait here rather than inside a transaction holding row locks.
        try await publisher.waitUntilConnected()
        let seconds = age.map { Double($0.components.seconds) } ?? 0
        return try await pool.withTransaction { connection in
            let rows = try await connection.query(
                """
                SELECT id, routing_key, message_type, message_id, body FROM outbox
                WHERE created_at < clock_timestamp() - make_interval(secs => $2)
                ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
                """, [Self.relayBatchSize, seconds])
            guard !rows.isEmpty else { return 0 }
            let entries = try rows.flatMap { try Self.entries(of: $0, logger: logger) }
            try await publisher.publish(Self.messages(entries))
            _ = try await connection.query(
                "DELETE FROM outbox WHERE id = ANY($1::bigint[])", [PostgresArray.literal(values: try rows.map { try $0.int64("id") })])
            logger.info("relayed events left in the outbox", metadata: ["count": "\(rows.count)"])
            return rows.count
        }
    }
}

extension OutboxPublisher {
    /// The events an outbox row holds: the envelopes of a batch row, or the one event of an older row.
    static func entries(of row: PostgresRow, logger: Logger) throws -> [OutboxEntry] {
        let id = try row.int64("id")
        let body = try row.data("body")
        guard try row.string("message_type") == Self.batchRowType else {
            return [
                OutboxEntry(
                    id: id, event: try? Envelope<JobEvent>.decode(body).payload,
                    message: OutgoingMessage(
                        exchange: Topology.eventsExchange, routingKey: try row.string("routing_key"), body: body,
                        messageId: try row.string("message_id"), type: try row.string("message_type")))
            ]
        }
        return MessageBatch.split(body).compactMap { envelope in
            guard let decoded = try? Envelope<JobEvent>.decode(envelope) else {
                // Written by this service, so it decodes; if one ever does not, it is not guessed at.
                logger.error("an event in the outbox does not decode; left out", metadata: ["row": "\(id)"])
                return nil
            }
            return OutboxEntry(
                id: id, event: decoded.payload,
                message: OutgoingMessage(
                    exchange: Topology.eventsExchange, routingKey: decoded.payload.routingKey, body: envelope,
                    messageId: decoded.messageId.uuidString, type: JobEvent.messageType))
        }
    }
}

/// The confirms of one transaction's messages: settled once all are, with the first failure.
private final class TransactionOutcome: Sendable {
    private let state: Mutex<(remaining: Int, failure: AMQPError?)>

    init(count: Int) {
        state = Mutex((count, nil))
    }

    /// Records one confirm; returns the outcome (nil for success) when it was the last one.
    func settle(_ result: Result<Void, AMQPError>) -> AMQPError?? {
        state.withLock { state in
            if case .failure(let error) = result, state.failure == nil { state.failure = error }
            state.remaining -= 1
            return state.remaining == 0 ? .some(state.failure) : nil
        }
    }
}
