import ConveyorModels
import Foundation
import Scheduler
import Testing

/// The policy rules of ``SchedulingState``: order across job types, aging, packing by resources,
/// reservation and backfill, fair share, limits, and the reasons a job waits.
@Suite("Scheduling policy")
struct SchedulingPolicyTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func job(
        _ priority: Int, at offset: TimeInterval = 0, type: JobType = .runModel, owner: String = "o", cpus: Int? = nil,
        memoryMB: Int? = nil, maxRunSeconds: Int? = nil
    ) -> JobEvent {
        JobEvent(
            jobId: UUID(), jobType: type, status: .queued, previousStatus: .validated, message: "", owner: owner, priority: priority,
            attempt: 0, submittedAt: start.addingTimeInterval(offset), occurredAt: start.addingTimeInterval(offset),
            resources: cpus == nil && memoryMB == nil && maxRunSeconds == nil
                ? nil : ResourceRequirements(cpus: cpus, memoryMB: memoryMB, maxRunSeconds: maxRunSeconds))
    }

    func worker(
        _ id: String, slots: Int = 8, cpus: Int = 8, memoryMB: Int = 16_384, types: [JobType] = [.runModel], at: Date? = nil
    ) -> Heartbeat {
        Heartbeat(
            workerId: id, jobTypes: types, slots: slots, running: [], draining: false, sentAt: at ?? start, acceptsBatches: true,
            capacity: WorkerCapacity(cpus: cpus, memoryMB: memoryMB))
    }

    /// The ended event of a dispatched job, for the owner's usage.
    func ended(_ event: JobEvent, startedAt: Date, endedAt: Date) -> JobEvent {
        var done = event
        done.status = .succeeded
        done.startedAt = startedAt
        done.occurredAt = endedAt
        return done
    }

    @Test("one order across every job type a worker serves")
    func acrossTypes() {
        var state = SchedulingState()
        let lowModels = (0..<3).map { job(10, at: Double($0), type: .runModel) }
        let highFlow = job(90, at: 10, type: .runFlow)
        let midModel = job(50, at: 11, type: .runModel)
        for event in lowModels + [highFlow, midModel] { state.enqueue(event) }
        state.heartbeat(worker("runner", slots: 1, types: [.runModel, .runFlow]), now: start.addingTimeInterval(20))
        var order: [UUID] = []
        for _ in 0..<5 {
            let decisions = state.nextDispatches(now: start.addingTimeInterval(20))
            #expect(decisions.count == 1)
            order.append(decisions[0].jobId)
            state.finished(decisions[0].jobId)
        }
        #expect(order == [highFlow.jobId, midModel.jobId] + lowModels.map(\.jobId))
    }

    @Test("aging: a low-priority job starts within its bound behind a steady stream of high-priority jobs")
    func aging() {
        // One point per second of waiting: a priority-10 job outranks fresh priority-90 jobs after 80 s.
        var state = SchedulingState(policy: SchedulingPolicy(agingPerHour: 3600))
        let low = job(10, at: 0)
        state.enqueue(low)
        state.heartbeat(worker("w", slots: 1), now: start)
        var running: UUID?
        var startedLow: TimeInterval?
        for second in 0..<200 {
            let now = start.addingTimeInterval(Double(second))
            if let id = running { state.finished(id) }
            state.enqueue(job(90, at: Double(second)))  // one new high-priority job every second
            state.heartbeat(worker("w", slots: 1, at: now), now: now)
            let decisions = state.nextDispatches(now: now)
            running = decisions.first?.jobId
            if running == low.jobId {
                startedLow = Double(second)
                break
            }
        }
        let bound = 80.0 + 2
        #expect(startedLow != nil && startedLow! <= bound, "started after \(startedLow ?? -1) s, bound \(bound) s")
        #expect(startedLow ?? 0 >= 79, "not before it outranks the stream either")
    }

    @Test("without aging, the stream starves it (the rate is what bounds the wait)")
    func noAging() {
        var state = SchedulingState(policy: SchedulingPolicy(agingPerHour: 0))
        let low = job(10, at: 0)
        state.enqueue(low)
        var running: UUID?
        for second in 0..<120 {
            let now = start.addingTimeInterval(Double(second))
            if let id = running { state.finished(id) }
            state.enqueue(job(90, at: Double(second)))
            state.heartbeat(worker("w", slots: 1, at: now), now: now)
            running = state.nextDispatches(now: now).first?.jobId
            #expect(running != low.jobId)
        }
    }

    @Test("packing by memory and cpus, not slots: a job goes where it fits best, and only while it fits")
    func packing() {
        var state = SchedulingState()
        state.heartbeat(worker("small", slots: 8, cpus: 4, memoryMB: 1_000), now: start)
        state.heartbeat(worker("large", slots: 8, cpus: 4, memoryMB: 8_000), now: start)
        let big = job(50, at: 0, memoryMB: 4_000)
        state.enqueue(big)
        #expect(state.nextDispatches(now: start).map(\.workerId) == ["large"], "only the large worker has 4000 MB")
        let a = job(50, at: 1, memoryMB: 600)
        let b = job(50, at: 2, memoryMB: 600)
        state.enqueue(a)
        state.enqueue(b)
        let decisions = state.nextDispatches(now: start)
        // 600 MB is the larger share of the small worker: it goes there first; the second no longer
        // fits there (1000 MB) and goes to the large one.
        #expect(decisions.map(\.workerId) == ["small", "large"])
        let c = job(50, at: 3, cpus: 3, memoryMB: 100)
        let d = job(50, at: 4, cpus: 2, memoryMB: 100)
        state.enqueue(c)
        state.enqueue(d)
        // small: 4 cpus free, 400 MB; large: 4 cpus, 3400 MB. c (3 cpus) then d (2 cpus): one per worker.
        #expect(Set(state.nextDispatches(now: start).map(\.workerId)) == ["small", "large"])
        let e = job(50, at: 5, cpus: 2, memoryMB: 100)
        state.enqueue(e)
        #expect(state.nextDispatches(now: start).isEmpty, "no worker has 2 cpus left")
        state.finished(c.jobId)
        #expect(state.nextDispatches(now: start).map(\.jobId) == [e.jobId])
    }

    @Test("a job that fits no worker that exists waits with a reason; so does a type no worker takes")
    func reasons() {
        var state = SchedulingState(policy: SchedulingPolicy(unschedulableGraceSeconds: 30), startedAt: start)
        state.heartbeat(worker("w", cpus: 4, memoryMB: 2_048), now: start)
        let huge = job(90, at: 0, cpus: 16)
        let fine = job(10, at: 1)
        let flow = job(50, at: 2, type: .runFlow)
        for event in [huge, fine, flow] { state.enqueue(event) }
        #expect(state.nextDispatches(now: start).map(\.jobId) == [fine.jobId], "the job that fits is not held up")
        #expect(state.waitingReason(huge.jobId)?.contains("16 cpus (at most 4)") == true)
        #expect(state.waitingReason(fine.jobId) == nil)
        #expect(state.waitingReason(flow.jobId) == nil, "not before workers had time to be heard")
        _ = state.nextDispatches(now: start.addingTimeInterval(31))
        #expect(state.waitingReason(flow.jobId) == "no worker takes RUN_FLOW jobs")
        state.heartbeat(worker("flows", types: [.runFlow], at: start.addingTimeInterval(32)), now: start.addingTimeInterval(32))
        #expect(state.waitingReason(flow.jobId) == nil)
        #expect(state.nextDispatches(now: start.addingTimeInterval(32)).map(\.jobId) == [flow.jobId])
        #expect(state.queuedCount == 1, "the huge job still waits")
    }

    @Test("any number of jobs that fit no worker hold up nothing, even a busy worker's; a larger worker takes them")
    func unfittableBacklog() throws {
        var state = SchedulingState(policy: SchedulingPolicy(agingPerHour: 0))
        state.heartbeat(worker("small", slots: 2, cpus: 4), now: start)
        let huge = (0..<100).map { job(90, at: Double($0), cpus: 16) }  // far more than the backfill depth
        for event in huge { state.enqueue(event) }
        let busy = job(80, at: 200, cpus: 4)
        state.enqueue(busy)
        #expect(state.nextDispatches(now: start).map(\.jobId) == [busy.jobId])
        // The worker is now full; a job that fits it once free waits without a reason, behind no huge job.
        let small = job(10, at: 300, cpus: 2)
        state.enqueue(small)
        #expect(state.nextDispatches(now: start).isEmpty)
        #expect(state.waitingReason(small.jobId) == nil, "it fits the busy worker")
        #expect(state.waitingReason(huge[99].jobId)?.contains("16 cpus (at most 4)") == true)
        #expect(try #require(state.position(of: small.jobId, now: start)).position == 1, "jobs that fit no worker are not ahead")
        state.finished(busy.jobId)
        #expect(state.nextDispatches(now: start).map(\.jobId) == [small.jobId])
        // A worker with 16 cpus joins: the huge jobs run there, highest first.
        state.heartbeat(worker("large", slots: 1, cpus: 16), now: start)
        #expect(state.nextDispatches(now: start).map(\.jobId) == [huge[0].jobId])
        #expect(state.queuedCount == 99)
    }

    @Test("reservation and backfill: a small job starts before a reserved big one only if it ends in time")
    func backfill() {
        var state = SchedulingState()
        state.heartbeat(worker("w", slots: 8, cpus: 4), now: start)
        let running = job(50, at: 0, cpus: 3, maxRunSeconds: 100)
        state.enqueue(running)
        #expect(state.nextDispatches(now: start).count == 1)
        // The big job needs all 4 cpus: it is reserved for when the running job ends (t + 100).
        let big = job(90, at: 1, cpus: 4)
        let quick = job(10, at: 2, cpus: 1, maxRunSeconds: 50)
        let long = job(20, at: 3, cpus: 1, maxRunSeconds: 500)
        for event in [big, quick, long] { state.enqueue(event) }
        let decisions = state.nextDispatches(now: start.addingTimeInterval(10))
        #expect(decisions.map(\.jobId) == [quick.jobId], "the quick job backfills; the long one would delay the big one")
        state.finished(quick.jobId)
        state.finished(running.jobId)
        state.heartbeat(worker("w", slots: 8, cpus: 4), now: start.addingTimeInterval(70))
        #expect(state.nextDispatches(now: start.addingTimeInterval(70)).map(\.jobId) == [big.jobId])
    }

    @Test("backfill may use what the reserved job will not need")
    func backfillSpare() {
        var state = SchedulingState()
        state.heartbeat(worker("w", slots: 8, cpus: 8), now: start)
        let running = job(50, at: 0, cpus: 6, maxRunSeconds: 100)
        state.enqueue(running)
        _ = state.nextDispatches(now: start)
        let big = job(90, at: 1, cpus: 6)  // at t + 100: 8 free, 6 for the big job, 2 spare
        let long = job(10, at: 2, cpus: 2, maxRunSeconds: 1_000)
        let longer = job(10, at: 3, cpus: 1, maxRunSeconds: 1_000)
        for event in [big, long, longer] { state.enqueue(event) }
        #expect(state.nextDispatches(now: start.addingTimeInterval(1)).map(\.jobId) == [long.jobId])
        #expect(state.queuedCount == 2)
    }

    @Test("fair share: two owners with equal work get equal shares, whoever queued first")
    func fairShare() {
        var state = SchedulingState(policy: SchedulingPolicy(agingPerHour: 0))
        let first = (0..<100).map { job(50, at: Double($0) * 0.001, owner: "first") }
        let second = (0..<100).map { job(50, at: 1 + Double($0) * 0.001, owner: "second") }
        let events = Dictionary(uniqueKeysWithValues: (first + second).map { ($0.jobId, $0) })
        for event in first + second { state.enqueue(event) }
        state.heartbeat(worker("w", slots: 4, cpus: 4), now: start)
        var now = start.addingTimeInterval(10)
        var running: [(UUID, Date)] = []
        var started: [String: Int] = [:]
        while started.values.reduce(0, +) < 100 {
            state.heartbeat(worker("w", slots: 4, cpus: 4, at: now), now: now)
            for decision in state.nextDispatches(now: now) {
                started[events[decision.jobId]!.owner, default: 0] += 1
                running.append((decision.jobId, now))
            }
            // The oldest running job ends after 2 s.
            now = now.addingTimeInterval(2)
            let (id, since) = running.removeFirst()
            state.finished(id, event: ended(events[id]!, startedAt: since, endedAt: now))
        }
        let shares = (Double(started["first", default: 0]), Double(started["second", default: 0]))
        #expect(abs(shares.0 - shares.1) <= 10, "shares \(shares) differ by more than 10 %")
    }

    @Test("limits: per owner, per job type, and a type kept to one worker")
    func limits() {
        var state = SchedulingState(
            policy: SchedulingPolicy(typeLimits: [.exportData: .init(maxRunning: 2), .importData: .init(maxWorkers: 1)], ownerMaxRunning: 3))
        state.heartbeat(worker("a", slots: 20, cpus: 32, types: [.runModel, .exportData, .importData]), now: start.addingTimeInterval(40))
        state.heartbeat(worker("b", slots: 20, cpus: 32, types: [.runModel, .exportData, .importData]), now: start.addingTimeInterval(40))
        let greedy = (0..<5).map { job(90, at: Double($0), owner: "greedy") }
        let other = job(10, at: 10, owner: "other")
        let exports = (0..<4).map { job(50, at: 20 + Double($0), type: .exportData, owner: "x\($0)") }
        let imports = (0..<4).map { job(50, at: 30 + Double($0), type: .importData, owner: "i\($0)") }
        for event in greedy + [other] + exports + imports { state.enqueue(event) }
        let decisions = state.nextDispatches(now: start.addingTimeInterval(40))
        let ids = Set(decisions.map(\.jobId))
        #expect(greedy.filter { ids.contains($0.jobId) }.count == 3, "at most 3 of one owner at once")
        #expect(ids.contains(other.jobId), "another owner is not held up by it")
        #expect(exports.filter { ids.contains($0.jobId) }.count == 2, "at most 2 EXPORT_DATA at once")
        let importWorkers = Set(decisions.filter { d in imports.contains { $0.jobId == d.jobId } }.map(\.workerId))
        #expect(decisions.filter { d in imports.contains { $0.jobId == d.jobId } }.count == 4)
        #expect(importWorkers.count == 1, "IMPORT_DATA runs on one worker at a time")
    }

    @Test("an undone dispatch gives back its place and its owner's charge")
    func undo() {
        var state = SchedulingState(policy: SchedulingPolicy(agingPerHour: 0))
        let mine = job(50, at: 0, owner: "me")
        let yours = job(50, at: 1, owner: "you")
        state.enqueue(mine)
        state.heartbeat(worker("w", slots: 1), now: start)
        let decision = state.nextDispatches(now: start)[0]
        state.undo(decision)
        state.enqueue(yours)
        // "me" was charged and paid back: equal usage, so the earlier submission goes first again,
        // with the same attempt (the undone dispatch reached no worker).
        let again = state.nextDispatches(now: start)
        #expect(again.map(\.jobId) == [mine.jobId] && again.map(\.attempt) == [decision.attempt])
    }

    @Test("a retry waits out its backoff; the jobs behind it are not held up")
    func backoff() {
        var state = SchedulingState()
        var retry = job(90, at: 0)
        retry.attempt = 1
        retry.notBefore = start.addingTimeInterval(30)
        let other = job(10, at: 1)
        state.enqueue(retry)
        state.enqueue(other)
        state.heartbeat(worker("w", slots: 4), now: start)
        #expect(state.nextDispatches(now: start.addingTimeInterval(5)).map(\.jobId) == [other.jobId])
        #expect(state.nextRetryAt == start.addingTimeInterval(30))
        state.heartbeat(worker("w", slots: 4), now: start.addingTimeInterval(29))
        #expect(state.nextDispatches(now: start.addingTimeInterval(29)).isEmpty)
        let decisions = state.nextDispatches(now: start.addingTimeInterval(30))
        #expect(decisions.map(\.jobId) == [retry.jobId] && decisions[0].attempt == 2)
    }

    @Test("a worker not heard from lately gets nothing until it is heard again")
    func quietWorker() {
        var state = SchedulingState(policy: SchedulingPolicy(quietWorkerSeconds: 10))
        state.heartbeat(worker("old"), now: start)
        state.heartbeat(worker("new"), now: start.addingTimeInterval(15))
        state.enqueue(job(50))
        #expect(state.nextDispatches(now: start.addingTimeInterval(15)).map(\.workerId) == ["new"])
    }

    @Test("a worker whose attempt was re-queued (its lease expired) gets nothing until it is heard again")
    func suspectWorker() {
        var state = SchedulingState()
        state.heartbeat(worker("a", slots: 1), now: start)
        var event = job(50)
        state.enqueue(event)
        let first = state.nextDispatches(now: start)
        #expect(first.map(\.workerId) == ["a"])
        state.heartbeat(worker("b", slots: 1, at: start.addingTimeInterval(1)), now: start.addingTimeInterval(1))
        // Metadata re-queues attempt 1 when a's lease expired.
        event.attempt = 1
        event.occurredAt = start.addingTimeInterval(2)
        state.enqueue(event)
        let second = state.nextDispatches(now: start.addingTimeInterval(2))
        #expect(second.map(\.workerId) == ["b"] && second.map(\.attempt) == [2])
        state.heartbeat(worker("a", slots: 1, at: start.addingTimeInterval(3)), now: start.addingTimeInterval(3))
        state.enqueue(job(50, at: 3))
        #expect(state.nextDispatches(now: start.addingTimeInterval(3)).map(\.workerId) == ["a"], "heard again")
    }

    @Test("queue position and estimated start: within 10 % of when jobs of known durations really start")
    func estimate() throws {
        var state = SchedulingState(policy: SchedulingPolicy(agingPerHour: 0))
        let model = UUID()
        func modelJob(_ offset: Double, priority: Int = 50, owner: String = "o") -> JobEvent {
            var event = job(priority, at: offset, owner: owner)
            event.modelId = model
            return event
        }
        // Two slots; this model's runs have taken about 10 s.
        for seconds in [9.0, 11, 10] {
            var done = modelJob(-100)
            done.status = .succeeded
            done.startedAt = start
            done.occurredAt = start.addingTimeInterval(seconds)
            state.finished(done.jobId, event: done)
        }
        let jobs = (0..<7).map { modelJob(Double($0)) }
        for event in jobs { state.enqueue(event) }
        var now = start.addingTimeInterval(10)
        state.heartbeat(worker("w", slots: 2, at: now), now: now)
        let target = jobs[6]
        let before = try #require(state.position(of: target.jobId, now: now))
        #expect(before.position == 7 && before.ahead.total == 6 && before.ahead.first.first == jobs[0].jobId)
        #expect(before.ahead.byOwner == ["o": 6] && before.estimateBasis?.contains("same models") == true)
        let predicted = try #require(before.estimatedStartAt).timeIntervalSince(now)
        // Learned: about 9.7 s a run (a moving average); jobs 1-2 now, 3-4 and 5-6 after one and two runs, the 7th after three.
        #expect(abs(predicted - 3 * 9.72) < 0.01, "\(predicted)")

        // Run it: each job takes 9 to 11 s; the 7th's real start is within 10 % of the estimate.
        var running: [(UUID, Date)] = []
        var startedAt: Date?
        let durations = [10.5, 9.5, 11.0, 9.0, 10.0, 10.8, 9.7]
        var next = 0
        let begin = now
        while startedAt == nil {
            state.heartbeat(worker("w", slots: 2, at: now), now: now)
            for decision in state.nextDispatches(now: now) {
                if decision.jobId == target.jobId { startedAt = now }
                running.append((decision.jobId, now.addingTimeInterval(durations[next])))
                next += 1
            }
            guard let soonest = running.min(by: { $0.1 < $1.1 }) else { break }
            now = soonest.1
            running.removeAll { $0.0 == soonest.0 }
            var ended = jobs.first { $0.jobId == soonest.0 }!
            ended.status = .succeeded
            state.finished(soonest.0, event: ended)
        }
        let actual = try #require(startedAt).timeIntervalSince(begin)
        #expect(abs(actual - predicted) <= 0.1 * actual, "estimated \(predicted) s, started after \(actual) s")

        let summary = state.summary(now: now)
        #expect(summary.workers == 1 && summary.capacity.slots == 2 && summary.types["RUN_MODEL"] != nil)
    }

    @Test("a position counts only jobs still queued: not one cancelled, started elsewhere or replaced by its next attempt")
    func positionSkipsStaleEntries() throws {
        var state = SchedulingState(policy: SchedulingPolicy(agingPerHour: 0))
        let jobs = (0..<5).map { job(50, at: Double($0), owner: $0 % 2 == 0 ? "a" : "b") }
        for event in jobs { state.enqueue(event) }
        state.heartbeat(worker("w", slots: 1), now: start)
        let target = jobs[4]
        #expect(state.position(of: target.jobId, now: start)?.position == 5)
        state.finished(jobs[0].jobId)  // cancelled while queued
        state.recordRunning(jobId: jobs[1].jobId, jobType: .runModel, attempt: 1, workerId: "w", now: start)  // started (seen by metadata)
        var again = jobs[2]
        again.attempt = 1  // re-queued with its next attempt: one entry stale, one current
        state.enqueue(again)
        let position = try #require(state.position(of: target.jobId, now: start))
        #expect(position.position == 3 && position.ahead.total == 2, "\(position)")
        #expect(Set(position.ahead.first) == [jobs[2].jobId, jobs[3].jobId])
        #expect(position.ahead.byOwner == ["a": 1, "b": 1])
        // And the stale entries give way when decisions pass them.
        let decisions = state.nextDispatches(now: start.addingTimeInterval(1))
        #expect(decisions.isEmpty, "the one slot is taken")
    }
}
