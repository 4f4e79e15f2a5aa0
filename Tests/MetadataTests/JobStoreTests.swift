import ConveyorModels
import Foundation
import Logging
import Postgres
import ServiceKit
import Synchronization
import Testing

@testable import Metadata

/// The job store against a real PostgreSQL, each suite in a schema of its own.
@Suite("Job store (PostgreSQL)", .serialized)
struct JobStoreTests {
    let store: JobStore
    let pool: PostgresPool
    let schema: String

    init() async throws {
        let base = ProcessInfo.processInfo.environment["CONVEYOR_TEST_POSTGRES_URL"] ?? "postgres://conveyor@127.0.0.1:5433/conveyor"
        schema = "test_store_\(UUID().uuidString.prefix(8).lowercased())"
        let admin = PostgresPool(configuration: PostgresConfiguration(url: base, poolSize: 1), logger: Logger(label: "t"))
        // The suite is serialized: schemas of earlier tests are no longer in use.
        for row in try await admin.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'test_store_%'") {
            try await admin.execute("DROP SCHEMA \(try row.string("nspname")) CASCADE")
        }
        try await admin.execute("CREATE SCHEMA \(schema)")
        await admin.close()
        var logger = Logger(label: "job-store-tests")
        logger.logLevel = .warning
        pool = PostgresPool(
            configuration: PostgresConfiguration(url: base + "?options=-csearch_path%3D\(schema)", poolSize: 2), logger: logger)
        try await pool.migrate(MetadataSchema.migrations)
        store = JobStore(
            pool: pool, objects: ObjectStore(pool: pool, storage: InternalStorage(root: TestStorage.folder())),
            validator: JobValidator(), logCapBytes: 64, publish: { _ in }, logger: logger)
    }

    func model(_ declared: ModelDefinition? = nil) async throws -> UUID {
        let definition = declared ?? ModelDefinition(language: "shell", repository: "r", version: "v1", entryPoint: "run.sh")
        return try await pool.withTransaction { connection in
            try await store.objects.insert(connection, definition: .model(definition), attributes: [:], storagePath: "models/x", jobId: nil, owner: nil)
        }.objectId
    }

    func dataObject(_ attributes: [String: Value] = [:], storagePath: String = "data/x") async throws -> UUID {
        try await pool.withTransaction { connection in
            try await store.objects.insert(connection, definition: .data(DataDefinition()), attributes: attributes, storagePath: storagePath, jobId: nil, owner: nil)
        }.objectId
    }

    func runJob(_ model: UUID, key: String? = nil) -> JobDefinition {
        JobDefinition(jobType: .runModel, runModel: RunModelJob(model: ObjectSelector(objectId: model)), idempotencyKey: key)
    }

    func outboxKeys() async throws -> [String] {
        // One row per transaction, read back as the relay reads it.
        var keys: [String] = []
        for row in try await pool.query("SELECT * FROM outbox ORDER BY id") {
            let type = try row.string("message_type")
            #expect(type == OutboxPublisher.batchRowType)
            for entry in try OutboxPublisher.entries(of: row, logger: Logger(label: "test")) {
                let envelope = try Envelope<JobEvent>.decode(entry.message.body)
                #expect(entry.message.routingKey == entry.event?.routingKey && entry.message.exchange == Topology.eventsExchange)
                #expect(envelope.messageId.uuidString == entry.message.messageId)
                keys.append(entry.message.routingKey)
            }
        }
        return keys
    }

    func finish(_ id: UUID, attempt: Int, _ status: JobStatus = .succeeded) async throws {
        try await store.apply(
            JobReport(
                jobId: id, attempt: attempt, workerId: "w",
                kind: .finished(JobOutcome(status: status, message: "done", exitCode: 0, objects: [], logBytes: 0))))
    }

    @Test("submit commits the job, its first two updates and one event, and pins the model version")
    func submit() async throws {
        let job = try await store.submit(runJob(try await model()))
        #expect(job.status == .queued)
        #expect(job.updates.map(\.status) == [.validated, .queued])
        #expect(job.definition.runModel?.model.objectVersion == 1)
        let stored = try await store.job(job.jobId)
        #expect(stored.updates.map(\.status) == [.validated, .queued])
        #expect(try await outboxKeys() == ["job.queued.run_model"])
    }

    @Test("an unknown or wrongly typed object is refused with the field named, and nothing is written")
    func badReference() async throws {
        let data = try await dataObject()
        for id in [UUID(), data] {
            do {
                _ = try await store.submit(runJob(id))
                Issue.record("expected a refusal")
            } catch let error as MetadataError {
                let failure = error.rpcFailure
                #expect(failure.code == .invalid)
                #expect(failure.problems?.first?.field == "runModel.model.objectId")
            }
        }
        #expect(try await pool.query("SELECT count(*) AS n FROM jobs")[0].int("n") == 0)
        #expect(try await outboxKeys().isEmpty)
    }

    @Test("the same idempotency key returns the first job")
    func idempotency() async throws {
        let model = try await model()
        let first = try await store.submit(runJob(model, key: "k-1"))
        let second = try await store.submit(runJob(model, key: "k-1"))
        #expect(first.jobId == second.jobId)
        #expect(try await pool.query("SELECT count(*) AS n FROM jobs")[0].int("n") == 1)
    }

    @Test("claims are fenced by attempt; the same claim again is granted again")
    func claims() async throws {
        let job = try await store.submit(runJob(try await model()))
        #expect(try await store.claim(ClaimJob(jobId: job.jobId, attempt: 0, workerId: "a", leaseSeconds: 60)).granted == false)
        let first = try await store.claim(ClaimJob(jobId: job.jobId, attempt: 1, workerId: "a", leaseSeconds: 60))
        #expect(first.granted)
        #expect(first.definition?.jobType == .runModel)
        #expect(try await store.claim(ClaimJob(jobId: job.jobId, attempt: 1, workerId: "b", leaseSeconds: 60)).granted == false)
        #expect(try await store.claim(ClaimJob(jobId: job.jobId, attempt: 1, workerId: "a", leaseSeconds: 60)).granted)
        let running = try await store.job(job.jobId)
        #expect(running.status == .running)
        #expect(running.updates.map(\.status) == [.validated, .queued, .submitted, .running])
        #expect(try await outboxKeys() == ["job.queued.run_model", "job.running.run_model"])

        // The reply a worker gets is written from the stored definition; it reads as the claim's result.
        let answers = try await store.claims([
            ClaimJob(jobId: job.jobId, attempt: 1, workerId: "a", leaseSeconds: 60), ClaimJob(jobId: UUID(), attempt: 1, workerId: "a", leaseSeconds: 60),
        ]).map { try $0.get() }
        for answer in answers {
            #expect(try ConveyorJSON.decode(ClaimResult.self, from: answer.json) == (try answer.result()))
        }
        #expect(try answers[0].result().definition == first.definition && answers[1].result().granted == false)
    }

    @Test("a cancel racing a claim of the same job numbers its history after the claim's, never the same (no 500)")
    func cancelRacingClaim() async throws {
        let model = try await model()
        for _ in 0..<20 {
            let job = try await store.submit(runJob(model))
            async let claimed = store.claim(ClaimJob(jobId: job.jobId, attempt: 1, workerId: "a", leaseSeconds: 60))
            async let cancelled: Result<JobRecord, any Error> = {
                do { return .success(try await store.cancel(CancelJob(jobId: job.jobId, reason: "race"))) } catch { return .failure(error) }
            }()
            _ = try await claimed
            if case .failure(let error) = await cancelled {
                #expect(error is MetadataError, "the cancel failed with \(error)")
            }
            let record = try await store.job(job.jobId)
            #expect(record.status == .cancelled, "\(record.updates.map(\.status))")
        }
    }

    @Test("after a re-queue the old attempt's reports change nothing; terminal states never change")
    func fencing() async throws {
        let job = try await store.submit(runJob(try await model()))
        // A lease of 0 s has expired by the time the worker is found silent.
        _ = try await store.claim(ClaimJob(jobId: job.jobId, attempt: 1, workerId: "a", leaseSeconds: 0))
        #expect(try await store.requeue(RequeueJob(jobId: job.jobId, attempt: 1, reason: "worker a went silent")).requeued)
        #expect(try await store.claim(ClaimJob(jobId: job.jobId, attempt: 2, workerId: "b", leaseSeconds: 60)).granted)

        try await store.apply(JobReport(jobId: job.jobId, attempt: 1, workerId: "a", kind: .log(LogChunk(offset: 0, data: Data("stale\n".utf8)))))
        try await finish(job.jobId, attempt: 1, .failed)
        #expect(try await store.job(job.jobId).status == .running)

        try await store.apply(JobReport(jobId: job.jobId, attempt: 2, workerId: "b", kind: .log(LogChunk(offset: 0, data: Data("hello\n".utf8)))))
        try await finish(job.jobId, attempt: 2)
        try await finish(job.jobId, attempt: 2, .failed)  // a duplicate or late report
        #expect(try await store.requeue(RequeueJob(jobId: job.jobId, attempt: 2, reason: "late")).requeued == false)

        let done = try await store.job(job.jobId)
        #expect(done.status == .succeeded)
        #expect(done.updates.map(\.status) == [.validated, .queued, .submitted, .running, .queued, .submitted, .running, .succeeded])
        let log = try await store.log(GetJobLog(jobId: job.jobId))
        #expect(String(decoding: log.data, as: UTF8.self) == "hello\n")
        #expect(log.complete)
        #expect(try await outboxKeys().filter { $0.hasPrefix("job.succeeded") || $0.hasPrefix("job.failed") } == ["job.succeeded.run_model"])
    }

    @Test("log chunks are stored once each and read back in order from any offset")
    func logs() async throws {
        let job = try await store.submit(runJob(try await model()))
        _ = try await store.claim(ClaimJob(jobId: job.jobId, attempt: 1, workerId: "a", leaseSeconds: 60))
        for (offset, text) in [(6, "world\n"), (0, "hello "), (6, "world\n")] {
            try await store.apply(JobReport(jobId: job.jobId, attempt: 1, workerId: "a", kind: .log(LogChunk(offset: offset, data: Data(text.utf8)))))
        }
        #expect(String(decoding: try await store.log(GetJobLog(jobId: job.jobId)).data, as: UTF8.self) == "hello world\n")
        #expect(String(decoding: try await store.log(GetJobLog(jobId: job.jobId, offset: 3, limit: 5)).data, as: UTF8.self) == "lo wo")
        #expect(try await store.log(GetJobLog(jobId: job.jobId)).complete == false)
    }

    @Test("listing pages newest first with a cursor that is stable while jobs arrive")
    func listing() async throws {
        let model = try await model()
        var ids: [UUID] = []
        for _ in 0..<5 { ids.append(try await store.submit(runJob(model)).jobId) }
        let first = try await store.list(ListJobs(limit: 2))
        #expect(first.jobs.map(\.jobId) == [ids[4], ids[3]])
        _ = try await store.submit(runJob(model))  // arrives between pages
        let second = try await store.list(ListJobs(limit: 2, cursor: first.nextCursor))
        #expect(second.jobs.map(\.jobId) == [ids[2], ids[1]])
        let last = try await store.list(ListJobs(limit: 2, cursor: second.nextCursor))
        #expect(last.jobs.map(\.jobId) == [ids[0]])
        #expect(last.nextCursor == nil)
    }
}
