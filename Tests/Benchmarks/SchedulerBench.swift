import ConveyorModels
import Foundation
import Scheduler

/// The scheduler's decisions at scale, in this process (the pure core the scheduler service runs):
/// `jobs` queued jobs (200 owners, three job types, random priorities and resources) and `workers`
/// workers (8 slots each), then the first decision that fills every slot, then rounds in which 500
/// running jobs end and the freed slots are filled. Prints the time per dispatched job and the
/// memory the state takes (resident set growth of this process).
enum SchedulerBench {
    static func run(jobs count: Int, workers workerCount: Int) -> [(String, String)] {
        var generator = SystemRandomNumberGenerator()
        let start = Date()
        var state = SchedulingState(policy: SchedulingPolicy(), startedAt: start.addingTimeInterval(-3600))
        let residentBefore = residentKB()
        let clock = ContinuousClock()
        let types: [JobType] = [.runModel, .runFlow, .importData]
        let owners = (0..<200).map { "owner-\($0)" }
        let models = (0..<500).map { _ in UUID() }
        let began = clock.now
        for index in 0..<count {
            let type = index % 10 == 0 ? types[1 + index % 2] : .runModel
            state.enqueue(
                JobEvent(
                    jobId: UUID(), jobType: type, status: .queued, previousStatus: .validated, message: "", owner: owners[index % owners.count],
                    priority: Int.random(in: 0...100, using: &generator), attempt: 0,
                    submittedAt: start.addingTimeInterval(-Double(count - index) * 0.001), occurredAt: start,
                    resources: ResourceRequirements(
                        cpus: Int.random(in: 1...4, using: &generator), memoryMB: 256 * Int.random(in: 1...8, using: &generator),
                        maxRunSeconds: Int.random(in: 60...3600, using: &generator)),
                    modelId: models[index % models.count]))
        }
        let enqueued = clock.now - began
        for index in 0..<workerCount {
            let jobTypes: [JobType] = index % 10 == 0 ? [.importData] : [.runModel, .runFlow]
            state.heartbeat(
                Heartbeat(
                    workerId: "worker-\(index)", jobTypes: jobTypes, slots: 8, running: [], draining: false, sentAt: start, acceptsBatches: true,
                    capacity: WorkerCapacity(cpus: 16, memoryMB: 32_768)),
                now: start)
        }
        let resident = residentKB() - residentBefore

        var now = start
        var timed = clock.now
        var running = state.nextDispatches(now: now).map(\.jobId)
        let fill = clock.now - timed
        let filled = running.count
        var steady = Duration.zero
        var dispatched = 0
        for _ in 0..<20 {
            now = now.addingTimeInterval(1)
            running.shuffle(using: &generator)
            for jobId in running.suffix(500) { state.finished(jobId) }
            running.removeLast(min(500, running.count))
            for index in 0..<workerCount where index % 50 == 0 {  // heartbeats keep the workers heard
                let jobTypes: [JobType] = index % 10 == 0 ? [.importData] : [.runModel, .runFlow]
                state.heartbeat(
                    Heartbeat(
                        workerId: "worker-\(index)", jobTypes: jobTypes, slots: 8, running: [], draining: false, sentAt: now,
                        acceptsBatches: true, capacity: WorkerCapacity(cpus: 16, memoryMB: 32_768)),
                    now: now)
            }
            timed = clock.now
            let decisions = state.nextDispatches(now: now)
            steady += clock.now - timed
            dispatched += decisions.count
            running += decisions.map(\.jobId)
        }
        func micros(_ duration: Duration, _ jobs: Int) -> Double { seconds(duration) * 1e6 / Double(max(1, jobs)) }
        // Where a queued job stands (what GET /api/v1/jobs/{id} of a queued job asks): one pass over the queue.
        var probes = Array(state.queuedJobIds.prefix(5))
        probes.shuffle(using: &generator)
        timed = clock.now
        for jobId in probes { _ = state.position(of: jobId, now: now) }
        let positionMs = seconds(clock.now - timed) * 1000 / Double(max(1, probes.count))
        print(
            String(
                format: "scheduler core: %d queued jobs, %d workers: enqueued in %.1f s; state %.0f MB resident; the first decision filled %d slots in %.1f ms (%.1f us a dispatch); 20 rounds refilled %d slots, %.1f us a dispatch; a queued job's position in %.1f ms",
                count, workerCount, seconds(enqueued), Double(resident) / 1024, filled, seconds(fill) * 1000, micros(fill, filled), dispatched,
                micros(steady, dispatched), positionMs))
        return [
            ("scheduler_us_per_dispatch", String(format: "%.1f", micros(steady, dispatched))),
            ("scheduler_fill_us_per_dispatch", String(format: "%.1f", micros(fill, filled))),
            ("scheduler_position_ms", String(format: "%.1f", positionMs)),
            ("scheduler_state_mb", String(format: "%.0f", Double(resident) / 1024)),
        ]
    }

    /// This process's resident set (kB), from /proc/self/status.
    static func residentKB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
}
