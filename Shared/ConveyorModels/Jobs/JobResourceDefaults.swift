/// What a job that does not say asks for (its `resources`), per deployment and job type: the
/// scheduler packs jobs by it and the runner enforces it (the memory and CPU limits of the job's
/// control group).
public struct JobResourceDefaults: Sendable, Hashable {
    public var cpus: Int
    public var memoryMB: Int
    public var gpus: Int
    /// The run time assumed for a job that does not give `maxRunSeconds` (for reservations and backfill).
    public var expectedRunSeconds: Int

    public init(cpus: Int = 1, memoryMB: Int = 256, gpus: Int = 0, expectedRunSeconds: Int = 3600) {
        self.cpus = cpus
        self.memoryMB = memoryMB
        self.gpus = gpus
        self.expectedRunSeconds = expectedRunSeconds
    }
}
