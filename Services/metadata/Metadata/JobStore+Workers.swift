import AMQPClient
import ConveyorModels
import Foundation
import Postgres
import ServiceKit

/// What workers and the scheduler change: claims, finished reports and log chunks, re-queues.
extension JobStore {
    // MARK: Claims

    /// Records a worker's claim on an attempt: QUEUED → SUBMITTED → RUNNING, fenced by the attempt number.
    func claim(_ request: ClaimJob) async throws -> ClaimResult {
        try await claims([request])[0].get().result()
    }

    /// Records many claims in one transaction (see ``JobLifecycle/claim(_:attempt:workerId:leaseSeconds:groupStatus:now:)``);
    /// a granted claim carries the job's pinned definition as stored.
    func claims(_ requests: [ClaimJob]) async throws -> [Result<ClaimAnswer, any Error>] {
        try await Self.inRounds(requests, jobId: \.jobId) { round in
            try await withJobTransaction { transaction in
                let (jobs, now) = try await JobRepository.lockStates(round.map(\.jobId), in: transaction.transaction, withDefinitions: true)
                return try round.map { request -> Result<ClaimAnswer, any Error> in
                    let loaded = jobs[request.jobId]
                    let decision = JobLifecycle.claim(
                        loaded?.state, attempt: request.attempt, workerId: request.workerId, leaseSeconds: request.leaseSeconds,
                        groupStatus: loaded?.groupStatus, now: now)
                    if let change = decision.change { try transaction.writes.apply(change) }
                    switch decision.outcome {
                    case .done: return .success(ClaimAnswer(definitionJSON: loaded?.definitionJSON ?? "{}", resources: loaded?.state.attempts.resources))
                    case .declined(let reason): return .success(ClaimAnswer(refusedBecause: reason))
                    case .failed(let error): return .failure(error)
                    }
                }
            }
        }
    }

    // MARK: Leases

    /// Extends the leases of a worker's attempts that are still its own (the job is dispatched or
    /// running at that attempt, on that worker); the others are lost to it.
    func renew(_ request: RenewLeases) async throws -> RenewResult {
        guard !request.attempts.isEmpty else { return RenewResult(renewed: [], lost: []) }
        let rows = try await pool.withConnection { connection in
            try await connection.pipeline([
                try PostgresStatement(
                    """
                    UPDATE jobs j SET lease_until = clock_timestamp() + make_interval(secs => $4)
                    FROM unnest($1::uuid[], $2::int[]) AS r(job_id, attempt)
                    WHERE j.job_id = r.job_id AND j.attempt = r.attempt AND j.worker_id = $3 AND j.status IN ('SUBMITTED', 'RUNNING')
                    RETURNING j.job_id
                    """,
                    [
                        PostgresArray.literal(values: request.attempts.map(\.jobId)), PostgresArray.literal(values: request.attempts.map(\.attempt)),
                        request.workerId, max(0, request.leaseSeconds),
                    ])
            ])[0]
        }
        let renewed = Set(try rows.map { try $0.uuid("job_id") })
        return RenewResult(renewed: Array(renewed), lost: request.attempts.map(\.jobId).filter { !renewed.contains($0) })
    }

    /// Puts back in the queue the attempts whose lease expired (their worker stopped renewing it:
    /// it died or is cut off, and stops them itself before the lease ends). Returns how many.
    func requeueExpiredLeases(limit: Int = 500) async throws -> Int {
        let rows = try await pool.query(
            """
            SELECT job_id, attempt, worker_id FROM jobs
            WHERE status IN ('SUBMITTED', 'RUNNING') AND lease_until < clock_timestamp() ORDER BY lease_until LIMIT $1
            """, [limit])
        var count = 0
        for row in rows {
            let worker = row.stringIfPresent("worker_id") ?? "?"
            let result = try await requeue(
                RequeueJob(jobId: try row.uuid("job_id"), attempt: try row.int("attempt"), reason: "its lease expired (worker \(worker) stopped renewing it)"))
            if result.requeued { count += 1 }
        }
        return count
    }

    // MARK: Re-queue

    /// Puts a dispatched or running attempt back in the queue (its worker went silent).
    func requeue(_ request: RequeueJob) async throws -> RequeueResult {
        try await withJobTransaction { transaction in
            let (jobs, now) = try await JobRepository.lockStates([request.jobId], in: transaction.transaction)
            let decision = JobLifecycle.requeue(
                jobs[request.jobId]?.state, attempt: request.attempt, reason: request.reason, maxWorkerLost: maxWorkerLost, now: now)
            if let change = decision.change { try transaction.writes.apply(change) }
            return RequeueResult(requeued: decision.outcome == .done && decision.change?.status == .queued)
        }
    }

    // MARK: Reports

