import AMQPClient
import ConveyorModels
import Foundation
import Postgres

/// Where the job lifecycle meets PostgreSQL: it loads jobs' states, locked, and writes what
/// ``JobLifecycle`` decided for many jobs at once, as a handful of statements (one per table, each
/// row set passed as array parameters).
enum JobRepository {
    /// A job's state as loaded, with what some commands need besides.
    struct LoadedJob: Sendable {
        var state: JobState
        /// The definition as stored (JSON), when asked for.
        var definitionJSON: String?
        /// The status of the job's group, when asked for.
        var groupStatus: JobStatus?
    }

    /// The states of `jobIds` (those that exist), locked until the transaction ends (in id order, so
    /// that concurrent transactions never wait for each other in a cycle), and the time right after
    /// the locks were taken: the time of every change the transaction makes.
    ///
    /// With `dependentsFor`, the jobs waiting for these jobs are read in the same round trip and
    /// kept there (so that a transaction ending them needs no extra round trip to learn it has
    /// nobody to release, see ``JobStore/settleDependents(in:)``).
    static func lockStates(
        _ jobIds: [UUID], in transaction: PostgresTransaction, withDefinitions: Bool = false, dependentsFor: JobTransaction? = nil
    ) async throws -> (jobs: [UUID: LoadedJob], now: Date) {
        let extra = withDefinitions
            ? ", j.definition, (SELECT p.status FROM jobs p WHERE p.job_id = j.parent_job_id) AS group_status" : ""
        let rows = try await transaction.pipeline([
            try PostgresStatement(
                """
                SELECT \(stateColumns)\(extra) FROM jobs j
                WHERE j.job_id = ANY($1::uuid[]) ORDER BY j.job_id FOR UPDATE OF j
                """, [PostgresArray.literal(values: jobIds)]),
            try PostgresStatement("SELECT clock_timestamp() AS now"),
            // A statement of its own, after the locks: its snapshot sees what the transactions it
            // waited for wrote (a subquery of the locking statement would read the history as it was
            // before the wait, and the next entry's number would collide).
            try PostgresStatement(
                "SELECT job_id, max(seq) AS history_length FROM job_updates WHERE job_id = ANY($1::uuid[]) GROUP BY job_id",
                [PostgresArray.literal(values: jobIds)]),
        ] + (dependentsFor == nil ? [] : [
            try PostgresStatement(
                "SELECT job_id, depends_on FROM job_dependencies WHERE depends_on = ANY($1::uuid[])", [PostgresArray.literal(values: jobIds)])
        ]))
        if let dependentsFor {
            var dependents: [UUID: [UUID]] = [:]
            for row in rows[3] { dependents[try row.uuid("depends_on"), default: []].append(try row.uuid("job_id")) }
            dependentsFor.knowDependents(of: jobIds, dependents)
        }
        var historyLengths: [UUID: Int] = [:]
        for row in rows[2] { historyLengths[try row.uuid("job_id")] = row.intIfPresent("history_length") }
        var jobs: [UUID: LoadedJob] = [:]
        for row in rows[0] {
            let state = try self.state(row, historyLength: historyLengths[try row.uuid("job_id")] ?? 0)
            jobs[state.jobId] = LoadedJob(
                state: state, definitionJSON: row.stringIfPresent("definition"),
                groupStatus: row.stringIfPresent("group_status").flatMap(JobStatus.init(rawValue:)))
        }
        return (jobs, try rows[1][0].date("now"))
    }

    /// The columns of a job's state, from `jobs j`.
    static let stateColumns = """
        j.job_id, j.job_type, j.status, j.status_message, j.attempt, j.worker_id, j.owner, j.priority, j.submitted_at,
        j.started_at, j.parent_job_id, j.group_position, j.definition->'notification' AS notification,
        j.definition->'resources' AS resources, j.definition->'retry' AS retry, j.definition->'dependsOn' AS depends_on,
        COALESCE(j.definition->'runModel'->'model'->>'objectId', j.definition->'runFlow'->'flow'->>'objectId',
                 j.definition->'importData'->'model'->>'objectId', j.definition->'exportData'->'model'->>'objectId') AS model_id, j.attempt_history, j.lease_until, j.result
        """

