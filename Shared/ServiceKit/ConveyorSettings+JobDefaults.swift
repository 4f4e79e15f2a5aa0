import ConveyorModels

extension ConveyorSettings {
    /// What a job that does not say asks for: `scheduler.defaults.cpus` (1), `.memoryMB` (256),
    /// `.gpus` (0), `.expectedRunSeconds` (3600), each overridden per type by
    /// `scheduler.types.<TYPE>.<same>` (read by the scheduler to pack and by the runner to enforce).
    public func jobResourceDefaults() -> (fallback: JobResourceDefaults, byType: [JobType: JobResourceDefaults]) {
        let fallback = JobResourceDefaults(
            cpus: int("scheduler.defaults.cpus", default: 1), memoryMB: int("scheduler.defaults.memoryMB", default: 256),
            gpus: int("scheduler.defaults.gpus", default: 0), expectedRunSeconds: int("scheduler.defaults.expectedRunSeconds", default: 3600))
        var byType: [JobType: JobResourceDefaults] = [:]
        for type in JobType.allCases {
            let prefix = "scheduler.types.\(type.rawValue)."
            byType[type] = JobResourceDefaults(
                cpus: int(prefix + "cpus", default: fallback.cpus), memoryMB: int(prefix + "memoryMB", default: fallback.memoryMB),
                gpus: int(prefix + "gpus", default: fallback.gpus), expectedRunSeconds: int(prefix + "expectedRunSeconds", default: fallback.expectedRunSeconds))
        }
        return (fallback, byType)
    }
}
