import ConveyorModels
import Foundation
import Postgres

/// Submitting jobs: validation (also as a dry run), object references pinned to exact versions,
/// idempotency keys, re-runs, and the jobs a JOB_GROUP starts with.
extension JobStore {
    /// A job to submit: its definition, and the job it re-runs.
    struct Submission: Sendable {
        var definition: JobDefinition
        var rerunOf: UUID? = nil
        /// Who submits: every object the job refers to must be readable by them (nil: unchecked).
        var caller: Principal? = nil
    }

    /// Checks a definition completely without writing anything.
    /// - Throws: ``MetadataError`` (`invalid`) listing every problem.
    func validate(_ definition: JobDefinition, caller: Principal? = nil) async throws -> JobValidation {
        try checkDefinition(definition)
        let pinned = try await pool.withConnection { connection in
            try await pin(definition, caller: caller, with: ObjectResolver(objects: objects, connection: connection))
        }
        return JobValidation(status: .validated, definition: pinned)
    }

    /// Validates and records one job, answering only after the commit.
    /// - Throws: ``MetadataError`` (`invalid`) listing every problem, with nothing written.
    func submit(_ definition: JobDefinition, rerunOf: UUID? = nil) async throws -> JobRecord {
        try await submit([Submission(definition: definition, rerunOf: rerunOf)])[0].get()
    }

