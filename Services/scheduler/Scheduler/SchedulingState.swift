import ConveyorModels
import Foundation
import HeapModule

/// The queue discipline, as pure state: the queued jobs, the workers known from heartbeats with
/// their capacity, and which attempt runs where; ``nextDispatches(now:)`` decides what starts.
///
/// The rules (``SchedulingPolicy``; docs/scheduling.md):
/// - **Order.** A job's effective priority is its priority plus what it gained by waiting (aging);
///   higher goes first, across every job type a worker serves. Among jobs whose effective priorities
///   are equal (the same whole number), the owner with the least recent usage goes first (fair
///   share), then the earlier submission.
/// - **Packing.** A job starts on a worker serving its type with enough free cpus, memory, gpus and
///   a free slot; of those, the one it fills best (its largest share of what the worker has left).
/// - **Reservation and backfill.** The first job in that order that fits nowhere now (but fits a
///   worker's total capacity) holds a reservation: the worker where enough frees up soonest, by the
///   running jobs' expected ends. A later job may still start on that worker only if it ends before
///   then (its `maxRunSeconds`), or if what it takes is not needed by the reserved job.
/// - **Limits.** Per job type, the most running at once and on how many workers; per owner, the
///   most running at once.
/// - A job that fits no worker that exists waits with a reason (``waitingReason(_:)``).
///
/// It never performs I/O; ``SchedulerService`` feeds it events and heartbeats and carries out what
/// it decides (dispatches and re-queues). That keeps every rule unit-testable.
public struct SchedulingState: Sendable {
    /// A job waiting to start. Kept small (a million of them must fit in a few hundred MB): the
    /// optional parts are packed into fixed-size fields, with accessors in their usual form.
    struct QueuedJob: Sendable {
        var jobId: UUID
        /// Seconds since 1970.
        var submittedAt: Double
        var owner: String
        /// The model (or flow) it runs (all zero: none).
        private var model: UUID
        /// A retry's backoff (NaN: none).
        private var notBeforeValue: Double
        /// `resources`, packed: each part 0 when absent (gpus: `UInt16.max`, since 0 gpus may be asked for).
        private var cpus: UInt16
        private var gpus: UInt16
        private var memoryMB: UInt32
        private var maxRunSeconds: UInt32
        private var attemptValue: UInt32
        private var priorityValue: UInt8
        var jobType: JobType
        /// Set aside: it fits no worker that exists (it has no heap entry).
        var isParked = false

        init(
            jobId: UUID, jobType: JobType, priority: Int, submittedAt: Double, attempt: Int, owner: String, resources: ResourceRequirements?,
            notBefore: Double? = nil, modelId: UUID? = nil
        ) {
            self.jobId = jobId
            self.jobType = jobType
            self.submittedAt = submittedAt
            self.owner = owner
            model = modelId ?? Self.none
            notBeforeValue = notBefore ?? .nan
            cpus = UInt16(clamping: resources?.cpus ?? 0)
            gpus = resources?.gpus.map { UInt16(clamping: $0) } ?? .max
            memoryMB = UInt32(clamping: resources?.memoryMB ?? 0)
            maxRunSeconds = UInt32(clamping: resources?.maxRunSeconds ?? 0)
            attemptValue = UInt32(clamping: attempt)
            priorityValue = UInt8(clamping: priority)
        }

        private static let none = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

        var priority: Int { Int(priorityValue) }
        /// The attempt metadata last recorded; the next dispatch uses `attempt + 1`.
        var attempt: Int { Int(attemptValue) }
        var modelId: UUID? { model == Self.none ? nil : model }
        /// A retry waits out its backoff: not dispatched before this time (seconds since 1970).
        var notBefore: Double? {
            get { notBeforeValue.isNaN ? nil : notBeforeValue }
            set { notBeforeValue = newValue ?? .nan }
        }
        var resources: ResourceRequirements? {
            guard cpus != 0 || gpus != .max || memoryMB != 0 || maxRunSeconds != 0 else { return nil }
            return ResourceRequirements(
                cpus: cpus == 0 ? nil : Int(cpus), memoryMB: memoryMB == 0 ? nil : Int(memoryMB), gpus: gpus == .max ? nil : Int(gpus),
                maxRunSeconds: maxRunSeconds == 0 ? nil : Int(maxRunSeconds))
        }
    }

    /// A retry waiting for its backoff to pass, ordered by when it may start (soonest first).
    struct Delayed: Comparable, Sendable {
        var notBefore: Double
        var jobId: UUID
        var attempt: Int

        static func < (lhs: Delayed, rhs: Delayed) -> Bool { (lhs.notBefore, lhs.jobId.uuidString) < (rhs.notBefore, rhs.jobId.uuidString) }
    }

