import ConveyorModels
import Foundation
import Postgres
import Testing

@testable import Metadata

/// The job features of the store: state machine, filters, results and logs, re-runs, groups.
extension JobStoreTests {
    func run(_ id: UUID, attempt: Int = 1, log: String? = nil, _ status: JobStatus = .succeeded, objects: [NewObject] = []) async throws {
        _ = try await store.claim(ClaimJob(jobId: id, attempt: attempt, workerId: "w", leaseSeconds: 60))
        if let log {
            try await store.apply(JobReport(jobId: id, attempt: attempt, workerId: "w", kind: .log(LogChunk(offset: 0, data: Data(log.utf8)))))
        }
        try await store.apply(
            JobReport(jobId: id, attempt: attempt, workerId: "w", kind: .finished(JobOutcome(
                status: status, message: "done", exitCode: 0, objects: objects, logBytes: 0,
                resourceUsage: ResourceUsage(wallSeconds: 1.5, cpuUserSeconds: 0.5)))))
    }

    @Test("status changes are compare-and-set: a stale expected status or an illegal move is a conflict, and nothing is written")
    func compareAndSetTransitions() async throws {
        let job = try await store.submit(runJob(try await model()))
        let state = JobState(
            jobId: job.jobId, jobType: .runModel, status: .submitted, statusMessage: "", attempt: 0, owner: "o", priority: 50,
            submittedAt: job.submittedAt, historyLength: 2)
        await #expect(throws: MetadataError.self) {
            try await store.withJobTransaction { transaction in
                try transaction.writes.apply(JobChange(state, now: Date(), steps: [(.running, "x")]))
            }
        }
        var queued = state
        queued.status = .queued
        #expect(throws: MetadataError.conflict("job \(job.jobId.lowercased) cannot go from QUEUED to SUCCEEDED")) {
            var writes = JobWrites()
            try writes.apply(JobChange(queued, now: Date(), steps: [(.succeeded, "x")]))
        }
        let after = try await store.job(job.jobId)
        #expect(after.status == .queued && after.updates.count == 2)
    }

    @Test("the result record: status, outputs by name, resource usage, and the complete log as a FILE")
    func resultRecord() async throws {
        let job = try await store.submit(runJob(try await model()))
        let output = NewObject(objectType: .data, definition: .data(DataDefinition(format: "text/csv")), attributes: ["conveyor_output_name": .string("summary")], storagePath: "data/out.csv", outputName: "summary")
        try await run(job.jobId, log: "line one\nline two\n", objects: [output])
        let done = try await store.job(job.jobId)
        let result = try #require(done.result)
        #expect(result.status == .succeeded && result.message == "done")
        #expect(result.outputs?["summary"] == result.objects.first)
        #expect(result.resourceUsage?.wallSeconds == 1.5)
        #expect(result.logBytes == 18)
        let logFile = try #require(result.logFile)
        #expect(try await store.objects.content(logFile).data == Data("line one\nline two\n".utf8))
        #expect(try await store.objects.object(TagSelector(objectId: job.jobId)).objectType == .job, "every job is also a JOB object")
    }

    @Test("the log cap keeps the first bytes and one truncation marker")
    func logCap() async throws {
        let job = try await store.submit(runJob(try await model()))
        _ = try await store.claim(ClaimJob(jobId: job.jobId, attempt: 1, workerId: "w", leaseSeconds: 60))
        let line = String(repeating: "x", count: 39) + "\n"  // 40 bytes; the test cap is 64
        for index in 0..<4 {
            try await store.apply(JobReport(jobId: job.jobId, attempt: 1, workerId: "w", kind: .log(LogChunk(offset: index * 40, data: Data(line.utf8)))))
        }
        try await finish(job.jobId, attempt: 1)
        let text = String(decoding: try await store.log(GetJobLog(jobId: job.jobId)).data, as: UTF8.self)
        #expect(text == line + String(line.prefix(24)) + "\n[conveyor] log truncated: the job wrote more than 64 bytes; the rest was dropped\n")
        #expect(try await store.job(job.jobId).result?.logTruncated == true)
    }

    @Test("listing filters by status, type, owner, label and time, sorts, and counts by status")
    func listingFilters() async throws {
        let model = try await model()
        var ids: [UUID] = []
        for index in 0..<4 {
            var definition = runJob(model)
            definition.owner = index < 2 ? "ann" : "bob"
            definition.labels = ["team": index % 2 == 0 ? "risk" : "ops"]
            definition.priority = 10 * (index + 1)
            ids.append(try await store.submit(definition).jobId)
        }
        try await run(ids[0])
        try await run(ids[1], .failed)
        let all = try await store.list(ListJobs(limit: 10, includeCounts: true))
        #expect(all.counts == JobCounts(total: 4, byStatus: ["SUCCEEDED": 1, "FAILED": 1, "QUEUED": 2]))
        #expect(try await store.list(ListJobs(limit: 10, owner: "ann")).jobs.map(\.jobId) == [ids[1], ids[0]])
        #expect(try await store.list(ListJobs(limit: 10, labels: ["team": "risk"])).jobs.map(\.jobId) == [ids[2], ids[0]])
        #expect(try await store.list(ListJobs(limit: 10, statuses: [.succeeded, .failed])).jobs.count == 2)
        #expect(try await store.list(ListJobs(limit: 10, jobTypes: [.importModel])).jobs.isEmpty)
        let finishedNow = TimeRange(from: Date().addingTimeInterval(-60))
        #expect(Set(try await store.list(ListJobs(limit: 10, finished: finishedNow)).jobs.map(\.jobId)) == [ids[0], ids[1]])
        let byPriority = try await store.list(ListJobs(limit: 3, sort: .priority, descending: false))
        #expect(byPriority.jobs.map(\.jobId) == [ids[0], ids[1], ids[2]])
        let rest = try await store.list(ListJobs(limit: 3, cursor: byPriority.nextCursor, sort: .priority, descending: false))
        #expect(rest.jobs.map(\.jobId) == [ids[3]])
        await #expect(throws: MetadataError.self) { try await store.list(ListJobs(limit: 3, cursor: byPriority.nextCursor)) }
    }

    @Test("the status as of a past time comes from the history")
    func statusAsOf() async throws {
        let job = try await store.submit(runJob(try await model()))
        let queuedAt = Date()
        try await Task.sleep(for: .milliseconds(20))
        try await run(job.jobId)
        let done = try await store.job(job.jobId)
        #expect(done.status(asOf: queuedAt)?.status == .queued)
        #expect(done.status(asOf: Date())?.status == .succeeded)
        #expect(done.status(asOf: job.submittedAt.addingTimeInterval(-1)) == nil)
    }

    @Test("a finished job re-runs with the same pinned versions, linked to the original")
    func rerun() async throws {
        let model = try await model()
        let job = try await store.submit(runJob(model))
        await #expect(throws: MetadataError.self) { try await store.rerun(RerunJob(jobId: job.jobId)) }
        try await run(job.jobId)
        // A newer version of the model appears; the re-run still uses the pinned one.
        _ = try await pool.withTransaction { connection in
            try await store.objects.insert(
                connection, definition: .model(ModelDefinition(language: "shell", repository: "r", version: "v2", entryPoint: "run.sh")),
                attributes: [:], storagePath: "models/y", jobId: nil, owner: nil, prior: TagSelector(objectId: model))
        }
        let again = try await store.rerun(RerunJob(jobId: job.jobId, idempotencyKey: "rerun-1"))
        #expect(again.rerunOf == job.jobId)
        #expect(again.definition.runModel?.model == job.definition.runModel?.model)
        #expect(try await store.rerun(RerunJob(jobId: job.jobId, idempotencyKey: "rerun-1")).jobId == again.jobId)
        #expect(try await store.submit(runJob(model)).definition.runModel?.model.objectVersion == 2)
    }

    @Test("a sequential group runs its jobs one after another and fails at the first failure")
    func sequentialGroup() async throws {
        let model = try await model()
        let group = JobDefinition(jobType: .jobGroup, jobGroup: JobGroupJob(groupType: .sequential, jobs: [runJob(model), runJob(model), runJob(model)]), owner: "team")
        let submitted = try await store.submit(group)
        #expect(submitted.status == .running)
        #expect(submitted.childJobIds?.count == 1, "only the first job starts")
        let first = try #require(submitted.childJobIds?.first)
        #expect(try await store.job(first).owner == "team")
        #expect(try await store.active().running.allSatisfy { $0.jobId != submitted.jobId }, "the scheduler never sees a group")
        try await run(first)
        let second = try #require(try await store.job(submitted.jobId).childJobIds?.last)
        #expect(second != first)
        try await run(second, .failed)
        let done = try await store.job(submitted.jobId)
        #expect(done.status == .failed)
        #expect(done.statusMessage.hasPrefix("job 2 of 3"))
        #expect(done.childJobIds?.count == 2, "the third job never started")
    }

    @Test("a parallel group starts every job and succeeds when all do; cancelling a group cancels its jobs")
    func parallelGroup() async throws {
        let model = try await model()
        let group = JobDefinition(jobType: .jobGroup, jobGroup: JobGroupJob(groupType: .parallel, jobs: [runJob(model), runJob(model)]))
        let submitted = try await store.submit(group)
        let children = try #require(submitted.childJobIds)
        #expect(children.count == 2)
        try await run(children[1])
        #expect(try await store.job(submitted.jobId).status == .running)
        try await run(children[0])
        #expect(try await store.job(submitted.jobId).status == .succeeded)

        let other = try await store.submit(group)
        _ = try await store.cancel(CancelJob(jobId: other.jobId, reason: "not needed"))
        for child in other.childJobIds ?? [] { #expect(try await store.job(child).status == .cancelled) }
        #expect(try await store.job(other.jobId).status == .cancelled)
    }

    @Test("validation as a dry run answers the pinned definition and writes nothing")
    func dryRun() async throws {
        let model = try await model()
        let validation = try await store.validate(runJob(model))
        #expect(validation.status == .validated)
        #expect(validation.definition.runModel?.model.objectVersion == 1)
        #expect(try await pool.query("SELECT count(*) AS n FROM jobs")[0].int("n") == 0)
    }
}

