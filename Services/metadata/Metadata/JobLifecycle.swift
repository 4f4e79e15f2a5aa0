import ConveyorModels
import Foundation

/// The rules of a job's life, as pure decisions: given a job's state and a command (claim, finish,
/// cancel, re-queue, a child of a group ended) it says what changes: the status path appended to
/// the history, the row changes, the event to publish, the children to start and the group to tell.
///
/// It performs no I/O. ``JobRepository`` loads the states (locked) and applies the decisions in one
/// transaction, many jobs at a time; that keeps every rule testable without PostgreSQL, in the way
/// the scheduler's ``SchedulingState`` is.
enum JobLifecycle {
    // MARK: Submission

    /// A job (already validated and pinned) entering the system: QUEUED, or RUNNING for a group with
    /// the first of its jobs (sequential) or all of them (parallel) to start at once; a job with
    /// dependencies waits in PENDING for those that have not ended (`dependencies`: the status of each
    /// job it depends on now), or is CANCELLED at once when one it needs to succeed did not.
    /// A group run again may keep the jobs of its earlier run that succeeded (`keptPositions`): they
    /// do not start again (``kept(_:jobId:now:parent:position:)`` records them).
    static func submit(
        _ definition: JobDefinition, jobId: UUID, now: Date, rerunOf: UUID? = nil, parent: UUID? = nil, position: Int? = nil,
        dependencies: [UUID: JobStatus] = [:], keptPositions: Set<Int> = []
    ) -> NewJob {
        let validated = JobStatusUpdate(status: .validated, message: "job definition validated", at: now)
        var record = JobRecord(
            jobId: jobId, jobType: definition.jobType, owner: definition.effectiveOwner,
            priority: definition.effectivePriority, definition: definition, status: .queued, statusMessage: "",
            attempt: 0, workerId: nil, submittedAt: now, startedAt: nil, finishedAt: nil, updates: [validated], result: nil,
            rerunOf: rerunOf, parentJobId: parent)
        var children: [ChildToStart] = []
        if let group = definition.jobGroup {
            var message = "running \(group.jobs.count) jobs \(group.groupType == .sequential ? "one after another" : "at once")"
            if !keptPositions.isEmpty { message += "; \(keptPositions.count) kept from the earlier run" }
            record.updates += [
                JobStatusUpdate(status: .queued, message: "group accepted", at: now),
                JobStatusUpdate(status: .submitted, message: "child jobs submitted", at: now),
                JobStatusUpdate(status: .running, message: message, at: now),
            ]
            record.startedAt = now
            let open = group.jobs.indices.filter { !keptPositions.contains($0) }
            let starting = group.groupType == .sequential ? Array(open.prefix(1)) : open
            children = starting.map { ChildToStart(definition: group.jobs[$0].inheriting(from: definition), position: $0) }
        } else if let needs = definition.dependsOn {
            switch readiness(needs, dependencies) {
            case .ready(let message):
                record.updates.append(JobStatusUpdate(status: .queued, message: message, at: now))
            case .waiting(let message):
                record.updates.append(JobStatusUpdate(status: .pending, message: message, at: now))
            case .blocked(let message):
                record.updates.append(JobStatusUpdate(status: .cancelled, message: message, at: now))
                record.finishedAt = now
                record.result = JobResult(
                    status: .cancelled, message: message, exitCode: nil, objects: [], logBytes: 0, failure: AttemptFailure(kind: .cancelled))
            }
        } else {
            record.updates.append(JobStatusUpdate(status: .queued, message: "waiting for a worker", at: now))
        }
        let last = record.updates[record.updates.count - 1]
        record.status = last.status
        record.statusMessage = last.message
        let event = JobEvent(
            jobId: jobId, jobType: definition.jobType, status: last.status,
            previousStatus: record.updates[record.updates.count - 2].status, message: last.message, owner: record.owner,
            priority: record.priority, attempt: 0, submittedAt: now, occurredAt: now,
            notification: last.status.isTerminal ? definition.notification : nil,
            resources: last.status == .queued ? definition.resources : nil,
            failure: last.status.isTerminal ? AttemptFailure(kind: .cancelled) : nil, modelId: definition.modelObjectId)
        return NewJob(record: record, groupPosition: position, event: event, childrenToStart: children)
    }

