import AMQPClient
import ConveyorModels
import Foundation
import Logging
import Postgres
import ServiceKit
import ServiceLifecycle
import Synchronization

/// Applies workers' reports (queue `metadata.reports`), a message of one report or a batch of them
/// (``MessageBatch``). Reports are queued in the order they arrive and applied in batches, one
/// transaction at a time (``JobStore/apply(_:)-([JobReport])``), so a job's reports are applied in
/// the order its worker sent them. A message is acked once all its reports are applied; a malformed
/// one is dead-lettered. While the database is away, reports wait and are tried again.
final class ReportConsumer: Service, Sendable {
    private let store: JobStore
    private let consumer: AMQPConnection
    let batcher: Batcher<JobReport, Void>
    private let logger: Logger
    static let prefetch = 500
    /// Attempts before a report that fails for another reason than a database outage is dead-lettered.
    static let maxFailures = 5

    init(store: JobStore, consumer: AMQPConnection, logger: Logger) {
        self.store = store
        self.consumer = consumer
        self.logger = logger
        batcher = Batcher(name: "reports", maxBatch: 500, concurrency: 1) { reports in
            do { return try await store.apply(reports) } catch { return reports.map { _ in .failure(error) } }
        }
    }

    func run() async throws {
        let deliveries = consumer.consume(queue: Topology.metadataReportsQueue, prefetch: Self.prefetch)
        await withDiscardingTaskGroup { group in
            for await delivery in deliveries.cancelOnGracefulShutdown() {
                let reports: [JobReport]
                do {
                    let envelopes = delivery.contentType == MessageBatch.contentType ? MessageBatch.split(delivery.body) : [delivery.body]
                    reports = try envelopes.map { try Envelope<JobReport>.decode($0).payload }
                } catch {
                    logger.error("malformed report dead-lettered", metadata: ["error": "\(error)"])
                    consumer.nack(delivery, requeue: false)
                    continue
                }
                // Queued here, in arrival order; the message is settled when its reports are.
                let settled = apply(reports)
                group.addTask { await self.settle(delivery, reports, await settled()) }
            }
        }
    }

    /// Queues reports now and returns a way to wait for their outcomes.
    private func apply(_ reports: [JobReport]) -> @Sendable () async -> [Result<Void, any Error>] {
        let outcomes = ReportOutcomes(count: reports.count)
        for (index, report) in reports.enumerated() {
            batcher.enqueue(report) { outcomes.set(index, $0) }
        }
        return { await outcomes.all() }
    }

    /// Acks a message whose reports were all applied; tries failed reports again (forever while the
    /// database is away, else a few times before the message is dead-lettered).
    private func settle(_ delivery: AMQPDelivery, _ reports: [JobReport], _ first: [Result<Void, any Error>]) async {
        var outcomes = first
        var delay = Duration.milliseconds(200)
        var failures = 0
        while true {
            let failed = reports.indices.filter { if case .failure = outcomes[$0] { return true } else { return false } }
            guard let sample = failed.first, case .failure(let error) = outcomes[sample] else {
                consumer.ack(delivery)
                return
            }
            if let error = error as? PostgresError, error.isConnectionFailure {
                // The database is away: wait for it, however long (a report must not be lost).
                logger.warning("database unavailable; reports wait", metadata: ["jobId": "\(reports[sample].jobId)", "error": "\(error)"])
            } else if error is BatcherClosed || Task.isCancelled {
                // Shutting down: the broker gives the message to the next consumer.
                consumer.nack(delivery, requeue: true)
                return
            } else {
                failures += 1
                if failures >= Self.maxFailures {
                    logger.error("report cannot be applied; dead-lettered", metadata: ["jobId": "\(reports[sample].jobId)", "error": "\(error)"])
                    consumer.nack(delivery, requeue: false)
                    return
                }
                logger.warning("report not applied, retrying", metadata: ["jobId": "\(reports[sample].jobId)", "error": "\(error)"])
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
            let retried = await apply(failed.map { reports[$0] })()
            for (index, outcome) in zip(failed, retried) { outcomes[index] = outcome }
        }
    }
}

/// The outcomes of one message's reports, awaited together.
private final class ReportOutcomes: Sendable {
    private let state: Mutex<(outcomes: [Result<Void, any Error>?], waiter: CheckedContinuation<[Result<Void, any Error>], Never>?)>

    init(count: Int) {
        state = Mutex((Array(repeating: nil, count: count), nil))
    }

    func set(_ index: Int, _ outcome: Result<Void, any Error>) {
        let done = state.withLock { state -> (CheckedContinuation<[Result<Void, any Error>], Never>, [Result<Void, any Error>])? in
            state.outcomes[index] = outcome
            guard let waiter = state.waiter, !state.outcomes.contains(where: { $0 == nil }) else { return nil }
            state.waiter = nil
            return (waiter, state.outcomes.map { $0! })
        }
        if let (waiter, outcomes) = done { waiter.resume(returning: outcomes) }
    }

    func all() async -> [Result<Void, any Error>] {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> [Result<Void, any Error>]? in
                if !state.outcomes.contains(where: { $0 == nil }) { return state.outcomes.map { $0! } }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
