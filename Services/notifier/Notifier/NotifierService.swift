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

    private func handle(_ delivery: AMQPDelivery) async {
        let event: JobEvent
        do {
            event = try Envelope<JobEvent>.decode(delivery.body).payload
        } catch {
            logger.error("malformed job event dead-lettered", metadata: ["error": "\(error)"])
            consumer.nack(delivery, requeue: false)
            return
        }
        guard event.status.isTerminal, event.topLevel, let notification = event.notification,
            notification.wants(event.status), !notification.email.isEmpty
        else {
            consumer.ack(delivery)
            return
        }
        do {
            switch try await deliveries.claim(jobId: event.jobId, recipients: notification.email) {
            case .alreadySent, .givenUp:
                logger.debug("e-mail already sent or given up", metadata: ["jobId": "\(event.jobId)"])
                consumer.ack(delivery)
            case .inProgress:
                try await Task.sleep(for: .seconds(5))
                consumer.nack(delivery, requeue: true)
            case .claimed(let attempt):
                await send(event, to: notification.email, attempt: attempt, delivery: delivery)
            }
        } catch {
            logger.warning("delivery record unavailable; retrying", metadata: ["jobId": "\(event.jobId)", "error": "\(error)"])
            try? await Task.sleep(for: .seconds(1))
            consumer.nack(delivery, requeue: true)
        }
    }

    private func send(_ event: JobEvent, to recipients: [String], attempt: Int, delivery: AMQPDelivery) async {
        do {
            let message = try CompletionEmail.message(for: event, from: from, to: recipients)
            try await smtp.send(message)
            try await deliveries.markSent(jobId: event.jobId, messageId: message.messageID ?? "")
            logger.info("e-mail sent", metadata: ["jobId": "\(event.jobId)", "status": "\(event.status.rawValue)"])
            consumer.ack(delivery)
        } catch {
            let final = attempt >= Self.maxAttempts || (error as? SMTPError)?.code == .invalidAddress
            logger.warning(
                "e-mail not sent", metadata: ["jobId": "\(event.jobId)", "attempt": "\(attempt)", "final": "\(final)", "error": "\(error)"])
            try? await deliveries.markFailed(jobId: event.jobId, error: "\(error)", final: final)
            if final {
                consumer.nack(delivery, requeue: false)
            } else {
                try? await Task.sleep(for: .seconds(min(30, 1 << min(attempt, 5))))
                consumer.nack(delivery, requeue: true)
            }
        }
    }
}