extension JobStoreTests {
    @Test("a queue quota per owner: past it a submission is refused, other owners and known idempotency keys are not")
    func queueQuota() async throws {
        var limited = store
        limited.maxQueuedPerOwner = 2
        let model = try await model()
        func job(_ owner: String, key: String? = nil) -> JobDefinition {
            var definition = runJob(model, key: key)
            definition.owner = owner
            return definition
        }
        let first = try await limited.submit(job("ann", key: "a-1"))
        _ = try await limited.submit(job("ann"))
        await #expect(throws: MetadataError.quota("owner ann has 2 jobs waiting; the most this deployment allows is 2 (quotas.maxQueuedPerOwner)")) {
            try await limited.submit(job("ann"))
        }
        #expect(try await limited.submit(job("ann", key: "a-1")).jobId == first.jobId, "a known key is answered, not refused")
        _ = try await limited.submit(job("bob"))
        // In one batch: the third of an owner is refused, the others go in.
        let batch = try await limited.submit([JobStore.Submission(definition: job("cy")), JobStore.Submission(definition: job("cy")), JobStore.Submission(definition: job("cy"))])
        #expect(batch.map { (try? $0.get()) != nil } == [true, true, false])
        // A job that started no longer waits.
        _ = try await store.claim(ClaimJob(jobId: first.jobId, attempt: 1, workerId: "w", leaseSeconds: 60))
        _ = try await limited.submit(job("ann"))
    }

    @Test("active jobs page by page, in id order, for the scheduler's rebuild")
    func activePages() async throws {
        let model = try await model()
        var ids: [UUID] = []
        for _ in 0..<5 { ids.append(try await store.submit(runJob(model)).jobId) }
        _ = try await store.claim(ClaimJob(jobId: ids[1], attempt: 1, workerId: "w", leaseSeconds: 60))
        var seen: [UUID] = []
        var running: [UUID] = []
        var after: UUID? = nil
        var pages = 0
        repeat {
            let page = try await store.active(ListActiveJobs(after: after, limit: 2))
            seen += page.queued.map(\.jobId)
            running += page.running.map(\.jobId)
            after = page.next
            pages += 1
        } while after != nil
        #expect(Set(seen) == Set(ids).subtracting([ids[1]]) && running == [ids[1]])
        #expect(pages == 3)
        let all = try await store.active()
        #expect(all.next == nil && all.queued.count == 4)
        #expect(all.running.first?.owner == "anonymous" && all.running.first?.priority == 50)
    }
}