    /// Validates and records many jobs in one transaction (the invalid ones are answered with their
    /// problems and not written); answers after the commit. A submission whose idempotency key is
    /// known (or repeated in the batch) is answered with the first job of that key.
    func submit(_ submissions: [Submission]) async throws -> [Result<JobRecord, any Error>] {
        var results = [Result<JobRecord, any Error>?](repeating: nil, count: submissions.count)
        for (index, submission) in submissions.enumerated() {
            do { try checkDefinition(submission.definition) } catch { results[index] = .failure(error) }
        }
        let keys = Set(submissions.indices.compactMap { results[$0] == nil ? submissions[$0].definition.idempotencyKey : nil })

        // One round trip in the usual case: the time, the known idempotency keys, and every object the
        // submissions refer to (found by pinning them against what is known so far; a model's
        // declared inputs can only be found once the model is, so a flow may take another round).
        // Pinned with one resolver: a selector that several jobs use is read once.
        var pinned: [Int: JobDefinition] = [:]
        var firstOfKey: [String: Int] = [:]
        var sameKeyAs: [Int: Int] = [:]
        let existing: [String: UUID]
        let now: Date
        (existing, now) = try await pool.withConnection { connection in
            let resolver = ObjectResolver(objects: objects, connection: connection)
            let toPin = submissions.indices.filter { results[$0] == nil }
            func collect() async throws -> [PostgresStatement] {
                try await resolver.collect {
                    for index in toPin { _ = try? await pin(submissions[index].definition, caller: submissions[index].caller, with: resolver) }
                }
            }
            var statements = [try PostgresStatement("SELECT clock_timestamp() AS now")]
            if !keys.isEmpty {
                statements.append(
                    try PostgresStatement(
                        "SELECT job_id, idempotency_key FROM jobs WHERE idempotency_key = ANY($1::text[])",
                        [PostgresArray.literal(Array(keys))]))
            }
            let owners = Set(toPin.map { submissions[$0].definition.effectiveOwner })
            // The owners' default e-mail settings, for the submissions that name none.
            let needDefaults = Set(toPin.filter { submissions[$0].definition.notification == nil }.map { submissions[$0].definition.effectiveOwner })
            if !needDefaults.isEmpty { statements.append(try NotificationDefaults.statement(owners: needDefaults)) }
            let defaultsIndex = needDefaults.isEmpty ? nil : statements.count - 1
            if maxQueuedPerOwner != nil {
                statements.append(
                    try PostgresStatement(
                        """
                        SELECT owner, count(*) AS waiting FROM jobs
                        WHERE owner = ANY($1::text[]) AND status IN ('PENDING', 'QUEUED') GROUP BY owner
                        """, [PostgresArray.literal(Array(owners))]))
            }
            let reads = statements.count
            let rows = try await connection.pipeline(statements + (try await collect()))
            try resolver.absorb(rows.dropFirst(reads))
            for _ in 1..<ObjectResolver.maxPrefetchRounds {
                let more = try await collect()
                guard !more.isEmpty else { break }
                try resolver.absorb(try await connection.pipeline(more))
            }
            var existing: [String: UUID] = [:]
            if !keys.isEmpty {
                for row in rows[1] { existing[try row.string("idempotency_key")] = try row.uuid("job_id") }
            }
            // An owner's waiting jobs, with the ones this batch adds (a known idempotency key adds none).
            if let limit = maxQueuedPerOwner {
                var waiting: [String: Int] = [:]
                for row in rows[reads - 1] { waiting[try row.string("owner")] = try row.int("waiting") }
                for index in toPin where submissions[index].definition.idempotencyKey.flatMap({ existing[$0] }) == nil {
                    let owner = submissions[index].definition.effectiveOwner
                    if waiting[owner, default: 0] >= limit {
                        results[index] = .failure(
                            MetadataError.quota(
                                "owner \(owner) has \(waiting[owner, default: 0]) jobs waiting; the most this deployment allows is \(limit) (quotas.maxQueuedPerOwner)"))
                    } else {
                        waiting[owner, default: 0] += 1
                    }
                }
            }

            let defaults = try defaultsIndex.map { try NotificationDefaults.read(rows[$0]) } ?? [:]
            for (index, submission) in submissions.enumerated() where results[index] == nil {
                if let key = submission.definition.idempotencyKey {
                    if existing[key] != nil { continue }
                    if let first = firstOfKey[key] {
                        sameKeyAs[index] = first
                        continue
                    }
                    firstOfKey[key] = index
                }
                do { pinned[index] = try await pin(submission.definition, caller: submission.caller, with: resolver) } catch { results[index] = .failure(error) }
                if pinned[index]?.notification == nil, let settings = defaults[submission.definition.effectiveOwner] {
                    pinned[index]?.notification = settings
                }
            }
            return (existing, try rows[0][0].date("now"))
        }

        var inserted: [Int: JobRecord] = [:]
        if !pinned.isEmpty {
            do {
                let (records, refused) = try await withJobTransaction { transaction in
                    // The jobs depended on, read in the transaction and share-locked: one that ends
                    // meanwhile waits for this commit, and then releases what this transaction made wait.
                    let needed = Set(pinned.values.flatMap { $0.dependsOn?.jobIds ?? [] })
                    var statuses: [UUID: JobStatus] = [:]
                    if !needed.isEmpty {
                        let rows = try await transaction.transaction.pipeline([
                            try PostgresStatement(
                                "SELECT job_id, status FROM jobs WHERE job_id = ANY($1::uuid[]) ORDER BY job_id FOR SHARE",
                                [PostgresArray.literal(values: Array(needed))])
                        ])[0]
                        for row in rows { statuses[try row.uuid("job_id")] = JobStatus(rawValue: try row.string("status")) }
                    }
                    var records: [Int: JobRecord] = [:]
                    var refused: [Int: any Error] = [:]
                    for (index, definition) in pinned.sorted(by: { $0.key < $1.key }) {
                        let unknown = (definition.dependsOn?.jobIds ?? []).enumerated().filter { statuses[$0.element] == nil }
                        guard unknown.isEmpty else {
                            refused[index] = MetadataError.invalid(
                                "the job depends on jobs that do not exist",
                                problems: unknown.map { FieldProblem(field: "dependsOn.jobIds[\($0.offset)]", reason: "there is no job \($0.element.lowercased)") })
                            continue
                        }
                        records[index] = insertJob(
                            definition, now: now, rerunOf: submissions[index].rerunOf, dependencies: statuses, into: &transaction.writes)
                    }
                    return (records, refused)
                }
                inserted = records
                for (index, error) in refused { results[index] = .failure(error) }
            } catch let error as PostgresError where !error.isConnectionFailure && submissions.count > 1 {
                // One submission broke the batch (an idempotency key another instance just took, a value
                // the database refuses): each goes again on its own, so only that one fails.
                logger.info("a batch of submissions failed; submitting one by one", metadata: ["error": "\(error)"])
                var one: [Result<JobRecord, any Error>] = []
                for submission in submissions {
                    one.append(await Result.of { try await submit([submission])[0].get() })
                }
                return one
            } catch let error as PostgresError where error.isUniqueViolation && submissions.count == 1 {
                // The key was taken meanwhile: answer with its job.
                if let key = submissions[0].definition.idempotencyKey, let id = try await jobId(forIdempotencyKey: key) {
                    return [.success(try Self.sameKey(try await job(id), as: submissions[0].definition))]
                }
                throw error
            }
        }
        for index in submissions.indices where results[index] == nil {
            if let record = inserted[index] {
                results[index] = .success(record)
            } else if let first = sameKeyAs[index], let record = inserted[first] {
                results[index] = Result(catching: { try Self.sameKey(record, as: submissions[index].definition) })
            } else if let key = submissions[index].definition.idempotencyKey, let id = existing[key] {
                results[index] = await Result.of { try Self.sameKey(try await job(id), as: submissions[index].definition) }
            } else if let first = sameKeyAs[index], let failure = results[first] {
                results[index] = failure
            }
        }
        return results.map { $0 ?? .failure(MetadataError.invalid("the submission was not processed")) }
    }