    /// A job's state from its locked row; `historyLength` is read after the lock (see ``lockStates``).
    static func state(_ row: PostgresRow, historyLength: Int) throws -> JobState {
        JobState(
            jobId: try row.uuid("job_id"), jobType: JobType(rawValue: try row.string("job_type")) ?? .runModel,
            status: JobStatus(rawValue: try row.string("status")) ?? .failed, statusMessage: try row.string("status_message"),
            attempt: try row.int("attempt"), workerId: row.stringIfPresent("worker_id"), owner: try row.string("owner"),
            priority: try row.int("priority"), submittedAt: try row.date("submitted_at"), startedAt: row.dateIfPresent("started_at"),
            parentJobId: row.uuidIfPresent("parent_job_id"), groupPosition: row.intIfPresent("group_position"),
            notification: try row.stringIfPresent("notification").map {
                try ConveyorJSON.decode(NotificationSettings.self, from: Data($0.utf8))
            },
            resources: try row.stringIfPresent("resources").map { try ConveyorJSON.decode(ResourceRequirements.self, from: Data($0.utf8)) },
            retry: try row.stringIfPresent("retry").map { try ConveyorJSON.decode(RetryPolicy.self, from: Data($0.utf8)) },
            attempts: try row.stringIfPresent("attempt_history").map { try ConveyorJSON.decode(AttemptHistory.self, from: Data($0.utf8)) }
                ?? AttemptHistory(),
            leaseUntil: row.dateIfPresent("lease_until"),
            dependsOn: try row.stringIfPresent("depends_on").map { try ConveyorJSON.decode(Dependencies.self, from: Data($0.utf8)) },
            modelId: row.uuidIfPresent("model_id"),
            result: try row.stringIfPresent("result").map { try ConveyorJSON.decode(JobResult.self, from: Data($0.utf8)) },
            historyLength: historyLength)
    }

    /// What a group needs to decide after one of its jobs ended: its definition and its jobs.
    static func groupProgress(_ groupId: UUID, in transaction: PostgresTransaction) async throws -> GroupProgress? {
        let rows = try await transaction.pipeline([
            try PostgresStatement("SELECT definition FROM jobs WHERE job_id = $1", [groupId]),
            try PostgresStatement(
                """
                SELECT job_id, group_position, status, status_message, result->'objects' AS objects
                FROM jobs WHERE parent_job_id = $1 ORDER BY group_position
                """, [groupId]),
        ])
        guard let group = rows[0].first else { return nil }
        let definition = try ConveyorJSON.decode(JobDefinition.self, from: Data(try group.string("definition").utf8))
        let children = try rows[1].map { row in
            GroupProgress.Child(
                jobId: try row.uuid("job_id"), position: try row.int("group_position"),
                status: JobStatus(rawValue: try row.string("status")) ?? .failed, statusMessage: try row.string("status_message"),
                objects: try row.stringIfPresent("objects").map { try ConveyorJSON.decode([TagSelector].self, from: Data($0.utf8)) } ?? [])
        }
        return GroupProgress(definition: definition, children: children)
    }
}

/// The writes of one transaction, gathered from many decisions: new jobs (with their JOB objects),
/// changes of jobs, new objects and the events, in the order they happened. ``statements()`` turns
/// them into one statement per table; the outbox statement comes last and returns the events' row.
struct JobWrites: Sendable {
    private(set) var newJobs: [NewJob] = []
    private(set) var changes: [JobChange] = []
    private(set) var objects: [NewObjectRow] = []
    private(set) var logPieces: [LogPiece] = []
    private(set) var events: [JobEvent] = []
    /// Jobs that stopped waiting for their dependencies (their rows in `job_dependencies` go).
    private(set) var released: [UUID] = []

    var isEmpty: Bool { newJobs.isEmpty && changes.isEmpty && objects.isEmpty && logPieces.isEmpty && released.isEmpty }

    /// The jobs that reached a terminal status in these writes.
    var endedJobIds: [UUID] {
        newJobs.filter { $0.record.status.isTerminal }.map(\.record.jobId) + changes.filter { $0.status.isTerminal }.map(\.jobId)
    }

    mutating func release(_ jobId: UUID) {
        released.append(jobId)
    }

    /// A job to insert, recorded as a JOB object too (same id, its pinned definition).
    mutating func insert(_ job: NewJob) {
        newJobs.append(job)
        events.append(job.event)
    }

    /// - Throws: ``MetadataError`` `conflict` for a status path the state machine does not allow.
    mutating func apply(_ change: JobChange) throws {
        var current = change.from
        for step in change.steps {
            guard current.canTransition(to: step.status) else {
                throw MetadataError.conflict("job \(change.jobId.lowercased) cannot go from \(current.rawValue) to \(step.status.rawValue)")
            }
            current = step.status
        }
        changes.append(change)
        if let event = change.event { events.append(event) }
    }

    mutating func insert(_ object: NewObjectRow) {
        objects.append(object)
    }

    mutating func insert(_ piece: LogPiece) {
        logPieces.append(piece)
    }

