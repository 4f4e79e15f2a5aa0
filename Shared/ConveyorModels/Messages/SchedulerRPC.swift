import Foundation

/// A question to the active scheduler over AMQP RPC (queue `scheduler.rpc`, reply via direct
/// reply-to in the same ``RPCReply`` envelope metadata's calls use). Only the instance holding the
/// scheduler lock consumes the queue; a call nobody answers in time fails with a timeout.
public protocol SchedulerCall: MessagePayload {
    associatedtype Result: Codable & Sendable
}

/// `scheduler.queue.position`: where queued jobs stand and when they are expected to start.
public struct GetQueuePositions: SchedulerCall {
    public typealias Result = QueuePositions
    public static let messageType = "scheduler.queue.position"
    public var jobIds: [UUID]
    public static let maxJobs = 100

    public init(jobIds: [UUID]) {
        self.jobIds = jobIds
    }
}

public struct QueuePositions: Codable, Sendable, Hashable {
    /// By job id (lowercase); a job the scheduler does not have queued is left out.
    public var positions: [String: QueuePosition]

    public init(positions: [String: QueuePosition]) {
        self.positions = positions
    }
}

/// Where one queued job stands.
public struct QueuePosition: Codable, Sendable, Hashable {
    /// 1 for the job that starts next among those competing for the same workers.
    public var position: Int
    public var ahead: QueueAhead
    /// When it is expected to start: from the expected ends of what runs on the workers that take it
    /// and the run times observed of the same model (absent when no worker takes it).
    public var estimatedStartAt: Date?
    /// How the estimate was made, in words.
    public var estimateBasis: String?
    /// Why it cannot start on any worker that exists, if that is so.
    public var waitingReason: String?
    /// A retry's backoff: not before this time.
    public var notBefore: Date?
    /// Its effective priority now (its priority plus what it gained by waiting).
    public var effectivePriority: Double

    public init(
        position: Int, ahead: QueueAhead, estimatedStartAt: Date?, estimateBasis: String?, waitingReason: String?, notBefore: Date?,
        effectivePriority: Double
    ) {
        self.position = position
        self.ahead = ahead
        self.estimatedStartAt = estimatedStartAt
        self.estimateBasis = estimateBasis
        self.waitingReason = waitingReason
        self.notBefore = notBefore
        self.effectivePriority = effectivePriority
    }
}

/// The queued jobs that start before a job.
public struct QueueAhead: Codable, Sendable, Hashable {
    public var total: Int
    public var byOwner: [String: Int]
    public var byType: [String: Int]
    /// The first of them, in the order they start.
    public var first: [UUID]

    public init(total: Int, byOwner: [String: Int], byType: [String: Int], first: [UUID]) {
        self.total = total
        self.byOwner = byOwner
        self.byType = byType
        self.first = first
    }
}

/// `scheduler.queue.summary`: queued and running jobs per job type and owner, and the workers'
/// capacity with what is in use.
public struct GetQueueSummary: SchedulerCall {
    public typealias Result = QueueSummary
    public static let messageType = "scheduler.queue.summary"
    public init() {}
}

public struct QueueSummary: Codable, Sendable, Hashable {
    public struct Counts: Codable, Sendable, Hashable {
        public var queued: Int
        public var running: Int
        public init(queued: Int, running: Int) {
            self.queued = queued
            self.running = running
        }
    }

    public struct Owner: Codable, Sendable, Hashable {
        public var queued: Int
        public var running: Int
        /// Recent usage in CPU-seconds (fading with the fair-share half-life): who goes first among equals.
        public var recentCpuSeconds: Double
        public init(queued: Int, running: Int, recentCpuSeconds: Double) {
            self.queued = queued
            self.running = running
            self.recentCpuSeconds = recentCpuSeconds
        }
    }

    public struct Resources: Codable, Sendable, Hashable {
        public var cpus: Int
        public var memoryMB: Int
        public var gpus: Int
        public var slots: Int
        public init(cpus: Int, memoryMB: Int, gpus: Int, slots: Int) {
            self.cpus = cpus
            self.memoryMB = memoryMB
            self.gpus = gpus
            self.slots = slots
        }
    }

    public var types: [String: Counts]
    public var owners: [String: Owner]
    /// Live workers (heard from lately, not draining).
    public var workers: Int
    /// What those workers offer in all (workers that do not say their capacity count by slots only).
    public var capacity: Resources
    public var inUse: Resources
    public var at: Date

    public init(types: [String: Counts], owners: [String: Owner], workers: Int, capacity: Resources, inUse: Resources, at: Date) {
        self.types = types
        self.owners = owners
        self.workers = workers
        self.capacity = capacity
        self.inUse = inUse
        self.at = at
    }
}
