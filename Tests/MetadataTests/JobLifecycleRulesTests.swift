import ConveyorModels
import Foundation
import Testing

@testable import Metadata

/// The job lifecycle's decisions, without a database: each command on each state gives the status
/// path, the row changes, the event and what a group does next.
@Suite("Job lifecycle (pure)")
struct JobLifecycleRulesTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let submitted = Date(timeIntervalSince1970: 1_799_999_000)

    func state(_ status: JobStatus, attempt: Int = 0, worker: String? = nil, parent: UUID? = nil, history: Int = 2) -> JobState {
        JobState(
            jobId: UUID(), jobType: .runModel, status: status, statusMessage: "m", attempt: attempt, workerId: worker,
            owner: "ann", priority: 60, submittedAt: submitted, startedAt: status == .running ? submitted : nil,
            parentJobId: parent, notification: NotificationSettings(email: ["a@example.com"]), historyLength: history)
    }

    func finished(_ attempt: Int, _ status: JobStatus = .succeeded, file: UUID = UUID()) -> FinishedAttempt {
        FinishedAttempt(
            attempt: attempt,
            outcome: JobOutcome(status: status, message: "done", exitCode: status == .succeeded ? 0 : 3, objects: [], logBytes: 9),
            log: KeptLog(file: TagSelector(objectType: .file, objectId: file, objectVersion: 1, tagVersion: 1), keptBytes: 12, truncated: false, tail: "last line"))
    }

    // MARK: Submission

    @Test("a job enters VALIDATED then QUEUED; its event is job.queued with its owner and priority")
    func submit() {
        let definition = JobDefinition(jobType: .runModel, runModel: RunModelJob(model: TagSelector(objectId: UUID())), priority: 70, owner: "ann")
        let id = UUID()
        let job = JobLifecycle.submit(definition, jobId: id, now: now)
        #expect(job.record.updates.map(\.status) == [.validated, .queued])
        #expect(job.record.status == .queued && job.record.statusMessage == "waiting for a worker")
        #expect(job.record.submittedAt == now && job.record.startedAt == nil)
        #expect(job.event.routingKey == "job.queued.run_model" && job.event.previousStatus == .validated)
        #expect(job.event.owner == "ann" && job.event.priority == 70 && job.event.attempt == 0)
        #expect(job.childrenToStart.isEmpty)
    }

    @Test("a group runs at once: the first of its jobs (sequential) or all (parallel) start, inheriting owner and priority")
    func submitGroup() {
        let child = JobDefinition(jobType: .runModel, runModel: RunModelJob(model: TagSelector(objectId: UUID())))
        for (type, starting) in [(JobGroupJob.GroupType.sequential, 1), (.parallel, 3)] {
            let group = JobDefinition(jobType: .jobGroup, jobGroup: JobGroupJob(groupType: type, jobs: [child, child, child]), priority: 80, owner: "bob")
            let job = JobLifecycle.submit(group, jobId: UUID(), now: now)
            #expect(job.record.updates.map(\.status) == [.validated, .queued, .submitted, .running])
            #expect(job.record.startedAt == now)
            #expect(job.event.routingKey == "job.running.job_group" && job.event.previousStatus == .submitted)
            #expect(job.childrenToStart.map(\.position) == Array(0..<starting))
            #expect(job.childrenToStart.allSatisfy { $0.definition.owner == "bob" && $0.definition.priority == 80 })
        }
    }

    // MARK: Claims

    @Test("a claim moves QUEUED through SUBMITTED to RUNNING, fenced by the attempt")
    func claim() throws {
        let job = state(.queued, attempt: 1, history: 4)
        let decision = JobLifecycle.claim(job, attempt: 2, workerId: "w1", leaseSeconds: 60, groupStatus: nil, now: now)
        #expect(decision.outcome == .done)
        let change = try #require(decision.change)
        #expect(change.from == .queued && change.steps.map(\.status) == [.submitted, .running] && change.firstSeq == 5)
        #expect(change.steps.allSatisfy { $0.at == now })
        #expect(change.attempt == 2 && change.worker == .assign("w1", leaseUntil: now.addingTimeInterval(60)) && change.markStarted)
        #expect(change.event?.routingKey == "job.running.run_model" && change.event?.previousStatus == .submitted)
        #expect(change.event?.notification == nil, "only terminal events carry the notification")

        #expect(JobLifecycle.claim(job, attempt: 1, workerId: "w1", leaseSeconds: 60, groupStatus: nil, now: now).outcome
            == .declined("attempt 1 is stale (current attempt 1)"))
        #expect(JobLifecycle.claim(nil, attempt: 1, workerId: "w1", leaseSeconds: 60, groupStatus: nil, now: now).outcome == .declined("no such job"))
        #expect(JobLifecycle.claim(state(.succeeded), attempt: 5, workerId: "w1", leaseSeconds: 60, groupStatus: nil, now: now).change == nil)
    }

    @Test("the same claim again is granted without a change; another worker's is refused")
    func repeatedClaim() {
        let running = state(.running, attempt: 2, worker: "w1")
        let again = JobLifecycle.claim(running, attempt: 2, workerId: "w1", leaseSeconds: 60, groupStatus: nil, now: now)
        #expect(again.outcome == .done && again.change == nil)
        let other = JobLifecycle.claim(running, attempt: 2, workerId: "w2", leaseSeconds: 60, groupStatus: nil, now: now)
        #expect(other.outcome == .declined("attempt 2 is stale (current attempt 2)") && other.change == nil)
    }

    @Test("a job whose group ended is cancelled instead of claimed, and the group is not told")
    func claimAfterGroupEnded() throws {
        let job = state(.queued, parent: UUID())
        let decision = JobLifecycle.claim(job, attempt: 1, workerId: "w1", leaseSeconds: 60, groupStatus: .failed, now: now)
        #expect(decision.outcome == .declined("its group is FAILED"))
        let change = try #require(decision.change)
        #expect(change.steps.map(\.status) == [.cancelled] && change.steps[0].message == "cancelled: its group is FAILED")
        #expect(decision.groupToNotify == nil)
    }

    // MARK: Finished reports

    @Test("the current attempt's report ends the job with its result, its log and a terminal event for the e-mail")
    func finish() throws {
        let group = UUID()
        let job = state(.running, attempt: 2, worker: "w1", parent: group, history: 4)
        let file = UUID()
        let decision = JobLifecycle.finish(job, finished(2, file: file), now: now)
        #expect(decision.outcome == .done && decision.groupToNotify == group)
        let change = try #require(decision.change)
        #expect(change.steps.map(\.status) == [.succeeded] && change.markFinished && change.worker == nil)
        let result = try #require(change.result)
        #expect(result.status == .succeeded && result.exitCode == 0 && result.logBytes == 12 && result.logTruncated == nil)
        #expect(result.logFile?.objectId == file)
        let event = try #require(change.event)
        #expect(event.routingKey == "job.succeeded.run_model" && event.notification?.email == ["a@example.com"])
        #expect(event.logTail == "last line" && event.exitCode == 0 && event.startedAt == submitted && event.attempt == 2)
    }

    @Test("a stale attempt's report, or one about an ended job, changes nothing")
    func staleReports() {
        #expect(JobLifecycle.finish(state(.running, attempt: 3, worker: "w"), finished(2), now: now).change == nil)
        #expect(JobLifecycle.finish(state(.succeeded, attempt: 2), finished(2), now: now).change == nil)
        #expect(JobLifecycle.finish(state(.failed, attempt: 2), finished(2, .succeeded), now: now).change == nil)
        #expect(JobLifecycle.finish(nil, finished(1), now: now).outcome == .declined("no such job"))
    }

    @Test("the report of an attempt a cancellation stopped keeps its log with the cancelled job's result, once")
    func logOfCancelledAttempt() throws {
        var cancelled = state(.cancelled, attempt: 2)
        cancelled.result = JobResult(status: .cancelled, message: "cancelled on request", exitCode: nil, objects: [], logBytes: 0)
        let decision = JobLifecycle.finish(cancelled, finished(2, .cancelled), now: now)
        let change = try #require(decision.change)
        #expect(change.steps.isEmpty && change.status == .cancelled && change.event == nil)
        #expect(change.result?.logFile != nil && change.result?.message == "cancelled on request" && change.result?.logBytes == 12)
        cancelled.result = change.result
        #expect(JobLifecycle.finish(cancelled, finished(2, .cancelled), now: now).change == nil, "once")
    }

    // MARK: Cancellation and re-queue

    @Test("cancelling ends a job that has not ended; its group reacts unless it is being cancelled itself")
    func cancel() throws {
        let group = UUID()
        let running = state(.running, attempt: 1, worker: "w", parent: group)
        let decision = JobLifecycle.cancel(running, message: "cancelled on request", cascading: false, now: now)
        #expect(decision.groupToNotify == group)
        let change = try #require(decision.change)
        #expect(change.steps.map(\.status) == [.cancelled] && change.markFinished && change.result?.status == .cancelled)
        #expect(change.event?.routingKey == "job.cancelled.run_model" && change.event?.notification != nil)
        #expect(JobLifecycle.cancel(running, message: "x", cascading: true, now: now).groupToNotify == nil)
        let ended = state(.succeeded)
        #expect(JobLifecycle.cancel(ended, message: "x", cascading: false, now: now).outcome
            == .failed(.conflict("job \(ended.jobId.uuidString.lowercased()) is already SUCCEEDED")))
    }

    @Test("a silent worker's attempt goes back to the queue; another attempt or status does not")
    func requeue() throws {
        let running = state(.running, attempt: 3, worker: "w", history: 4)
        let decision = JobLifecycle.requeue(running, attempt: 3, reason: "worker w is silent", now: now)
        let change = try #require(decision.change)
        #expect(change.steps.map(\.status) == [.queued] && change.steps[0].message == "re-queued: worker w is silent")
        #expect(change.worker == .release && change.event?.routingKey == "job.queued.run_model" && change.event?.attempt == 3)
        #expect(JobLifecycle.requeue(running, attempt: 2, reason: "x", now: now).change == nil)
        #expect(JobLifecycle.requeue(state(.queued, attempt: 3), attempt: 3, reason: "x", now: now).change == nil)
    }

    // MARK: Groups

    func group(_ type: JobGroupJob.GroupType, jobs: Int) -> (JobState, JobDefinition) {
        let child = JobDefinition(jobType: .runModel, runModel: RunModelJob(model: TagSelector(objectId: UUID())))
        var group = state(.running)
        group.jobType = .jobGroup
        return (group, JobDefinition(jobType: .jobGroup, jobGroup: JobGroupJob(groupType: type, jobs: Array(repeating: child, count: jobs)), owner: "g"))
    }

    func child(_ position: Int, _ status: JobStatus, objects: Int = 0) -> GroupProgress.Child {
        GroupProgress.Child(
            jobId: UUID(), position: position, status: status, statusMessage: "\(status.rawValue.lowercased()) message",
            objects: (0..<objects).map { _ in TagSelector(objectId: UUID()) })
    }

    @Test("a sequential group starts its next job, fails at the first job that did not succeed, and succeeds after the last")
    func sequentialGroup() throws {
        let (state, definition) = group(.sequential, jobs: 3)
        let next = JobLifecycle.childEnded(state, GroupProgress(definition: definition, children: [child(0, .succeeded)]), now: now)
        #expect(next.change == nil && next.childrenToStart.map(\.position) == [1] && next.childrenToStart[0].definition.owner == "g")

        let failing = child(1, .failed)
        let failed = JobLifecycle.childEnded(state, GroupProgress(definition: definition, children: [child(0, .succeeded), failing]), now: now)
        #expect(failed.change?.status == .failed && failed.childrenToStart.isEmpty)
        #expect(failed.change?.steps.first?.message == "job 2 of 3 (\(failing.jobId.uuidString.lowercased())) FAILED: failed message")

        let done = JobLifecycle.childEnded(
            state, GroupProgress(definition: definition, children: [child(2, .succeeded, objects: 1), child(0, .succeeded, objects: 2), child(1, .succeeded)]),
            now: now)
        let change = try #require(done.change)
        #expect(change.status == .succeeded && change.steps[0].message == "all 3 jobs succeeded")
        #expect(change.result?.objects.count == 3 && change.event?.routingKey == "job.succeeded.job_group")
    }

    @Test("a parallel group waits for all its jobs and then fails naming the first (by position) that did not succeed")
    func parallelGroup() throws {
        let (state, definition) = group(.parallel, jobs: 3)
        let waiting = JobLifecycle.childEnded(state, GroupProgress(definition: definition, children: [child(0, .failed), child(1, .running), child(2, .succeeded)]), now: now)
        #expect(waiting.change == nil && waiting.childrenToStart.isEmpty)
        let first = child(0, .cancelled)
        let ended = JobLifecycle.childEnded(state, GroupProgress(definition: definition, children: [child(2, .failed), first, child(1, .succeeded)]), now: now)
        #expect(ended.change?.status == .failed)
        #expect(ended.change?.steps.first?.message.hasPrefix("job 1 of 3 (\(first.jobId.uuidString.lowercased())) CANCELLED") == true)
        var over = state
        over.status = .failed
        #expect(JobLifecycle.childEnded(over, GroupProgress(definition: definition, children: []), now: now).change == nil)
    }

    @Test("the repository refuses a status path the state machine does not allow")
    func illegalPath() {
        var writes = JobWrites()
        #expect(throws: MetadataError.self) { try writes.apply(JobChange(state(.queued), now: now, steps: [(.succeeded, "x")])) }
        #expect(writes.isEmpty)
    }
}
