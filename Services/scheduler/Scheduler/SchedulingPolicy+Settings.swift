import ConveyorModels
import ServiceKit

extension SchedulingPolicy {
    /// The policy from configuration (docs/scheduling.md): `scheduler.agingPerHour` (10),
    /// `scheduler.fairShareHalfLifeSeconds` (3600), `scheduler.ownerMaxRunning` (0: no limit),
    /// `scheduler.backfillDepth` (1000), `scheduler.unschedulableGraceSeconds` (30),
    /// `scheduler.quietWorkerSeconds` (10); the defaults of a job that does not say
    /// `scheduler.defaults.cpus` (1), `.memoryMB` (256), `.gpus` (0), `.expectedRunSeconds` (3600),
    /// each overridden per type by `scheduler.types.<TYPE>.<same>`; and per type
    /// `scheduler.types.<TYPE>.maxRunning` and `.maxWorkers` (0: no limit).
    public init(settings: ConveyorSettings) {
        func positive(_ key: String) -> Int? {
            let value = settings.int(key, default: 0)
            return value > 0 ? value : nil
        }
        let (fallback, defaults) = settings.jobResourceDefaults()
        var limits: [JobType: TypeLimits] = [:]
        for type in JobType.allCases {
            let prefix = "scheduler.types.\(type.rawValue)."
            let limit = TypeLimits(maxRunning: positive(prefix + "maxRunning"), maxWorkers: positive(prefix + "maxWorkers"))
            if limit.maxRunning != nil || limit.maxWorkers != nil { limits[type] = limit }
        }
        self.init(
            agingPerHour: Double(settings.int("scheduler.agingPerHour", default: 10)),
            fairShareHalfLifeSeconds: Double(settings.int("scheduler.fairShareHalfLifeSeconds", default: 3600)), defaults: defaults,
            fallback: fallback, typeLimits: limits, ownerMaxRunning: positive("scheduler.ownerMaxRunning"),
            backfillDepth: settings.int("scheduler.backfillDepth", default: 1000),
            unschedulableGraceSeconds: Double(settings.int("scheduler.unschedulableGraceSeconds", default: 30)),
            quietWorkerSeconds: Double(settings.int("scheduler.quietWorkerSeconds", default: 10)))
    }
}