    /// Submits a finished job again with its recorded definition: the same pinned object and tag
    /// versions, checked again against the caller's access (sharing may have changed since).
    /// - Throws: ``MetadataError`` `notFound`, `conflict` while the job has not ended, `forbidden`
    ///   naming each object the caller may no longer use.
    func rerun(_ request: RerunJob) async throws -> JobRecord {
        let original = try await jobToRerun(request.jobId)
        var definition = original.definition
        definition.idempotencyKey = request.idempotencyKey
        return try await submit([Submission(definition: definition.clearingOutputs(), rerunOf: original.jobId, caller: request.caller)])[0].get()
    }

    /// Checks that a caller may still use every object of the definitions a re-run submits as they
    /// are (already pinned): `forbidden` naming each one they may not.
    func checkAccess(_ definitions: [JobDefinition], caller: Principal?) async throws {
        guard let caller else { return }
        try await pool.withConnection { connection in
            let resolver = ObjectResolver(objects: objects, connection: connection)
            for definition in definitions {
                let result = try await JobReferenceCheck.pin(definition, caller: caller) { selector in try await resolver.resolve(selector) }
                if case .failure(let failure) = result, failure.forbidden {
                    throw MetadataError.forbidden(Self.refusedObjects, problems: failure.problems)
                }
            }
        }
    }

    /// A job that may be run again: it has ended and is not part of a group.
    /// - Throws: ``MetadataError`` `notFound`, or `conflict` naming why not.
    func jobToRerun(_ jobId: UUID) async throws -> JobRecord {
        let original = try await job(jobId)
        guard original.status.isTerminal else {
            throw MetadataError.conflict("job \(jobId.lowercased) is \(original.status.rawValue); only a finished job can be re-run")
        }
        guard original.parentJobId == nil else {
            throw MetadataError.conflict("job \(jobId.lowercased) is part of group \(original.parentJobId!.lowercased); re-run the group")
        }
        return original
    }

    /// The job first submitted with a submission's idempotency key, as its answer: only for the same
    /// owner (a key is no way to reach another owner's job).
    /// - Throws: ``MetadataError`` `conflict` when another owner's job has the key.
    static func sameKey(_ first: JobRecord, as definition: JobDefinition) throws -> JobRecord {
        guard first.owner == definition.effectiveOwner else {
            throw MetadataError.conflict("idempotency key '\(definition.idempotencyKey ?? "")' is taken by another owner's job; choose another key")
        }
        return first
    }

    func jobId(forIdempotencyKey key: String) async throws -> UUID? {
        try await pool.query("SELECT job_id FROM jobs WHERE idempotency_key = $1", [key]).first?.uuid("job_id")
    }

    private func checkDefinition(_ definition: JobDefinition) throws {
        do {
            try validator.validate(definition)
        } catch let failure as ValidationFailure {
            throw MetadataError.invalid("the job definition is invalid", problems: failure.problems)
        }
    }

    /// The message of a job refused for objects its submitter may not use.
    static let refusedObjects = "the job refers to objects you may not use (read, or for its prior outputs, change)"

    /// Resolves every object the job refers to and pins it to the exact version current now.
    /// A job that names an execution profile gets the profile's resource defaults here, so that the
    /// scheduler packs it by them and the runner enforces them.
    func pin(_ definition: JobDefinition, caller: Principal? = nil, with resolver: ObjectResolver) async throws -> JobDefinition {
        let result = try await JobReferenceCheck.pin(definition, caller: caller) { selector in try await resolver.resolve(selector) }
        var problems = storageProblems(definition, at: "")
        switch result {
        case .success(let pinned) where problems.isEmpty: return pinned.fillingProfileDefaults(validator.limits.profiles)
        case .success: break
        case .failure(let failure) where failure.forbidden:
            throw MetadataError.forbidden(Self.refusedObjects, problems: failure.problems + problems)
        case .failure(let failure): problems = failure.problems + problems
        }
        throw MetadataError.invalid("the job refers to objects or files that cannot be used", problems: problems)
    }