    /// A job of a group run again that keeps what the same job of the earlier run did: it is
    /// recorded SUCCEEDED at once with that job's result (its outputs are used as they are).
    static func kept(_ earlier: JobRecord, jobId: UUID, now: Date, parent: UUID, position: Int) -> NewJob {
        let message = "kept the result of job \(earlier.jobId.lowercased) (it succeeded in the earlier run of the group)"
        let updates = [
            JobStatusUpdate(status: .validated, message: "job definition validated", at: now),
            JobStatusUpdate(status: .succeeded, message: message, at: now),
        ]
        let record = JobRecord(
            jobId: jobId, jobType: earlier.jobType, owner: earlier.owner, priority: earlier.priority, definition: earlier.definition,
            status: .succeeded, statusMessage: message, attempt: 0, workerId: nil, submittedAt: now, startedAt: earlier.startedAt,
            finishedAt: now, updates: updates, result: earlier.result, rerunOf: earlier.jobId, parentJobId: parent)
        let event = JobEvent(
            jobId: jobId, jobType: earlier.jobType, status: .succeeded, previousStatus: .validated, message: message, owner: earlier.owner,
            priority: earlier.priority, attempt: 0, submittedAt: now, occurredAt: now, topLevel: false, modelId: earlier.definition.modelObjectId)
        return NewJob(record: record, groupPosition: position, event: event, childrenToStart: [])
    }

    // MARK: Dependencies

    /// Where a job with dependencies stands, given the status of each job it depends on.
    enum Readiness: Sendable, Equatable {
        /// It may run (QUEUED).
        case ready(String)
        /// Some have not ended (PENDING).
        case waiting(String)
        /// One it needs to succeed did not (CANCELLED, naming it).
        case blocked(String)
    }

    static func readiness(_ needs: Dependencies, _ statuses: [UUID: JobStatus]) -> Readiness {
        if needs.effectiveCondition == .succeeded,
            let failed = needs.jobIds.first(where: { [.failed, .cancelled].contains(statuses[$0]) })
        {
            return .blocked("cancelled: it depends on job \(failed.lowercased), which is \(statuses[failed]!.rawValue)")
        }
        let open = needs.jobIds.filter { !(statuses[$0]?.isTerminal ?? false) }
        if open.isEmpty {
            return .ready(needs.effectiveCondition == .succeeded ? "its dependencies succeeded; waiting for a worker" : "its dependencies ended; waiting for a worker")
        }
        return .waiting("waiting for \(open.count) of \(needs.jobIds.count) jobs to end: \(open.prefix(5).map(\.lowercased).joined(separator: ", "))\(open.count > 5 ? ", ..." : "")")
    }

    /// A job this PENDING job depends on ended: it is QUEUED once all have (as its condition asks),
    /// CANCELLED when one it needs to succeed did not (and that cancels its own dependents in turn).
    static func dependencyEnded(_ state: JobState, statuses: [UUID: JobStatus], now: Date) -> JobDecision {
        guard state.status == .pending, let needs = state.dependsOn else { return JobDecision(.declined("not waiting for dependencies")) }
        switch readiness(needs, statuses) {
        case .waiting: return JobDecision(.declined("still waiting"))
        case .blocked(let message): return cancel(state, message: message, cascading: false, now: now)
        case .ready(let message):
            var change = JobChange(state, now: now, steps: [(.queued, message)])
            change.event = event(for: change, state, attempt: state.attempt, now: now)
            return JobDecision(.done, change: change)
        }
    }

    // MARK: Changes of an existing job

    /// Decides what `command` does to the job in `state` (nil: there is no such job) at time `now`.
    static func decide(_ state: JobState?, _ command: JobCommand, now: Date) -> JobDecision {
        switch command {
        case .claim(let attempt, let workerId, let leaseSeconds, let groupStatus):
            return claim(state, attempt: attempt, workerId: workerId, leaseSeconds: leaseSeconds, groupStatus: groupStatus, now: now)
        case .finish(let finished):
            return finish(state, finished, now: now)
        case .cancel(let message, let cascading):
            guard let state else { return JobDecision(.declined("no such job")) }
            return cancel(state, message: message, cascading: cascading, now: now)
        case .requeue(let attempt, let reason, let maxWorkerLost):
            return requeue(state, attempt: attempt, reason: reason, maxWorkerLost: maxWorkerLost, now: now)
        case .childEnded(let progress):
            guard let state else { return JobDecision(.declined("no such group")) }
            return childEnded(state, progress, now: now)
        }
    }

