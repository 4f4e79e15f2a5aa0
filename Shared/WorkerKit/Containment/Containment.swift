import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How a worker contains the processes of its jobs, chosen once at start (`runner.containment`):
///
/// - `cgroup2`: the unified hierarchy delegates `memory` and `pids` (and `cpu`) to the worker's
///   group; the worker moves itself into a leaf (`conveyor-supervisor`) and puts each attempt in a
///   group of its own next to it (`conveyor-jobs/<attempt>`).
/// - `cgroup1`: the v1 `memory` and `pids` hierarchies (and `cpu`, `cpuacct`) are writable; each
///   attempt gets a group in each, under `conveyor/<pool>-<pid>/`.
/// - `rlimits`: neither; each process gets rlimits (address space, CPU time, processes, file size)
///   and the job is killed by its process group (a process that leaves the group escapes).
///
/// `auto` (the default) takes the first that works in that order.
public final class Containment: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        case cgroup2
        case cgroup1
        case rlimits
    }

    public let mode: Mode
    /// Where attempt groups are made: v1 controller → folder; v2: "" → folder.
    let bases: [String: String]
    /// The user ids models run as, one per run (nil: the worker's own user).
    public let modelUsers: ModelUsers?
    /// How long a process has between SIGTERM and SIGKILL at its time limit.
    public let killGrace: Duration
    /// How often a running attempt's usage is sampled (and its disk quota checked).
    public let sampleInterval: Duration
    private let counter = Counter()
    /// v1 groups no run uses now, ready for the next.
    private let idle = Mutex<[AttemptCgroup]>([])

    init(
        mode: Mode, bases: [String: String], modelUsers: ModelUsers? = nil, killGrace: Duration = .seconds(10),
        sampleInterval: Duration = .seconds(5)
    ) {
        self.mode = mode
        self.bases = bases
        self.modelUsers = modelUsers
        self.killGrace = killGrace
        self.sampleInterval = sampleInterval
    }

    /// Sets up containment for a worker of `pool`.
    /// - Parameters:
    ///   - requested: `auto`, or the mode that must be used.
    ///   - modelUsers: the user ids models run as (nil: the worker's own user).
    /// - Throws: ``JobFailure`` when the requested mode cannot be used, saying why.
    public static func start(
        requested: String, pool: String, modelUsers: ModelUsers?, killGrace: Duration, sampleInterval: Duration = .seconds(5),
        layout: CgroupLayout = .current(), logger: Logger
    ) throws -> Containment {
        let wanted: [Mode]
        if requested == "auto" {
            wanted = Mode.allCases
        } else if let mode = Mode(rawValue: requested) {
            wanted = [mode]
        } else {
            throw JobFailure("runner.containment is '\(requested)'; use auto, \(Mode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var reasons: [String] = []
        for mode in wanted {
            do {
                let bases: [String: String]
                switch mode {
                case .cgroup2: bases = try v2Bases(layout)
                case .cgroup1: bases = try v1Bases(layout, pool: pool)
                case .rlimits: bases = [:]
                }
                let containment = Containment(
                    mode: mode, bases: bases, modelUsers: modelUsers, killGrace: killGrace, sampleInterval: sampleInterval)
                logger.info(
                    "containment: \(mode.rawValue)",
                    metadata: [
                        "groups": "\(bases.sorted { $0.key < $1.key }.map { $0.key.isEmpty ? $0.value : "\($0.key)=\($0.value)" })",
                        "runAs": "\(modelUsers.map { "uids \($0.ids.lowerBound)-\($0.ids.upperBound)" } ?? "the runner's user")",
                        "notUsed": "\(reasons)",
                    ])
                return containment
            } catch {
                reasons.append("\(mode.rawValue): \(error)")
            }
        }
        throw JobFailure("no containment mode can be used: \(reasons.joined(separator: "; "))")
    }

    /// A group for one run of an attempt's model, with its limits; nil in `rlimits` mode. In
    /// `cgroup1` an idle group of an earlier run is used again (`slot-<n>`); give it back with
    /// ``release(_:)``.
    /// - Throws: ``JobFailure`` when the group cannot be made.
    public func cgroup(for name: String, limits: AttemptLimits) throws -> AttemptCgroup? {
        switch mode {
        case .rlimits:
            return nil
        case .cgroup1:
            if let group = idle.withLock({ $0.popLast() }) {
                do {
                    try group.apply(limits)
                    return group
                } catch {
                    group.remove()
                }
            }
            return try AttemptCgroup(version: .v1, bases: bases, name: "slot-\(counter.next())", limits: limits)
        case .cgroup2:
            return try AttemptCgroup(version: .v2, bases: bases, name: "\(name)-\(counter.next())", limits: limits)
        }
    }

    /// Ends a run's use of its group: whatever is left in it is killed; a v1 group that is empty
    /// then waits for the next run, any other is removed.
    public func release(_ group: AttemptCgroup) {
        group.killAll()
        if mode == .cgroup1, group.processes().isEmpty {
            idle.withLock { $0.append(group) }
        } else {
            group.remove()
        }
    }

    // MARK: Set-up

    /// v2: the worker's group must offer `memory` and `pids`; the worker moves into a leaf so its
    /// group may hand the controllers down (no process may sit in a group that does).
    static func v2Bases(_ layout: CgroupLayout) throws -> [String: String] {
        guard let own = layout.v2 else { throw JobFailure("no cgroup v2 hierarchy is mounted") }
        let offered = Set(((try? String(contentsOfFile: own + "/cgroup.controllers", encoding: .utf8)) ?? "").split(whereSeparator: \.isWhitespace).map(String.init))
        guard offered.contains("memory"), offered.contains("pids") else {
            throw JobFailure("the group \(own) is not delegated the memory and pids controllers (it offers: \(offered.sorted().joined(separator: " ")))")
        }
        let controllers = ["memory", "pids", "cpu"].filter(offered.contains).map { "+" + $0 }.joined(separator: " ")
        let supervisor = own + "/conveyor-supervisor"
        let jobs = own + "/conveyor-jobs"
        for folder in [supervisor, jobs] where mkdir(folder, 0o755) != 0 && errno != EEXIST {
            throw JobFailure("cannot create \(folder): \(String(cString: strerror(errno)))")
        }
        try AttemptCgroup.write("0", to: supervisor + "/cgroup.procs")
        try AttemptCgroup.write(controllers, to: own + "/cgroup.subtree_control")
        try AttemptCgroup.write(controllers, to: jobs + "/cgroup.subtree_control")
        // Groups an earlier runner in this group left (it was killed): their processes end with them.
        AttemptCgroup.discardGroups(under: jobs)
        return ["": jobs]
    }

    /// v1: a folder per controller for this worker process, after removing what dead workers of
    /// this host left (their processes killed first).
    static func v1Bases(_ layout: CgroupLayout, pool: String) throws -> [String: String] {
        var bases: [String: String] = [:]
        for controller in CgroupLayout.v1Controllers {
            guard let own = layout.v1[controller] else {
                if controller == "memory" || controller == "pids" { throw JobFailure("the v1 \(controller) hierarchy is not mounted") }
                continue
            }
            let parent = own + "/conveyor"
            let base = parent + "/\(pool)-\(getpid())"
            try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
            guard access(base + "/cgroup.procs", W_OK) == 0 else { throw JobFailure("\(base)/cgroup.procs is not writable") }
            removeDeadWorkers(in: parent, pool: pool)
            bases[controller] = base
        }
        return bases
    }

    /// Removes the groups of workers of `pool` on this host whose process is gone.
    static func removeDeadWorkers(in parent: String, pool: String) {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] where entry.hasPrefix(pool + "-") {
            guard let pid = pid_t(entry.dropFirst(pool.count + 1)), !WorkArea.isAlive(pid) else { continue }
            let worker = parent + "/" + entry
            AttemptCgroup.discardGroups(under: worker)
            rmdir(worker)
        }
    }

    private final class Counter: Sendable {
        private let value = Mutex<Int>(0)
        func next() -> Int { value.withLock { $0 += 1; return $0 } }
    }
}