    /// Queued jobs are kept in one heap per job type and owner; a decision compares the heads.
    struct GroupKey: Hashable, Sendable {
        var type: JobType
        var owner: String
    }

    /// A heap entry: the order within a group is by effective priority, which (all jobs aging at the
    /// same rate) is the order of `rank`, whatever the time.
    struct Ranked: Comparable, Sendable {
        var rank: Double
        var submittedAt: Double
        var jobId: UUID
        private var attemptValue: UInt32
        private var priorityValue: UInt8

        init(rank: Double, job: QueuedJob) {
            self.rank = rank
            submittedAt = job.submittedAt
            jobId = job.jobId
            attemptValue = UInt32(clamping: job.attempt)
            priorityValue = UInt8(clamping: job.priority)
        }

        var attempt: Int { Int(attemptValue) }
        var priority: Int { Int(priorityValue) }

        static func < (lhs: Ranked, rhs: Ranked) -> Bool {
            // A max-heap: the "largest" entry runs next.
            if lhs.rank != rhs.rank { return lhs.rank < rhs.rank }
            if lhs.submittedAt != rhs.submittedAt { return lhs.submittedAt > rhs.submittedAt }
            return lhs.jobId.uuidString > rhs.jobId.uuidString
        }
    }

    struct Worker: Sendable {
        var id: String
        var jobTypes: Set<JobType>
        var capacity: ResourceAmount
        var draining: Bool
        var lastSeen: Date
        var acceptsBatches: Bool
        /// When one of its attempts was re-queued because it stopped renewing the lease: it gets
        /// nothing until it is heard from again.
        var suspectSince: Date? = nil

        func isHeard(now: Date, quiet: Double) -> Bool {
            now.timeIntervalSince(lastSeen) <= quiet && (suspectSince.map { lastSeen > $0 } ?? true)
        }
    }

    /// A dispatched attempt, with what it needs to go back in the queue in its right place.
    public struct Assignment: Sendable, Hashable {
        public var jobId: UUID
        public var jobType: JobType
        public var attempt: Int
        public var workerId: String
        public var since: Date
        public var priority: Int
        public var submittedAt: Date
        public var owner: String
        public var resources: ResourceRequirements?
        var modelId: UUID? = nil
        /// What it takes on the worker.
        var request: ResourceAmount
        /// When it is expected to end at the latest (seconds since 1970).
        var expectedEnd: Double
        /// The CPU-seconds charged to its owner when it was dispatched.
        var charged: Double
    }

    /// A dispatch decided by ``nextDispatches(now:)``.
    public struct Decision: Sendable, Hashable {
        public var jobId: UUID
        public var jobType: JobType
        public var attempt: Int
        public var workerId: String
    }

    public let policy: SchedulingPolicy
    /// How long a dispatched attempt may stay unconfirmed by the worker's heartbeats.
    let claimGrace: TimeInterval
    let startedAt: Date

    private(set) var queues: [GroupKey: Heap<Ranked>] = [:]
    /// Per group, how many of its heap entries are stale (their job ended, started or was re-queued
    /// while queued); a group with none can be read without looking its jobs up.
    private(set) var staleEntries: [GroupKey: Int] = [:]
    /// Per job type, queued jobs that no worker that exists could run: out of the heaps (they hold up
    /// nothing) until a worker that could take more joins (see ``heartbeat(_:now:)``).
    /// (Each is marked `isParked`; an id whose job is gone or no longer marked is skipped.)
    private var parked: [JobType: [UUID]] = [:]
    /// Queued retries still in their backoff; they join their group's heap when it has passed.
    private var delayed = Heap<Delayed>()
    /// Queued jobs by id; heap entries whose id is missing here (or has another attempt) are stale.
    private(set) var queued: [UUID: QueuedJob] = [:]
    private(set) var workers: [String: Worker] = [:]
    private(set) var assignments: [UUID: Assignment] = [:]
    /// What the assignments take on each worker.
    private(set) var used: [String: ResourceAmount] = [:]
    private(set) var runningByType: [JobType: Int] = [:]
    /// Per job type, how many of its attempts each worker runs.
    private var workersByType: [JobType: [String: Int]] = [:]
    private(set) var runningByOwner: [String: Int] = [:]
    private(set) var fairShare: FairShare
    /// Why a queued job cannot start on any worker that exists (it waits); set by decisions.
    /// Per job type, why the set-aside jobs wait, by what they ask for (few distinct requests).
    private var unfitReasons: [JobType: [ResourceAmount: String]] = [:]
    /// Why no job of a type can start: no worker takes the type.
    private var typeReasons: [JobType: String] = [:]
    /// How long jobs ran, per model and per job type (for estimates of when queued jobs start).
    private(set) var runTimes = RunTimes()

