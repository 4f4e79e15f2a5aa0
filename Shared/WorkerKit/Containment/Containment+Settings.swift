import ConveyorModels
import Logging
import ServiceKit

extension Containment {
    /// Containment from configuration: `<pool>.containment` (`auto`, `cgroup2`, `cgroup1` or
    /// `rlimits`) and `<pool>.killGraceSeconds` (10, between SIGTERM and SIGKILL at a time limit).
    public static func start(settings: ConveyorSettings, pool: String, logger: Logger) throws -> Containment {
        try start(
            requested: settings.string("\(pool).containment", default: "auto"), pool: pool, runAs: nil,
            killGrace: .seconds(max(0, settings.int("\(pool).killGraceSeconds", default: 10))), logger: logger)
    }
}

extension AttemptLimitRules {
    /// `<pool>.maxProcesses` (1024), `<pool>.maxFileMB` (0: no cap), `limits.maxRunSeconds` and the
    /// job defaults the scheduler packs by (``ConveyorSettings/jobResourceDefaults()``).
    public init(settings: ConveyorSettings, pool: String) {
        let (fallback, byType) = settings.jobResourceDefaults()
        let fileMB = settings.int("\(pool).maxFileMB", default: 0)
        self.init(
            fallback: fallback, byType: byType, maxProcesses: max(16, settings.int("\(pool).maxProcesses", default: 1024)),
            maxRunSeconds: settings.int("limits.maxRunSeconds", default: ResourceRequirements.maxRunSecondsLimit),
            maxFileBytes: fileMB > 0 ? fileMB * 1_048_576 : nil)
    }
}