    /// Files to import that are not in their external storage (checked where this service can see
    /// the storage; the importer checks again when it runs).
    func storageProblems(_ definition: JobDefinition, at prefix: String) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        for (name, location) in (definition.importData?.imports ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let root = externalStorages[location.effectiveStorage],
                JobValidator.relativePathProblem(location.path, allowEmpty: false) == nil
            else { continue }
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: root + "/" + location.path, isDirectory: &isDirectory) || isDirectory.boolValue {
                problems.append(FieldProblem(field: "\(prefix)importData.imports.\(name).path", reason: "there is no file \(location.effectiveStorage):\(location.path)"))
            }
        }
        for (index, child) in (definition.jobGroup?.jobs ?? []).enumerated() {
            problems += storageProblems(child, at: "\(prefix)jobGroup.jobs[\(index)].")
        }
        return problems
    }

    /// Adds a job (and, for a group, the jobs that start now, recursively) to `writes`; returns its
    /// record as it reads after the commit. A group run again keeps the jobs of `keeping` (position →
    /// the job of the earlier run that succeeded there).
    @discardableResult
    func insertJob(
        _ definition: JobDefinition, jobId: UUID = UUID.timeOrdered(), now: Date, rerunOf: UUID? = nil, parent: UUID? = nil,
        position: Int? = nil, dependencies: [UUID: JobStatus] = [:], keeping: [Int: JobRecord] = [:], into writes: inout JobWrites
    ) -> JobRecord {
        let job = JobLifecycle.submit(
            definition, jobId: jobId, now: now, rerunOf: rerunOf, parent: parent, position: position, dependencies: dependencies,
            keptPositions: Set(keeping.keys))
        writes.insert(job)
        var record = job.record
        if definition.jobType == .jobGroup {
            var children: [(position: Int, jobId: UUID)] = keeping.sorted(by: { $0.key < $1.key }).map { position, earlier in
                let kept = JobLifecycle.kept(earlier, jobId: UUID.timeOrdered(), now: now, parent: jobId, position: position)
                writes.insert(kept)
                return (position, kept.record.jobId)
            }
            for child in job.childrenToStart {
                children.append((child.position, insertJob(child.definition, now: now, parent: jobId, position: child.position, into: &writes).jobId))
            }
            record.childJobIds = children.sorted { $0.position < $1.position }.map(\.jobId)
        }
        return record
    }
}

/// Resolves selectors on one connection, each distinct selector once (object versions never change,
/// and "latest" is read once per batch). Selectors can be read ahead, many in one round trip: while
/// ``collect(_:)`` runs its body, an unknown selector is noted and answered with nil.
final class ObjectResolver {
    private let objects: ObjectStore
    private let connection: PostgresConnection
    private var known: [TagSelector: ObjectRecord?] = [:]
    private var collecting = false
    private var wanted: [TagSelector] = []

    /// Read-ahead rounds before the remaining selectors are read one by one.
    static let maxPrefetchRounds = 3

    init(objects: ObjectStore, connection: PostgresConnection) {
        self.objects = objects
        self.connection = connection
    }

    func resolve(_ selector: TagSelector) async throws -> ObjectRecord? {
        if let record = known[selector] { return record }
        if collecting {
            if !wanted.contains(selector) { wanted.append(selector) }
            return nil
        }
        let record = try await objects.resolve(selector, connection)
        known[selector] = record
        return record
    }

    /// Runs `body` against what is known and returns the statements that read the selectors it
    /// asked for and nobody has read yet, in order (hand their rows to ``absorb(_:)``).
    func collect(_ body: () async throws -> Void) async throws -> [PostgresStatement] {
        collecting = true
        defer { collecting = false }
        try await body()
        return try wanted.map(ObjectStore.resolveStatement)
    }

    /// Takes the rows of the statements ``collect(_:)`` returned last.
    func absorb(_ results: some Collection<PostgresRows>) throws {
        precondition(results.count == wanted.count, "one result per selector read ahead")
        for (selector, rows) in zip(wanted, results) {
            known[selector] = try rows.first.map(ObjectStore.record)
        }
        wanted = []
    }
}