    /// Applies one worker report. Reports of a stale attempt or about a terminal job change nothing.
    func apply(_ report: JobReport) async throws {
        try await apply([report])[0].get()
    }

    /// Keeps the notifier's latest word on each job's e-mail: a report of fewer tries than the one
    /// kept (a late redelivery) changes nothing, and SENT or FAILED is final.
    private func record(_ deliveries: [UUID: NotificationDelivery]) async throws {
        let entries = deliveries.sorted { $0.key.uuidString < $1.key.uuidString }
        _ = try await pool.query(
            """
            UPDATE jobs j SET notification_delivery = d.delivery::jsonb
            FROM unnest($1::uuid[], $2::text[], $3::int[]) AS d(job_id, delivery, attempts)
            WHERE j.job_id = d.job_id
              AND (j.notification_delivery IS NULL
                   OR (j.notification_delivery->>'status' = 'PENDING' AND (j.notification_delivery->>'attempts')::int <= d.attempts))
            """,
            [
                PostgresArray.literal(values: entries.map(\.key)),
                PostgresArray.literal(try entries.map { String(decoding: try ConveyorJSON.encode($0.value), as: UTF8.self) }),
                PostgresArray.literal(values: entries.map(\.value.attempts)),
            ])
    }

    /// Applies many reports: their log chunks in one statement, then their finished reports in one
    /// transaction (a job's chunks before its end, as they were sent).
    func apply(_ reports: [JobReport]) async throws -> [Result<Void, any Error>] {
        var results = [Result<Void, any Error>](repeating: .success(()), count: reports.count)
        var chunks: [(JobReport, Data)] = []
        var finished: [(index: Int, report: JobReport, outcome: JobOutcome)] = []
        var progress: [UUID: (attempt: Int, state: AttemptProgress, json: String)] = [:]
        var deliveries: [UUID: NotificationDelivery] = [:]
        for (index, report) in reports.enumerated() {
            switch report.kind {
            case .log(let chunk):
                if let kept = LogCap.kept(chunk, cap: logCapBytes) { chunks.append((report, kept)) }
            case .finished(let outcome):
                finished.append((index, report, outcome))
            case .progress(let state):
                // The latest of a batch wins; a job's finished report carries its last state anyway.
                progress[report.jobId] = (report.attempt, state, String(decoding: try ConveyorJSON.encode(state), as: UTF8.self))
            case .notification(let delivery):
                // The notifier's reports of one job come in order of their tries; the latest wins.
                if delivery.attempts >= deliveries[report.jobId]?.attempts ?? 0 { deliveries[report.jobId] = delivery }
            }
        }
        if !deliveries.isEmpty { try await record(deliveries) }
        if !progress.isEmpty {
            // Kept only for the job's current attempt while it runs.
            let entries = progress.sorted { $0.key.uuidString < $1.key.uuidString }
            let stored = try await pool.query(
                """
                UPDATE jobs j SET progress = p.progress::jsonb
                FROM unnest($1::uuid[], $2::int[], $3::text[]) AS p(job_id, attempt, progress)
                WHERE j.job_id = p.job_id AND j.attempt = p.attempt AND j.status IN ('SUBMITTED', 'RUNNING')
                RETURNING j.job_id, j.job_type, j.owner
                """,
                [
                    PostgresArray.literal(values: entries.map(\.key)), PostgresArray.literal(values: entries.map(\.value.attempt)),
                    PostgresArray.literal(entries.map(\.value.json)),
                ])
            // What was stored is announced (`job.progress`, best effort).
            let now = Date()
            var messages: [OutgoingMessage] = []
            for row in stored {
                let jobId = try row.uuid("job_id")
                guard let said = progress[jobId], let type = JobType(rawValue: try row.string("job_type")) else { continue }
                let event = JobProgressEvent(
                    jobId: jobId, jobType: type, owner: try row.string("owner"), attempt: said.attempt, progress: said.state, occurredAt: now)
                let envelope = Envelope(event)
                messages.append(
                    OutgoingMessage(
                        exchange: Topology.eventsExchange, routingKey: event.routingKey, body: try envelope.encoded(),
                        messageId: envelope.messageId.uuidString, type: JobProgressEvent.messageType))
            }
            if !messages.isEmpty { announce(messages) }
        }
        if !chunks.isEmpty {
            // Kept only for the job's current attempt.
            let pieces = chunks.map { LogPiece(jobId: $0.0.jobId, attempt: $0.0.attempt, offset: $0.0.kind.logChunk?.offset ?? 0, data: $0.1) }
            _ = try await pool.withConnection { connection in
                try await connection.pipeline([
                    try PostgresStatement(
                        """
                        INSERT INTO job_log_chunks (job_id, attempt, byte_offset, data)
                        SELECT c.job_id, c.attempt, c.byte_offset, decode(c.data, 'hex')
                        FROM unnest($1::uuid[], $2::int[], $3::bigint[], $4::text[]) AS c(job_id, attempt, byte_offset, data)
                        JOIN jobs j ON j.job_id = c.job_id AND j.attempt = c.attempt
                        ON CONFLICT DO NOTHING
                        """,
                        [
                            PostgresArray.literal(values: pieces.map(\.jobId)), PostgresArray.literal(values: pieces.map(\.attempt)),
                            PostgresArray.literal(values: pieces.map(\.offset)), PostgresArray.literal(pieces.map(\.data.hexDigits)),
                        ])
                ])
            }
        }
        let outcomes = try await Self.inRounds(finished, jobId: \.report.jobId) { round in
            try await finish(round.map { ($0.report, $0.outcome) })
        }
        for (item, outcome) in zip(finished, outcomes) { results[item.index] = outcome }
        return results
    }

