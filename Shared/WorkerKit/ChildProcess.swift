import ConveyorModels
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A child process in its own process group, with stdout and stderr merged into one ordered stream.
///
/// Its output and its end are watched by the worker's one ``ChildSupervisor`` thread, never on
/// Swift's cooperative pool. When the process ends, or its time is up, the whole group is killed so
/// no grandchild lingers.
public enum ChildProcess {
    /// How a child process ended.
    public enum Termination: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)
        case timedOut(Duration)

        public var description: String {
            switch self {
            case .exited(let code): "exited with code \(code)"
            case .signalled(let signal): "killed by signal \(signal)"
            case .timedOut(let limit): "exceeded its time limit of \(limit) and was killed"
            }
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
    public static func runMeasured(
        _ arguments: [String], workingDirectory: String, environment: [String: String], timeout: Duration? = nil,
        output: @escaping @Sendable (Data) async -> Void
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
            pid = try spawn(arguments, workingDirectory: workingDirectory, environment: environment, outputFD: writeFD)
        } catch {
            close(readFD)
            close(writeFD)
            throw error
        }
        close(writeFD)

        // The supervisor thread reads the output and reaps the process; a task hands the output on,
        // in order. Cancelling the calling task kills the whole process group.
        let (chunks, chunkSink) = AsyncStream.makeStream(of: Data.self)
        let timedOut = TimeLimit()
        async let handedOn: Void = { for await chunk in chunks { await output(chunk) } }()
        let (status, measured) = try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: (Int32, rusage)?.self) { group in
                group.addTask { try await end(of: pid, outputFD: readFD, chunks: chunkSink) }
                if let timeout {
                    group.addTask {
                        guard (try? await Task.sleep(for: timeout)) != nil else { return nil }
                        timedOut.fire()
                        kill(-pid, SIGKILL)
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
            kill(-pid, SIGKILL)
        }
        // Every piece of output is handed on before the run counts as ended.
        await handedOn
        let signal = status & 0x7f
        let termination: Termination =
            timedOut.fired ? .timedOut(timeout ?? .zero) : signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
        let elapsed = ContinuousClock.now - started
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
        let usage = ResourceUsage(
            wallSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
            cpuUserSeconds: seconds(measured.ru_utime), cpuSystemSeconds: seconds(measured.ru_stime),
            maxResidentKB: Int(measured.ru_maxrss), startedAt: startedAt, endedAt: Date())
        return (termination, usage)
    }

    /// Waits until the supervisor saw the process end and its output close; the output goes to `chunks`.
    private static func end(of pid: pid_t, outputFD: Int32, chunks: AsyncStream<Data>.Continuation) async throws -> (Int32, rusage) {
        try await withCheckedThrowingContinuation { ended in
            do {
                try ChildSupervisor.shared.watch(
                    ChildSupervisor.Watch(
                        pid: pid, outputFD: outputFD, output: { chunks.yield($0) },
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

    /// Whether a run's time limit was reached.
    private final class TimeLimit: Sendable {
        private let reached = Atomic<Bool>(false)
        func fire() { reached.store(true, ordering: .relaxed) }
        var fired: Bool { reached.load(ordering: .relaxed) }
    }

    private static func spawn(
        _ arguments: [String], workingDirectory: String, environment: [String: String], outputFD: Int32
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputFD, 1)
        posix_spawn_file_actions_adddup2(&actions, outputFD, 2)
        guard let addChdir = addChdirFunction, addChdir(&actions, workingDirectory) == 0 else {
            throw JobFailure("cannot set the working directory of a child process")
        }
        // The child gets stdin, stdout and stderr only: none of the worker's sockets (its health
        // port, broker connections) may live on in a model's processes.
        guard let addCloseFrom = addCloseFromFunction, addCloseFrom(&actions, 3) == 0 else {
            throw JobFailure("cannot close inherited file descriptors of a child process")
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard status == 0 else {
            throw JobFailure("cannot start \(arguments[0]): \(String(cString: strerror(status)))")
        }
        return pid
    }

    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    /// glibc's `posix_spawn_file_actions_addchdir_np` (2.29+), hidden from Swift behind `_GNU_SOURCE`.
    private static let addChdirFunction: AddChdir? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addchdir_np") else {
            return nil
        }
        return unsafeBitCast(symbol, to: AddChdir.self)
    }()

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), also hidden behind `_GNU_SOURCE`.
    private static let addCloseFromFunction: AddCloseFrom? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np") else {
            return nil
        }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()
}
