import AMQPClient
import ConveyorModels
import Foundation
import Logging
import Messaging
import ServiceKit
import ServiceLifecycle

/// Keeps queued jobs in priority order and dispatches each to a worker the moment a slot is free.
///
/// Push, not polling: it reacts to job events (a job queued, a job finished) and worker heartbeats.
/// On start it rebuilds its queue from metadata. A worker silent for `scheduler.workerTimeoutSeconds`
/// is presumed dead and its attempts are re-queued through metadata (which fences the old attempt).
public actor SchedulerService: Service {
    private let policy: SchedulingPolicy
    private var state: SchedulingState
    private let consumer: AMQPConnection
    private let publisher: AMQPConnection
    /// Holds the exclusive queue `scheduler.lock`: the instance whose connection declared it is the
    /// active scheduler; others wait (their declarations are refused) until the broker frees it.
    private let leader: AMQPConnection
    private let metadata: MetadataClient
    private let workerTimeout: TimeInterval
    /// The shortest time between two dispatch decisions (`scheduler.dispatchIntervalMs`).
    private let dispatchInterval: Duration
    private let logger: Logger
    private var metrics = SchedulerMetrics()

    init(
        leader: AMQPConnection, consumer: AMQPConnection, publisher: AMQPConnection, metadata: MetadataClient,
        workerTimeout: TimeInterval, dispatchInterval: Duration = .milliseconds(10), policy: SchedulingPolicy = SchedulingPolicy(),
        logger: Logger
    ) {
        self.policy = policy
        self.state = SchedulingState(policy: policy, startedAt: Date())
        self.leader = leader
        self.consumer = consumer
        self.publisher = publisher
        self.metadata = metadata
        self.workerTimeout = workerTimeout
        self.dispatchInterval = dispatchInterval
        self.logger = logger
    }

    /// Builds the scheduler's services. Reads `amqp.*`, `scheduler.workerTimeoutSeconds` (default 15),
    /// `scheduler.dispatchIntervalMs` (default 10) and `scheduler.health.port` (default 8182).
    public static func build(settings: ConveyorSettings, logger: Logger) throws -> [any Service] {
        let consumer = try AMQPConnection(
            name: "scheduler-consume", configuration: settings.amqp, topology: Topology.schedulerDeclarations, logger: logger)
        let publisher = try AMQPConnection(
            name: "scheduler-publish", configuration: settings.amqp, topology: Topology.exchangeDeclarations, logger: logger)
        let metadata = try MetadataClient(name: "scheduler-rpc", settings: settings, logger: logger)
        let leader = try AMQPConnection(
            name: "scheduler-lock", configuration: settings.amqp,
            topology: AMQPTopology(queues: [AMQPTopology.Queue(name: Topology.schedulerLockQueue, durable: false, exclusive: true)]),
            confirms: false, logger: logger)
        let scheduler = SchedulerService(
            leader: leader, consumer: consumer, publisher: publisher, metadata: metadata,
            workerTimeout: TimeInterval(settings.int("scheduler.workerTimeoutSeconds", default: 15)),
            dispatchInterval: .milliseconds(settings.int("scheduler.dispatchIntervalMs", default: 10)),
            policy: SchedulingPolicy(settings: settings), logger: logger)
        let health = HealthServer.make(
            service: "scheduler", settings: settings, defaultPort: 8182,
            checks: [HealthCheck("amqp") { consumer.isConnected && publisher.isConnected && metadata.isConnected }],
            logger: logger)
        return [consumer, publisher, metadata, leader, scheduler, health]
    }

    /// Runs while this instance holds the scheduler lock; stands by while another one does.
    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                // A standby waits here; asked to stop, it stops waiting (the lock's connection is a
                // service the group stops only after this one).
                try await cancelWhenGracefulShutdown { try await self.leader.waitUntilConnected() }
            } catch {
                return  // shutting down, or the lock's connection was closed
            }
            logger.info("this scheduler is the active one")
            try await rebuild()
            await scheduleWhileActive()
            state = SchedulingState(policy: policy, startedAt: Date())
            notTakenUp = []
            rebuildCursor = nil
            if !Task.isShuttingDownGracefully {
                logger.warning("lost the scheduler lock; standing by until it is free again")
            }
        }
    }

    /// Consumes job events and heartbeats and dispatches, until shutdown or the lock is lost
    /// (unacked deliveries then go back to the queue for whichever instance holds the lock next).
    private func scheduleWhileActive() async {
        let jobEvents = consumer.consume(queue: Topology.schedulerEventsQueue, prefetch: 1000)
        let heartbeats = consumer.consume(queue: Topology.schedulerHeartbeatsQueue, prefetch: 100)
        let questions = consumer.consume(queue: Topology.schedulerRPCQueue, prefetch: 50)
        let (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let (failures, failure) = AsyncStream.makeStream(of: (SchedulingState.Decision, any Error).self)
        dispatchSignal = signal
        dispatchFailure = failure
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await delivery in jobEvents.cancelOnGracefulShutdown() { await self.handleEvent(delivery) }
            }
            group.addTask {
                for await delivery in heartbeats.cancelOnGracefulShutdown() { await self.handleHeartbeat(delivery) }
            }
            group.addTask {
                for await delivery in questions.cancelOnGracefulShutdown() { await self.answer(delivery) }
            }
            // Dispatches are decided once for all that happened since the last time: under load, the
            // events of a moment become one decision and one message per worker.
            group.addTask {
                let clock = ContinuousClock()
                var lastDispatch = clock.now - .seconds(1)
                for await _ in signals {
                    // Under load, at most one dispatch every `dispatchInterval`; at once while nothing runs.
                    let wait = await self.dispatchWait(sinceLastDispatch: clock.now - lastDispatch)
                    if wait > .zero { try? await Task.sleep(for: wait) }
                    if await self.dispatchReady() > 0 { lastDispatch = clock.now }
                }
            }
            group.addTask {
                for await (decision, error) in failures { await self.undo(decision, error: error) }
            }
            group.addTask { await self.loadRemainingPages() }
            group.addTask {
                var tick = 0
                while (try? await Task.sleep(for: .seconds(1))) != nil, !Task.isShuttingDownGracefully {
                    guard self.leader.isConnected else { break }
                    if tick % 5 == 0 { await self.sampleMetrics() }
                    tick += 1
                    await self.checkNotTakenUp()
                    await self.expireSilentWorkers()
                    await self.requestDispatch()  // what could not be dispatched before is tried again
                }
                jobEvents.cancel()
                heartbeats.cancel()
                questions.cancel()
                signal.finish()
                failure.finish()
            }
        }
        metrics.inactive()
        dispatchSignal = nil
        dispatchFailure = nil
    }

    /// Asks for a dispatch decision soon (once for every request made before it runs).
    private var dispatchSignal: AsyncStream<Void>.Continuation?
    /// Dispatches the broker did not take, to undo.
    private var dispatchFailure: AsyncStream<(SchedulingState.Decision, any Error)>.Continuation?

    private func dispatchWait(sinceLastDispatch since: Duration) -> Duration {
        state.dispatchWait(sinceLastDispatch: since, interval: dispatchInterval)
    }

    private func requestDispatch() {
        dispatchSignal?.yield()
    }

    /// Loads the first page of queued and running jobs from metadata (retrying until metadata
    /// answers); dispatching starts after it, while ``loadRemainingPages()`` loads the rest.
    private func rebuild() async throws {
        let page = try await activePage(after: nil)
        apply(page)
        rebuildCursor = page.next
        logger.info(
            "queue rebuilt from its first page",
            metadata: ["queued": "\(page.queued.count)", "running": "\(page.running.count)", "more": "\(page.next != nil)"])
    }

    /// The page of active jobs the rebuild continues from (nil: the rebuild is complete).
    private var rebuildCursor: UUID?
    static let rebuildPageSize = 5_000

    /// Loads the pages of active jobs after the first, each applied as it arrives.
    private func loadRemainingPages() async {
        var pages = 1
        while let after = rebuildCursor, !Task.isCancelled {
            guard let page = try? await activePage(after: after) else { return }
            apply(page)
            rebuildCursor = page.next
            pages += 1
            requestDispatch()
        }
        guard pages > 1 else { return }
        // The pages' decoding left freed memory in the allocator's arenas: give it back to the system.
        #if os(Linux)
        _ = releaseFreedMemory(0)
        #endif
        logger.info("queue rebuilt", metadata: ["pages": "\(pages)", "queued": "\(state.queuedCount)", "running": "\(state.runningCount)"])
    }

    private func activePage(after: UUID?) async throws -> ActiveJobs {
        var delay = Duration.milliseconds(200)
        while true {
            do {
                return try await metadata.call(ListActiveJobs(after: after, limit: Self.rebuildPageSize))
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { throw CancellationError() }
                logger.info("waiting for metadata to rebuild the queue", metadata: ["error": "\(error)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            }
        }
    }

    private func apply(_ page: ActiveJobs) {
        let now = Date()
        for event in page.queued { state.enqueue(event) }
        for job in page.running {
            if let worker = job.workerId {
                state.recordRunning(
                    jobId: job.jobId, jobType: job.jobType, attempt: job.attempt, workerId: worker, now: now,
                    priority: job.priority ?? JobDefinition.defaultPriority, submittedAt: job.submittedAt, owner: job.owner ?? "anonymous",
                    resources: job.resources)
            }
        }
    }

    /// Publishes a work message (a dispatch or a cancellation) to one worker's queue, confirmed.
    private func publishWork<Payload: MessagePayload>(_ payload: Payload, jobId: UUID, to workerId: String) async throws {
        let envelope = Envelope(payload, correlationId: jobId.uuidString)
        try await publisher.publish(
            OutgoingMessage(
                exchange: Topology.workExchange, routingKey: workerId, body: try envelope.encoded(),
                messageId: envelope.messageId.uuidString, type: Payload.messageType))
    }

    /// Takes a message of job events: one event, or the batch of a transaction (``MessageBatch``).
    private func handleEvent(_ delivery: AMQPDelivery) async {
        let bodies = delivery.contentType == MessageBatch.contentType ? MessageBatch.split(delivery.body) : [delivery.body]
        var events: [JobEvent] = []
        for body in bodies {
            if let event = try? Envelope<JobEvent>.decode(body).payload {
                events.append(event)
            } else {
                logger.error("malformed job event", metadata: ["body": "\(String(decoding: body.prefix(200), as: UTF8.self))"])
            }
        }
        guard !events.isEmpty || bodies.isEmpty else {
            consumer.nack(delivery, requeue: false)
            return
        }
        for event in events {
            if event.status == .queued {
                state.enqueue(event)
            } else if event.status.isTerminal {
                if event.status == .cancelled, let assignment = state.assignment(event.jobId) {
                    await tellWorkerToStop(assignment)
                }
                state.finished(event.jobId, event: event)
            }
        }
        consumer.ack(delivery)
        requestDispatch()
    }

    private func handleHeartbeat(_ delivery: AMQPDelivery) async {
        var abandoned: [SchedulingState.Assignment] = []
        if let heartbeat = try? Envelope<Heartbeat>.decode(delivery.body).payload {
            abandoned = state.heartbeat(heartbeat, now: Date())
        } else {
            logger.warning("malformed heartbeat dropped")
        }
        consumer.ack(delivery)
        // Metadata is asked about these on the next tick, never inside the heartbeat loop.
        notTakenUp.append(contentsOf: abandoned)
        requestDispatch()
    }

    /// Samples the queue, the workers and their capacity into the metrics' gauges.
    private func sampleMetrics() {
        let now = Date()
        metrics.sample(state.summary(now: now), oldestSubmitted: state.oldestSubmitted(), now: now)
    }

    /// Answers a question about the queue (``SchedulerCall``) from the current state.
    private func answer(_ delivery: AMQPDelivery) {
        guard let replyTo = delivery.replyTo else {
            consumer.nack(delivery, requeue: false)
            return
        }
        let now = Date()
        let start = DispatchTime.now()
        let type = EnvelopeHeader.type(of: delivery.body)
        defer { RPCMetrics.server.record(type ?? "unknown", since: start) }
        let reply: Data
        switch type {
        case GetQueuePositions.messageType:
            reply = Self.reply(Result { () throws -> QueuePositions in
                let question = try Envelope<GetQueuePositions>.decode(delivery.body).payload
                var positions: [String: QueuePosition] = [:]
                for jobId in question.jobIds.prefix(GetQueuePositions.maxJobs) {
                    if let position = state.position(of: jobId, now: now) { positions[jobId.uuidString.lowercased()] = position }
                }
                return QueuePositions(positions: positions)
            })
        case GetQueueSummary.messageType:
            reply = Self.reply(Result { state.summary(now: now) })
        default:
            reply = Self.reply(Result<JSONValue, any Error>.failure(RPCFailure(code: .invalid, message: "unknown question to the scheduler")))
        }
        publisher.publish(
            OutgoingMessage(
                exchange: "", routingKey: replyTo, body: reply, persistent: false, correlationId: delivery.correlationId,
                type: "metadata.reply")
        ) { _ in }
        consumer.ack(delivery)
    }

    private static func reply<T: Codable & Sendable>(_ result: Result<T, any Error>) -> Data {
        let reply: RPCReply<T>
        switch result {
        case .success(let value): reply = RPCReply(result: value)
        case .failure(let error as RPCFailure): reply = RPCReply(error: error)
        case .failure(let error): reply = RPCReply(error: RPCFailure(code: .invalid, message: "\(error)"))
        }
        return (try? Envelope(reply).encoded()) ?? Data()
    }

    /// Dispatches a live worker does not list (past the grace period), waiting to be checked.
    private var notTakenUp: [SchedulingState.Assignment] = []

    /// A live worker that does not run a dispatched attempt either finished it (its report is on the
    /// way) or never claimed it. Only in the second case, when metadata still has the job QUEUED, does
    /// it go back in the local queue; metadata is never asked to re-queue the attempt of a live worker.
    private func checkNotTakenUp() async {
        let pending = notTakenUp
        notTakenUp = []
        for assignment in pending {
            do {
                if try await metadata.call(GetJob(jobId: assignment.jobId)).status == .queued {
                    logger.info(
                        "re-queueing a dispatch its worker never took up",
                        metadata: ["workerId": "\(assignment.workerId)", "jobId": "\(assignment.jobId)"])
                    state.requeueLocally(assignment)
                }
            } catch {
                if notTakenUp.count < 10_000 { notTakenUp.append(assignment) }
            }
        }
        if !pending.isEmpty { requestDispatch() }
    }

    /// Publishes every dispatch the state decides on now, without waiting for the broker: one
    /// message per worker (a batch, for a worker that takes them); what the broker does not take is
    /// undone, and those jobs wait for the next decision.
    /// Returns how many jobs were dispatched.
    @discardableResult
    private func dispatchReady() -> Int {
        let start = DispatchTime.now()
        let decisions = state.nextDispatches(now: Date())
        guard !decisions.isEmpty else { return 0 }
        metrics.decided(decisions.map(\.jobType), since: start)
        var byWorker: [String: [SchedulingState.Decision]] = [:]
        var order: [String] = []
        for decision in decisions {
            if byWorker[decision.workerId] == nil { order.append(decision.workerId) }
            byWorker[decision.workerId, default: []].append(decision)
        }
        for workerId in order {
            let batch = byWorker[workerId]!
            let groups = state.acceptsBatches(workerId) ? [batch] : batch.map { [$0] }
            for group in groups {
                do {
                    let envelopes = try group.map { decision in
                        try Envelope(
                            Dispatch(jobId: decision.jobId, attempt: decision.attempt, workerId: decision.workerId, jobType: decision.jobType),
                            correlationId: decision.jobId.uuidString
                        ).encoded()
                    }
                    let single = envelopes.count == 1
                    let failure = dispatchFailure
                    publisher.publish(
                        OutgoingMessage(
                            exchange: Topology.workExchange, routingKey: workerId,
                            body: single ? envelopes[0] : MessageBatch.join(envelopes),
                            contentType: single ? "application/json" : MessageBatch.contentType,
                            messageId: UUID().uuidString, type: Dispatch.messageType)
                    ) { result in
                        if case .failure(let error) = result {
                            for decision in group { failure?.yield((decision, error)) }
                        }
                    }
                } catch {
                    for decision in group { undo(decision, error: error) }
                }
            }
        }
        return decisions.count
    }

    /// Asks the worker running a cancelled job's attempt to stop it.
    private func tellWorkerToStop(_ assignment: SchedulingState.Assignment) async {
        let cancel = CancelAttempt(jobId: assignment.jobId, attempt: assignment.attempt, workerId: assignment.workerId)
        for attempt in 1...5 {
            do {
                try await publishWork(cancel, jobId: cancel.jobId, to: assignment.workerId)
                return
            } catch {
                logger.warning(
                    "could not tell the worker to stop a cancelled job",
                    metadata: ["jobId": "\(cancel.jobId)", "try": "\(attempt)", "error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
    }

    private func undo(_ decision: SchedulingState.Decision, error: any Error) {
        logger.warning("dispatch failed; job stays queued", metadata: ["jobId": "\(decision.jobId)", "error": "\(error)"])
        metrics.dispatchFailed()
        state.undo(decision)
    }

    /// The last time the scheduler itself could not hear heartbeats (its broker connection was down).
    private var deafSince = Date()

    private func expireSilentWorkers() async {
        let now = Date()
        // Silence only counts while the scheduler can hear: after its own outage, every worker gets a
        // full timeout to be heard again before it is presumed dead.
        guard consumer.isConnected else {
            deafSince = now
            return
        }
        guard now.timeIntervalSince(deafSince) > workerTimeout else { return }
        let lost = state.expireWorkers(now: now, timeout: workerTimeout)
        await recover(lost, reason: "its worker stopped sending heartbeats")
        if !lost.isEmpty { requestDispatch() }
    }

    /// Puts attempts that no worker runs back in the queue: through metadata when the job was
    /// claimed (QUEUED again, the old attempt fenced off), locally when it never was.
    private func recover(_ assignments: [SchedulingState.Assignment], reason: String) async {
        for assignment in assignments {
            logger.warning(
                "re-queueing a job: \(reason)",
                metadata: ["workerId": "\(assignment.workerId)", "jobId": "\(assignment.jobId)", "attempt": "\(assignment.attempt)"])
            do {
                let result = try await metadata.call(
                    RequeueJob(jobId: assignment.jobId, attempt: assignment.attempt, reason: "worker \(assignment.workerId): \(reason)"))
                if !result.requeued, try await metadata.call(GetJob(jobId: assignment.jobId)).status == .queued {
                    state.requeueLocally(assignment)
                }
            } catch {
                logger.error("re-queue failed; retried at the next heartbeat", metadata: ["jobId": "\(assignment.jobId)", "error": "\(error)"])
                state.recordRunning(
                    jobId: assignment.jobId, jobType: assignment.jobType, attempt: assignment.attempt,
                    workerId: assignment.workerId, now: assignment.since, priority: assignment.priority,
                    submittedAt: assignment.submittedAt, owner: assignment.owner, resources: assignment.resources)
            }
        }
    }
}

#if os(Linux)
/// glibc's `malloc_trim` (not in the Glibc module's headers): returns the allocator's free memory to the system.
@_silgen_name("malloc_trim")
private func releaseFreedMemory(_ pad: Int) -> Int32
#endif