    /// Applies finished reports (each job at most once) in one transaction: the objects the attempts
    /// registered, the log each kept (a FILE object), the results, the terminal statuses and events,
    /// and what the groups of the jobs that ended do next.
    private func finish(_ reports: [(report: JobReport, outcome: JobOutcome)]) async throws -> [Result<Void, any Error>] {
        let logs = try await keptLogs(reports)
        try await withJobTransaction { transaction in
            let (jobs, now) = try await JobRepository.lockStates(
                reports.map(\.report.jobId), in: transaction.transaction, dependentsFor: transaction)
            var groups: [UUID] = []
            for ((report, outcome), log) in zip(reports, logs) {
                let state = jobs[report.jobId]?.state
                let logFile = NewObjectRow(
                    objectId: UUID.timeOrdered(), objectType: .file,
                    definitionJSON: String(
                        decoding: try ConveyorJSON.encode(
                            ObjectDefinition.file(
                                FileDefinition(
                                    name: "\(report.jobId.lowercased)-attempt-\(report.attempt).log", mimeType: "text/plain",
                                    sizeBytes: log.count, sha256: ContentDigest.sha256(log)))),
                        as: UTF8.self),
                    attributes: ["conveyor_job_id": .string(report.jobId.lowercased), "conveyor_kind": .string("job_log")],
                    storagePath: Self.logFilePath(jobId: report.jobId, attempt: report.attempt), jobId: report.jobId,
                    owner: state?.owner)
                var attempt = FinishedAttempt(
                    attempt: report.attempt, outcome: outcome, workerId: report.workerId, limits: validator.limits,
                    jitter: Double.random(in: 0.8...1.2),
                    log: KeptLog(
                        file: TagSelector(objectType: .file, objectId: logFile.objectId, objectVersion: 1, tagVersion: 1),
                        keptBytes: log.count, truncated: log.count > logCapBytes, tail: Self.tail(of: log)))
                var decision = JobLifecycle.finish(state, attempt, now: now)
                if decision.outcome == .done, !outcome.objects.isEmpty {
                    // It applies: register the objects, then decide with them.
                    for object in outcome.objects {
                        let selector = try await register(object, jobId: report.jobId, owner: state?.owner, in: transaction)
                        attempt.objects.append(selector)
                        if let name = object.outputName { attempt.outputs[name] = selector }
                    }
                    decision = JobLifecycle.finish(state, attempt, now: now)
                }
                if let change = decision.change {
                    // The end of the log joins the chunks the attempt sent before; the log FILE reads them.
                    if let end = outcome.log, let kept = LogCap.kept(end, cap: logCapBytes), log.count == end.offset + kept.count {
                        transaction.writes.insert(LogPiece(jobId: report.jobId, attempt: report.attempt, offset: end.offset, data: kept))
                    }
                    transaction.writes.insert(logFile)
                    try transaction.writes.apply(change)
                }
                if case .declined(let reason) = decision.outcome {
                    logger.debug("report ignored", metadata: ["jobId": "\(report.jobId)", "attempt": "\(report.attempt)", "reason": "\(reason)"])
                }
                if let group = decision.groupToNotify { groups.append(group) }
            }
            try await settleGroups(groups, in: transaction)
        }
        return reports.map { _ in .success(()) }
    }

    /// Registers an object a job wrote: a new object owned by the job's owner, or the next version of
    /// the one it names (which keeps that object's owner; the submission checked the job may read it).
    private func register(_ object: NewObject, jobId: UUID, owner: String?, in transaction: JobTransaction) async throws -> TagSelector {
        if let prior = object.priorVersion {
            return try await objects.insert(
                transaction.transaction.connection, definition: object.definition, attributes: object.attributes,
                storagePath: object.storagePath, jobId: jobId, owner: owner, prior: TagSelector(objectId: prior.objectId)
            ).selector
        }
        let row = NewObjectRow(
            objectId: UUID(), objectType: object.definition.objectType,
            definitionJSON: String(decoding: try ConveyorJSON.encode(object.definition), as: UTF8.self),
            attributes: object.attributes, storagePath: object.storagePath, jobId: jobId, owner: owner)
        transaction.writes.insert(row)
        return TagSelector(objectType: row.objectType, objectId: row.objectId, objectVersion: 1, tagVersion: 1)
    }

