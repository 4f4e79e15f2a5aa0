import AMQPClient
import ConveyorModels
import Foundation
import Logging
import Messaging
import Metrics
import Postgres
import SMTPClient
import ServiceKit
import ServiceLifecycle

/// Sends one e-mail per top-level job when it reaches SUCCEEDED, FAILED or CANCELLED, to the
/// addresses given with the job, and never twice for the same job.
///
/// An event's e-mail is recorded in the notifier's table with the event (``DeliveryStore``) before
/// its message is acked, and tried at once. One that cannot be sent now waits in its row and is
/// tried again with exponential backoff (2 s, 4 s, ... at most `notifier.maxBackoffSeconds` apart)
/// until it is sent or `notifier.deliveryExpirySeconds` (3 days) have passed; a permanent refusal
/// (an SMTP 5xx reply, an address the server cannot take) fails it at once with the server's
/// reason. Every outcome is reported to metadata (`notificationDelivery` on the job) and logged.
public final class NotifierService: Service, Sendable {
    private let consumer: AMQPConnection
    private let deliveries: DeliveryStore
    private let smtp: SMTPClient
    private let from: EmailAddress
    private let reports: ReportSender
    private let policy: DeliveryPolicy
    private let templates: CompletionTemplates
    /// Reads a retried job's earlier attempts and a group's stages for its e-mail.
    private let metadata: MetadataClient
    private let logger: Logger
    /// Woken when a try fails, so the delivery loop looks again at once.
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>