extension JobStoreTests {
    @Test("leases: renewed while the attempt is the worker's; an expired one is re-queued, and the third loss fails the job")
    func leases() async throws {
        let model = try await model()
        let job = try await store.submit(runJob(model))
        _ = try await store.claim(ClaimJob(jobId: job.jobId, attempt: 1, workerId: "w", leaseSeconds: 60))
        let renewed = try await store.renew(RenewLeases(workerId: "w", leaseSeconds: 60, attempts: [RunningJob(jobId: job.jobId, attempt: 1)]))
        #expect(renewed.renewed == [job.jobId] && renewed.lost.isEmpty)
        let other = try await store.renew(
            RenewLeases(workerId: "v", leaseSeconds: 60, attempts: [RunningJob(jobId: job.jobId, attempt: 1), RunningJob(jobId: UUID(), attempt: 1)]))
        #expect(other.renewed.isEmpty && other.lost.count == 2, "another worker's attempt, or none at all, is lost to it")
        #expect(try await store.requeueExpiredLeases() == 0)

        // A worker that stops renewing: its lease ends, and the attempt goes back to the queue, three times.
        for attempt in 1...3 {
            if attempt > 1 { _ = try await store.claim(ClaimJob(jobId: job.jobId, attempt: attempt, workerId: "w", leaseSeconds: 0)) }
            _ = try await store.renew(RenewLeases(workerId: "w", leaseSeconds: 0, attempts: [RunningJob(jobId: job.jobId, attempt: attempt)]))
            try await Task.sleep(for: .milliseconds(5))
            let swept = try await store.requeueExpiredLeases()
            #expect(swept == (attempt < 3 ? 1 : 0), "attempt \(attempt)")
        }
        let failed = try await store.job(job.jobId)
        #expect(failed.status == .failed)
        #expect(failed.result?.failure?.kind == .workerLost && failed.result?.earlierAttempts?.count == 2)
        #expect(failed.statusMessage.hasPrefix("worker lost 3 times"))
    }