    // MARK: Logs

    /// The log kept of each reported attempt: the chunks stored from its log reports, then the end
    /// its finished report carries, cut at the cap.
    private func keptLogs(_ reports: [(report: JobReport, outcome: JobOutcome)]) async throws -> [Data] {
        let needStored = reports.filter { ($0.outcome.log?.offset ?? 1) > 0 }.map(\.report)
        var stored: [String: PostgresRows] = [:]
        if !needStored.isEmpty {
            let rows = try await pool.withConnection { connection in
                try await connection.pipeline([
                    try PostgresStatement(
                        """
                        SELECT c.job_id, c.attempt, c.byte_offset, c.data FROM job_log_chunks c
                        JOIN unnest($1::uuid[], $2::int[]) AS r(job_id, attempt) ON c.job_id = r.job_id AND c.attempt = r.attempt
                        ORDER BY c.job_id, c.attempt, c.byte_offset
                        """,
                        [PostgresArray.literal(values: needStored.map(\.jobId)), PostgresArray.literal(values: needStored.map(\.attempt))])
                ])[0]
            }
            var grouped: [String: [PostgresRow]] = [:]
            for row in rows { grouped["\(try row.uuid("job_id"))/\(try row.int("attempt"))", default: []].append(row) }
            stored = grouped.mapValues { PostgresRows(rows: $0, columnNames: rows.columnNames, affectedRows: $0.count) }
        }
        return try reports.map { report, outcome in
            var log = try stored["\(report.jobId)/\(report.attempt)"].map { try JobStore.assemble($0, from: 0) } ?? Data()
            if let end = outcome.log, end.offset == log.count, let kept = LogCap.kept(end, cap: logCapBytes) {
                log.append(kept)
            }
            return log
        }
    }

    /// The storage path a job log's FILE object names. Its content is not written there: it is
    /// served from the attempt's log chunks (``ObjectStore/content(_:)``), which the transaction that
    /// registered the FILE committed.
    static func logFilePath(jobId: UUID, attempt: Int) -> String {
        "logs/\(jobId.lowercased)/attempt-\(attempt).log"
    }

    /// The last lines of a log, for the end-of-job e-mail.
    static func tail(of log: Data) -> String {
        let text = String(decoding: log.suffix(8192), as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        return lines.suffix(logTailLines).joined(separator: "\n")
    }
}

extension JobReport.Kind {
    var logChunk: LogChunk? {
        if case .log(let chunk) = self { return chunk }
        return nil
    }
}

extension Data {
    /// Lowercase hex digits (for `decode(..., 'hex')`).
    var hexDigits: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(count * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// A claim as answered: granted, with the job's definition as stored (JSON), or refused, with why.
/// The worker's reply is written from it directly (``json``), without decoding the definition.
struct ClaimAnswer: Sendable {
    var definitionJSON: String?
    var reason: String?
    /// What the attempt may use when a retry grew it beyond the definition's.
    var resources: ResourceRequirements?

    init(definitionJSON: String, resources: ResourceRequirements? = nil) {
        self.definitionJSON = definitionJSON
        self.resources = resources
    }

    init(refusedBecause reason: String) {
        self.reason = reason
    }

    /// The ``ClaimResult`` this answer is.
    func result() throws -> ClaimResult {
        guard let definitionJSON else { return ClaimResult(granted: false, reason: reason) }
        return ClaimResult(
            granted: true, definition: try ConveyorJSON.decode(JobDefinition.self, from: Data(definitionJSON.utf8)), resources: resources)
    }

    /// The JSON of ``result()`` (keys sorted, as ``ConveyorJSON`` writes them).
    var json: Data {
        var text = JSONText(capacity: (definitionJSON?.utf8.count ?? 0) + 64)
        if let definitionJSON {
            text.raw(#"{"definition":"#)
            text.compacted(definitionJSON)
            text.raw(#","granted":true"#)
            if let resources, let encoded = try? ConveyorJSON.encode(resources) {
                text.raw(#","resources":"#)
                text.raw(encoded)
            }
            text.raw("}")
        } else if let reason {
            text.raw(#"{"granted":false,"reason":"#)
            text.string(reason)
            text.raw("}")
        } else {
            text.raw(#"{"granted":false}"#)
        }
        return text.data
    }
}
