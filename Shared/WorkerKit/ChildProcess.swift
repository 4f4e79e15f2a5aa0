import ConveyorModels
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process in its own process group, with stdout and stderr merged into one ordered stream.
///
/// Blocking calls (`read`, `waitpid`) run on dedicated threads, never on Swift's cooperative pool.
/// When the process ends, or its time is up, the whole group is killed so no grandchild lingers.
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
        guard pipe(&pipeFDs) == 0 else { throw JobFailure("cannot create a pipe: errno \(errno)") }
        let (readFD, writeFD) = (pipeFDs[0], pipeFDs[1])
        let pid: pid_t
        do {
            pid = try spawn(arguments, workingDirectory: workingDirectory, environment: environment, outputFD: writeFD)
        } catch {
            close(readFD)
            close(writeFD)
            throw error
        }
        close(writeFD)

        let chunks = AsyncStream<Data> { continuation in
            let reader = Thread {
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let count = read(readFD, &buffer, buffer.count)
                    if count > 0 {
                        continuation.yield(Data(buffer[0..<count]))
                    } else if count < 0 && errno == EINTR {
                        continue
                    } else {
                        break
                    }
                }
                close(readFD)
                continuation.finish()
            }
            reader.name = "child-output-\(pid)"
            reader.start()
        }

        // Cancelling the calling task kills the whole process group.
        let (termination, rusage) = await withTaskCancellationHandler {
            await collect(pid: pid, chunks: chunks, timeout: timeout, output: output)
        } onCancel: {
            kill(-pid, SIGKILL)
        }
        let elapsed = ContinuousClock.now - started
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
        let usage = ResourceUsage(
            wallSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
            cpuUserSeconds: rusage.map { seconds($0.ru_utime) }, cpuSystemSeconds: rusage.map { seconds($0.ru_stime) },
            maxResidentKB: rusage.map { Int($0.ru_maxrss) }, startedAt: startedAt, endedAt: Date())
        return (termination, usage)
    }

    /// Streams the output and waits for the end of the process (or its time limit).
    ///
    /// The output is drained to its end even when the process is killed: the reader is not a child
    /// of the group below, so cancelling the timer cannot cut the last lines off.
    private static func collect(
        pid: pid_t, chunks: AsyncStream<Data>, timeout: Duration?, output: @escaping @Sendable (Data) async -> Void
    ) async -> (Termination, rusage?) {
        let reader = Task {
            for await chunk in chunks { await output(chunk) }
        }
        let (termination, usage) = await withTaskGroup(of: (Termination, rusage?)?.self) { group in
            group.addTask { await wait(for: pid) }
            if let timeout {
                group.addTask {
                    guard (try? await Task.sleep(for: timeout)) != nil else { return nil }
                    kill(-pid, SIGKILL)
                    return (.timedOut(timeout), nil)
                }
            }
            var first: Termination?
            var usage: rusage?
            while let next = await group.next() {
                guard let next else { continue }
                if first == nil { first = next.0 }
                if let measured = next.1 { usage = measured }
                group.cancelAll()
            }
            return (first ?? .signalled(SIGKILL), usage)
        }
        // The leader is gone: end the rest of its group so the output pipe closes.
        kill(-pid, SIGKILL)
        await reader.value
        return (termination, usage)
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

    /// Waits for the process on a dedicated thread.
    private static func wait(for pid: pid_t) async -> (Termination, rusage?) {
        await withCheckedContinuation { continuation in
            let waiter = Thread {
                var status: Int32 = 0
                var usage = rusage()
                while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
                let signal = status & 0x7f
                if signal == 0 {
                    continuation.resume(returning: (.exited((status >> 8) & 0xff), usage))
                } else {
                    continuation.resume(returning: (.signalled(signal), usage))
                }
            }
            waiter.name = "child-wait-\(pid)"
            waiter.start()
        }
    }
}
