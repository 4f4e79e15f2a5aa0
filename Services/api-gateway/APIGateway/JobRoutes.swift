import ConveyorModels
import Foundation
import Hummingbird
import Messaging
import ServiceKit

/// `/api/v1/jobs`: submit (or only validate) jobs, list and filter them, read one with its status
/// history, its status as of a time, its result and its log; cancel and re-run.
struct JobRoutes: Sendable {
    let metadata: MetadataClient
    let validator: JobValidator
    let maxBodyBytes: Int
    let finished: FinishedJobCache
    let queue: QueueRoutes

    func add(to router: Router<GatewayContext>) {
        let jobs = router.group("api/v1/jobs")
        jobs.post(use: submit)
        jobs.post("validate", use: validate)
        jobs.get(use: list)
        jobs.get(":id", use: get)
        jobs.get(":id/status", use: status)
        jobs.get(":id/result", use: result)
        jobs.get(":id/usage", use: usage)
        jobs.get(":id/log", use: log)
        jobs.get(":id/log/stream", use: LogStream(metadata: metadata).follow)
        jobs.post(":id/cancel", use: cancel)
        jobs.post(":id/rerun", use: rerun)
        jobs.post(":id/rerun-chain", use: rerunChain)
    }

    /// The definition in the body, owned by the caller (see ``AccessPolicy/owner(requested:as:)``).
    private func definition(_ request: Request, _ context: GatewayContext) async throws -> JobDefinition {
        let caller = try context.caller()
        let body = try await request.body.collect(upTo: maxBodyBytes)
        var definition = try validator.decode(Data(buffer: body))
        definition.owner = try AccessPolicy.owner(requested: definition.owner, as: caller)
        if let jobs = definition.jobGroup?.jobs {
            // The jobs of a group belong to the group's owner.
            for index in jobs.indices {
                _ = try AccessPolicy.owner(requested: jobs[index].owner, as: caller)
                definition.jobGroup?.jobs[index].owner = definition.owner
            }
        }
        if definition.idempotencyKey == nil, let key = request.headers[.init("Idempotency-Key")!] {
            definition.idempotencyKey = key
            try validator.validate(definition)
        }
        return definition
    }

    /// `POST /api/v1/jobs`: answers 201 once metadata committed the job.
    @Sendable func submit(request: Request, context: GatewayContext) async throws -> Response {
        // The record goes back as metadata wrote it.
        let job = try await metadata.callReturningJSON(SubmitJob(definition: try await definition(request, context), caller: try context.caller()))
        var response = RouteSupport.json(passing: job, status: .created)
        if let id = JSONSlice.string(at: ["jobId"], in: job) {
            response.headers[.location] = "/api/v1/jobs/\(id.lowercased())"
        }
        return response
    }

    /// `POST /api/v1/jobs/validate`: the dry run; 200 with the pinned definition, or 422 listing every problem.
    @Sendable func validate(request: Request, context: GatewayContext) async throws -> Response {
        RouteSupport.json(passing: try await metadata.callReturningJSON(
                ValidateJob(definition: try await definition(request, context), caller: try context.caller())))
    }

    /// The record of a job as metadata wrote it; a finished one is read once and kept.
    private func record(_ jobId: UUID) async throws -> Data {
        if let record = finished.record(jobId) { return record }
        let record = try await metadata.callReturningJSON(GetJob(jobId: jobId))
        finished.keep(record, for: jobId)
        return record
    }

    /// The record of the job in the path, if the caller may see it.
    private func visibleRecord(_ context: GatewayContext) async throws -> (jobId: UUID, record: Data) {
        let jobId = try RouteSupport.uuid(context)
        let record = try await record(jobId)
        try AccessPolicy.read(job: jobId.uuidString.lowercased(), ownedBy: JSONSlice.string(at: ["owner"], in: record) ?? "", as: try context.caller())
        return (jobId, record)
    }

    /// The owner of the job in the path, checked against `rule` before the job is changed.
    private func check(
        _ context: GatewayContext, _ rule: (String, String, Principal) throws -> Void
    ) async throws -> UUID {
        let jobId = try RouteSupport.uuid(context)
        let caller = try context.caller()
        let record = try await record(jobId)
        try rule(jobId.uuidString.lowercased(), JSONSlice.string(at: ["owner"], in: record) ?? "", caller)
        return jobId
    }