    /// A worker claims attempt `attempt`: QUEUED → SUBMITTED → RUNNING, fenced by the attempt number.
    /// The same claim again (its reply was lost) is granted again without a change; a job whose group
    /// has ended is cancelled instead.
    static func claim(
        _ state: JobState?, attempt: Int, workerId: String, leaseSeconds: Int, groupStatus: JobStatus?, now: Date
    ) -> JobDecision {
        guard let state else { return JobDecision(.declined("no such job")) }
        if state.status.isTerminal { return JobDecision(.declined("job is \(state.status.rawValue)")) }
        if let groupStatus, groupStatus.isTerminal {
            var decision = cancel(state, message: "cancelled: its group is \(groupStatus.rawValue)", cascading: true, now: now)
            decision.outcome = .declined("its group is \(groupStatus.rawValue)")
            return decision
        }
        if state.status == .running, state.attempt == attempt, state.workerId == workerId {
            return JobDecision(.done)
        }
        if attempt <= state.attempt {
            return JobDecision(.declined("attempt \(attempt) is stale (current attempt \(state.attempt))"))
        }
        guard state.status == .queued else {
            return JobDecision(.declined("job is \(state.status.rawValue), not QUEUED"))
        }
        var change = JobChange(
            state, now: now,
            steps: [
                (.submitted, "dispatched to worker \(workerId) (attempt \(attempt))"),
                (.running, "running on worker \(workerId)"),
            ])
        change.attempt = attempt
        change.worker = .assign(workerId, leaseUntil: now.addingTimeInterval(TimeInterval(leaseSeconds)))
        change.markStarted = true
        change.event = event(for: change, state, attempt: attempt, now: now)
        return JobDecision(.done, change: change)
    }

    /// An attempt's finished report. A report of another attempt, about a job that ended, or asking
    /// for an illegal transition changes nothing; the report of the attempt a cancellation stopped
    /// adds that attempt's log to the cancelled job's result (once).
    static func finish(_ state: JobState?, _ finished: FinishedAttempt, now: Date) -> JobDecision {
        guard let state else { return JobDecision(.declined("no such job")) }
        let outcome = finished.outcome
        if state.status == .cancelled, finished.attempt > 0, state.attempt == finished.attempt {
            var result = state.result ?? JobResult(status: .cancelled, exitCode: nil, objects: [], logBytes: 0)
            guard result.logFile == nil else { return JobDecision(.declined("the cancelled job keeps its log already")) }
            result.logFile = finished.log.file
            result.logBytes = max(outcome.logBytes, finished.log.keptBytes)
            result.logTruncated = finished.log.truncated ? true : nil
            result.resourceUsage = result.resourceUsage ?? outcome.resourceUsage
            var change = JobChange(state, now: now, steps: [])
            change.result = result
            return JobDecision(.declined("the job was cancelled; its log is kept"), change: change)
        }
        guard state.attempt == finished.attempt, !state.status.isTerminal, state.status.canTransition(to: outcome.status) else {
            return JobDecision(
                .declined("report of attempt \(finished.attempt) ignored: the job is \(state.status.rawValue) at attempt \(state.attempt)"))
        }
        let failure = outcome.classifiedFailure
        if outcome.status == .failed, let failure, let retry = retry(state, finished, failure: failure, now: now) {
            return JobDecision(.done, change: retry)
        }
        let earlier = state.attempts.earlierAttempts
        var result = JobResult(
            status: outcome.status, message: outcome.message, exitCode: outcome.exitCode, objects: finished.objects,
            outputs: finished.outputs.isEmpty ? nil : finished.outputs, logFile: finished.log.file,
            logBytes: max(outcome.logBytes, finished.log.keptBytes), logTruncated: finished.log.truncated ? true : nil,
            resourceUsage: outcome.resourceUsage, failure: failure, earlierAttempts: earlier.isEmpty ? nil : earlier)
        result.progress = outcome.progress
        var change = JobChange(state, now: now, steps: [(outcome.status, outcome.message)])
        change.markFinished = true
        change.result = result
        change.event = event(
            for: change, state, attempt: finished.attempt, now: now, exitCode: outcome.exitCode, logTail: finished.log.tail,
            failure: failure)
        // The e-mail states the peak memory against the limit.
        change.event?.peakMemoryMB = outcome.resourceUsage?.maxResidentKB.map { ($0 + 1023) / 1024 }
        change.event?.memoryLimitMB = outcome.resourceUsage?.memoryLimitMB
        // And what the model said last: its results, its last message.
        change.event?.results = outcome.progress.flatMap { $0.results.isEmpty ? nil : $0.results }
        change.event?.progressMessage = outcome.progress?.message
        return JobDecision(.done, change: change, groupToNotify: state.parentJobId)
    }