    public init(policy: SchedulingPolicy = SchedulingPolicy(), claimGrace: TimeInterval = 10, startedAt: Date = .distantPast) {
        self.policy = policy
        self.claimGrace = claimGrace
        self.startedAt = startedAt
        self.fairShare = FairShare(halfLife: policy.fairShareHalfLifeSeconds, now: startedAt == .distantPast ? 0 : startedAt.timeIntervalSince1970)
    }

    public var queuedCount: Int { queued.count }
    /// The ids of the queued jobs, in no particular order.
    public var queuedJobIds: some Collection<UUID> { queued.keys }

    /// Why a queued job cannot start on any worker that exists, if that is so.
    public func waitingReason(_ jobId: UUID) -> String? {
        guard let job = queued[jobId] else { return nil }
        if let reason = typeReasons[job.jobType] { return reason }
        guard job.isParked else { return nil }
        return unfitReasons[job.jobType]?[policy.request(job.resources, type: job.jobType)]
    }
    public var runningCount: Int { assignments.count }

    /// How long the next dispatch decision waits: under load, what is left of `interval` since the
    /// last dispatch that sent something (the jobs that slots freed meanwhile go out together, and
    /// the claims and reports behind them travel together too); while no job runs, nothing, so an
    /// idle system's job goes out at once however recently the last one did.
    public func dispatchWait(sinceLastDispatch since: Duration, interval: Duration) -> Duration {
        guard !assignments.isEmpty, since < interval else { return .zero }
        return interval - since
    }

    // MARK: Jobs

    /// A job entered QUEUED (a new job, or one re-queued). Stale and duplicate events change nothing.
    public mutating func enqueue(_ event: JobEvent) {
        guard !ended.contains(event.jobId) else { return }  // terminal states never change
        if let assignment = assignments[event.jobId] {
            guard assignment.attempt <= event.attempt else { return }  // dispatched after this event
            removeAssignment(event.jobId)
            // Re-queued from its worker (not a retry after a failure): the worker lost it, and may be gone.
            if event.notBefore == nil { workers[assignment.workerId]?.suspectSince = event.occurredAt }
        }
        if let existing = queued[event.jobId], existing.attempt >= event.attempt { return }
        insert(
            QueuedJob(
                jobId: event.jobId, jobType: event.jobType, priority: event.priority, submittedAt: event.submittedAt.timeIntervalSince1970,
                attempt: event.attempt, owner: event.owner, resources: event.resources, notBefore: event.notBefore?.timeIntervalSince1970,
                modelId: event.modelId))
    }

    /// A job reached a terminal status: it frees what it took and leaves the queue. With the
    /// event, its owner's usage is corrected by how long it really ran.
    public mutating func finished(_ jobId: UUID, event: JobEvent? = nil) {
        if let event, let started = event.startedAt {
            let ran = max(0, event.occurredAt.timeIntervalSince(started))
            if event.status == .succeeded { runTimes.record(ran, type: event.jobType, model: event.modelId) }
            let assignment = assignments[jobId]
            let cpus = Double(assignment?.request.cpus ?? policy.request(event.resources, type: event.jobType).cpus)
            fairShare.charge(event.owner, cpuSeconds: cpus * ran - (assignment?.charged ?? 0), now: event.occurredAt.timeIntervalSince1970)
        }
        removeAssignment(jobId)
        forget(jobId)
        if ended.insert(jobId).inserted {
            endedOrder.append(jobId)
            if endedOrder.count > Self.endedMemory { ended.remove(endedOrder.removeFirst()) }
        }
    }

    /// Recently ended jobs: a heartbeat that still lists one (its worker is stopping it) must not
    /// take its slot again.
    private var ended: Set<UUID> = []
    private var endedOrder: [UUID] = []
    static let endedMemory = 10_000

    /// Records an attempt known to run on a worker (from metadata at start, or from a heartbeat).
    public mutating func recordRunning(
        jobId: UUID, jobType: JobType, attempt: Int, workerId: String, now: Date,
        priority: Int = JobDefinition.defaultPriority, submittedAt: Date? = nil, owner: String = "anonymous",
        resources: ResourceRequirements? = nil
    ) {
        if let existing = assignments[jobId], existing.attempt > attempt { return }
        forget(jobId)
        addAssignment(
            Assignment(
                jobId: jobId, jobType: jobType, attempt: attempt, workerId: workerId, since: now, priority: priority,
                submittedAt: submittedAt ?? now, owner: owner, resources: resources, request: policy.request(resources, type: jobType),
                expectedEnd: now.timeIntervalSince1970 + policy.expectedRunSeconds(resources, type: jobType), charged: 0))
    }