    /// `GET /api/v1/jobs/{id}`: the job with its full status history; a queued job also with where
    /// it stands in the queue (`queue`, from the scheduler).
    @Sendable func get(request: Request, context: GatewayContext) async throws -> Response {
        let (jobId, record) = try await visibleRecord(context)
        return RouteSupport.json(passing: await queue.addingPosition(to: record, of: jobId))
    }

    /// `GET /api/v1/jobs/{id}/status?asOf=`: the status (with its message and time) at a moment.
    @Sendable func status(request: Request, context: GatewayContext) async throws -> Response {
        var query = QueryReader(request)
        let asOf = query.date("asOf")
        try query.check()
        let job = try ConveyorJSON.decode(JobRecord.self, from: try await visibleRecord(context).record)
        guard let update = asOf.map(job.status(asOf:)) ?? job.updates.last else {
            throw Problem(.notFound, "job \(job.jobId.uuidString.lowercased()) was submitted after \(Timestamp.format(asOf!))")
        }
        return try RouteSupport.json(update)
    }

    /// `GET /api/v1/jobs/{id}/result`: the result record of a finished job (409 while it runs).
    @Sendable func result(request: Request, context: GatewayContext) async throws -> Response {
        let job = try ConveyorJSON.decode(JobRecord.self, from: try await visibleRecord(context).record)
        guard job.status.isTerminal, let result = job.result else {
            throw Problem(.conflict, "job \(job.jobId.uuidString.lowercased()) is \(job.status.rawValue); it has no result yet")
        }
        return try RouteSupport.json(result)
    }

    /// `GET /api/v1/jobs/{id}/usage`: what the job asked for and what its last attempt used (peak
    /// memory and CPU of all its processes, disk, and the samples taken while it ran); `usage` is
    /// absent until an attempt has ended.
    @Sendable func usage(request: Request, context: GatewayContext) async throws -> Response {
        let job = try ConveyorJSON.decode(JobRecord.self, from: try await visibleRecord(context).record)
        return try RouteSupport.json(JobUsage(job))
    }

    /// `POST /api/v1/jobs/{id}/cancel`: ends the job as CANCELLED (409 when it already ended).
    /// An optional JSON body `{"reason": "..."}` goes into the status message.
    @Sendable func cancel(request: Request, context: GatewayContext) async throws -> Response {
        struct Body: Decodable { var reason: String? }
        let data = Data(buffer: try await request.body.collect(upTo: 16 * 1024))
        var reason: String? = nil
        if !data.isEmpty {
            let body = try ConveyorJSON.decode(Body.self, from: data, checking: .object(["reason": .optional(.string)]))
            if let text = body.reason,
                text.isEmpty || text.utf8.count > 500
                    || text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
            {
                throw Problem(.unprocessableContent, "invalid reason", errors: [FieldProblem(field: "reason", reason: "must be 1 to 500 bytes of printable text")])
            }
            reason = body.reason
        }
        let jobId = try await check(context, AccessPolicy.cancel)
        return try RouteSupport.json(try await metadata.call(CancelJob(jobId: jobId, reason: reason)))
    }

    /// `POST /api/v1/jobs/{id}/rerun`: submits a finished job again with the same pinned versions.
    @Sendable func rerun(request: Request, context: GatewayContext) async throws -> Response {
        let key = request.headers[.init("Idempotency-Key")!]
        if let key, key.isEmpty || key.count > 200 {
            throw Problem(.badRequest, "invalid Idempotency-Key", errors: [FieldProblem(field: "Idempotency-Key", reason: "must be 1-200 characters")])
        }
        let jobId = try await check(context, AccessPolicy.rerun)
        let job = try await metadata.call(RerunJob(jobId: jobId, idempotencyKey: key, caller: try context.caller()))
        var response = try RouteSupport.json(job, status: .created)
        response.headers[.location] = "/api/v1/jobs/\(job.jobId.uuidString.lowercased())"
        return response
    }

