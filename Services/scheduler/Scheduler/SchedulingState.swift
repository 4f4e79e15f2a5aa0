import ConveyorModels
import Foundation
import HeapModule

/// The queue discipline, as pure state: queued jobs in priority order per job type, the workers
/// known from heartbeats with their slots, and which attempt runs where.
///
/// It never performs I/O; ``SchedulerService`` feeds it events and heartbeats and carries out what
/// it decides (dispatches and re-queues). That keeps every rule unit-testable.
public struct SchedulingState: Sendable {
    /// A job waiting for a slot. Orders by priority (higher first), then submission time, then id.
    struct QueuedJob: Comparable, Sendable {
        var jobId: UUID
        var jobType: JobType
        var priority: Int
        var submittedAt: Date
        /// The attempt metadata last recorded; the next dispatch uses `attempt + 1`.
        var attempt: Int

        static func < (lhs: QueuedJob, rhs: QueuedJob) -> Bool {
            // Heap is a min-max heap; we pop the max: the "largest" job is the one to run next.
            if lhs.priority != rhs.priority { return lhs.priority < rhs.priority }
            if lhs.submittedAt != rhs.submittedAt { return lhs.submittedAt > rhs.submittedAt }
            return lhs.jobId.uuidString > rhs.jobId.uuidString
        }
    }

    struct Worker: Sendable {
        var id: String
        var jobTypes: Set<JobType>
        var slots: Int
        var draining: Bool
        var lastSeen: Date
        var acceptsBatches: Bool
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
    }

    /// A dispatch decided by ``nextDispatches(now:)``.
    public struct Decision: Sendable, Hashable {
        public var jobId: UUID
        public var jobType: JobType
        public var attempt: Int
        public var workerId: String
    }

    private var queues: [JobType: Heap<QueuedJob>] = [:]
    /// Queued jobs by id; heap entries whose id is missing here (or has another attempt) are stale.
    private var queued: [UUID: QueuedJob] = [:]
    private var workers: [String: Worker] = [:]
    private(set) var assignments: [UUID: Assignment] = [:]
    /// How long a dispatched attempt may stay unconfirmed by the worker's heartbeats.
    let claimGrace: TimeInterval

    public init(claimGrace: TimeInterval = 10) {
        self.claimGrace = claimGrace
    }

    public var queuedCount: Int { queued.count }

    /// A job entered QUEUED (a new job, or one re-queued). Stale and duplicate events change nothing.
    public mutating func enqueue(_ event: JobEvent) {
        if let assignment = assignments[event.jobId] {
            guard assignment.attempt <= event.attempt else { return }  // dispatched after this event
            assignments[event.jobId] = nil
        }
        if let existing = queued[event.jobId], existing.attempt >= event.attempt { return }
        let job = QueuedJob(
            jobId: event.jobId, jobType: event.jobType, priority: event.priority, submittedAt: event.submittedAt,
            attempt: event.attempt)
        queued[event.jobId] = job
        queues[event.jobType, default: Heap()].insert(job)
    }

    /// A job reached a terminal status: it frees its slot and leaves the queue.
    public mutating func finished(_ jobId: UUID) {
        assignments[jobId] = nil
        queued[jobId] = nil
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
        priority: Int = JobDefinition.defaultPriority, submittedAt: Date? = nil
    ) {
        if let existing = assignments[jobId], existing.attempt > attempt { return }
        queued[jobId] = nil
        assignments[jobId] = Assignment(
            jobId: jobId, jobType: jobType, attempt: attempt, workerId: workerId, since: now, priority: priority,
            submittedAt: submittedAt ?? now)
    }