    // MARK: Workers

    /// A worker's heartbeat: updates its capacity and returns the dispatches it never took up within
    /// the grace period (claim refused, reply lost or message lost); what they took is free again and
    /// the caller asks metadata where those jobs stand.
    @discardableResult
    public mutating func heartbeat(_ heartbeat: Heartbeat, now: Date) -> [Assignment] {
        if !heartbeat.draining { for type in heartbeat.jobTypes { typeReasons[type] = nil } }
        let previous = workers[heartbeat.workerId]
        let worker = Worker(
            id: heartbeat.workerId, jobTypes: Set(heartbeat.jobTypes), capacity: ResourceAmount(heartbeat.capacity, slots: heartbeat.slots),
            draining: heartbeat.draining, lastSeen: now, acceptsBatches: heartbeat.acceptsBatches ?? false)
        workers[heartbeat.workerId] = worker
        // A worker that can take more than before (new, larger, more types, back from draining or
        // silence): the jobs that fitted no worker are looked at again.
        if !worker.draining, !parked.isEmpty,
            previous.map({ old in
                old.draining || old.capacity != worker.capacity || !worker.jobTypes.isSubset(of: old.jobTypes)
                    || !old.isHeard(now: now, quiet: policy.quietWorkerSeconds)
            }) ?? true
        {
            for type in worker.jobTypes { unpark(type) }
        }
        let running = Dictionary(heartbeat.running.map { ($0.jobId, $0.attempt) }, uniquingKeysWith: max)
        for job in heartbeat.running where assignments[job.jobId] == nil && !ended.contains(job.jobId) {
            if let waiting = queued[job.jobId], waiting.attempt >= job.attempt { continue }
            let known = queued[job.jobId]
            recordRunning(
                jobId: job.jobId, jobType: job.jobType ?? known?.jobType ?? heartbeat.jobTypes.first ?? .runModel, attempt: job.attempt,
                workerId: heartbeat.workerId, now: now, priority: known?.priority ?? JobDefinition.defaultPriority,
                owner: known?.owner ?? "anonymous", resources: known?.resources)
        }
        let abandoned = assignments.values.filter { assignment in
            assignment.workerId == heartbeat.workerId && running[assignment.jobId] == nil
                && now.timeIntervalSince(assignment.since) > claimGrace
        }
        for assignment in abandoned { removeAssignment(assignment.jobId) }
        return abandoned
    }

    /// Puts an attempt the caller took back (see ``heartbeat(_:now:)``) in the queue at its
    /// original place, when metadata says the job still waits.
    public mutating func requeueLocally(_ assignment: Assignment) {
        guard assignments[assignment.jobId] == nil, queued[assignment.jobId] == nil else { return }
        requeue(assignment)
    }

    /// Puts a dispatched attempt back in the queue at its original place; the next dispatch gets a
    /// higher attempt number. Its owner gets back what the dispatch charged.
    private mutating func requeue(_ assignment: Assignment) {
        removeAssignment(assignment.jobId)
        fairShare.charge(assignment.owner, cpuSeconds: -assignment.charged, now: assignment.since.timeIntervalSince1970)
        insert(
            QueuedJob(
                jobId: assignment.jobId, jobType: assignment.jobType, priority: assignment.priority,
                submittedAt: assignment.submittedAt.timeIntervalSince1970, attempt: assignment.attempt, owner: assignment.owner,
                resources: assignment.resources, modelId: assignment.modelId))
    }

    /// Workers silent for longer than `timeout` are dropped; their attempts are returned to be re-queued.
    /// So are attempts on workers never heard of for that long (known from metadata after a restart).
    public mutating func expireWorkers(now: Date, timeout: TimeInterval) -> [Assignment] {
        let dead = Set(workers.values.filter { now.timeIntervalSince($0.lastSeen) > timeout }.map(\.id))
        for id in dead { workers[id] = nil }
        let lost = assignments.values.filter { assignment in
            dead.contains(assignment.workerId)
                || (workers[assignment.workerId] == nil && now.timeIntervalSince(assignment.since) > timeout)
        }
        for assignment in lost { removeAssignment(assignment.jobId) }
        return lost
    }

    /// Takes back a dispatch that could not be published: no worker has it, so the job goes back
    /// with the attempt it had (a dispatch that reached a worker after all is fenced by metadata:
    /// one claim of an attempt is granted).
    public mutating func undo(_ decision: Decision) {
        guard var assignment = assignments[decision.jobId], assignment.attempt == decision.attempt else { return }
        assignment.attempt -= 1
        requeue(assignment)
    }

