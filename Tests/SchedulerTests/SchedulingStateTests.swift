import ConveyorModels
import Foundation
import Scheduler
import Testing

@Suite("Scheduling state")
struct SchedulingStateTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func queued(_ priority: Int, at offset: TimeInterval, type: JobType = .runModel, attempt: Int = 0, id: UUID = UUID())
        -> JobEvent
    {
        JobEvent(
            jobId: id, jobType: type, status: .queued, previousStatus: .validated, message: "", owner: "o",
            priority: priority, attempt: attempt, submittedAt: start.addingTimeInterval(offset), occurredAt: start)
    }

    func heartbeat(_ id: String, slots: Int, types: [JobType] = [.runModel], running: [RunningJob] = [], draining: Bool = false)
        -> Heartbeat
    {
        Heartbeat(workerId: id, jobTypes: types, slots: slots, running: running, draining: draining, sentAt: start)
    }

    @Test("higher priority first, then earlier submission")
    func order() {
        var state = SchedulingState()
        let low = queued(10, at: 0)
        let highLate = queued(90, at: 5)
        let highEarly = queued(90, at: 1)
        let mid = queued(50, at: 0)
        for event in [low, highLate, highEarly, mid] { state.enqueue(event) }
        state.heartbeat(heartbeat("w1", slots: 1), now: start)
        var order: [UUID] = []
        for _ in 0..<4 {
            let decisions = state.nextDispatches(now: start)
            #expect(decisions.count == 1)
            order.append(decisions[0].jobId)
            state.finished(decisions[0].jobId)
        }
        #expect(order == [highEarly.jobId, highLate.jobId, mid.jobId, low.jobId])
    }

    @Test("no worker, no dispatch; slots bound what runs at once; attempts increase")
    func slots() {
        var state = SchedulingState()
        let jobs = (0..<5).map { queued(50, at: TimeInterval($0)) }
        jobs.forEach { state.enqueue($0) }
        #expect(state.nextDispatches(now: start).isEmpty)
        state.heartbeat(heartbeat("w1", slots: 2), now: start)
        state.heartbeat(heartbeat("w2", slots: 1), now: start)
        let decisions = state.nextDispatches(now: start)
        #expect(decisions.count == 3)
        #expect(Set(decisions.map(\.workerId)) == ["w1", "w2"])
        #expect(decisions.allSatisfy { $0.attempt == 1 })
        #expect(state.nextDispatches(now: start).isEmpty)
        state.finished(decisions[0].jobId)
        #expect(state.nextDispatches(now: start).count == 1)
    }

    @Test("dispatches wait out the interval only while jobs run: an idle system's job goes out at once")
    func dispatchWait() {
        var state = SchedulingState()
        let interval = Duration.milliseconds(10)
        #expect(state.dispatchWait(sinceLastDispatch: .milliseconds(2), interval: interval) == .zero)
        state.heartbeat(heartbeat("w1", slots: 2), now: start)
        state.enqueue(queued(50, at: 0))
        let decisions = state.nextDispatches(now: start)
        #expect(decisions.count == 1)
        #expect(state.dispatchWait(sinceLastDispatch: .milliseconds(2), interval: interval) == .milliseconds(8))
        #expect(state.dispatchWait(sinceLastDispatch: .milliseconds(12), interval: interval) == .zero)
        state.finished(decisions[0].jobId)
        #expect(state.dispatchWait(sinceLastDispatch: .milliseconds(2), interval: interval) == .zero)
    }

    @Test("jobs only go to workers of their type, never to a draining one")
    func types() {
        var state = SchedulingState()
        let imp = queued(50, at: 0, type: .importModel)
        state.enqueue(imp)
        state.heartbeat(heartbeat("runner", slots: 4), now: start)
        state.heartbeat(heartbeat("importer-old", slots: 4, types: [.importModel], draining: true), now: start)
        #expect(state.nextDispatches(now: start).isEmpty)
        state.heartbeat(heartbeat("importer", slots: 1, types: [.importModel]), now: start)
        #expect(state.nextDispatches(now: start).map(\.workerId) == ["importer"])
    }

    @Test("duplicate and stale queued events change nothing")
    func duplicates() {
        var state = SchedulingState()
        let event = queued(50, at: 0)
        state.enqueue(event)
        state.enqueue(event)
        #expect(state.queuedCount == 1)
        state.heartbeat(heartbeat("w", slots: 5), now: start)
        #expect(state.nextDispatches(now: start).count == 1)
        state.enqueue(event)  // redelivered after the dispatch: the dispatch is newer
        #expect(state.nextDispatches(now: start).isEmpty)
    }

    @Test("a silent worker's attempts are handed back for re-queueing")
    func silentWorker() {
        var state = SchedulingState()
        let event = queued(50, at: 0)
        state.enqueue(event)
        state.heartbeat(heartbeat("w", slots: 1), now: start)
        let decision = state.nextDispatches(now: start)[0]
        state.heartbeat(heartbeat("w", slots: 1, running: [RunningJob(jobId: event.jobId, attempt: 1)]), now: start.addingTimeInterval(1))
        #expect(state.expireWorkers(now: start.addingTimeInterval(5), timeout: 15).isEmpty)
        let lost = state.expireWorkers(now: start.addingTimeInterval(20), timeout: 15)
        #expect(lost.map(\.jobId) == [decision.jobId])
        #expect(lost.first?.attempt == 1)
        // Metadata re-queues it: the queued event carries attempt 1, so the next dispatch is attempt 2.
        state.enqueue(queued(50, at: 0, attempt: 1, id: event.jobId))
        state.heartbeat(heartbeat("w2", slots: 1), now: start.addingTimeInterval(21))
        #expect(state.nextDispatches(now: start.addingTimeInterval(21)).map(\.attempt) == [2])
    }

    @Test("a dispatch the worker never took up frees its slot after the grace period")
    func unclaimed() {
        var state = SchedulingState(claimGrace: 10)
        let event = queued(50, at: 0)
        state.enqueue(event)
        state.heartbeat(heartbeat("w", slots: 1), now: start)
        #expect(state.nextDispatches(now: start).count == 1)
        state.heartbeat(heartbeat("w", slots: 1), now: start.addingTimeInterval(5))
        #expect(state.nextDispatches(now: start.addingTimeInterval(5)).isEmpty)
        let abandoned = state.heartbeat(heartbeat("w", slots: 1), now: start.addingTimeInterval(11))
        #expect(abandoned.map(\.jobId) == [event.jobId])
        // Metadata says the job still waits: it goes back in the queue.
        abandoned.forEach { state.requeueLocally($0) }
        let retry = state.nextDispatches(now: start.addingTimeInterval(11))
        #expect(retry.map(\.jobId) == [event.jobId])
        #expect(retry.first?.attempt == 2)
    }

    @Test("an attempt on a worker never heard of (after a scheduler restart) is re-queued after the timeout")
    func unknownWorker() {
        var state = SchedulingState()
        let id = UUID()
        state.recordRunning(jobId: id, jobType: .runModel, attempt: 3, workerId: "gone", now: start)
        #expect(state.expireWorkers(now: start.addingTimeInterval(5), timeout: 15).isEmpty)
        #expect(state.expireWorkers(now: start.addingTimeInterval(16), timeout: 15).map(\.attempt) == [3])
    }

    @Test("a heartbeat still listing an ended job (its worker is stopping it) does not take the slot back")
    func endedJobInHeartbeat() {
        var state = SchedulingState()
        let running = queued(50, at: 0)
        let next = queued(50, at: 1)
        state.enqueue(running)
        state.heartbeat(heartbeat("w", slots: 1), now: start)
        #expect(state.nextDispatches(now: start).map(\.jobId) == [running.jobId])
        state.enqueue(next)
        state.finished(running.jobId)  // cancelled
        state.heartbeat(heartbeat("w", slots: 1, running: [RunningJob(jobId: running.jobId, attempt: 1)]), now: start)
        #expect(state.nextDispatches(now: start).map(\.jobId) == [next.jobId])
    }
}
