import AMQPClient
import ConveyorModels
import Foundation
import Logging
import PostgresClient
import SMTPClient
import ServiceKit
import ServiceLifecycle

/// Sends one e-mail per top-level job when it reaches SUCCEEDED, FAILED or CANCELLED, to the
/// addresses given with the job, and never twice for the same job.
public final class NotifierService: Service, Sendable {
    private let consumer: AMQPConnection
    private let deliveries: DeliveryStore
    private let smtp: SMTPClient
    private let from: EmailAddress
    private let logger: Logger
    static let maxAttempts = 8

    init(consumer: AMQPConnection, deliveries: DeliveryStore, smtp: SMTPClient, from: EmailAddress, logger: Logger) {
        self.consumer = consumer
        self.deliveries = deliveries
        self.smtp = smtp
        self.from = from
        self.logger = logger
    }

    /// Builds the notifier's services. Reads `amqp.*`, `postgres.*`, `smtp.url`, `smtp.username`,
    /// `smtp.password` (secret), `smtp.startTLS`, `smtp.from` and `notifier.health.port` (default 8186).
    public static func build(settings: ConveyorSettings, logger: Logger) async throws -> [any Service] {
        let pool = PostgresPool(
            configuration: PostgresConfiguration(url: settings.postgresURL, poolSize: 2), logger: logger)
        try await pool.waitUntilAvailable(timeout: .seconds(60))
        let deliveries = DeliveryStore(pool: pool)
        try await deliveries.migrate()
        let consumer = try AMQPConnection(
            name: "notifier-consume", configuration: settings.amqp, topology: ConveyorTopology.notifier, logger: logger)
        let smtp = SMTPClient(
            configuration: SMTPConfiguration(
                url: settings.string("smtp.url", default: "smtp://127.0.0.1:2525"),
                username: settings.optionalString("smtp.username"),
                password: settings.optionalString("smtp.password", secret: true),
                startTLS: settings.bool("smtp.startTLS", default: false)),
            logger: logger)
        let from = try EmailAddress(parsing: settings.string("smtp.from", default: "Conveyor <conveyor@localhost>"))
        let notifier = NotifierService(consumer: consumer, deliveries: deliveries, smtp: smtp, from: from, logger: logger)
        let health = HealthServer.make(
            service: "notifier", settings: settings, defaultPort: 8186,
            checks: [
                HealthCheck("amqp") { consumer.isConnected },
                HealthCheck("postgres") { (try? await pool.query("SELECT 1")) != nil },
            ],
            logger: logger)
        return [pool, consumer, notifier, health]
    }

    public func run() async throws {
        let events = consumer.consume(queue: Topology.notifierEventsQueue, prefetch: 16)
        await withDiscardingTaskGroup { group in
            for await delivery in events.cancelOnGracefulShutdown() {
                group.addTask { await self.handle(delivery) }
            }
        }
    }

    /// What became of one event's e-mail.
    private enum Outcome {
        /// Sent now or before, given up before, or not asked for: the event is done.
        case done
        /// Try again later (the message goes back to the queue).
        case retry
        /// Failed for good: dead-letter the event.
        case failed
    }

    /// Takes a message of events: one event, or a batch of the ends that ask for an e-mail
    /// (``MessageBatch``). The message is acked when every e-mail is sent (or was before); when one
    /// must be tried again, the message goes back to the queue, and its sent e-mails are not sent
    /// twice; when one failed for good (or an event is malformed), the message is dead-lettered.
    private func handle(_ delivery: AMQPDelivery) async {
        let bodies = delivery.contentType == MessageBatch.contentType ? MessageBatch.split(delivery.body) : [delivery.body]
        var outcomes: [Outcome] = []
        for body in bodies {
            do {
                outcomes.append(await handle(try Envelope<JobEvent>.decode(body).payload))
            } catch {
                logger.error("malformed job event", metadata: ["error": "\(error)"])
                outcomes.append(.failed)
            }
        }
        if outcomes.contains(where: { if case .retry = $0 { true } else { false } }) {
            consumer.nack(delivery, requeue: true)
        } else if outcomes.contains(where: { if case .failed = $0 { true } else { false } }) {
            // Dead-lettered with the events sent beside it: sent ones are not sent again if replayed.
            consumer.nack(delivery, requeue: false)
        } else {
            consumer.ack(delivery)
        }
    }

    private func handle(_ event: JobEvent) async -> Outcome {
        guard Topology.notifierFollows(event), let notification = event.notification else { return .done }
        do {
            switch try await deliveries.claim(jobId: event.jobId, recipients: notification.email) {
            case .alreadySent, .givenUp:
                logger.debug("e-mail already sent or given up", metadata: ["jobId": "\(event.jobId)"])
                return .done
            case .inProgress:
                try await Task.sleep(for: .seconds(5))
                return .retry
            case .claimed(let attempt):
                return await send(event, to: notification.email, attempt: attempt)
            }
        } catch {
            logger.warning("delivery record unavailable; retrying", metadata: ["jobId": "\(event.jobId)", "error": "\(error)"])
            try? await Task.sleep(for: .seconds(1))
            return .retry
        }
    }

    private func send(_ event: JobEvent, to recipients: [String], attempt: Int) async -> Outcome {
        do {
            let message = try CompletionEmail.message(for: event, from: from, to: recipients)
            try await smtp.send(message)
            try await deliveries.markSent(jobId: event.jobId, messageId: message.messageID ?? "")
            logger.info("e-mail sent", metadata: ["jobId": "\(event.jobId)", "status": "\(event.status.rawValue)"])
            return .done
        } catch {
            let final = attempt >= Self.maxAttempts || (error as? SMTPError)?.code == .invalidAddress
            logger.warning(
                "e-mail not sent", metadata: ["jobId": "\(event.jobId)", "attempt": "\(attempt)", "final": "\(final)", "error": "\(error)"])
            try? await deliveries.markFailed(jobId: event.jobId, error: "\(error)", final: final)
            if final { return .failed }
            try? await Task.sleep(for: .seconds(min(30, 1 << min(attempt, 5))))
            return .retry
        }
    }
}