    /// Whether the worker takes several dispatches in one message.
    public func acceptsBatches(_ workerId: String) -> Bool { workers[workerId]?.acceptsBatches ?? false }

    /// The dispatched attempt of a job.
    public func assignment(_ jobId: UUID) -> Assignment? { assignments[jobId] }

    // MARK: Deciding

    /// Decides which queued jobs start now (see the rules above). Each decision takes what the job
    /// asks for on its worker until the job ends, is re-queued or the dispatch is undone.
    ///
    /// The cost is per job dispatched or passed over, not per job queued: the groups' heads are kept
    /// in a heap (re-ranked lazily: during a decision an owner's usage only grows), a job type with no
    /// free slot left is out at once, a job that fits nowhere is known by an upper bound of what is
    /// free, and only workers with a free slot are looked at.
    public mutating func nextDispatches(now: Date) -> [Decision] {
        let time = now.timeIntervalSince1970
        releaseDelayed(now: time)
        var round = DispatchRound()
        var decisions: [Decision] = []
        var heads = Heap<Head>()
        for key in Array(queues.keys) {
            if let job = peekValid(key) { heads.insert(head(key, job, now: time)) }
        }
        while let top = heads.popMin() {
            guard let job = peekValid(top.key) else { continue }
            guard job.jobId == top.jobId, fairShare.rank(top.key.owner) == top.usage else {
                heads.insert(head(top.key, job, now: time))  // ranked before its group or its owner changed
                continue
            }
            if round.blockedTypes.contains(job.jobType) || round.blockedOwners.contains(job.owner) { continue }
            if let limit = policy.typeLimits[job.jobType]?.maxRunning, runningByType[job.jobType, default: 0] >= limit {
                round.blockedTypes.insert(job.jobType)
                continue
            }
            if let limit = policy.ownerMaxRunning, runningByOwner[job.owner, default: 0] >= limit {
                round.blockedOwners.insert(job.owner)
                continue
            }
            if round.pools[job.jobType] == nil {
                round.open(job.jobType, eligibleWorkers(for: job.jobType, now: now), in: self)
                if round.capacities[job.jobType] == nil { round.capacities[job.jobType] = servingCapacities(job.jobType, now: now) }
            }
            guard round.freeSlots[job.jobType, default: 0] > 0 else {
                round.blockedTypes.insert(job.jobType)
                if round.pools[job.jobType]?.isEmpty ?? true, now.timeIntervalSince(startedAt) > policy.unschedulableGraceSeconds,
                    !workers.values.contains(where: { $0.jobTypes.contains(job.jobType) })
                {
                    typeReasons[job.jobType] = "no worker takes \(job.jobType.rawValue) jobs"
                }
                continue
            }
            let request = policy.request(job.resources, type: job.jobType)
            let duration = policy.expectedRunSeconds(job.resources, type: job.jobType)
            take(top.key, job)
            if let next = peekValid(top.key) { heads.insert(head(top.key, next, now: time)) }
            if let worker = round.bestFit(request, type: job.jobType, duration: duration, now: time) {
                if let limit = policy.typeLimits[job.jobType]?.maxWorkers, workersByType[job.jobType]?[worker] == nil,
                    (workersByType[job.jobType]?.count ?? 0) + 1 >= limit
                {
                    round.close(job.jobType)  // the type now runs on as many workers as it may: look again
                }
                dispatch(job, to: worker, request: request, duration: duration, now: now)
                decisions.append(Decision(jobId: job.jobId, jobType: job.jobType, attempt: job.attempt + 1, workerId: worker))
                continue
            }
            // No worker that exists could ever take it: it waits aside, with the reason, until a
            // worker that takes its type joins or changes (it holds up nothing meanwhile).
            if !round.fitsSomeWorker(request, type: job.jobType) {
                let closest = round.closestCapacity(to: request, type: job.jobType) ?? .zero
                unfitReasons[job.jobType, default: [:]][request] = "it asks for \(request.shortfall(in: closest)) and no \(job.jobType.rawValue) worker has that much"
                park(job)
                continue
            }
            // It does not fit anywhere now: it waits; the first such job reserves the worker that
            // frees up soonest, and later jobs may backfill.
            round.skipped.append((top.key, job))
            if round.reservation == nil { round.reservation = reserve(request, for: job.jobId, type: job.jobType, round: round, now: time) }
            if round.skipped.count > policy.backfillDepth { break }
        }
        for (key, job) in round.skipped { insert(job, into: key) }
        return decisions
    }

    /// A group's head, ranked: the highest effective priority (whole points), then the owner with the
    /// least recent usage, then the earliest submission; the smallest is decided on first.
    struct Head: Comparable {
        var band: Double
        var usage: Double
        var submittedAt: Double
        var jobId: UUID
        var key: GroupKey