    /// The statements, and the messages of the events in the order of the outbox rows.
    func statements() throws -> (statements: [PostgresStatement], events: [(JobEvent, OutgoingMessage)]) {
        var statements: [PostgresStatement] = []
        var objects = self.objects
        if !newJobs.isEmpty {
            var definitions: [String] = []
            for job in newJobs {
                let definition = String(decoding: try ConveyorJSON.encode(job.record.definition), as: UTF8.self)
                definitions.append(definition)
                objects.append(
                    NewObjectRow(
                        objectId: job.record.jobId, objectType: .job,
                        definitionJSON: #"{"job":"# + definition + #","objectType":"JOB"}"#,
                        attributes: [
                            "conveyor_job_type": .string(job.record.jobType.rawValue), "conveyor_owner": .string(job.record.owner),
                        ],
                        storagePath: nil, jobId: job.record.jobId, owner: job.record.owner))
            }
            statements.append(try insertJobs(definitions))
        }
        if !changes.isEmpty { statements.append(try updateJobs()) }
        if let history = try insertHistory() { statements.append(history) }
        if let objectInsert = try ObjectStore.insertStatement(objects) { statements.append(objectInsert) }
        if !logPieces.isEmpty { statements.append(try LogPiece.insertStatement(logPieces)) }
        let waiting = newJobs.filter { $0.record.status == .pending }
        if !waiting.isEmpty {
            var rows: [(UUID, UUID)] = []
            for job in waiting { for dependency in job.record.definition.dependsOn?.jobIds ?? [] { rows.append((job.record.jobId, dependency)) } }
            statements.append(
                try PostgresStatement(
                    "INSERT INTO job_dependencies (job_id, depends_on) SELECT * FROM unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING",
                    [PostgresArray.literal(values: rows.map(\.0)), PostgresArray.literal(values: rows.map(\.1))]))
        }
        if !released.isEmpty {
            statements.append(
                try PostgresStatement("DELETE FROM job_dependencies WHERE job_id = ANY($1::uuid[])", [PostgresArray.literal(values: released)]))
        }
        var messages: [(JobEvent, OutgoingMessage)] = []
        if !events.isEmpty {
            var bodies: [Data] = []
            for event in events {
                let envelope = Envelope(event)
                let body = try envelope.encoded()
                bodies.append(body)
                messages.append(
                    (event, OutgoingMessage(
                        exchange: Topology.eventsExchange, routingKey: event.routingKey, body: body,
                        messageId: envelope.messageId.uuidString, type: JobEvent.messageType)))
            }
            // One row for all of them (see ``OutboxPublisher/batchRowType``).
            statements.append(
                try PostgresStatement(
                    """
                    INSERT INTO outbox (routing_key, message_type, message_id, body)
                    VALUES ('', $1, $2, convert_to($3, 'UTF8')) RETURNING id
                    """,
                    [OutboxPublisher.batchRowType, UUID(), String(decoding: MessageBatch.join(bodies), as: UTF8.self)]))
        }
        return (statements, messages)
    }

    private func insertJobs(_ definitions: [String]) throws -> PostgresStatement {
        let records = newJobs.map(\.record)
        return try PostgresStatement(
            """
            INSERT INTO jobs (job_id, job_type, owner, priority, definition, status, status_message, idempotency_key,
                              submitted_at, started_at, labels, rerun_of, parent_job_id, group_position, finished_at, result)
            SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::jsonb[], $6::text[], $7::text[],
                                 $8::text[], $9::timestamptz[], $10::timestamptz[], $11::jsonb[], $12::uuid[], $13::uuid[], $14::int[],
                                 $15::timestamptz[], $16::jsonb[])
            """,
            [
                PostgresArray.literal(values: records.map(\.jobId)), PostgresArray.literal(records.map(\.jobType.rawValue)),
                PostgresArray.literal(records.map(\.owner)), PostgresArray.literal(values: records.map(\.priority)),
                PostgresArray.literal(definitions), PostgresArray.literal(records.map(\.status.rawValue)),
                PostgresArray.literal(records.map(\.statusMessage)),
                PostgresArray.literal(records.map { $0.parentJobId == nil ? $0.definition.idempotencyKey : nil }),
                PostgresArray.literal(values: records.map(\.submittedAt)), PostgresArray.literal(values: records.map(\.startedAt)),
                PostgresArray.literal(try records.map { String(decoding: try ConveyorJSON.encode($0.definition.labels ?? [:]), as: UTF8.self) }),
                PostgresArray.literal(values: records.map(\.rerunOf)), PostgresArray.literal(values: records.map(\.parentJobId)),
                PostgresArray.literal(values: newJobs.map(\.groupPosition)), PostgresArray.literal(values: records.map(\.finishedAt)),
                // A job that ends as it enters (blocked by a dependency, or kept by a group run again) has its result at once.
                PostgresArray.literal(try records.map { try $0.result.map { String(decoding: try ConveyorJSON.encode($0), as: UTF8.self) } }),
            ])
    }

