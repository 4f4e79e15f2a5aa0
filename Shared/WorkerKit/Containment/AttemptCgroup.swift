import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The control group of one attempt's processes: given the attempt's limits, joined by the model's
/// first process before it starts (``procsFiles``), killed as a whole, read for what the processes
/// used and whether the kernel killed one for memory. A v1 group is used again by later attempts
/// (``Containment`` keeps the idle ones): creating and removing a memory group costs a run about
/// 6 ms, waiting on the kernel, so each use starts from ``apply(_:)`` instead, which sets the limits,
/// empties the group's memory charges and resets what it counts.
public final class AttemptCgroup: Sendable {
    public enum Version: Sendable { case v1, v2 }
    public let version: Version
    /// One folder per hierarchy (v1: memory first, then cpu, cpuacct and pids, those mounted
    /// together once; v2: one).
    public let folders: [String]
    /// v1: controller → folder (v2: the one folder under "").
    let byController: [String: String]
    /// What the current use started from: the limit, and the counters that cannot be reset.
    private let use = Mutex<(memoryBytes: Int?, oomKills: Int, cpuMicroseconds: (usage: Int, user: Int, system: Int), io: (read: Int, write: Int))>(
        (nil, 0, (0, 0, 0), (0, 0)))
    /// The limits written last (a use with the same ones writes none of them again).
    private let written = Mutex<AttemptLimits?>(nil)

    /// The memory limit of the current use, for messages.
    public var memoryBytes: Int? { use.withLock { $0.memoryBytes } }

    /// The files the child writes itself into. v1: `tasks`, which moves the writing thread alone
    /// (the child has one) without the kernel's global lock for moving whole processes: through
    /// `cgroup.procs` each move waited ~7 ms for an RCU grace period (measured on this machine), on
    /// every job's path. v2: `cgroup.procs` (a v2 thread cannot leave its process's group).
    public var procsFiles: [String] { folders.map { $0 + (version == .v1 ? "/tasks" : "/cgroup.procs") } }

    /// Creates `name` under each base folder (v1: controller → base) and applies the limits.
    /// - Throws: ``JobFailure`` naming the file that could not be written.
    convenience init(version: Version, bases: [String: String], name: String, limits: AttemptLimits) throws {
        try self.init(version: version, bases: bases, name: name)
        do {
            try apply(limits)
        } catch {
            remove()
            throw error
        }
    }

    /// Creates `name` under each base folder, with no limits yet.
    init(version: Version, bases: [String: String], name: String) throws {
        self.version = version
        var folders: [String: String] = [:]
        for (controller, base) in bases {
            let folder = base + "/" + name
            if mkdir(folder, 0o755) != 0 && errno != EEXIST {
                throw JobFailure("cannot create the control group \(folder): \(String(cString: strerror(errno)))")
            }
            folders[controller] = folder
        }
        // The memory hierarchy first: signals and usage read it.
        var unique: [String] = []
        for (_, folder) in folders.sorted(by: { ($0.key == "memory" ? "" : $0.key) < ($1.key == "memory" ? "" : $1.key) }) where !unique.contains(folder) {
            unique.append(folder)
        }
        self.folders = unique
        self.byController = folders
    }