        static func < (lhs: Head, rhs: Head) -> Bool {
            if lhs.band != rhs.band { return lhs.band > rhs.band }
            if lhs.usage != rhs.usage { return lhs.usage < rhs.usage }
            if lhs.submittedAt != rhs.submittedAt { return lhs.submittedAt < rhs.submittedAt }
            return lhs.jobId.uuidString < rhs.jobId.uuidString
        }

        static func == (lhs: Head, rhs: Head) -> Bool { lhs.jobId == rhs.jobId && lhs.band == rhs.band && lhs.usage == rhs.usage }
    }

    func head(_ key: GroupKey, _ job: QueuedJob, now: Double) -> Head {
        Head(
            band: policy.effectivePriority(priority: job.priority, submittedAt: job.submittedAt, now: now).rounded(.down),
            usage: fairShare.rank(key.owner), submittedAt: job.submittedAt, jobId: job.jobId, key: key)
    }

    /// What one decision tracks: what each eligible worker has free, job types and owners at their
    /// limits, the jobs passed over, and the reservation of the first job that did not fit.
    struct DispatchRound {
        struct Slot {
            var id: String
            var capacity: ResourceAmount
            var free: ResourceAmount
            var jobTypes: Set<JobType>
        }

        /// The workers looked at in this decision, and for each job type the ones it may go to that
        /// had a free slot when last looked at.
        var slots: [Slot] = []
        var slotIndex: [String: Int] = [:]
        var pools: [JobType: [Int]] = [:]
        var freeSlots: [JobType: Int] = [:]
        /// Per job type, no eligible worker has more free than this in any part (an upper bound).
        var mostFree: [JobType: ResourceAmount] = [:]
        var blockedTypes: Set<JobType> = []
        var blockedOwners: Set<String> = []
        var skipped: [(GroupKey, QueuedJob)] = []
        var reservation: Reservation?
        /// Per job type, the distinct capacities of the live workers that take it (busy ones included).
        var capacities: [JobType: Set<ResourceAmount>] = [:]

        /// Whether some worker that takes `type` could ever run a job asking for `request`.
        func fitsSomeWorker(_ request: ResourceAmount, type: JobType) -> Bool {
            capacities[type]?.contains { request.fits(in: $0) } ?? false
        }

        /// Of those capacities, the one `request` comes closest to fitting (for the reason it fits none).
        func closestCapacity(to request: ResourceAmount, type: JobType) -> ResourceAmount? {
            capacities[type]?.min { request.dominantShare(of: $0) < request.dominantShare(of: $1) }
        }

        /// Looks at the workers a job type may go to now.
        mutating func open(_ type: JobType, _ eligible: [String], in state: SchedulingState) {
            var pool: [Int] = []
            for id in eligible {
                guard let worker = state.workers[id] else { continue }
                let index: Int
                if let known = slotIndex[id] {
                    index = known
                } else {
                    index = slots.count
                    slots.append(Slot(id: id, capacity: worker.capacity, free: worker.capacity - (state.used[id] ?? .zero), jobTypes: worker.jobTypes))
                    slotIndex[id] = index
                }
                pool.append(index)
            }
            pools[type] = pool
            refresh(type)
        }

        /// Forgets a job type's workers, so the next job of the type looks at them again.
        mutating func close(_ type: JobType) {
            pools[type] = nil
        }

        /// Recomputes a job type's free slots and upper bound, dropping the workers no job fits on any
        /// more (no free slot, cpu or memory: every job asks for at least one of each).
        mutating func refresh(_ type: JobType) {
            guard var pool = pools[type] else { return }
            pool.removeAll { slots[$0].free.slots <= 0 || slots[$0].free.cpus <= 0 || slots[$0].free.memoryMB <= 0 }
            pools[type] = pool
            freeSlots[type] = pool.reduce(0) { $0 + slots[$1].free.slots }
            var most = ResourceAmount.zero
            for index in pool {
                let free = slots[index].free
                most = ResourceAmount(
                    cpus: max(most.cpus, free.cpus), memoryMB: max(most.memoryMB, free.memoryMB), gpus: max(most.gpus, free.gpus),
                    slots: max(most.slots, free.slots))
            }
            mostFree[type] = most
        }