    /// Ends a job that has not ended as CANCELLED. `cascading`: it is cancelled with its group, which
    /// therefore need not react.
    static func cancel(_ state: JobState, message: String, cascading: Bool, now: Date) -> JobDecision {
        guard state.status.canTransition(to: .cancelled) else {
            return JobDecision(.failed(.conflict("job \(state.jobId.lowercased) is already \(state.status.rawValue)")))
        }
        var change = JobChange(state, now: now, steps: [(.cancelled, message)])
        change.markFinished = true
        let earlier = state.attempts.earlierAttempts
        change.result = JobResult(
            status: .cancelled, message: message, exitCode: nil, objects: [], logBytes: 0, failure: AttemptFailure(kind: .cancelled),
            earlierAttempts: earlier.isEmpty ? nil : earlier)
        change.event = event(for: change, state, attempt: state.attempt, now: now, failure: AttemptFailure(kind: .cancelled))
        return JobDecision(.done, change: change, groupToNotify: cascading ? nil : state.parentJobId)
    }

    /// Puts a dispatched or running attempt back in the queue (its worker went silent), once its
    /// lease has expired (until then the worker may still run it); the `maxWorkerLost`-th time the
    /// job FAILS instead, with reason worker lost. Any other attempt or status changes nothing.
    static func requeue(_ state: JobState?, attempt: Int, reason: String, maxWorkerLost: Int, now: Date) -> JobDecision {
        guard let state, [.submitted, .running].contains(state.status), state.attempt == attempt else {
            return JobDecision(.declined("not dispatched or running at attempt \(attempt)"))
        }
        if let lease = state.leaseUntil, lease > now {
            return JobDecision(.declined("the lease of attempt \(attempt) runs until \(Timestamp.format(lease))"))
        }
        var history = state.attempts
        history.workerLost += 1
        history.notBefore = nil  // a re-queue after a lost worker waits for no backoff
        let failure = AttemptFailure(kind: .workerLost)
        history.earlierAttempts.append(AttemptSummary(attempt: attempt, failure: failure, message: reason, workerId: state.workerId, endedAt: now))
        if history.workerLost >= maxWorkerLost {
            let message = "worker lost \(history.workerLost) times (last: \(reason))"
            var change = JobChange(state, now: now, steps: [(.failed, message)])
            change.markFinished = true
            change.worker = .release
            history.earlierAttempts.removeLast()
            change.attempts = history
            change.result = JobResult(
                status: .failed, message: message, exitCode: nil, objects: [], logBytes: 0, failure: failure,
                earlierAttempts: history.earlierAttempts.isEmpty ? nil : history.earlierAttempts)
            change.event = event(for: change, state, attempt: attempt, now: now, failure: failure)
            return JobDecision(.done, change: change, groupToNotify: state.parentJobId)
        }
        var change = JobChange(state, now: now, steps: [(.queued, "re-queued: \(reason)")])
        change.worker = .release
        change.attempts = history
        var requeued = state
        requeued.attempts = history
        change.event = event(for: change, requeued, attempt: attempt, now: now)
        return JobDecision(.done, change: change)
    }