    /// Starts a use: the attempt's limits, the group's memory emptied and its counters reset (or,
    /// where the kernel cannot reset them, remembered). The group must hold no process.
    /// - Throws: ``JobFailure`` naming the file that could not be written.
    public func apply(_ limits: AttemptLimits) throws {
        let previous = written.withLock { $0 }
        switch version {
        case .v1:
            if let memory = byController["memory"] {
                // What earlier uses left charged (page cache, beyond a little) goes, so the peak is this use's.
                if (Self.number(in: memory + "/memory.usage_in_bytes") ?? 0) > 4 << 20 { try? Self.write("0", to: memory + "/memory.force_empty") }
                if previous?.memoryBytes != limits.memoryBytes || previous == nil {
                    let bytes = limits.memoryBytes.map(String.init) ?? "-1"
                    // The memory limit may not exceed memory+swap: raise that first when it would.
                    if (try? Self.write(bytes, to: memory + "/memory.limit_in_bytes")) == nil {
                        try? Self.write(bytes, to: memory + "/memory.memsw.limit_in_bytes")
                        try Self.write(bytes, to: memory + "/memory.limit_in_bytes")
                    }
                    // Without swap accounting the file is missing: memory alone is limited.
                    try? Self.write(bytes, to: memory + "/memory.memsw.limit_in_bytes")
                }
                try Self.write("0", to: memory + "/memory.max_usage_in_bytes")
            }
            if let cpu = byController["cpu"], previous?.cpus != limits.cpus || previous == nil {
                if previous == nil { try Self.write("100000", to: cpu + "/cpu.cfs_period_us") }
                try Self.write(limits.cpus.map { String($0 * 100_000) } ?? "-1", to: cpu + "/cpu.cfs_quota_us")
            }
            if let cpuacct = byController["cpuacct"] { try Self.write("0", to: cpuacct + "/cpuacct.usage") }
            if let pids = byController["pids"], previous?.maxProcesses != limits.maxProcesses {
                try Self.write(String(limits.maxProcesses), to: pids + "/pids.max")
            }
        case .v2:
            let folder = folders[0]
            try Self.write(limits.memoryBytes.map(String.init) ?? "max", to: folder + "/memory.max")
            try? Self.write("0", to: folder + "/memory.swap.max")
            try? Self.write("\(limits.cpus.map { String($0 * 100_000) } ?? "max") 100000", to: folder + "/cpu.max")
            try Self.write(String(limits.maxProcesses), to: folder + "/pids.max")
        }
        let stat = folders[0] + "/cpu.stat"
        let oomFile = version == .v1 ? folders[0] + "/memory.oom_control" : folders[0] + "/memory.events"
        let cpu = version == .v1
            ? (usage: 0, user: 0, system: 0)
            : (usage: Self.counter("usage_usec", in: stat) ?? 0, user: Self.counter("user_usec", in: stat) ?? 0, system: Self.counter("system_usec", in: stat) ?? 0)
        let oomKills = Self.counter("oom_kill", in: oomFile) ?? 0
        use.withLock { $0 = (limits.memoryBytes, oomKills, cpu, (0, 0)) }
        // v2 counts I/O from the group's start: remember where it stands.
        if let io = ioBytes() { use.withLock { $0.io = io } }
        written.withLock { $0 = limits }
    }

    /// The processes in the group now.
    public func processes() -> [pid_t] {
        guard let text = Self.read(folders[0] + "/cgroup.procs") else { return [] }
        return text.split(separator: "\n").compactMap { pid_t($0) }
    }

    /// Sends `signal` to every process in the group.
    public func signalAll(_ signal: Int32) {
        if signal == SIGKILL, version == .v2, (try? Self.write("1", to: folders[0] + "/cgroup.kill")) != nil { return }
        for pid in processes() { kill(pid, signal) }
    }

    /// Kills every process in the group, again until none is left (a process forking meanwhile is
    /// caught by the next round; `pids.max` bounds how many there can be).
    public func killAll() {
        for _ in 0..<200 {
            let left = processes()
            if left.isEmpty { return }
            if version == .v2, (try? Self.write("1", to: folders[0] + "/cgroup.kill")) != nil {
            } else {
                for pid in left { kill(pid, SIGKILL) }
            }
            usleep(1000)
        }
    }

    /// How many processes the kernel killed because the group reached its memory limit.
    public var outOfMemoryKills: Int {
        let file = version == .v1 ? folders[0] + "/memory.oom_control" : folders[0] + "/memory.events"
        return (Self.counter("oom_kill", in: file) ?? 0) - use.withLock { $0.oomKills }
    }