        /// The worker a job fits best now (its largest share of what the worker has left), respecting
        /// the reservation: on the reserved worker a job must end before the reservation starts or take
        /// only what the reserved job will not need (then that is no longer spare). Takes what the job
        /// asks for from the chosen worker.
        mutating func bestFit(_ request: ResourceAmount, type: JobType, duration: Double, now: Double) -> String? {
            guard let most = mostFree[type], request.fits(in: most), let pool = pools[type] else { return nil }
            var best: (index: Int, share: Double)?
            for index in pool {
                let slot = slots[index]
                guard request.fits(in: slot.free) else { continue }
                if let reservation, reservation.workerId == slot.id, now + duration > reservation.at, !request.fits(in: reservation.spare) {
                    continue
                }
                let share = request.dominantShare(of: slot.free)
                if best == nil || share > best!.share || (share == best!.share && slot.id < slots[best!.index].id) { best = (index, share) }
            }
            guard let chosen = best?.index else {
                refresh(type)  // the bound was loose: tighten it
                return nil
            }
            slots[chosen].free -= request
            if let reservation, reservation.workerId == slots[chosen].id, now + duration > reservation.at {
                self.reservation!.spare -= request
            }
            let full = slots[chosen].free.slots <= 0 || slots[chosen].free.cpus <= 0 || slots[chosen].free.memoryMB <= 0
            for other in slots[chosen].jobTypes where pools[other] != nil {
                freeSlots[other, default: 0] -= 1
                if full { refresh(other) }
            }
            return slots[chosen].id
        }
    }

    /// A worker held for a job that does not fit yet: from `at` on, it needs `request` of it;
    /// `spare` is what the worker will have then beyond that (what a backfilled job that runs past
    /// `at` may still take).
    struct Reservation {
        var jobId: UUID
        var workerId: String
        var at: Double
        var spare: ResourceAmount
    }

    /// Live workers that take the type, are not draining and were heard from lately (a worker silent
    /// for longer may be gone: it gets nothing until it is heard again or expires); when the type may
    /// run on only so many workers and runs on that many, those.
    /// The distinct capacities of the live workers that take `type`, busy or not.
    private func servingCapacities(_ type: JobType, now: Date) -> Set<ResourceAmount> {
        var capacities: Set<ResourceAmount> = []
        for worker in workers.values where !worker.draining && worker.jobTypes.contains(type) && worker.isHeard(now: now, quiet: policy.quietWorkerSeconds) {
            capacities.insert(worker.capacity)
        }
        return capacities
    }

    private func eligibleWorkers(for type: JobType, now: Date) -> [String] {
        let serving = workers.values.filter {
            !$0.draining && $0.jobTypes.contains(type) && $0.isHeard(now: now, quiet: policy.quietWorkerSeconds)
        }.map(\.id)
        if let limit = policy.typeLimits[type]?.maxWorkers, let running = workersByType[type], running.count >= limit {
            return serving.filter { running[$0] != nil }
        }
        return serving
    }

    /// The worker where `request` can start soonest, by the expected ends of what runs there (among
    /// the job type's eligible workers, full ones included).
    private func reserve(_ request: ResourceAmount, for jobId: UUID, type: JobType, round: DispatchRound, now: Double) -> Reservation? {
        let eligible = eligibleWorkers(for: type, now: Date(timeIntervalSince1970: now))
        var candidates: [String: (capacity: ResourceAmount, free: ResourceAmount)] = [:]
        for id in eligible {
            guard let worker = workers[id], request.fits(in: worker.capacity) else { continue }
            let free = round.slotIndex[id].map { round.slots[$0].free } ?? worker.capacity - (used[id] ?? .zero)
            candidates[id] = (worker.capacity, free)
        }
        guard !candidates.isEmpty else { return nil }
        var ends: [String: [Assignment]] = [:]
        for assignment in assignments.values where candidates[assignment.workerId] != nil {
            ends[assignment.workerId, default: []].append(assignment)
        }
        var best: Reservation?
        for (id, candidate) in candidates {
            var free = candidate.free
            var at = now
            let running = (ends[id] ?? []).sorted { $0.expectedEnd < $1.expectedEnd }
            var next = 0
            while !request.fits(in: free), next < running.count {
                free += running[next].request
                at = max(at, running[next].expectedEnd)
                next += 1
            }
            guard request.fits(in: free) else { continue }
            if best == nil || at < best!.at || (at == best!.at && id < best!.workerId) {
                best = Reservation(jobId: jobId, workerId: id, at: at, spare: free - request)
            }
        }
        return best
    }

    // MARK: Bookkeeping

    private mutating func dispatch(_ job: QueuedJob, to workerId: String, request: ResourceAmount, duration: Double, now: Date) {
        queued[job.jobId] = nil
        let charge = Double(request.cpus) * duration
        fairShare.charge(job.owner, cpuSeconds: charge, now: now.timeIntervalSince1970)
        addAssignment(
            Assignment(
                jobId: job.jobId, jobType: job.jobType, attempt: job.attempt + 1, workerId: workerId, since: now, priority: job.priority,
                submittedAt: Date(timeIntervalSince1970: job.submittedAt), owner: job.owner, resources: job.resources, modelId: job.modelId,
                request: request, expectedEnd: now.timeIntervalSince1970 + duration, charged: charge))
    }

