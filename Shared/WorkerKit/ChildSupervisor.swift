import CLinux
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One thread that watches every child process of this worker: it reads their output pipes and
/// reaps them when they exit, with one `epoll` over the pipes and a `pidfd` per process.
///
/// A thread per child for its output and another for its exit would cost each run two thread starts
/// and stops, which on a virtual machine means stack mappings and cross-core TLB flushes; a run of
/// a trivial model spent more on those than on its process. Blocking calls stay off Swift's
/// cooperative pool: this thread is the only one that blocks.
final class ChildSupervisor: @unchecked Sendable {
    static let shared = ChildSupervisor()

    /// What the supervisor reports about one child.
    struct Watch: Sendable {
        var pid: pid_t
        var outputFD: Int32
        /// The child's control group: killed whole when the child exits (a process that left the
        /// process group, with `setsid`, cannot keep the output open or run on).
        var cgroup: AttemptCgroup? = nil
        /// Called on the supervisor's thread with each piece of output, in order.
        var output: @Sendable (Data) -> Void
        /// The output handed on and not consumed yet: past ``OutputBacklog/highWater`` the
        /// supervisor stops reading the pipe (the child blocks on its writes) until the consumer
        /// catches up.
        var backlog = OutputBacklog()
        /// Called once, after the output ended and the process was reaped (its whole process group is
        /// killed when it exits, so no grandchild keeps the output open).
        var finished: @Sendable (_ status: Int32, _ usage: rusage) -> Void
    }

    /// A child being watched; touched by the supervisor thread only.
    private final class Child {
        let watch: Watch
        var pidFD: Int32
        var status: (Int32, rusage)?
        var outputOpen = true

        init(watch: Watch, pidFD: Int32) {
            self.watch = watch
            self.pidFD = pidFD
        }
    }

    private let epollFD: Int32
    private let wakeFD: Int32
    private let incoming = Mutex<[(Watch, Int32)]>([])
    /// Output pipes to read again (their backlog was consumed).
    private let resumed = Mutex<[Int32]>([])
    /// By file descriptor (output pipe or pidfd); supervisor thread only.
    private var children: [Int32: Child] = [:]

    private init() {
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(epollFD >= 0 && wakeFD >= 0, "cannot create the child supervisor: errno \(errno)")
        add(wakeFD)
        let thread = Thread { [self] in self.loop() }
        thread.name = "child-supervisor"
        thread.start()
    }

    /// Starts watching a child that was just spawned (not reaped yet, so its pid is still its own).
    /// - Throws: ``JobFailure`` when the process cannot be watched (it is killed then).
    func watch(_ watch: Watch) throws {
        let pidFD = Self.pidfdOpen?(watch.pid, 0) ?? -1
        guard pidFD >= 0 else {
            kill(-watch.pid, SIGKILL)
            throw JobFailure("cannot watch process \(watch.pid): pidfd_open failed (errno \(errno)); Linux 5.3 or later is needed")
        }
        _ = fcntl(pidFD, F_SETFD, FD_CLOEXEC)
        incoming.withLock { $0.append((watch, pidFD)) }
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    /// Reads `outputFD` again after its backlog fell (called by the consumer, any thread).
    func resume(_ outputFD: Int32) {
        resumed.withLock { $0.append(outputFD) }
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    private func add(_ descriptor: Int32) {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue
        event.data.fd = descriptor
        _ = epoll_ctl(epollFD, EPOLL_CTL_ADD, descriptor, &event)
    }

    private func remove(_ descriptor: Int32) {
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, descriptor, nil)
        children[descriptor] = nil
        close(descriptor)
    }

    private func loop() {
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = epoll_wait(epollFD, &events, Int32(events.count), -1)
            if count < 0 {
                if errno == EINTR { continue }
                fatalError("child supervisor: epoll_wait failed: errno \(errno)")
            }
            for index in 0..<Int(count) {
                let descriptor = events[index].data.fd
                if descriptor == wakeFD {
                    var value: UInt64 = 0
                    _ = read(wakeFD, &value, 8)
                    for (watch, pidFD) in incoming.withLock({ list in defer { list = [] }; return list }) {
                        let child = Child(watch: watch, pidFD: pidFD)
                        children[watch.outputFD] = child
                        children[pidFD] = child
                        add(watch.outputFD)
                        add(pidFD)
                    }
                    for outputFD in resumed.withLock({ list in defer { list = [] }; return list }) {
                        // Still watched and paused (EEXIST when it was never taken off).
                        if let child = children[outputFD], child.outputOpen { add(outputFD) }
                    }
                    continue
                }
                guard let child = children[descriptor] else { continue }
                if descriptor == child.watch.outputFD {
                    let read = read(descriptor, &buffer, buffer.count)
                    if read > 0 {
                        child.watch.output(Data(buffer[0..<read]))
                        if child.watch.backlog.added(read) {
                            _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, descriptor, nil)
                        }
                    } else if read == 0 || (errno != EINTR && errno != EAGAIN) {
                        child.outputOpen = false
                        remove(descriptor)
                        finishIfDone(child)
                    }
                } else {
                    var status: Int32 = 0
                    var usage = rusage()
                    let reaped = wait4(child.watch.pid, &status, WNOHANG, &usage)
                    guard reaped == child.watch.pid || (reaped < 0 && errno == ECHILD) else { continue }
                    child.status = (status, usage)
                    // The leader is gone: end the rest of its group so the output pipe closes.
                    kill(-child.watch.pid, SIGKILL)
                    child.watch.cgroup?.killAll()
                    remove(descriptor)
                    finishIfDone(child)
                }
            }
        }
    }

    private func finishIfDone(_ child: Child) {
        guard !child.outputOpen, let (status, usage) = child.status else { return }
        child.watch.finished(status, usage)
    }

    private typealias PidfdOpen = @convention(c) (pid_t, UInt32) -> Int32

    /// glibc's `pidfd_open` (2.36+), declared in a header Swift does not import.
    private static let pidfdOpen: PidfdOpen? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "pidfd_open") else { return nil }
        return unsafeBitCast(symbol, to: PidfdOpen.self)
    }()
}

/// How much of a child's output was handed on and not consumed yet, shared by the supervisor
/// thread (which adds and pauses) and the consumer (which takes and resumes).
final class OutputBacklog: Sendable {
    /// Past this the supervisor stops reading; below ``lowWater`` the consumer resumes it.
    static let highWater = 1 << 20
    static let lowWater = 256 << 10
    private let bytes = Atomic<Int>(0)
    private let paused = Atomic<Bool>(false)

    /// The supervisor handed on `count` bytes; true when it must stop reading.
    func added(_ count: Int) -> Bool {
        guard bytes.add(count, ordering: .sequentiallyConsistent).newValue > Self.highWater else { return false }
        paused.store(true, ordering: .sequentiallyConsistent)
        // The consumer may have caught up meanwhile: then it resumes (or reading goes on).
        if bytes.load(ordering: .sequentiallyConsistent) > Self.highWater { return true }
        paused.store(false, ordering: .sequentiallyConsistent)
        return false
    }

    /// The consumer took `count` bytes; true when it must ask the supervisor to read again.
    func taken(_ count: Int) -> Bool {
        let left = bytes.subtract(count, ordering: .sequentiallyConsistent).newValue
        return left < Self.lowWater && paused.exchange(false, ordering: .sequentiallyConsistent)
    }
}