    /// Whether a failed attempt is tried again, and how: the QUEUED change with its backoff (and
    /// more memory or time after running out of them), or nil when the job fails.
    static func retry(_ state: JobState, _ finished: FinishedAttempt, failure: AttemptFailure, now: Date) -> JobChange? {
        guard let policy = state.retry, policy.retries(failure.kind, afterAttempt: finished.attempt) else { return nil }
        var history = state.attempts
        history.earlierAttempts.append(
            AttemptSummary(
                attempt: finished.attempt, failure: failure, message: finished.outcome.message, workerId: finished.workerId, endedAt: now,
                logFile: finished.log.file))
        let wait = policy.backoff(afterAttempt: finished.attempt) * finished.jitter
        history.notBefore = now.addingTimeInterval(wait)
        var resources = history.resources ?? state.resources ?? ResourceRequirements()
        var grown = ""
        // A job that asked for no memory ran with the limit its worker reports (its type's default).
        let usage = finished.outcome.resourceUsage
        if failure.kind == .outOfMemory, let factor = policy.memoryFactor, let memory = resources.memoryMB ?? usage?.memoryLimitMB {
            resources.memoryMB = min(finished.limits.ceiling(for: state.jobType).maxMemoryMB, Int((Double(memory) * factor).rounded(.up)))
            grown = ", with \(resources.memoryMB!) MB"
        }
        if failure.kind == .timeout, let factor = policy.runTimeFactor, let seconds = resources.maxRunSeconds {
            resources.maxRunSeconds = min(finished.limits.ceiling(for: state.jobType).maxRunSeconds, Int((Double(seconds) * factor).rounded(.up)))
            grown += ", with \(resources.maxRunSeconds!) s to run"
        }
        if resources != (state.resources ?? ResourceRequirements()) { history.resources = resources }
        let message = "attempt \(finished.attempt) failed (\(failure)): \(finished.outcome.message); attempt \(finished.attempt + 1) of \(policy.maxAttempts) in \(Int(wait.rounded())) s\(grown)"
        var change = JobChange(state, now: now, steps: [(.queued, message)])
        change.worker = .release
        change.attempts = history
        var retried = state
        retried.attempts = history
        change.event = event(for: change, retried, attempt: finished.attempt, now: now)
        return change
    }

    /// A job of the group in `state` ended. A sequential group starts its next job, or fails at the
    /// first that did not succeed; a parallel group waits for all. When the group ends, its result
    /// lists the objects of its jobs in order, and its own group is told.
    static func childEnded(_ state: JobState, _ progress: GroupProgress, now: Date) -> JobDecision {
        guard !state.status.isTerminal, let group = progress.definition.jobGroup else {
            return JobDecision(.declined("the group has ended"))
        }
        let children = progress.children.sorted { $0.position < $1.position }
        let allEnded = children.allSatisfy(\.status.isTerminal)
        if let failed = children.first(where: { [.failed, .cancelled].contains($0.status) }),
            group.groupType == .sequential || allEnded
        {
            let message = "job \(failed.position + 1) of \(group.jobs.count) (\(failed.jobId.lowercased)) \(failed.status.rawValue): \(failed.statusMessage)"
            return endGroup(state, children, as: .failed, message: message, now: now)
        }
        guard children.allSatisfy({ $0.status == .succeeded }) else { return JobDecision(.declined("jobs still running")) }
        if group.groupType == .sequential, children.count < group.jobs.count {
            let next = ChildToStart(definition: group.jobs[children.count].inheriting(from: progress.definition), position: children.count)
            return JobDecision(.done, childrenToStart: [next])
        }
        return endGroup(state, children, as: .succeeded, message: "all \(group.jobs.count) jobs succeeded", now: now)
    }

    private static func endGroup(_ state: JobState, _ children: [GroupProgress.Child], as status: JobStatus, message: String, now: Date)
        -> JobDecision
    {
        var change = JobChange(state, now: now, steps: [(status, message)])
        change.markFinished = true
        change.result = JobResult(status: status, message: message, exitCode: nil, objects: children.flatMap(\.objects), logBytes: 0)
        change.event = event(for: change, state, attempt: state.attempt, now: now)
        return JobDecision(.done, change: change, groupToNotify: state.parentJobId)
    }

