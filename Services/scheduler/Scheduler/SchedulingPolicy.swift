import ConveyorModels
import Foundation

/// The rules the scheduler decides by (configuration; see docs/scheduling.md for the keys).
public struct SchedulingPolicy: Sendable, Hashable {
    /// Priority points a waiting job gains per hour of waiting (0: no aging). A job's effective
    /// priority is `priority + agingPerHour × hours waited`, so a job of priority p behind a stream of
    /// priority q > p starts within `(q - p) / agingPerHour` hours.
    public var agingPerHour: Double
    /// How fast an owner's recorded usage fades: it halves every `fairShareHalfLifeSeconds`.
    public var fairShareHalfLifeSeconds: Double
    /// What a job asks for when it does not say, per job type (missing types: ``fallback``).
    public var defaults: [JobType: JobDefaults]
    public var fallback: JobDefaults
    /// The most jobs of a type running at once in the deployment, and on how many workers at once.
    public var typeLimits: [JobType: TypeLimits]
    /// The most jobs of one owner running at once (nil: no limit).
    public var ownerMaxRunning: Int?
    /// How many jobs past the first one that does not fit a decision looks at (to backfill).
    public var backfillDepth: Int
    /// How long after the scheduler starts before a job that fits no known worker is said to wait for one
    /// (workers need a heartbeat to be known).
    public var unschedulableGraceSeconds: Double
    /// A worker not heard from for this long gets no dispatches until it is heard again (it sends a
    /// heartbeat every few seconds; one that stopped may be gone).
    public var quietWorkerSeconds: Double

    /// What a job that does not say asks for (shared with the runner, which enforces it).
    public typealias JobDefaults = JobResourceDefaults

    public struct TypeLimits: Sendable, Hashable {
        public var maxRunning: Int?
        public var maxWorkers: Int?

        public init(maxRunning: Int? = nil, maxWorkers: Int? = nil) {
            self.maxRunning = maxRunning
            self.maxWorkers = maxWorkers
        }
    }

    public init(
        agingPerHour: Double = 10, fairShareHalfLifeSeconds: Double = 3600, defaults: [JobType: JobDefaults] = [:],
        fallback: JobDefaults = JobDefaults(), typeLimits: [JobType: TypeLimits] = [:], ownerMaxRunning: Int? = nil,
        backfillDepth: Int = 1000, unschedulableGraceSeconds: Double = 30, quietWorkerSeconds: Double = 10
    ) {
        self.quietWorkerSeconds = quietWorkerSeconds
        self.agingPerHour = agingPerHour
        self.fairShareHalfLifeSeconds = fairShareHalfLifeSeconds
        self.defaults = defaults
        self.fallback = fallback
        self.typeLimits = typeLimits
        self.ownerMaxRunning = ownerMaxRunning
        self.backfillDepth = backfillDepth
        self.unschedulableGraceSeconds = unschedulableGraceSeconds
    }

    func defaults(for type: JobType) -> JobDefaults { defaults[type] ?? fallback }

    /// What a job of `type` asking for `resources` takes on a worker.
    func request(_ resources: ResourceRequirements?, type: JobType) -> ResourceAmount {
        let base = defaults(for: type)
        return ResourceAmount(
            cpus: resources?.cpus ?? base.cpus, memoryMB: resources?.memoryMB ?? base.memoryMB, gpus: resources?.gpus ?? base.gpus,
            slots: 1)
    }

    /// How long a job of `type` asking for `resources` is expected to run at most.
    func expectedRunSeconds(_ resources: ResourceRequirements?, type: JobType) -> Double {
        Double(resources?.maxRunSeconds ?? defaults(for: type).expectedRunSeconds)
    }

    /// The effective priority of a job at `now`: its priority plus what it gained by waiting.
    func effectivePriority(priority: Int, submittedAt: Double, now: Double) -> Double {
        Double(priority) + agingPerHour * max(0, now - submittedAt) / 3600
    }
}
