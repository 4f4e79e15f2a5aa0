import ConveyorModels
import Logging
import ServiceKit

extension Containment {
    /// Containment from configuration: `<pool>.containment` (`auto`, `cgroup2`, `cgroup1` or
    /// `rlimits`), `<pool>.runAsUids` (a range of user ids models run as; none: the worker's user)
    /// `<pool>.killGraceSeconds` (10, between SIGTERM and SIGKILL at a time limit) and
    /// `<pool>.usageSampleSeconds` (5, how often a running attempt's usage is sampled).
    public static func start(settings: ConveyorSettings, pool: String, logger: Logger) throws -> Containment {
        try start(
            requested: settings.string("\(pool).containment", default: "auto"), pool: pool,
            modelUsers: try ModelUsers.parse(settings.string("\(pool).runAsUids", default: "")),
            killGrace: .seconds(max(0, settings.int("\(pool).killGraceSeconds", default: 10))),
            sampleInterval: .seconds(max(1, settings.int("\(pool).usageSampleSeconds", default: 5))), logger: logger)
    }
}

extension AttemptLimitRules {
    /// `<pool>.maxProcesses` (1024), `<pool>.diskMB` (10240; 0: no quota), `limits.maxRunSeconds`
    /// and the job defaults the scheduler packs by (``ConveyorSettings/jobResourceDefaults()``).
    public init(settings: ConveyorSettings, pool: String) {
        let (fallback, byType) = settings.jobResourceDefaults()
        let diskMB = settings.int("\(pool).diskMB", default: 10240)
        self.init(
            fallback: fallback, byType: byType, maxProcesses: max(16, settings.int("\(pool).maxProcesses", default: 1024)),
            maxRunSeconds: settings.int("limits.maxRunSeconds", default: ResourceRequirements.maxRunSecondsLimit),
            diskBytes: diskMB > 0 ? diskMB * 1_048_576 : nil)
    }
}