    /// A worker's heartbeat: updates its capacity and returns the dispatches it never took up within
    /// the grace period (claim refused, reply lost or message lost); their slots are free again and
    /// the caller asks metadata where those jobs stand.
    @discardableResult
    public mutating func heartbeat(_ heartbeat: Heartbeat, now: Date) -> [Assignment] {
        workers[heartbeat.workerId] = Worker(
            id: heartbeat.workerId, jobTypes: Set(heartbeat.jobTypes), slots: heartbeat.slots,
            draining: heartbeat.draining, lastSeen: now, acceptsBatches: heartbeat.acceptsBatches ?? false)
        let running = Dictionary(heartbeat.running.map { ($0.jobId, $0.attempt) }, uniquingKeysWith: max)
        for job in heartbeat.running where assignments[job.jobId] == nil && !ended.contains(job.jobId) {
            if let waiting = queued[job.jobId], waiting.attempt >= job.attempt { continue }
            recordRunning(
                jobId: job.jobId, jobType: job.jobType ?? heartbeat.jobTypes.first ?? .runModel, attempt: job.attempt,
                workerId: heartbeat.workerId, now: now)
        }
        let abandoned = assignments.values.filter { assignment in
            assignment.workerId == heartbeat.workerId && running[assignment.jobId] == nil
                && now.timeIntervalSince(assignment.since) > claimGrace
        }
        for assignment in abandoned { assignments[assignment.jobId] = nil }
        return abandoned
    }

    /// Puts an attempt the caller took back (see ``heartbeat(_:now:)``) in the queue at its
    /// original place, when metadata says the job still waits.
    public mutating func requeueLocally(_ assignment: Assignment) {
        guard assignments[assignment.jobId] == nil, queued[assignment.jobId] == nil else { return }
        requeue(assignment)
    }

    /// Puts a dispatched attempt back in the queue at its original place; the next dispatch gets a
    /// higher attempt number.
    private mutating func requeue(_ assignment: Assignment) {
        assignments[assignment.jobId] = nil
        let job = QueuedJob(
            jobId: assignment.jobId, jobType: assignment.jobType, priority: assignment.priority,
            submittedAt: assignment.submittedAt, attempt: assignment.attempt)
        queued[assignment.jobId] = job
        queues[assignment.jobType, default: Heap()].insert(job)
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
        for assignment in lost { assignments[assignment.jobId] = nil }
        return lost
    }

    /// Takes back a dispatch that could not be published.
    public mutating func undo(_ decision: Decision) {
        guard let assignment = assignments[decision.jobId], assignment.attempt == decision.attempt else { return }
        requeue(assignment)
    }

    /// Decides which queued jobs start now: for each job type, the highest-priority jobs go to the
    /// live, non-draining workers with free slots (the freest worker first).
    public mutating func nextDispatches(now: Date) -> [Decision] {
        var used: [String: Int] = [:]
        for assignment in assignments.values { used[assignment.workerId, default: 0] += 1 }
        var decisions: [Decision] = []
        for type in queues.keys {
            while let job = peekValid(type) {
                let candidates = workers.values.filter { !$0.draining && $0.jobTypes.contains(type) && $0.slots > used[$0.id, default: 0] }
                guard let worker = candidates.max(by: { ($0.slots - used[$0.id, default: 0], $1.id) < ($1.slots - used[$1.id, default: 0], $0.id) }) else {
                    break
                }
                _ = queues[type]!.popMax()
                queued[job.jobId] = nil
                let attempt = job.attempt + 1
                assignments[job.jobId] = Assignment(
                    jobId: job.jobId, jobType: type, attempt: attempt, workerId: worker.id, since: now,
                    priority: job.priority, submittedAt: job.submittedAt)
                used[worker.id, default: 0] += 1
                decisions.append(Decision(jobId: job.jobId, jobType: type, attempt: attempt, workerId: worker.id))
            }
        }
        return decisions
    }

    /// Whether the worker takes several dispatches in one message.
    public func acceptsBatches(_ workerId: String) -> Bool { workers[workerId]?.acceptsBatches ?? false }

    /// The queued job with this id (for building its dispatch message).
    public func assignment(_ jobId: UUID) -> Assignment? { assignments[jobId] }

    /// The next valid job of a type, discarding stale heap entries.
    private mutating func peekValid(_ type: JobType) -> QueuedJob? {
        while let top = queues[type]?.max {
            if let current = queued[top.jobId], current.attempt == top.attempt, current.priority == top.priority {
                return top
            }
            _ = queues[type]!.popMax()
        }
        return nil
    }
}
