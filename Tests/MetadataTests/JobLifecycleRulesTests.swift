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

    @Test("a group run again starts only the jobs it does not keep; a kept job enters SUCCEEDED with the earlier result, without e-mail")
    func submitGroupKeeping() {
        let child = JobDefinition(jobType: .runModel, runModel: RunModelJob(model: TagSelector(objectId: UUID())))
        for (type, starting) in [(JobGroupJob.GroupType.sequential, [2]), (.parallel, [2, 3])] {
            let group = JobDefinition(jobType: .jobGroup, jobGroup: JobGroupJob(groupType: type, jobs: [child, child, child, child]), owner: "bob")
            let job = JobLifecycle.submit(group, jobId: UUID(), now: now, keptPositions: [0, 1])
            #expect(job.childrenToStart.map(\.position) == starting)
            #expect(job.record.statusMessage.hasSuffix("; 2 kept from the earlier run"))
        }
        let result = JobResult(status: .succeeded, exitCode: 0, objects: [TagSelector(objectId: UUID())], logBytes: 3)
        let earlier = JobRecord(
            jobId: UUID(), jobType: .runModel, owner: "bob", priority: 50, definition: child, status: .succeeded, statusMessage: "ok",
            attempt: 1, workerId: "w", submittedAt: submitted, startedAt: submitted, finishedAt: submitted, updates: [], result: result)
        let (group, id) = (UUID(), UUID())
        let kept = JobLifecycle.kept(earlier, jobId: id, now: now, parent: group, position: 1)
        #expect(kept.record.jobId == id && kept.record.parentJobId == group && kept.groupPosition == 1 && kept.record.rerunOf == earlier.jobId)
        #expect(kept.record.updates.map(\.status) == [.validated, .succeeded] && kept.record.result == result && kept.record.finishedAt == now)
        #expect(kept.event.routingKey == "job.succeeded.run_model" && kept.event.notification == nil && !kept.event.topLevel)
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
        let decision = JobLifecycle.requeue(running, attempt: 3, reason: "worker w is silent", maxWorkerLost: 3, now: now)
        let change = try #require(decision.change)
        #expect(change.steps.map(\.status) == [.queued] && change.steps[0].message == "re-queued: worker w is silent")
        #expect(change.worker == .release && change.event?.routingKey == "job.queued.run_model" && change.event?.attempt == 3)
        #expect(JobLifecycle.requeue(running, attempt: 2, reason: "x", maxWorkerLost: 3, now: now).change == nil)
        #expect(JobLifecycle.requeue(state(.queued, attempt: 3), attempt: 3, reason: "x", maxWorkerLost: 3, now: now).change == nil)
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

    // MARK: Retries and lost workers

    func failed(_ attempt: Int, _ failure: AttemptFailure, message: String = "it broke") -> FinishedAttempt {
        var attempt = finished(attempt, .failed)
        attempt.outcome = JobOutcome(status: .failed, message: message, exitCode: failure.exitCode, objects: [], logBytes: 9, failure: failure)
        attempt.workerId = "w"
        attempt.limits = DeploymentLimits(maxMemoryMB: 3_000, maxRunSeconds: 500)
        return attempt
    }

    func retrying(_ policy: RetryPolicy, attempt: Int = 1, resources: ResourceRequirements? = nil, earlier: [AttemptSummary] = []) -> JobState {
        var job = state(.running, attempt: attempt, worker: "w")
        job.retry = policy
        job.resources = resources
        job.attempts.earlierAttempts = earlier
        return job
    }

    @Test("a failure the policy retries goes back to QUEUED after its backoff, keeping the failed attempt")
    func retry() throws {
        let job = retrying(RetryPolicy(maxAttempts: 3, backoffSeconds: 10))
        var attempt = failed(1, AttemptFailure(kind: .signal, signal: 9))
        attempt.jitter = 1.1
        let decision = JobLifecycle.finish(job, attempt, now: now)
        let change = try #require(decision.change)
        #expect(change.steps.map(\.status) == [.queued] && change.worker == .release && !change.markFinished && change.result == nil)
        #expect(change.steps[0].message == "attempt 1 failed (killed by signal 9): it broke; attempt 2 of 3 in 11 s")
        #expect(change.attempts?.notBefore == now.addingTimeInterval(11))
        #expect(change.attempts?.earlierAttempts.map(\.failure.kind) == [.signal])
        #expect(change.attempts?.earlierAttempts.first?.logFile != nil && change.attempts?.earlierAttempts.first?.workerId == "w")
        #expect(change.event?.routingKey == "job.queued.run_model" && change.event?.notBefore == now.addingTimeInterval(11))
        #expect(decision.groupToNotify == nil)
        // The backoff grows: the wait after attempt 2 is twice as long.
        #expect(RetryPolicy(maxAttempts: 5, backoffSeconds: 10).backoff(afterAttempt: 2) == 20)
        #expect(RetryPolicy(maxAttempts: 9, backoffSeconds: 10, maxBackoffSeconds: 30).backoff(afterAttempt: 6) == 30)
    }

    @Test("the last allowed attempt fails the job, with every earlier attempt and the last failure in its result")
    func retryExhausted() throws {
        let earlier = AttemptSummary(attempt: 1, failure: AttemptFailure(kind: .timeout), message: "slow", workerId: "v", endedAt: submitted)
        let job = retrying(RetryPolicy(maxAttempts: 2), attempt: 2, earlier: [earlier])
        let change = try #require(JobLifecycle.finish(job, failed(2, AttemptFailure(kind: .timeout)), now: now).change)
        #expect(change.status == .failed && change.markFinished)
        #expect(change.result?.failure == AttemptFailure(kind: .timeout) && change.result?.earlierAttempts == [earlier])
        #expect(change.event?.failure == AttemptFailure(kind: .timeout))
    }

    @Test("exit codes are not retried unless the policy says so; cancellations never are")
    func retryKinds() throws {
        let byDefault = retrying(RetryPolicy(maxAttempts: 3))
        #expect(JobLifecycle.finish(byDefault, failed(1, AttemptFailure(kind: .exitCode, exitCode: 2)), now: now).change?.status == .failed)
        let exitCodes = retrying(RetryPolicy(maxAttempts: 3, retryOn: [.exitCode]))
        #expect(JobLifecycle.finish(exitCodes, failed(1, AttemptFailure(kind: .exitCode, exitCode: 2)), now: now).change?.status == .queued)
        #expect(RetryPolicy(maxAttempts: 2, retryOn: [.cancelled]).problems(at: "retry.").map(\.field) == ["retry.retryOn"])
        // A failed outcome the worker did not classify counts by its exit code, else as ERROR.
        #expect(JobOutcome(status: .failed, message: "", exitCode: 4, objects: [], logBytes: 0).classifiedFailure == AttemptFailure(kind: .exitCode, exitCode: 4))
        #expect(JobOutcome(status: .failed, message: "", exitCode: nil, objects: [], logBytes: 0).classifiedFailure?.kind == .error)
    }

    @Test("after running out of memory or time, a retry may ask for more, within the deployment's limits")
    func retryGrows() throws {
        let policy = RetryPolicy(maxAttempts: 4, memoryFactor: 2, runTimeFactor: 3)
        let memory = try #require(
            JobLifecycle.finish(retrying(policy, resources: ResourceRequirements(memoryMB: 1_000)), failed(1, AttemptFailure(kind: .outOfMemory)), now: now).change)
        #expect(memory.attempts?.resources?.memoryMB == 2_000)
        #expect(memory.event?.resources?.memoryMB == 2_000)
        #expect(memory.steps[0].message.hasSuffix("with 2000 MB"))
        var grown = retrying(policy, resources: ResourceRequirements(memoryMB: 1_000))
        grown.attempts.resources = ResourceRequirements(memoryMB: 2_000)
        let capped = try #require(JobLifecycle.finish(grown, failed(1, AttemptFailure(kind: .outOfMemory)), now: now).change)
        #expect(capped.attempts?.resources?.memoryMB == 3_000, "at most the deployment's limit")
        let time = try #require(
            JobLifecycle.finish(retrying(policy, resources: ResourceRequirements(maxRunSeconds: 100)), failed(1, AttemptFailure(kind: .timeout)), now: now).change)
        #expect(time.attempts?.resources?.maxRunSeconds == 300)
        // A job that asked for no memory ran with the limit its worker reports: the retry doubles that.
        var defaulted = failed(1, AttemptFailure(kind: .outOfMemory))
        defaulted.outcome.resourceUsage = ResourceUsage(wallSeconds: 1, memoryLimitMB: 256)
        let fromDefault = try #require(JobLifecycle.finish(retrying(policy), defaulted, now: now).change)
        #expect(fromDefault.attempts?.resources?.memoryMB == 512)
    }

    @Test("a lost worker's attempt is re-queued only once its lease expired, and the job fails after the third loss")
    func lostWorker() throws {
        var job = state(.running, attempt: 1, worker: "w")
        job.leaseUntil = now.addingTimeInterval(5)
        #expect(JobLifecycle.requeue(job, attempt: 1, reason: "silent", maxWorkerLost: 3, now: now).change == nil, "the worker may still run it")
        job.leaseUntil = now.addingTimeInterval(-1)
        let first = try #require(JobLifecycle.requeue(job, attempt: 1, reason: "silent", maxWorkerLost: 3, now: now).change)
        #expect(first.status == .queued && first.attempts?.workerLost == 1 && first.attempts?.earlierAttempts.map(\.failure.kind) == [.workerLost])
        job.attempts = first.attempts!
        job.attempts.workerLost = 2
        let third = try #require(JobLifecycle.requeue(job, attempt: 1, reason: "silent", maxWorkerLost: 3, now: now).change)
        #expect(third.status == .failed && third.markFinished)
        #expect(third.result?.failure?.kind == .workerLost && third.steps[0].message.hasPrefix("worker lost 3 times"))
        #expect(third.event?.failure?.kind == .workerLost)
    }

    // MARK: Dependencies

    @Test("a job with dependencies waits in PENDING, is QUEUED once they ended as asked, CANCELLED when one it needed failed")
    func dependencies() throws {
        let (a, b) = (UUID(), UUID())
        let model = RunModelJob(model: TagSelector(objectId: UUID()))
        func job(_ condition: Dependencies.Condition? = nil) -> JobDefinition {
            JobDefinition(jobType: .runModel, runModel: model, dependsOn: Dependencies(jobIds: [a, b], condition: condition),
                notification: NotificationSettings(email: ["x@example.com"]))
        }
        let waiting = JobLifecycle.submit(job(), jobId: UUID(), now: now, dependencies: [a: .succeeded, b: .running])
        #expect(waiting.record.status == .pending && waiting.record.statusMessage == "waiting for 1 of 2 jobs to end: \(b.lowercased)")
        #expect(waiting.event.routingKey == "job.pending.run_model")
        #expect(JobLifecycle.submit(job(), jobId: UUID(), now: now, dependencies: [a: .succeeded, b: .succeeded]).record.status == .queued)
        let blocked = JobLifecycle.submit(job(), jobId: UUID(), now: now, dependencies: [a: .succeeded, b: .failed])
        #expect(blocked.record.status == .cancelled && blocked.record.statusMessage.contains("depends on job \(b.lowercased), which is FAILED"))
        #expect(blocked.event.notification != nil && blocked.event.failure?.kind == .cancelled, "its e-mail goes out")
        #expect(JobLifecycle.submit(job(.ended), jobId: UUID(), now: now, dependencies: [a: .cancelled, b: .failed]).record.status == .queued)

        var pending = state(.pending)
        pending.dependsOn = Dependencies(jobIds: [a, b])
        #expect(JobLifecycle.dependencyEnded(pending, statuses: [a: .succeeded, b: .running], now: now).change == nil)
        let released = try #require(JobLifecycle.dependencyEnded(pending, statuses: [a: .succeeded, b: .succeeded], now: now).change)
        #expect(released.steps.map(\.status) == [.queued] && released.event?.routingKey == "job.queued.run_model")
        let cancelled = try #require(JobLifecycle.dependencyEnded(pending, statuses: [a: .cancelled, b: .running], now: now).change)
        #expect(cancelled.status == .cancelled && cancelled.markFinished && cancelled.steps[0].message.contains(a.lowercased))
        #expect(JobLifecycle.dependencyEnded(state(.queued), statuses: [:], now: now).change == nil)
    }
}