    init(
        consumer: AMQPConnection, deliveries: DeliveryStore, smtp: SMTPClient, from: EmailAddress, reports: ReportSender,
        policy: DeliveryPolicy, templates: CompletionTemplates, metadata: MetadataClient, logger: Logger
    ) {
        self.templates = templates
        self.metadata = metadata
        self.consumer = consumer
        self.deliveries = deliveries
        self.smtp = smtp
        self.from = from
        self.reports = reports
        self.policy = policy
        self.logger = logger
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Builds the notifier's services. Reads `amqp.*`, `postgres.*`, `smtp.url`, `smtp.username`,
    /// `smtp.password` (secret), `smtp.startTLS`, `smtp.from`, `notifier.deliveryExpirySeconds`,
    /// `notifier.maxBackoffSeconds`, `notifier.templates` (a folder of replacement templates, see
    /// ``CompletionTemplates``) and `notifier.health.port` (default 8186).
    public static func build(settings: ConveyorSettings, logger: Logger) async throws -> [any Service] {
        EmailMetrics.register()
        let pool = PostgresPool(
            configuration: PostgresConfiguration(url: settings.postgresURL, poolSize: 2), logger: logger)
        try await pool.waitUntilAvailable(timeout: .seconds(60))
        let deliveries = DeliveryStore(pool: pool)
        try await deliveries.migrate()
        let consumer = try AMQPConnection(
            name: "notifier-consume", configuration: settings.amqp, topology: Topology.notifierDeclarations, logger: logger)
        let smtp = SMTPClient(
            configuration: SMTPConfiguration(
                url: settings.string("smtp.url", default: "smtp://127.0.0.1:2525"),
                username: settings.optionalString("smtp.username"),
                password: settings.optionalString("smtp.password", secret: true),
                startTLS: settings.bool("smtp.startTLS", default: false)),
            logger: logger)
        let from = try EmailAddress(parsing: settings.string("smtp.from", default: "Conveyor <conveyor@localhost>"))
        let reports = ReportSender(publisher: consumer, logger: logger)
        let policy = DeliveryPolicy(
            lifetimeSeconds: max(1, settings.int("notifier.deliveryExpirySeconds", default: 259_200)),
            maxBackoffSeconds: max(1, settings.int("notifier.maxBackoffSeconds", default: 300)))
        let templates = try CompletionTemplates.load(folder: settings.optionalString("notifier.templates").map(settings.absolute))
        let metadata = try MetadataClient(name: "notifier-rpc", settings: settings, logger: logger)
        let notifier = NotifierService(
            consumer: consumer, deliveries: deliveries, smtp: smtp, from: from, reports: reports, policy: policy, templates: templates,
            metadata: metadata, logger: logger)
        let health = HealthServer.make(
            service: "notifier", settings: settings, defaultPort: 8186,
            checks: [
                HealthCheck("amqp") { consumer.isConnected },
                HealthCheck("postgres") { (try? await pool.query("SELECT 1")) != nil },
            ],
            logger: logger)
        return [pool, consumer, metadata, reports.batcher, notifier, health]
    }

    public func run() async throws {
        let events = consumer.consume(queue: Topology.notifierEventsQueue, prefetch: 16)
        await withDiscardingTaskGroup { group in
            group.addTask { await self.deliverDue() }
            for await delivery in events.cancelOnGracefulShutdown() {
                group.addTask { await self.handle(delivery) }
            }
            group.cancelAll()
        }
    }

    // MARK: Events

    /// Takes a message of events: one event, or a batch of the ends that ask for an e-mail
    /// (``MessageBatch``). It is acked once each e-mail is recorded (and tried once): from then on
    /// the e-mail waits in its row, not in the broker. It goes back to the queue only when the
    /// record cannot be written (the database is away); a malformed event is dead-lettered.
    private func handle(_ delivery: AMQPDelivery) async {
        let bodies = delivery.contentType == MessageBatch.contentType ? MessageBatch.split(delivery.body) : [delivery.body]
        var recorded = true
        var malformed = false
        for body in bodies {
            let event: JobEvent
            do {
                event = try Envelope<JobEvent>.decode(body).payload
            } catch {
                logger.error("malformed job event; dead-lettered", metadata: ["error": "\(error)"])
                malformed = true
                continue
            }
            do {
                guard Topology.notifierFollows(event), let notification = event.notification else { continue }
                guard
                    let first = try await deliveries.begin(
                        jobId: event.jobId, recipients: notification.email, event: body, lifetimeSeconds: policy.lifetimeSeconds)
                else {
                    logger.debug("e-mail recorded before", metadata: ["jobId": "\(event.jobId)"])
                    continue
                }
                await attempt(first, event: event)
            } catch {
                logger.warning("delivery record unavailable; the event goes back to the queue", metadata: ["error": "\(error)"])
                recorded = false
            }
        }
        if !recorded {
            try? await Task.sleep(for: .seconds(1))
            consumer.nack(delivery, requeue: true)
        } else if malformed {
            // Dead-lettered with the events beside it: recorded ones are not recorded twice if replayed.
            consumer.nack(delivery, requeue: false)
        } else {
            consumer.ack(delivery)
        }
    }

    // MARK: Tries

    /// Tries the e-mails whose next try is due, as they fall due (and those whose notifier died
    /// mid-try), until the notifier stops.
    private func deliverDue() async {
        // The one reader of `wakes`, for the notifier's life: a stream whose reading task is
        // cancelled is finished for good, so the wait below never reads it from a child task.
        var signals = wakes.makeAsyncIterator()
        while !Task.isCancelled {
            let wait: Duration
            do {
                let due = try await deliveries.claimDue(limit: 16)
                await withDiscardingTaskGroup { group in
                    for next in due { group.addTask { await self.retry(next) } }
                }
                if due.count == 16 { continue }
                // Sleep until the next one falls due (at most 5 s: a row another notifier wrote
                // meanwhile, or a claim that went stale), or a failed try wakes the loop.
                wait = .milliseconds(Int(1000 * min(5, max(0.05, try await deliveries.nextDue()?.timeIntervalSinceNow ?? 5))))
            } catch {
                logger.warning("cannot look for e-mails to send again", metadata: ["error": "\(error)"])
                wait = .seconds(2)
            }
            let woken = await withTaskGroup(of: Void.self) { group in
                group.addTask { [wake] in
                    if (try? await Task.sleep(for: wait)) != nil { wake.yield() }
                }
                defer { group.cancelAll() }
                return await signals.next() != nil
            }
            if !woken { return }  // the stream is finished: the notifier stops
        }
    }

    private func retry(_ next: DeliveryStore.Try) async {
        do {
            await attempt(next, event: try Envelope<JobEvent>.decode(next.event).payload)
        } catch {
            logger.error("the recorded event of an e-mail cannot be read", metadata: ["jobId": "\(next.jobId)", "error": "\(error)"])
            try? await deliveries.markFailed(jobId: next.jobId, error: "the recorded event cannot be read: \(error)")
        }
    }

    /// A retried job's earlier attempts and a group's stages (at most 50), read from metadata; none
    /// when metadata does not answer within 5 s (the e-mail goes without them rather than wait).
    private func details(of event: JobEvent) async -> CompletionEmail.Details {
        guard event.attempt > 1 || event.jobType == .jobGroup else { return CompletionEmail.Details() }
        do {
            let job = try await metadata.call(GetJob(jobId: event.jobId), timeout: .seconds(5))
            var stages: [JobRecord] = []
            for child in (job.childJobIds ?? []).prefix(50) {
                stages.append(try await metadata.call(GetJob(jobId: child), timeout: .seconds(5)))
            }
            return CompletionEmail.Details(attempts: job.result?.earlierAttempts ?? [], stages: stages)
        } catch {
            logger.warning("the job's attempts and stages could not be read; the e-mail goes without them", metadata: ["jobId": "\(event.jobId)", "error": "\(error)"])
            return CompletionEmail.Details()
        }
    }

    /// One try of an e-mail: sent, to be tried again later, or failed for good; recorded, reported
    /// to metadata and logged.
    private func attempt(_ next: DeliveryStore.Try, event: JobEvent) async {
        let jobId = event.jobId
        let metadata: Logger.Metadata = ["jobId": "\(jobId)", "attempt": "\(next.attempt)"]
        var outcome: NotificationDelivery
        do {
            let message = try CompletionEmail.message(
                for: event, from: from, to: event.notification?.email ?? [], details: await details(of: event), templates: templates)
            do {
                let start = DispatchTime.now()
                defer { EmailMetrics.sendTime.recordInterval(since: start) }
                try await smtp.send(message)
            } catch let error as SMTPError where DeliveryPolicy.isPermanent(error) {
                EmailMetrics.failed("refused").increment()
                try await deliveries.markFailed(jobId: jobId, error: error.description)
                logger.error("e-mail refused for good", metadata: metadata.merging(["error": "\(error)"]) { $1 })
                await reports.send(self.report(jobId, NotificationDelivery(status: .failed, attempts: next.attempt, lastError: error.description, expiresAt: next.expiresAt, updatedAt: Date())))
                return
            } catch {
                let delay = policy.backoffSeconds(afterAttempt: next.attempt)
                let nextTry = try await deliveries.markRetry(jobId: jobId, error: "\(error)", delaySeconds: delay)
                if let nextTry {
                    EmailMetrics.retried.increment()
                    logger.warning("e-mail not sent; trying again", metadata: metadata.merging(["error": "\(error)", "inSeconds": "\(delay)"]) { $1 })
                    outcome = NotificationDelivery(
                        status: .pending, attempts: next.attempt, lastError: "\(error)", nextAttemptAt: nextTry, expiresAt: next.expiresAt,
                        updatedAt: Date())
                    wake.yield()
                } else {
                    EmailMetrics.failed("expired").increment()
                    logger.error("e-mail not sent before its delivery expired; given up", metadata: metadata.merging(["error": "\(error)"]) { $1 })
                    outcome = NotificationDelivery(
                        status: .failed, attempts: next.attempt, lastError: "not sent before \(Timestamp.format(next.expiresAt)): \(error)",
                        expiresAt: next.expiresAt, updatedAt: Date())
                }
                await reports.send(self.report(jobId, outcome))
                return
            }
            EmailMetrics.sent.increment()
            let sentAt = try await recordSent(jobId: jobId, messageId: message.messageID ?? "")
            logger.info("e-mail sent", metadata: metadata.merging(["status": "\(event.status.rawValue)"]) { $1 })
            outcome = NotificationDelivery(status: .sent, attempts: next.attempt, sentAt: sentAt, updatedAt: Date())
        } catch let error as SMTPError {
            // The message cannot be made (an address the notifier cannot write): no try can succeed.
            EmailMetrics.failed("unwritable").increment()
            logger.error("e-mail cannot be made; given up", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            try? await deliveries.markFailed(jobId: jobId, error: error.description)
            outcome = NotificationDelivery(status: .failed, attempts: next.attempt, lastError: error.description, updatedAt: Date())
        } catch {
            // The record could not be written: the claim goes stale and another look tries again.
            logger.warning("e-mail outcome not recorded; it is tried again later", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            return
        }
        await reports.send(self.report(jobId, outcome))
    }

    /// Records that an e-mail went out. The server has it already, so the record is tried again
    /// (the database may be restarting) for as long as this notifier's claim protects the row:
    /// given up earlier, the row's claim would go stale and the e-mail be sent a second time.
    private func recordSent(jobId: UUID, messageId: String) async throws -> Date {
        var delay = Duration.milliseconds(250)
        let deadline = ContinuousClock.now + .seconds(100)
        while true {
            do {
                return try await deliveries.markSent(jobId: jobId, messageId: messageId)
            } catch {
                guard ContinuousClock.now + delay < deadline else { throw error }
                logger.warning("e-mail sent but not yet recorded; recording it again", metadata: ["jobId": "\(jobId)", "error": "\(error)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    private func report(_ jobId: UUID, _ delivery: NotificationDelivery) -> JobReport {
        JobReport(jobId: jobId, attempt: 0, workerId: "notifier", kind: .notification(delivery))
    }
}

/// When an e-mail is tried again, and when a failure is final.
struct DeliveryPolicy: Sendable {
    /// How long after its first try a delivery gives up.
    var lifetimeSeconds: Int
    /// The longest wait between two tries.
    var maxBackoffSeconds: Int

    /// 2 s after the first try, doubling, at most `maxBackoffSeconds`.
    func backoffSeconds(afterAttempt attempt: Int) -> Int {
        min(maxBackoffSeconds, 1 << min(max(attempt, 1), 20))
    }

    /// A reply no later try can change: an SMTP 5xx, or an address or message the server cannot take.
    static func isPermanent(_ error: SMTPError) -> Bool {
        switch error.code {
        case .rejected(let reply): reply >= 500
        case .invalidAddress, .invalidHeader, .invalidMessage: true
        case .transport, .invalidConfiguration: false
        }
    }
}
