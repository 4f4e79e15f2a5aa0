import CChildSpawn
import ConveyorModels
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A child process in its own process group, with stdout and stderr merged into one ordered stream,
/// optionally confined (``Confinement``: a control group it joins before it starts, rlimits, a user).
///
/// Its output and its end are watched by the worker's one ``ChildSupervisor`` thread, never on
/// Swift's cooperative pool. When the process ends, the whole group (and control group) is killed
/// so no grandchild lingers; when its time is up it gets SIGTERM, and SIGKILL after a grace period.
public enum ChildProcess {
    /// How a child process ended.
    public enum Termination: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)
        case timedOut(Duration)
        /// The kernel killed a process of its control group at the group's memory limit.
        case outOfMemory(limitBytes: Int?)
        /// Its work folder outgrew the disk quota and it was killed.
        case diskLimit(limitBytes: Int)

        public var description: String {
            switch self {
            case .exited(let code): "exited with code \(code)"
            case .signalled(let signal): "killed by signal \(signal)"
            case .timedOut(let limit): "exceeded its time limit of \(limit) and was killed"
            case .outOfMemory(let limit): "ran out of memory\(limit.map { " (limit \($0 / 1_048_576) MB)" } ?? "") and was killed"
            case .diskLimit(let limit): "outgrew its disk quota of \(limit / 1_048_576) MB and was killed"
            }
        }
    }

    /// A check made every `interval` while a child runs.
    public struct Watchdog: Sendable {
        public var interval: Duration
        public var check: @Sendable () async -> Termination?

        public init(interval: Duration, check: @escaping @Sendable () async -> Termination?) {
            self.interval = interval
            self.check = check
        }
    }

    /// What confines a child: the control group it joins before it starts (its memory, CPU and
    /// process limits; killed as a whole; its usage and OOM kills read), rlimits, the user it runs
    /// as, and the grace between SIGTERM and SIGKILL at its time limit.
    public struct Confinement: Sendable {
        public var cgroup: AttemptCgroup?
        public var rlimits: [AttemptLimits.ResourceLimit]
        public var credentials: (uid: UInt32, gid: UInt32)?
        public var killGrace: Duration

        public init(
            cgroup: AttemptCgroup? = nil, rlimits: [AttemptLimits.ResourceLimit] = [], credentials: (uid: UInt32, gid: UInt32)? = nil,
            killGrace: Duration = .seconds(10)
        ) {
            self.cgroup = cgroup
            self.rlimits = rlimits
            self.credentials = credentials
            self.killGrace = killGrace
        }

        public static let none = Confinement()

        /// Looked at every `interval` while the child runs (usage samples, the disk quota): a
        /// termination it answers ends the child at once (SIGKILL to all) and is how it ended.
        public var watchdog: Watchdog?

        /// Sends `signal` to the process group and every process of the control group.
        func signalAll(_ pid: pid_t, _ signal: Int32) {
            kill(-pid, signal)
            cgroup?.signalAll(signal)
        }
    }

    /// Runs `arguments` (the first is looked up on PATH) and streams its output.
    /// - Parameters:
    ///   - workingDirectory: the child's current directory.
    ///   - environment: the child's whole environment.
    ///   - timeout: kill the process group after this long.
    ///   - output: called with each piece of output, in order.
    /// - Throws: ``JobFailure`` when the process cannot be started.
    public static func run(
        _ arguments: [String], workingDirectory: String, environment: [String: String], timeout: Duration? = nil,
        output: @escaping @Sendable (Data) async -> Void
    ) async throws -> Termination {
        try await runMeasured(arguments, workingDirectory: workingDirectory, environment: environment, timeout: timeout, output: output).termination
    }

    /// Like ``run(_:workingDirectory:environment:timeout:output:)``, also answering what the process
    /// (with the children it waited for) used: wall time, CPU time and peak resident memory.
    /// With a control group, the usage is the whole group's (every process, peak memory of them all).
    public static func runMeasured(
        _ arguments: [String], workingDirectory: String, environment: [String: String], timeout: Duration? = nil,
        confinement: Confinement = .none, output: @escaping @Sendable (Data) async -> Void
    ) async throws -> (termination: Termination, usage: ResourceUsage) {
        let started = ContinuousClock.now
        let startedAt = Date()
        var pipeFDs: [Int32] = [0, 0]
        // The child closes every descriptor but its standard ones (see `spawn`), so these need no
        // close-on-exec for other children started meanwhile.
        guard pipe(&pipeFDs) == 0 else { throw JobFailure("cannot create a pipe: errno \(errno)") }
        let (readFD, writeFD) = (pipeFDs[0], pipeFDs[1])
        _ = fcntl(readFD, F_SETFD, FD_CLOEXEC)
        _ = fcntl(readFD, F_SETFL, fcntl(readFD, F_GETFL) | O_NONBLOCK)
        let pid: pid_t
        do {
            pid = try spawn(arguments, workingDirectory: workingDirectory, environment: environment, outputFD: writeFD, confinement: confinement)
        } catch {
            close(readFD)
            close(writeFD)
            throw error
        }
        close(writeFD)

        // The supervisor thread reads the output and reaps the process; a task hands the output on,
        // in order. Cancelling the calling task kills the whole process group.
        let (chunks, chunkSink) = AsyncStream.makeStream(of: Data.self)
        let forced = ForcedEnd()
        let backlog = OutputBacklog()
        async let handedOn: Void = {
            for await chunk in chunks {
                await output(chunk)
                if backlog.taken(chunk.count) { ChildSupervisor.shared.resume(readFD) }
            }
        }()
        let (status, measured) = try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: (Int32, rusage)?.self) { group in
                group.addTask { try await end(of: pid, outputFD: readFD, chunks: chunkSink, backlog: backlog, cgroup: confinement.cgroup) }
                if let watchdog = confinement.watchdog {
                    group.addTask {
                        while (try? await Task.sleep(for: watchdog.interval)) != nil {
                            if let stop = await watchdog.check() {
                                forced.set(stop)
                                confinement.signalAll(pid, SIGKILL)
                                return nil
                            }
                        }
                        return nil
                    }
                }
                if let timeout {
                    group.addTask {
                        guard (try? await Task.sleep(for: timeout)) != nil else { return nil }
                        forced.set(.timedOut(timeout))
                        confinement.signalAll(pid, SIGTERM)
                        guard (try? await Task.sleep(for: confinement.killGrace)) != nil else { return nil }
                        confinement.signalAll(pid, SIGKILL)
                        return nil
                    }
                }
                while let next = try await group.next() {
                    if let ended = next {
                        group.cancelAll()
                        return ended
                    }
                }
                throw JobFailure("process \(pid) was not watched to its end")
            }
        } onCancel: {
            confinement.signalAll(pid, SIGKILL)
        }
        // Every piece of output is handed on before the run counts as ended.
        await handedOn
        let signal = status & 0x7f
        let oomKilled = (confinement.cgroup?.outOfMemoryKills ?? 0) > 0
        // An end the worker forced counts first (a time limit's SIGKILL may also end a process at
        // the memory limit); then an OOM kill in the group, even when the leader survived it and
        // exited with an error.
        let termination: Termination
        if let forced = forced.termination {
            termination = forced
        } else if oomKilled && status != 0 {
            termination = .outOfMemory(limitBytes: confinement.cgroup?.memoryBytes)
        } else {
            termination = signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
        }
        let elapsed = ContinuousClock.now - started
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
        var usage = ResourceUsage(
            wallSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
            cpuUserSeconds: seconds(measured.ru_utime), cpuSystemSeconds: seconds(measured.ru_stime),
            maxResidentKB: Int(measured.ru_maxrss), startedAt: startedAt, endedAt: Date())
        usage.ioReadBytes = Int(measured.ru_inblock) * 512
        usage.ioWriteBytes = Int(measured.ru_oublock) * 512
        if let cgroup = confinement.cgroup {
            let group = cgroup.usage()
            usage.maxResidentKB = group.peakBytes.map { $0 / 1024 } ?? usage.maxResidentKB
            usage.cpuUserSeconds = group.userSeconds ?? usage.cpuUserSeconds
            usage.cpuSystemSeconds = group.systemSeconds ?? usage.cpuSystemSeconds
            if let io = cgroup.ioBytes() { (usage.ioReadBytes, usage.ioWriteBytes) = (io.read, io.write) }
        }
        return (termination, usage)
    }

    /// Waits until the supervisor saw the process end and its output close; the output goes to `chunks`.
    private static func end(
        of pid: pid_t, outputFD: Int32, chunks: AsyncStream<Data>.Continuation, backlog: OutputBacklog, cgroup: AttemptCgroup?
    ) async throws -> (Int32, rusage) {
        try await withCheckedThrowingContinuation { ended in
            do {
                try ChildSupervisor.shared.watch(
                    ChildSupervisor.Watch(
                        pid: pid, outputFD: outputFD, cgroup: cgroup, output: { chunks.yield($0) }, backlog: backlog,
                        finished: { status, usage in
                            chunks.finish()
                            ended.resume(returning: (status, usage))
                        }))
            } catch {
                close(outputFD)
                chunks.finish()
                ended.resume(throwing: error)
            }
        }
    }

    /// How a run was ended by the worker (its time limit, or a watchdog), the first of them.
    private final class ForcedEnd: Sendable {
        private let value = Mutex<Termination?>(nil)
        func set(_ termination: Termination) { value.withLock { if $0 == nil { $0 = termination } } }
        var termination: Termination? { value.withLock { $0 } }
    }

    private static func spawn(
        _ arguments: [String], workingDirectory: String, environment: [String: String], outputFD: Int32, confinement: Confinement
    ) throws -> pid_t {
        let executables = try candidates(arguments[0]).map { UnsafePointer(strdup($0)) }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        let procs = (confinement.cgroup?.procsFiles ?? []).map { UnsafePointer(strdup($0)) }
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
            procs.forEach { free(UnsafeMutablePointer(mutating: $0)) }
            executables.forEach { free(UnsafeMutablePointer(mutating: $0)) }
        }
        let limits = confinement.rlimits.map { conveyor_rlimit(resource: $0.resource, soft: $0.value, hard: $0.value) }
        var pid: pid_t = 0
        var failedStep: UnsafePointer<CChar>? = nil
        let status = executables.withUnsafeBufferPointer { executablesBuffer in
            workingDirectory.withCString { directory in
                argv.withUnsafeBufferPointer { argvBuffer in
                    envp.withUnsafeBufferPointer { envpBuffer in
                        procs.withUnsafeBufferPointer { procsBuffer in
                            limits.withUnsafeBufferPointer { limitsBuffer in
                                var request = conveyor_spawn_request(
                                    executables: executablesBuffer.baseAddress, executable_count: Int32(executables.count),
                                    argv: argvBuffer.baseAddress, envp: envpBuffer.baseAddress,
                                    working_directory: directory, output_fd: outputFD, cgroup_procs: procsBuffer.baseAddress,
                                    cgroup_procs_count: Int32(procs.count), rlimits: limitsBuffer.baseAddress, rlimit_count: Int32(limits.count),
                                    set_credentials: confinement.credentials == nil ? 0 : 1, uid: confinement.credentials?.uid ?? 0,
                                    gid: confinement.credentials?.gid ?? 0)
                                return conveyor_spawn(&request, &pid, &failedStep)
                            }
                        }
                    }
                }
            }
        }
        guard status == 0 else {
            let step = failedStep.map { String(cString: $0) } ?? "spawn"
            throw JobFailure("cannot start \(arguments[0]) (\(step)): \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// The paths to try for a program: a name without '/' in each folder of the worker's PATH that
    /// has it (the child skips those its user may not run, as `execvp` does); a path with a '/' as
    /// it is (relative ones from the child's working directory).
    static func candidates(_ program: String) throws -> [String] {
        if program.contains("/") { return [program] }
        if let known = resolved.withLock({ $0[program] }) { return known }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let found = path.split(separator: ":").filter { !$0.isEmpty }.map { $0 + "/" + program }.filter { access($0, F_OK) == 0 }
        guard !found.isEmpty else { throw JobFailure("cannot start \(program): not found on PATH (\(path))") }
        resolved.withLock { $0[program] = found }
        return found
    }

    private static let resolved = Mutex<[String: [String]]>([:])
}