    private mutating func addAssignment(_ assignment: Assignment) {
        removeAssignment(assignment.jobId)
        assignments[assignment.jobId] = assignment
        used[assignment.workerId, default: .zero] += assignment.request
        runningByType[assignment.jobType, default: 0] += 1
        workersByType[assignment.jobType, default: [:]][assignment.workerId, default: 0] += 1
        runningByOwner[assignment.owner, default: 0] += 1
    }

    private mutating func removeAssignment(_ jobId: UUID) {
        guard let assignment = assignments.removeValue(forKey: jobId) else { return }
        used[assignment.workerId, default: .zero] -= assignment.request
        if used[assignment.workerId] == .zero { used[assignment.workerId] = nil }
        runningByType[assignment.jobType, default: 1] -= 1
        let onWorker = workersByType[assignment.jobType]?[assignment.workerId] ?? 1
        workersByType[assignment.jobType]?[assignment.workerId] = onWorker > 1 ? onWorker - 1 : nil
        runningByOwner[assignment.owner, default: 1] -= 1
        if runningByOwner[assignment.owner] == 0 { runningByOwner[assignment.owner] = nil }
    }

    /// Removes a queued job whose heap entry stays behind (it ended, started elsewhere or is replaced
    /// by a newer attempt): its group counts one stale entry more.
    private mutating func forget(_ jobId: UUID) {
        guard let job = queued.removeValue(forKey: jobId), job.notBefore == nil else { return }
        if job.isParked { return }  // it had no heap entry
        staleEntries[GroupKey(type: job.jobType, owner: job.owner), default: 0] += 1
    }

    /// Sets aside a job (taken from its heap) that no worker that exists could run.
    private mutating func park(_ job: QueuedJob) {
        var job = job
        job.isParked = true
        queued[job.jobId] = job
        parked[job.jobType, default: []].append(job.jobId)
    }

    /// Puts a job type's set-aside jobs back in their heaps.
    private mutating func unpark(_ type: JobType) {
        unfitReasons[type] = nil
        guard let ids = parked.removeValue(forKey: type) else { return }
        for id in ids {
            guard var job = queued[id], job.isParked else { continue }
            job.isParked = false
            insert(job, into: GroupKey(type: job.jobType, owner: job.owner))
        }
    }

    private mutating func insert(_ job: QueuedJob) {
        forget(job.jobId)
        if let notBefore = job.notBefore {
            queued[job.jobId] = job
            delayed.insert(Delayed(notBefore: notBefore, jobId: job.jobId, attempt: job.attempt))
        } else {
            insert(job, into: GroupKey(type: job.jobType, owner: job.owner))
        }
    }

    /// Retries whose backoff has passed join their groups.
    private mutating func releaseDelayed(now: Double) {
        while let first = delayed.min, first.notBefore <= now {
            _ = delayed.popMin()
            guard var job = queued[first.jobId], job.attempt == first.attempt, job.notBefore != nil else { continue }
            job.notBefore = nil
            insert(job)
        }
    }

    /// When the next retry's backoff ends (the caller decides again then).
    public var nextRetryAt: Date? { delayed.min.map { Date(timeIntervalSince1970: $0.notBefore) } }

    private mutating func insert(_ job: QueuedJob, into key: GroupKey) {
        queued[job.jobId] = job
        let rank = policy.agingPerHour > 0 ? Double(job.priority) * 3600 / policy.agingPerHour - job.submittedAt : Double(job.priority)
        queues[key, default: Heap()].insert(Ranked(rank: rank, job: job))
    }

    /// Removes the group's head (the job `peekValid` returned) from the queue.
    private mutating func take(_ key: GroupKey, _ job: QueuedJob) {
        _ = queues[key]?.popMax()
        queued[job.jobId] = nil
        if queues[key]?.isEmpty == true { removeGroup(key) }
    }

    private mutating func removeGroup(_ key: GroupKey) {
        queues[key] = nil
        staleEntries[key] = nil
    }

    /// The next valid job of a group, discarding stale heap entries.
    private mutating func peekValid(_ key: GroupKey) -> QueuedJob? {
        while let top = queues[key]?.max {
            if let current = queued[top.jobId], current.attempt == top.attempt, current.jobType == key.type, current.owner == key.owner {
                return current
            }
            _ = queues[key]!.popMax()
            if let stale = staleEntries[key] { staleEntries[key] = stale > 1 ? stale - 1 : nil }
        }
        removeGroup(key)
        return nil
    }
}
