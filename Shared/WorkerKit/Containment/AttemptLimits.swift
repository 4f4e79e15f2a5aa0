import CChildSpawn
import ConveyorModels
#if canImport(Glibc)
import Glibc
#endif

/// What one attempt may use, enforced by its control group (or, without one, by rlimits).
public struct AttemptLimits: Sendable, Equatable {
    /// Memory of all its processes together (cgroup `memory.limit_in_bytes` / `memory.max`; no swap).
    public var memoryBytes: Int?
    /// CPU time per wall second, in CPUs (a CFS quota of `cpus` × the period).
    public var cpus: Int?
    /// Processes and threads alive at once (cgroup `pids.max`).
    public var maxProcesses: Int
    /// Wall time before SIGTERM; SIGKILL follows after the worker's grace period.
    public var maxRunSeconds: Int
    /// The disk the attempt's work folder may take (checked every sample), also the largest file a
    /// process may write (RLIMIT_FSIZE).
    public var diskBytes: Int?

    public init(memoryBytes: Int?, cpus: Int?, maxProcesses: Int, maxRunSeconds: Int, diskBytes: Int? = nil) {
        self.memoryBytes = memoryBytes
        self.cpus = cpus
        self.maxProcesses = maxProcesses
        self.maxRunSeconds = maxRunSeconds
        self.diskBytes = diskBytes
    }

    /// A process limit: one `setrlimit` the child makes before the model starts.
    public struct ResourceLimit: Sendable, Equatable {
        public var resource: Int32
        public var value: UInt64
    }

    /// The rlimits of a child. Always: no core files, and files no larger than the disk quota. Without a control group
    /// (the floor): address space at twice the memory limit plus 512 MiB (a process maps more than
    /// it uses: thread stacks, allocator arenas), CPU seconds at the run-time limit times the CPUs
    /// (plus a minute), and, when models run as a user of their own, that user's processes at the
    /// process limit (RLIMIT_NPROC counts every process of the user, the worker's too otherwise).
    public func rlimits(withCgroup: Bool, separateUser: Bool) -> [ResourceLimit] {
        var limits = [ResourceLimit(resource: Int32(RLIMIT_CORE.rawValue), value: 0)]
        if let diskBytes { limits.append(ResourceLimit(resource: Int32(RLIMIT_FSIZE.rawValue), value: UInt64(diskBytes))) }
        guard !withCgroup else { return limits }
        if let memoryBytes {
            limits.append(ResourceLimit(resource: Int32(RLIMIT_AS.rawValue), value: UInt64(memoryBytes) * 2 + 512 * 1_048_576))
        }
        limits.append(ResourceLimit(resource: Int32(RLIMIT_CPU.rawValue), value: UInt64(maxRunSeconds * max(1, cpus ?? 1) + 60)))
        if separateUser { limits.append(ResourceLimit(resource: conveyor_rlimit_nproc, value: UInt64(maxProcesses))) }
        return limits
    }
}

/// How a worker turns a job's `resources` into its attempt's limits: what the job asks for, or the
/// deployment's default for its type (what the scheduler packed it by), a process cap, and the
/// run-time limit (the job's `maxRunSeconds`, or the deployment's `limits.maxRunSeconds`), and the
/// disk quota of its work folder.
public struct AttemptLimitRules: Sendable {
    public var fallback: JobResourceDefaults
    public var byType: [JobType: JobResourceDefaults]
    public var maxProcesses: Int
    public var maxRunSeconds: Int
    public var diskBytes: Int?

    public init(
        fallback: JobResourceDefaults = JobResourceDefaults(), byType: [JobType: JobResourceDefaults] = [:], maxProcesses: Int = 1024,
        maxRunSeconds: Int = ResourceRequirements.maxRunSecondsLimit, diskBytes: Int? = nil
    ) {
        self.fallback = fallback
        self.byType = byType
        self.maxProcesses = maxProcesses
        self.maxRunSeconds = maxRunSeconds
        self.diskBytes = diskBytes
    }

    public func limits(for type: JobType, resources: ResourceRequirements?) -> AttemptLimits {
        let defaults = byType[type] ?? fallback
        return AttemptLimits(
            memoryBytes: (resources?.memoryMB ?? defaults.memoryMB) * 1_048_576, cpus: resources?.cpus ?? defaults.cpus,
            maxProcesses: maxProcesses, maxRunSeconds: resources?.maxRunSeconds ?? maxRunSeconds, diskBytes: diskBytes)
    }
}