    /// `POST /api/v1/jobs/{id}/rerun-chain?dryRun=`: re-runs a finished job and the jobs after it in
    /// its dependency chain that did not succeed (201 with the plan and the new ids); with
    /// `dryRun=true`, only says what would run (200).
    @Sendable func rerunChain(request: Request, context: GatewayContext) async throws -> Response {
        let jobId = try await check(context, AccessPolicy.rerun)
        let caller = try context.caller()
        return try await RouteSupport.rerunPlan(request) { dryRun in try await metadata.call(RerunChain(jobId: jobId, dryRun: dryRun, caller: caller)) }
    }

    /// `GET /api/v1/jobs`: filters `status`, `jobType` (comma-separated), `owner`, `label=name:value`
    /// (repeatable, all must match), `submittedFrom/To`, `startedFrom/To`, `finishedFrom/To`; `sort`
    /// (submittedAt, startedAt, finishedAt, priority), `order` (desc, asc), `counts=true`, `limit`, `cursor`.
    @Sendable func list(request: Request, context: GatewayContext) async throws -> Response {
        var query = QueryReader(request)
        let limit = query.integer("limit", in: 1...ListJobs.maxLimit) ?? 50
        let statuses = query.list("status", JobStatus.self)
        let types = query.list("jobType", JobType.self)
        var labels: [String: String] = [:]
        for text in query.query.getAll("label") {
            let parts = text.split(separator: ":", maxSplits: 1)
            if parts.count == 2, !parts[0].isEmpty {
                labels[String(parts[0])] = String(parts[1])
            } else {
                query.problems.append(FieldProblem(field: "label", reason: "must be name:value, got '\(text.prefix(60))'"))
            }
        }
        func range(_ name: String) -> TimeRange? {
            let from = query.date(name + "From")
            let to = query.date(name + "To")
            return from == nil && to == nil ? nil : TimeRange(from: from, to: to)
        }
        let submitted = range("submitted")
        let started = range("started")
        let finished = range("finished")
        var sort: JobSort? = nil
        if let text = query.string("sort") {
            sort = JobSort(rawValue: text)
            if sort == nil { query.problems.append(FieldProblem(field: "sort", reason: "must be one of \(JobSort.allCases.map(\.rawValue).joined(separator: ", "))")) }
        }
        var descending = true
        if let text = query.string("order") {
            if text == "asc" { descending = false } else if text != "desc" { query.problems.append(FieldProblem(field: "order", reason: "must be asc or desc")) }
        }
        let counts = query.bool("counts")
        if let owner = query.string("owner"), owner.isEmpty || owner.count > 200 {
            query.problems.append(FieldProblem(field: "owner", reason: "must be 1-200 characters"))
        }
        try query.check()
        let owner = try AccessPolicy.listOwner(requested: query.string("owner"), as: try context.caller())
        let page = try await metadata.callReturningJSON(
            ListJobs(
                limit: limit, cursor: query.string("cursor"), statuses: statuses, jobTypes: types, owner: owner,
                labels: labels.isEmpty ? nil : labels, submitted: submitted, started: started, finished: finished, sort: sort,
                descending: descending, includeCounts: counts))
        return RouteSupport.json(passing: page)
    }

    /// `GET /api/v1/jobs/{id}/log?offset=&limit=`: a byte range of the log as text.
    @Sendable func log(request: Request, context: GatewayContext) async throws -> Response {
        var query = QueryReader(request)
        let offset = query.integer("offset", in: 0...Int.max) ?? 0
        let limit = query.integer("limit", in: 1...Int.max)
        try query.check()
        let log = try await metadata.call(GetJobLog(jobId: try await visibleRecord(context).jobId, offset: offset, limit: limit))
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/plain; charset=utf-8",
                .init("Conveyor-Log-Offset")!: String(log.offset),
                .init("Conveyor-Log-Next-Offset")!: String(log.offset + log.data.count),
                .init("Conveyor-Log-Complete")!: log.complete ? "true" : "false",
                .init("Conveyor-Log-Attempt")!: String(log.attempt ?? 0),
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: log.data)))
    }
}