    // MARK: Events

    /// The event of a change: for its last status; terminal events carry what the e-mail needs.
    static func event(
        for change: JobChange, _ state: JobState, attempt: Int, now: Date, exitCode: Int? = nil, logTail: String? = nil,
        failure: AttemptFailure? = nil
    ) -> JobEvent {
        let status = change.status
        let previous = change.steps.count > 1 ? change.steps[change.steps.count - 2].status : change.from
        let terminal = status.isTerminal
        return JobEvent(
            jobId: state.jobId, jobType: state.jobType, status: status, previousStatus: previous,
            message: change.steps.last?.message ?? state.statusMessage, owner: state.owner, priority: state.priority,
            attempt: attempt, submittedAt: state.submittedAt, occurredAt: now,
            notification: terminal ? state.notification : nil, startedAt: terminal ? state.startedAt : nil,
            exitCode: exitCode, logTail: terminal ? logTail : nil,
            resources: status == .queued ? state.attempts.resources ?? state.resources : nil,
            notBefore: status == .queued ? state.attempts.notBefore : nil, failure: terminal ? failure : nil, modelId: state.modelId)
    }
}

// MARK: - The lifecycle's inputs and outputs

/// What the lifecycle knows of one job: its row in `jobs`.
struct JobState: Sendable, Hashable {
    var jobId: UUID
    var jobType: JobType
    var status: JobStatus
    var statusMessage: String
    var attempt: Int
    var workerId: String?
    var owner: String
    var priority: Int
    var submittedAt: Date
    var startedAt: Date?
    var parentJobId: UUID?
    var groupPosition: Int?
    var notification: NotificationSettings?
    /// What the job asks for (its definition's `resources`), for the event of a re-queue.
    var resources: ResourceRequirements? = nil
    /// Its definition's retry policy.
    var retry: RetryPolicy? = nil
    /// What it carries from attempt to attempt (earlier attempts, lost workers, the next attempt's resources).
    var attempts = AttemptHistory()
    /// Until when its running attempt's worker holds it (renewed while it runs).
    var leaseUntil: Date? = nil
    /// The jobs it waits for (its definition's `dependsOn`).
    var dependsOn: Dependencies? = nil
    /// The object it runs (``JobDefinition/modelObjectId``).
    var modelId: UUID? = nil
    var result: JobResult?
    /// How many entries its status history has.
    var historyLength: Int
}

/// A request to change one job.
enum JobCommand: Sendable {
    /// A worker claims an attempt; `groupStatus` is the status of the job's group, if it has one.
    case claim(attempt: Int, workerId: String, leaseSeconds: Int, groupStatus: JobStatus?)
    /// A worker's report that an attempt ended, with what was registered for it.
    case finish(FinishedAttempt)
    /// Cancel with this status message; `cascading` when its group is being cancelled.
    case cancel(message: String, cascading: Bool)
    /// A silent worker's attempt goes back to the queue (after `maxWorkerLost` times, the job fails).
    case requeue(attempt: Int, reason: String, maxWorkerLost: Int)
    /// A job of this group ended.
    case childEnded(GroupProgress)
}

/// A finished report with the objects registered for it and the log kept of the attempt.
struct FinishedAttempt: Sendable, Hashable {
    var attempt: Int
    var outcome: JobOutcome
    /// The worker that ran it.
    var workerId: String? = nil
    /// What a retry may ask for at most (the deployment's limits, its type's where tighter).
    var limits = DeploymentLimits()
    /// The factor the retry's backoff is multiplied by (0.8 to 1.2, drawn by the caller).
    var jitter: Double = 1
    /// Every object version registered for the attempt, and those that fill outputs by name.
    var objects: [TagSelector] = []
    var outputs: [String: TagSelector] = [:]
    var log: KeptLog
}

/// The log kept of an attempt (at most the deployment's cap).
struct KeptLog: Sendable, Hashable {
    /// The FILE object holding it.
    var file: TagSelector?
    var keptBytes: Int
    var truncated: Bool
    /// The last lines, for the end-of-job e-mail.
    var tail: String
}

