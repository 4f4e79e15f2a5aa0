import AMQPClient
import ConveyorModels
import Foundation
import Logging
import Messaging
import Metrics
import ServiceKit
import ServiceLifecycle

/// Everything a worker does besides running the job: announces itself with heartbeats (its job
/// types, slots and running attempts), takes dispatches from its own queue, records its claim with
/// metadata before acking (so no delivery stays unacked while a job runs), runs the job, streams its
/// log and reports how it ended.
///
/// On graceful shutdown it announces that it is draining, stops taking work and lets running jobs
/// finish.
public actor WorkerRuntime: Service {
    public nonisolated let workerId: String
    private let executor: any JobExecutor
    private let slots: Int
    /// What this worker offers its jobs in all, announced in every heartbeat.
    private let capacity: WorkerCapacity
    private let heartbeatInterval: Duration
    /// How long a claim and each renewal hold an attempt (`worker.leaseSeconds`): renewed every third
    /// of it; an attempt whose lease could not be renewed is stopped before it ends.
    private let leaseSeconds: Int
    /// When each running attempt's lease ends, as far as this worker knows.
    private var leases: [UUID: (attempt: Int, until: ContinuousClock.Instant)] = [:]
    /// Attempts stopped because their lease could not be renewed: metadata re-queues them when the
    /// lease expires, so they are not reported.
    private var leaseLost: Set<UUID> = []
    private let consumer: AMQPConnection
    private let publisher: AMQPConnection
    private let reports: ReportSender
    private let metadata: MetadataClient
    private let logger: Logger
    /// The attempts this worker holds, listed in every heartbeat: from the claim until the broker
    /// confirmed the finished report (so the scheduler keeps their assignment until then).
    private var running: [UUID: (attempt: Int, jobType: JobType)] = [:] {
        didSet { if running.isEmpty { resumeIdleWaiters() } }
    }
    /// Who waits for the worker to hold no attempt (its drain at shutdown).
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    /// How long a stopping worker lets its attempts finish (`worker.drainSeconds`) before it stops
    /// them and leaves them to be re-queued.
    private let drainTimeout: Duration
    /// Attempts that ended and whose finished report is on its way. They no longer take a slot:
    /// metadata may apply the report, and the scheduler dispatch the next job here, before this
    /// worker hears the broker's confirm. They stay in `running` (heartbeats list them, and a
    /// redelivered dispatch of one is refused).
    private var reporting: [UUID: Int] = [:]
    /// The attempt each job this worker runs is at, and how to stop it (a cancellation, a lost lease).
    private var executions: [UUID: (attempt: Int, stop: AttemptStop)] = [:]
    /// Cancellations that arrived before their attempt started.
    private var pendingCancels: [UUID: Int] = [:]
    private let objects = ObjectCache()
    private var draining = false
    /// The most of an attempt's log that leaves this host (`metadata.logCapBytes`, as metadata keeps).
    private let logCapBytes: Int

    /// Builds a worker's services around an executor.
    ///
    /// Reads `amqp.*`, `<pool>.slots` (default 2), `<pool>.cpus`, `<pool>.memoryMB` and `<pool>.gpus`
    /// (default: what the host has, see ``HostCapacity``), `worker.heartbeatSeconds` (default 3),
    /// `worker.leaseSeconds` (default 12), `worker.drainSeconds` (default 600: how long a stopping
    /// worker lets its attempts finish), `metadata.logCapBytes` (8 MiB: the log is cut here, before
    /// it leaves the host) and `<pool>.health.port`.
    public static func build(
        pool: String, executor: any JobExecutor, settings: ConveyorSettings, defaultHealthPort: Int, logger: Logger
    ) throws -> [any Service] {
        let workerId = "\(pool)-\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID().uuidString.prefix(6).lowercased())"
        var logger = logger
        logger[metadataKey: "workerId"] = "\(workerId)"
        let consumer = try AMQPConnection(
            name: "\(pool)-consume", configuration: settings.amqp, topology: Topology.workerDeclarations(workerId), logger: logger)
        let publisher = try AMQPConnection(
            name: "\(pool)-publish", configuration: settings.amqp, topology: Topology.exchangeDeclarations, logger: logger)
        let metadata = try MetadataClient(name: "\(pool)-rpc", settings: settings, logger: logger)
        let reports = ReportSender(publisher: publisher, logger: logger)
        let runtime = WorkerRuntime(
            pool: pool, workerId: workerId, executor: executor, slots: max(1, settings.int("\(pool).slots", default: 2)),
            capacity: WorkerCapacity(
                cpus: settings.int("\(pool).cpus", default: HostCapacity.cpus), memoryMB: settings.int("\(pool).memoryMB", default: HostCapacity.memoryMB),
                gpus: settings.int("\(pool).gpus", default: HostCapacity.gpus)),
            heartbeatInterval: .seconds(settings.int("worker.heartbeatSeconds", default: 3)),
            leaseSeconds: max(3, settings.int("worker.leaseSeconds", default: 12)),
            drainTimeout: .seconds(max(0, settings.int("worker.drainSeconds", default: 600))),
            logCapBytes: max(1024, settings.int("metadata.logCapBytes", default: 8 * 1024 * 1024)), consumer: consumer,
            publisher: publisher, reports: reports, metadata: metadata, logger: logger)
        let health = HealthServer.make(
            service: pool, settings: settings, defaultPort: defaultHealthPort,
            checks: [HealthCheck("amqp") { consumer.isConnected && publisher.isConnected && metadata.isConnected }],
            logger: logger)
        // Stopped in reverse order: the runtime first (its jobs finish and report), then the reports.
        return [consumer, publisher, metadata, reports.batcher, runtime, health]
    }

    init(
        pool: String = "worker", workerId: String, executor: any JobExecutor, slots: Int, capacity: WorkerCapacity, heartbeatInterval: Duration,
        leaseSeconds: Int = 30, drainTimeout: Duration = .seconds(600), logCapBytes: Int = 8 * 1024 * 1024, consumer: AMQPConnection,
        publisher: AMQPConnection, reports: ReportSender, metadata: MetadataClient, logger: Logger
    ) {
        self.leaseSeconds = leaseSeconds
        self.drainTimeout = drainTimeout
        self.logCapBytes = logCapBytes
        slotGauges = (
            Gauge(label: "conveyor_worker_slots", dimensions: [("pool", pool)]), Gauge(label: "conveyor_worker_slots_in_use", dimensions: [("pool", pool)])
        )
        self.workerId = workerId
        self.executor = executor
        self.slots = slots
        self.capacity = capacity
        self.heartbeatInterval = heartbeatInterval
        self.consumer = consumer
        self.publisher = publisher
        self.reports = reports
        self.metadata = metadata
        self.logger = logger
    }

    public func run() async throws {
        try await executor.prepare(workerId: workerId)
        try await consumer.waitUntilConnected()
        let dispatches = consumer.consume(queue: Topology.workerQueue(workerId), prefetch: slots * 2)
        logger.info("worker ready", metadata: ["jobTypes": "\(executor.jobTypes.map(\.rawValue))", "slots": "\(slots)"])
        await withDiscardingTaskGroup { group in
            group.addTask {
                while !Task.isCancelled {
                    await self.sendHeartbeat()
                    if (try? await Task.sleep(for: self.heartbeatInterval)) == nil { break }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    if (try? await Task.sleep(for: .seconds(max(1, self.leaseSeconds / 3)))) == nil { break }
                    await self.renewLeases()
                }
            }
            group.addTask {
                // Apart from the renewals (a renewal may hang until its timeout): every second.
                while !Task.isCancelled {
                    if (try? await Task.sleep(for: .seconds(1))) == nil { break }
                    await self.stopAttemptsWithoutLease()
                }
            }
            for await delivery in dispatches.cancelOnGracefulShutdown() {
                group.addTask { await self.receive(delivery) }
            }
            // Graceful shutdown: take no more work, let running jobs finish (for at most the drain
            // timeout: then they are stopped and left to be re-queued), then stop heartbeats.
            await self.startDraining()
            dispatches.cancel()
            await withTaskGroup(of: Void.self) { drain in
                drain.addTask {
                    guard (try? await Task.sleep(for: self.drainTimeout)) != nil else { return }
                    await self.stopAttemptsAtDrainTimeout()
                }
                await self.waitUntilIdle()
                drain.cancelAll()
            }
            group.cancelAll()
        }
    }


    /// Returns once the worker holds no attempt.
    private func waitUntilIdle() async {
        guard !running.isEmpty else { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    private func resumeIdleWaiters() {
        let waiters = idleWaiters
        idleWaiters = []
        waiters.forEach { $0.resume() }
    }

    /// The drain took too long: the attempts still running are stopped, not reported (as when their
    /// lease is lost), and metadata re-queues them when their leases expire.
    private func stopAttemptsAtDrainTimeout() {
        for (jobId, execution) in executions where !leaseLost.contains(jobId) {
            logger.warning(
                "stopping: an attempt did not finish within worker.drainSeconds; it is stopped and will run again elsewhere",
                metadata: ["jobId": "\(jobId)", "attempt": "\(execution.attempt)", "drainSeconds": "\(drainTimeout.components.seconds)"])
            stopUnreported(jobId, execution.stop)
        }
    }

    /// Stops an attempt that will not be reported (``leaseLost``): metadata re-queues it when its lease expires.
    private func stopUnreported(_ jobId: UUID, _ stop: AttemptStop) {
        leaseLost.insert(jobId)
        stop.request()
    }

    /// The attempts that take a slot: those held, less those that ended and are being reported.
    var slotsInUse: Int { running.filter { reporting[$0.key] != $0.value.attempt }.count }

    /// Forgets an attempt this worker held (a later attempt of the same job may have taken its place).
    private func release(_ jobId: UUID, attempt: Int) {
        if reporting[jobId] == attempt { reporting[jobId] = nil }
        if running[jobId]?.attempt == attempt { running[jobId] = nil }
    }

    private func startDraining() async {
        draining = true
        await sendHeartbeat()
    }

    /// `conveyor_worker_slots{pool}` and `conveyor_worker_slots_in_use{pool}`, set with every heartbeat.
    private let slotGauges: (total: Gauge, inUse: Gauge)

    private func sendHeartbeat() async {
        slotGauges.total.record(slots)
        slotGauges.inUse.record(slotsInUse)
        let heartbeat = Heartbeat(
            workerId: workerId, jobTypes: executor.jobTypes, slots: slots,
            running: running.map { RunningJob(jobId: $0.key, attempt: $0.value.attempt, jobType: $0.value.jobType) }, draining: draining,
            sentAt: Date(), acceptsBatches: true, capacity: capacity)
        do {
            try await publisher.publish(
                OutgoingMessage(
                    exchange: "", routingKey: Topology.schedulerHeartbeatsQueue, body: try Envelope(heartbeat).encoded(),
                    persistent: false, type: Heartbeat.messageType,
                    expirationMilliseconds: Int(heartbeatInterval.components.seconds * 3000)))
        } catch {
            logger.debug("heartbeat not sent", metadata: ["error": "\(error)"])
        }
    }

    /// Stops the attempt a `work.cancel` names (its process group is killed) if it runs here.
    private func stop(_ cancel: CancelAttempt) {
        guard let execution = executions[cancel.jobId], execution.attempt == cancel.attempt else {
            // The attempt may not have started yet (its claim reply is on the way): remember it.
            if pendingCancels.count > 1000 { pendingCancels.removeAll() }
            pendingCancels[cancel.jobId] = cancel.attempt
            return
        }
        logger.info("stopping a cancelled job", metadata: ["jobId": "\(cancel.jobId)", "attempt": "\(cancel.attempt)"])
        execution.stop.request()
    }

    /// Takes one message of the worker's queue: a dispatch, a cancellation, or a batch of dispatches.
    /// Every dispatch is claimed (the claims of a batch travel together), then the message is acked,
    /// and the claimed attempts run.
    private func receive(_ delivery: AMQPDelivery) async {
        let bodies = delivery.contentType == MessageBatch.contentType ? MessageBatch.split(delivery.body) : [delivery.body]
        var dispatches: [Dispatch] = []
        for body in bodies {
            if EnvelopeHeader.type(of: body) == CancelAttempt.messageType {
                if let cancel = try? Envelope<CancelAttempt>.decode(body).payload { stop(cancel) } else { logger.error("malformed cancellation dropped") }
                continue
            }
            do {
                dispatches.append(try Envelope<Dispatch>.decode(body).payload)
            } catch {
                logger.error("malformed dispatch", metadata: ["error": "\(error)"])
                if bodies.count == 1 {
                    consumer.nack(delivery, requeue: false)
                    return
                }
            }
        }
        // A worker takes no more than its slots: dispatches beyond them are dropped (the scheduler
        // takes them back when no heartbeat lists them).
        let free = max(0, slots - slotsInUse)
        if dispatches.count > free {
            logger.warning(
                "dispatches beyond this worker's slots dropped",
                metadata: ["dropped": "\(dispatches.count - free)", "slots": "\(slots)", "inUse": "\(slotsInUse)"])
            dispatches = Array(dispatches.prefix(free))
        }
        let claims = await withTaskGroup(of: (Dispatch, ClaimOutcome).self) { group in
            for dispatch in dispatches {
                group.addTask { (dispatch, await self.claim(dispatch)) }
            }
            var claims: [(Dispatch, ClaimOutcome)] = []
            for await claim in group { claims.append(claim) }
            return claims
        }
        if claims.contains(where: { if case .unreachable = $0.1 { true } else { false } }) {
            // Metadata did not answer: the message comes back (the attempts claimed meanwhile are
            // dropped then, as already held).
            try? await Task.sleep(for: .seconds(1))
            consumer.nack(delivery, requeue: true)
        } else {
            consumer.ack(delivery)
        }
        await withDiscardingTaskGroup { group in
            for case (let dispatch, .granted(let definition)) in claims {
                group.addTask { await self.run(dispatch, definition) }
            }
        }
    }

    /// How long a claim is retried while metadata does not answer.
    static let claimPatience: Duration = .seconds(300)

    private enum ClaimOutcome {
        case granted(JobDefinition)
        case refused
        case unreachable
    }

    /// Records this worker's claim on a dispatched attempt with metadata.
    private func claim(_ dispatch: Dispatch) async -> ClaimOutcome {
        // A redelivered copy of a dispatch this worker already took (say, after a broker restart):
        // the attempt runs here once.
        guard running[dispatch.jobId]?.attempt != dispatch.attempt else { return .refused }
        running[dispatch.jobId] = (dispatch.attempt, dispatch.jobType)
        let claim: ClaimResult
        let claimedAt = ContinuousClock.now
        do {
            // The same claim again is granted again, so a claim whose reply was lost (a broker restart)
            // is simply made again. Meanwhile a redelivered copy of the dispatch is dropped above, and
            // heartbeats list the attempt, so the scheduler keeps it here.
            claim = try await metadata.callRetrying(
                ClaimJob(jobId: dispatch.jobId, attempt: dispatch.attempt, workerId: workerId, leaseSeconds: leaseSeconds),
                patience: Self.claimPatience)
        } catch {
            release(dispatch.jobId, attempt: dispatch.attempt)
            logger.warning("claim failed; dispatch requeued", metadata: ["jobId": "\(dispatch.jobId)", "error": "\(error)"])
            return .unreachable
        }
        guard claim.granted, var definition = claim.definition else {
            release(dispatch.jobId, attempt: dispatch.attempt)
            logger.info("claim refused", metadata: ["jobId": "\(dispatch.jobId)", "reason": "\(claim.reason ?? "")"])
            return .refused
        }
        // A retry may run with more memory or time than the definition asks for.
        if let resources = claim.resources { definition.resources = resources }
        leases[dispatch.jobId] = (dispatch.attempt, claimedAt + .seconds(leaseSeconds))
        return .granted(definition)
    }

    /// Renews the leases of the running attempts, and stops the attempts metadata says are no longer
    /// this worker's.
    private func renewLeases() async {
        let sentAt = ContinuousClock.now
        let held = leases
        if !held.isEmpty {
            do {
                let result = try await metadata.call(
                    RenewLeases(workerId: workerId, leaseSeconds: leaseSeconds, attempts: held.map { RunningJob(jobId: $0.key, attempt: $0.value.attempt) }),
                    timeout: .seconds(max(1, leaseSeconds / 3)))
                for jobId in result.renewed {
                    if let lease = leases[jobId], lease.attempt == held[jobId]?.attempt { leases[jobId] = (lease.attempt, sentAt + .seconds(leaseSeconds)) }
                }
                for jobId in result.lost {
                    guard let execution = executions[jobId], execution.attempt == held[jobId]?.attempt else { continue }
                    logger.warning("attempt no longer this worker's (re-queued, cancelled or ended): stopping it", metadata: ["jobId": "\(jobId)"])
                    execution.stop.request()
                }
            } catch {
                logger.warning("leases not renewed", metadata: ["error": "\(error)", "attempts": "\(held.count)"])
            }
        }
    }

    /// Stops, with a margin before their lease ends, the attempts whose lease was not renewed: from
    /// then on metadata may give them to another worker.
    private func stopAttemptsWithoutLease() {
        let margin = Duration.seconds(max(2, leaseSeconds / 6))
        for (jobId, lease) in leases where ContinuousClock.now + margin >= lease.until {
            guard let execution = executions[jobId], execution.attempt == lease.attempt, !leaseLost.contains(jobId) else { continue }
            logger.error("the lease of an attempt could not be renewed: stopping it", metadata: ["jobId": "\(jobId)", "attempt": "\(lease.attempt)"])
            stopUnreported(jobId, execution.stop)
        }
    }

    /// Runs a claimed attempt and reports how it ended, with the end of its log.
    private func run(_ dispatch: Dispatch, _ definition: JobDefinition) async {
        let job = ClaimedJob(
            jobId: dispatch.jobId, attempt: dispatch.attempt, workerId: workerId, definition: definition,
            metadata: { [metadata, objects] selector in
                try await objects.object(selector) { selector in
                    try await metadata.callRetrying(GetObject(selector: selector), patience: .seconds(300))
                }
            })
        let log = JobLogWriter(jobId: dispatch.jobId, attempt: dispatch.attempt, workerId: workerId, reports: reports, cap: logCapBytes)
        // The attempt runs in a group of its own, beside a wait for a stop request: a stop cancels
        // exactly this attempt's work, which then ends (its process group killed) and answers. Its
        // log keeps being flushed until then.
        let stop = AttemptStop()
        executions[dispatch.jobId] = (dispatch.attempt, stop)
        if pendingCancels.removeValue(forKey: dispatch.jobId) == dispatch.attempt { stop.request() }
        var ended: Result<JobOutcome, any Error> = .failure(CancellationError())
        await withDiscardingTaskGroup { flushing in
            flushing.addTask { await log.flushPeriodically() }
            await withTaskGroup(of: Result<JobOutcome, any Error>?.self) { attempt in
                attempt.addTask { [executor] in await Result.of { try await executor.execute(job, log: log) } }
                attempt.addTask {
                    await stop.wait()
                    return nil
                }
                while let next = await attempt.next() {
                    if let result = next {
                        ended = result
                        break
                    }
                    // A stop was requested (or the worker itself is cancelled): the work is cancelled.
                    attempt.cancelAll()
                }
                attempt.cancelAll()
            }
            flushing.cancelAll()
        }
        // The worker itself was cancelled (another of its services ended): the attempt was stopped
        // without a stop request, so it is left, unreported, to be re-queued when its lease expires.
        if Task.isCancelled && !stop.isRequested { leaseLost.insert(dispatch.jobId) }
        var outcome: JobOutcome
        switch ended {
        case .success(let finished):
            outcome = finished
        case .failure(let error):
            await log.line("error: \(error)")
            outcome = JobOutcome(status: .failed, message: "\(error)", exitCode: nil, objects: [], logBytes: 0, failure: AttemptFailure(kind: .error))
        }
        executions[dispatch.jobId] = nil
        if stop.isRequested {
            outcome = JobOutcome(status: .cancelled, message: "stopped on cancellation", exitCode: nil, objects: [], logBytes: 0)
        }
        leases[dispatch.jobId] = nil
        if leaseLost.remove(dispatch.jobId) != nil {
            // Metadata re-queues it when its lease expires; a report could only contradict that.
            logger.warning("attempt stopped without a lease; not reported", metadata: ["jobId": "\(dispatch.jobId)", "attempt": "\(dispatch.attempt)"])
            release(dispatch.jobId, attempt: dispatch.attempt)
            return
        }
        outcome.logBytes = await log.size
        outcome.log = await log.takeRest()
        reporting[dispatch.jobId] = dispatch.attempt
        await reports.send(JobReport(jobId: dispatch.jobId, attempt: dispatch.attempt, workerId: workerId, kind: .finished(outcome)))
        logger.info(
            "job finished", metadata: ["jobId": "\(dispatch.jobId)", "status": "\(outcome.status.rawValue)"])
        release(dispatch.jobId, attempt: dispatch.attempt)
    }
}
