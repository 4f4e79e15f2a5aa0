import AMQPClient
import ConveyorModels
import Foundation
import Logging
import PostgresClient
import ServiceLifecycle

/// Applies workers' reports (queue `metadata.reports`). Reports of one job are applied in order (one
/// lane per job, chosen by its id); different jobs proceed in parallel. A report is acked after its
/// transaction committed; a malformed one is dead-lettered.
final class ReportConsumer: Service, Sendable {
    private let store: JobStore
    private let consumer: AMQPConnection
    private let logger: Logger
    static let lanes = 4
    /// Attempts before a report that fails for another reason than a database outage is dead-lettered.
    static let maxFailures = 5

    init(store: JobStore, consumer: AMQPConnection, logger: Logger) {
        self.store = store
        self.consumer = consumer
        self.logger = logger
    }

    func run() async throws {
        let reports = consumer.consume(queue: Topology.metadataReportsQueue, prefetch: 200)
        let lanes = (0..<Self.lanes).map { _ in AsyncStream.makeStream(of: (AMQPDelivery, JobReport?).self) }
        await withDiscardingTaskGroup { group in
            for lane in lanes {
                group.addTask {
                    for await (delivery, report) in lane.stream { await self.apply(delivery, report) }
                }
            }
            for await delivery in reports.cancelOnGracefulShutdown() {
                // Decoded once here; a report that does not decode goes to lane 0 to be dead-lettered.
                let report: JobReport?
                do {
                    report = try Envelope<JobReport>.decode(delivery.body).payload
                } catch {
                    logger.error("malformed report", metadata: ["error": "\(error)"])
                    report = nil
                }
                lanes[report.map { Self.lane(for: $0.jobId) } ?? 0].continuation.yield((delivery, report))
            }
            lanes.forEach { $0.continuation.finish() }
        }
    }

    /// The lane of a job: stable per job id, so a job's reports stay in order.
    static func lane(for jobId: UUID) -> Int {
        Int(jobId.uuid.15) % lanes
    }

    private func apply(_ delivery: AMQPDelivery, _ report: JobReport?) async {
        guard let report else {
            consumer.nack(delivery, requeue: false)
            return
        }
        var delay = Duration.milliseconds(200)
        var failures = 0
        while !Task.isCancelled {
            do {
                try await store.apply(report)
                consumer.ack(delivery)
                return
            } catch let error as PostgresError where error.isConnectionFailure {
                // The database is away: wait for it, however long (the report must not be lost).
                logger.warning("database unavailable; report waits", metadata: ["jobId": "\(report.jobId)", "error": "\(error)"])
            } catch {
                failures += 1
                if failures >= Self.maxFailures {
                    logger.error(
                        "report cannot be applied; dead-lettered", metadata: ["jobId": "\(report.jobId)", "error": "\(error)"])
                    consumer.nack(delivery, requeue: false)
                    return
                }
                logger.warning("report not applied, retrying", metadata: ["jobId": "\(report.jobId)", "error": "\(error)"])
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
    }
}