    /// Every change in one statement, each a compare-and-set on the status the job had when it was
    /// locked. The columns a change leaves alone keep their values.
    private func updateJobs() throws -> PostgresStatement {
        func worker(_ change: JobChange) -> (operation: Int?, id: String?, lease: Date?) {
            switch change.worker {
            case .assign(let id, let lease): (1, id, lease)
            case .release: (2, nil, nil)
            case nil: (nil, nil, nil)
            }
        }
        return try PostgresStatement(
            """
            WITH changed AS (
            UPDATE jobs j SET
                status = u.status, status_message = COALESCE(u.message, j.status_message),
                attempt = COALESCE(u.attempt, j.attempt),
                worker_id = CASE u.worker_op WHEN 1 THEN u.worker_id WHEN 2 THEN NULL ELSE j.worker_id END,
                lease_until = CASE WHEN u.worker_op = 1 THEN u.lease_until WHEN u.worker_op = 2 OR u.finished THEN NULL
                                   ELSE j.lease_until END,
                started_at = CASE WHEN u.started THEN COALESCE(j.started_at, u.at) ELSE j.started_at END,
                finished_at = CASE WHEN u.finished THEN u.at ELSE j.finished_at END,
                result = COALESCE(u.result, j.result),
                attempt_history = COALESCE(u.history, j.attempt_history)
            FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::text[],
                        $8::timestamptz[], $9::bool[], $10::bool[], $11::jsonb[], $12::timestamptz[], $14::jsonb[])
                AS u(job_id, expected, status, message, attempt, worker_op, worker_id, lease_until, started, finished, result, at, history)
            WHERE j.job_id = u.job_id AND j.status = u.expected
            RETURNING 1
            )
            SELECT conveyor_expect_rows((SELECT count(*) FROM changed), $13, 'a job is no longer in the status it was locked with')
            """,
            [
                PostgresArray.literal(values: changes.map(\.jobId)), PostgresArray.literal(changes.map(\.from.rawValue)),
                PostgresArray.literal(changes.map(\.status.rawValue)), PostgresArray.literal(changes.map { $0.steps.last?.message }),
                PostgresArray.literal(values: changes.map(\.attempt)), PostgresArray.literal(values: changes.map { worker($0).operation }),
                PostgresArray.literal(changes.map { worker($0).id }), PostgresArray.literal(values: changes.map { worker($0).lease }),
                PostgresArray.literal(values: changes.map(\.markStarted)), PostgresArray.literal(values: changes.map(\.markFinished)),
                PostgresArray.literal(try changes.map { try $0.result.map { String(decoding: try ConveyorJSON.encode($0), as: UTF8.self) } }),
                PostgresArray.literal(values: changes.map { $0.steps.last?.at ?? Date() }), changes.count,
                PostgresArray.literal(try changes.map { try $0.attempts.map { String(decoding: try ConveyorJSON.encode($0), as: UTF8.self) } }),
            ])
    }

    private func insertHistory() throws -> PostgresStatement? {
        var rows: [(UUID, Int, JobStatusUpdate)] = []
        for job in newJobs {
            for (offset, update) in job.record.updates.enumerated() { rows.append((job.record.jobId, offset + 1, update)) }
        }
        for change in changes {
            for (offset, update) in change.steps.enumerated() { rows.append((change.jobId, change.firstSeq + offset, update)) }
        }
        guard !rows.isEmpty else { return nil }
        return try PostgresStatement(
            """
            INSERT INTO job_updates (job_id, seq, status, message, at)
            SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::timestamptz[])
            """,
            [
                PostgresArray.literal(values: rows.map(\.0)), PostgresArray.literal(values: rows.map(\.1)),
                PostgresArray.literal(rows.map(\.2.status.rawValue)), PostgresArray.literal(rows.map(\.2.message)),
                PostgresArray.literal(values: rows.map(\.2.at)),
            ])
    }
}

/// A piece of an attempt's log, as kept (cut at the cap) in `job_log_chunks`.
struct LogPiece: Sendable {
    var jobId: UUID
    var attempt: Int
    var offset: Int
    var data: Data

    /// One statement for many pieces; a piece stored already (a report sent again) is left as it is.
    static func insertStatement(_ pieces: [LogPiece]) throws -> PostgresStatement {
        try PostgresStatement(
            """
            INSERT INTO job_log_chunks (job_id, attempt, byte_offset, data)
            SELECT job_id, attempt, byte_offset, decode(data, 'hex')
            FROM unnest($1::uuid[], $2::int[], $3::bigint[], $4::text[]) AS c(job_id, attempt, byte_offset, data)
            ON CONFLICT DO NOTHING
            """,
            [
                PostgresArray.literal(values: pieces.map(\.jobId)), PostgresArray.literal(values: pieces.map(\.attempt)),
                PostgresArray.literal(values: pieces.map(\.offset)), PostgresArray.literal(pieces.map(\.data.hexDigits)),
            ])
    }
}