/// What a group knows when one of its jobs ended.
struct GroupProgress: Sendable, Hashable {
    struct Child: Sendable, Hashable {
        var jobId: UUID
        var position: Int
        var status: JobStatus
        var statusMessage: String
        /// The objects its result lists.
        var objects: [TagSelector]
    }

    /// The group's definition (its `jobGroup` section lists the jobs).
    var definition: JobDefinition
    /// Every job the group started so far.
    var children: [Child]
}

/// A job of a group to start now.
struct ChildToStart: Sendable, Hashable {
    var definition: JobDefinition
    var position: Int
}

/// A job to insert: its record as it reads after the commit, and its event.
struct NewJob: Sendable {
    var record: JobRecord
    var groupPosition: Int?
    var event: JobEvent
    var childrenToStart: [ChildToStart]
}

/// What a decision does to one job's row: the compare-and-set on its status, the status path, and
/// the columns that change with it.
struct JobChange: Sendable, Hashable {
    enum Worker: Sendable, Hashable {
        case assign(String, leaseUntil: Date)
        case release
    }

    var jobId: UUID
    /// The status the job must still have (the row is locked, so it does).
    var from: JobStatus
    /// Appended to the history, in order; empty when only columns change.
    var steps: [JobStatusUpdate]
    /// The sequence number of the first step in the history.
    var firstSeq: Int
    var attempt: Int? = nil
    var worker: Worker? = nil
    /// `started_at` is set if it was not.
    var markStarted = false
    /// `finished_at` is set and the lease ends.
    var markFinished = false
    var result: JobResult? = nil
    /// The job's attempt history when it changes.
    var attempts: AttemptHistory? = nil
    /// Published once committed.
    var event: JobEvent? = nil

    init(_ state: JobState, now: Date, steps: [(JobStatus, String)]) {
        jobId = state.jobId
        from = state.status
        self.steps = steps.map { JobStatusUpdate(status: $0.0, message: $0.1, at: now) }
        firstSeq = state.historyLength + 1
    }

    /// The status after the change.
    var status: JobStatus { steps.last?.status ?? from }
}

/// The lifecycle's answer to a command.
struct JobDecision: Sendable {
    enum Outcome: Sendable, Equatable {
        /// The command took effect (or had already: the same claim again).
        case done
        /// The command does not apply now; nothing of the job's status changes.
        case declined(String)
        /// The command is refused with this error.
        case failed(MetadataError)
    }

    var outcome: Outcome
    var change: JobChange?
    var childrenToStart: [ChildToStart]
    /// The group that must react because this job ended.
    var groupToNotify: UUID?

    init(_ outcome: Outcome, change: JobChange? = nil, childrenToStart: [ChildToStart] = [], groupToNotify: UUID? = nil) {
        self.outcome = outcome
        self.change = change
        self.childrenToStart = childrenToStart
        self.groupToNotify = groupToNotify
    }
}

extension JobDefinition {
    /// A job of a group: the group's owner and priority unless it sets its own.
    func inheriting(from group: JobDefinition) -> JobDefinition {
        var child = self
        child.owner = child.owner ?? group.owner
        child.priority = child.priority ?? group.priority
        return child
    }

    /// The definition without the outputs the platform filled in, for submitting it again.
    func clearingOutputs() -> JobDefinition {
        var copy = self
        copy.runModel?.outputs = nil
        copy.runFlow?.outputs = nil
        copy.importData?.outputs = nil
        copy.exportData?.outputs = nil
        if var group = copy.jobGroup {
            group.jobs = group.jobs.map { $0.clearingOutputs() }
            copy.jobGroup = group
        }
        return copy
    }
}

/// What a job carries from one attempt to the next (the `attempt_history` column).
struct AttemptHistory: Sendable, Codable, Hashable {
    /// The attempts that did not succeed and were retried or re-queued, oldest first.
    var earlierAttempts: [AttemptSummary] = []
    /// How often its worker was lost while it ran.
    var workerLost = 0
    /// What the next attempts may use, when a retry grew it beyond the definition's `resources`.
    var resources: ResourceRequirements? = nil
    /// The next attempt not before this time (a retry's backoff).
    var notBefore: Date? = nil

    var isEmpty: Bool { self == AttemptHistory() }
}