    /// What the group's processes used together: peak memory and CPU time.
    public func usage() -> (peakBytes: Int?, userSeconds: Double?, systemSeconds: Double?) {
        switch version {
        case .v1:
            let cpuacct = byController["cpuacct"]
            func nanoseconds(_ file: String) -> Double? { cpuacct.flatMap { Self.number(in: $0 + "/" + file) }.map { Double($0) / 1e9 } }
            return (Self.number(in: folders[0] + "/memory.max_usage_in_bytes"), nanoseconds("cpuacct.usage_user"), nanoseconds("cpuacct.usage_sys"))
        case .v2:
            let stat = folders[0] + "/cpu.stat"
            let start = use.withLock { $0.cpuMicroseconds }
            return (
                Self.number(in: folders[0] + "/memory.peak"), Self.counter("user_usec", in: stat).map { Double($0 - start.user) / 1e6 },
                Self.counter("system_usec", in: stat).map { Double($0 - start.system) / 1e6 }
            )
        }
    }

    /// Bytes the group's processes read and wrote on block devices since this use began (v2 `io.stat`,
    /// summed over devices; nil in v1, whose blkio controller does not see buffered writes).
    public func ioBytes() -> (read: Int, write: Int)? {
        guard version == .v2, let text = Self.read(folders[0] + "/io.stat") else { return nil }
        var (read, write) = (0, 0)
        for field in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            if field.hasPrefix("rbytes="), let value = Int(field.dropFirst(7)) { read += value }
            if field.hasPrefix("wbytes="), let value = Int(field.dropFirst(7)) { write += value }
        }
        let start = use.withLock { $0.io }
        return (read - start.read, write - start.write)
    }

    /// What the group's processes use now: memory, and CPU time so far.
    public func current() -> (memoryBytes: Int?, cpuSeconds: Double?) {
        switch version {
        case .v1:
            let cpu = byController["cpuacct"].flatMap { Self.number(in: $0 + "/cpuacct.usage") }.map { Double($0) / 1e9 }
            return (Self.number(in: folders[0] + "/memory.usage_in_bytes"), cpu)
        case .v2:
            let start = use.withLock { $0.cpuMicroseconds.usage }
            return (
                Self.number(in: folders[0] + "/memory.current"),
                Self.counter("usage_usec", in: folders[0] + "/cpu.stat").map { Double($0 - start) / 1e6 }
            )
        }
    }

    /// Removes the group's folders (its processes must have ended; those just killed may take a
    /// moment to leave).
    public func remove() {
        for folder in folders { Self.removeFolder(folder) }
    }

    /// Removes a group's folder, waiting a little for processes that are still leaving it.
    static func removeFolder(_ folder: String) {
        for _ in 0..<100 {
            if rmdir(folder) == 0 || errno == ENOENT { return }
            usleep(2000)
        }
    }

    /// Kills what is left in the group folders under `parent` (a dead worker's) and removes them.
    static func discardGroups(under parent: String) {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] {
            let group = parent + "/" + entry
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: group, isDirectory: &isFolder), isFolder.boolValue else { continue }
            if (try? write("1", to: group + "/cgroup.kill")) == nil {
                for pid in (read(group + "/cgroup.procs") ?? "").split(separator: "\n").compactMap({ pid_t($0) }) { kill(pid, SIGKILL) }
            }
            removeFolder(group)
        }
    }

    static func write(_ value: String, to file: String) throws {
        let fd = open(file, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw JobFailure("cannot open \(file): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = value.withCString { Glibc.write(fd, $0, strlen($0)) }
        guard written >= 0 else { throw JobFailure("cannot write \(value) to \(file): \(String(cString: strerror(errno)))") }
    }

    /// A control file's text (they are small: one read of at most 4 KiB, no Foundation on the way).
    static func read(_ file: String) -> String? {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { buffer in
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            return count < 0 ? nil : String(decoding: UnsafeBufferPointer(rebasing: buffer[..<count]), as: UTF8.self)
        }
    }

    static func number(in file: String) -> Int? {
        read(file).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// The value of a `key value` line (memory.events, memory.oom_control, cpu.stat).
    static func counter(_ key: String, in file: String) -> Int? {
        guard let text = read(file) else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == key { return Int(parts[1]) }
        }
        return nil
    }
}