    @Test("a retry policy: a failed attempt the policy retries is QUEUED again with its backoff; the last one fails the job")
    func retries() async throws {
        var definition = runJob(try await model())
        definition.retry = RetryPolicy(maxAttempts: 2, backoffSeconds: 30, retryOn: [.exitCode])
        let job = try await store.submit(definition)
        try await run(job.jobId, attempt: 1, .failed)
        let waiting = try await store.job(job.jobId)
        #expect(waiting.status == .queued && waiting.statusMessage.contains("attempt 2 of 2 in"))
        let active = try await store.active()
        let queued = try #require(active.queued.first { $0.jobId == job.jobId })
        #expect(queued.notBefore != nil && queued.notBefore! > Date().addingTimeInterval(20), "the rebuild keeps the backoff")
        try await run(job.jobId, attempt: 2, .failed)
        let failed = try await store.job(job.jobId)
        #expect(failed.status == .failed && failed.result?.failure?.kind == .exitCode)
        #expect(failed.result?.earlierAttempts?.map(\.attempt) == [1])
        #expect(failed.updates.map(\.status) == [.validated, .queued, .submitted, .running, .queued, .submitted, .running, .failed])
    }
}

extension JobStoreTests {
    @Test("a dependency chain: each job waits for the one before; a failure cancels the rest, naming it; a success releases the next")
    func dependencyChain() async throws {
        let model = try await model()
        func after(_ id: UUID, _ condition: Dependencies.Condition? = nil) -> JobDefinition {
            var definition = runJob(model)
            definition.dependsOn = Dependencies(jobIds: [id], condition: condition)
            return definition
        }
        // a ← b ← c, and d waits for b to end whatever happens.
        let a = try await store.submit(runJob(model))
        let b = try await store.submit(after(a.jobId))
        let c = try await store.submit(after(b.jobId))
        let d = try await store.submit(after(b.jobId, .ended))
        #expect([b, c, d].allSatisfy { $0.status == .pending })
        try await run(a.jobId, .failed)
        let (bb, cc, dd) = (try await store.job(b.jobId), try await store.job(c.jobId), try await store.job(d.jobId))
        #expect(bb.status == .cancelled && bb.statusMessage.contains(a.jobId.lowercased))
        #expect(cc.status == .cancelled && cc.statusMessage.contains(b.jobId.lowercased), "down the chain")
        #expect(dd.status == .queued, "ENDED: it runs whatever its dependency did")
        #expect(try await pool.query("SELECT count(*) AS n FROM job_dependencies WHERE job_id = ANY($1::uuid[])",
            [PostgresArray.literal(values: [b.jobId, c.jobId, d.jobId])])[0].int("n") == 0)

        // Released in order when each succeeds.
        let e = try await store.submit(runJob(model))
        let f = try await store.submit(after(e.jobId))
        try await run(e.jobId)
        #expect(try await store.job(f.jobId).status == .queued)
        // Depending on a job that does not exist is refused, naming the field.
        await #expect(throws: MetadataError.self) { try await store.submit(after(UUID())) }
        // A job that already succeeded: queued at once.
        #expect(try await store.submit(after(e.jobId)).status == .queued)
    }
}
