import ConveyorModels
import Foundation
import Hummingbird
import ServiceKit

/// `/api/v1/jobs`: submit, read, list jobs and read their logs.
struct JobRoutes: Sendable {
    let metadata: MetadataClient
    let validator: JobValidator
    let maxBodyBytes: Int

    func add(to router: Router<BasicRequestContext>) {
        let jobs = router.group("api/v1/jobs")
        jobs.post(use: submit)
        jobs.get(use: list)
        jobs.get(":id", use: get)
        jobs.get(":id/log", use: log)
        jobs.post(":id/cancel", use: cancel)
        router.get("api/v1/objects/:id", use: object)
    }

    /// `POST /api/v1/jobs`: answers 201 once metadata committed the job.
    @Sendable func submit(request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: maxBodyBytes)
        var definition = try validator.decode(Data(buffer: body))
        if definition.idempotencyKey == nil, let key = request.headers[.init("Idempotency-Key")!] {
            definition.idempotencyKey = key
            try validator.validate(definition)
        }
        let job = try await metadata.call(SubmitJob(definition: definition))
        var response = try json(job, status: .created)
        response.headers[.location] = "/api/v1/jobs/\(job.jobId.uuidString.lowercased())"
        return response
    }

    /// `GET /api/v1/jobs/{id}`: the job with its full status history.
    @Sendable func get(request: Request, context: BasicRequestContext) async throws -> Response {
        try json(try await metadata.call(GetJob(jobId: try jobId(context))))
    }

    /// `POST /api/v1/jobs/{id}/cancel`: ends the job as CANCELLED (409 when it already ended).
    /// An optional JSON body `{"reason": "..."}` goes into the status message.
    @Sendable func cancel(request: Request, context: BasicRequestContext) async throws -> Response {
        struct Body: Decodable { var reason: String? }
        let data = Data(buffer: try await request.body.collect(upTo: 16 * 1024))
        var reason: String? = nil
        if !data.isEmpty {
            guard let body = try? ConveyorJSON.decode(Body.self, from: data) else {
                throw Problem(.badRequest, "the body must be a JSON object", errors: [FieldProblem(field: "$", reason: "expected {\"reason\": string}")])
            }
            if let text = body.reason,
                text.isEmpty || text.utf8.count > 500
                    || text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
            {
                throw Problem(.badRequest, "invalid reason", errors: [FieldProblem(field: "reason", reason: "must be 1 to 500 bytes of printable text")])
            }
            reason = body.reason
        }
        return try json(try await metadata.call(CancelJob(jobId: try jobId(context), reason: reason)))
    }

    /// `GET /api/v1/jobs?limit=&cursor=&status=&jobType=&owner=`: newest first.
    @Sendable func list(request: Request, context: BasicRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        var problems: [FieldProblem] = []
        var limit = 50
        if let text = query["limit"] {
            if let value = Int(String(text)), (1...ListJobs.maxLimit).contains(value) {
                limit = value
            } else {
                problems.append(FieldProblem(field: "limit", reason: "must be an integer between 1 and \(ListJobs.maxLimit)"))
            }
        }
        var status: JobStatus?
        if let text = query["status"] {
            status = JobStatus(rawValue: String(text).uppercased())
            if status == nil { problems.append(FieldProblem(field: "status", reason: "unknown status '\(text)'")) }
        }
        var type: JobType?
        if let text = query["jobType"] {
            type = JobType(rawValue: String(text).uppercased())
            if type == nil { problems.append(FieldProblem(field: "jobType", reason: "unknown job type '\(text)'")) }
        }
        guard problems.isEmpty else { throw Problem(.badRequest, "invalid query parameters", errors: problems) }
        let page = try await metadata.call(
            ListJobs(
                limit: limit, cursor: query["cursor"].map(String.init), status: status, jobType: type,
                owner: query["owner"].map(String.init)))
        return try json(page)
    }

    /// `GET /api/v1/jobs/{id}/log?offset=&limit=`: the log as text, from a byte offset.
    @Sendable func log(request: Request, context: BasicRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let offset = try integer(query["offset"], name: "offset") ?? 0
        let limit = try integer(query["limit"], name: "limit")
        let log = try await metadata.call(GetJobLog(jobId: try jobId(context), offset: offset, limit: limit))
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/plain; charset=utf-8",
                .init("Conveyor-Log-Offset")!: String(log.offset),
                .init("Conveyor-Log-Next-Offset")!: String(log.offset + log.data.count),
                .init("Conveyor-Log-Complete")!: log.complete ? "true" : "false",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: log.data)))
    }

    /// `GET /api/v1/objects/{id}?version=`: one object version (latest by default).
    @Sendable func object(request: Request, context: BasicRequestContext) async throws -> Response {
        let version = try integer(request.uri.queryParameters["version"], name: "version")
        return try json(try await metadata.call(GetObject(selector: ObjectSelector(objectId: try jobId(context), objectVersion: version))))
    }

    private func jobId(_ context: BasicRequestContext) throws -> UUID {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw Problem(.badRequest, "the id in the path is not a UUID", errors: [FieldProblem(field: "id", reason: "not a UUID")])
        }
        return id
    }

    private func integer(_ text: Substring?, name: String) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(String(text)), value >= 0 else {
            throw Problem(.badRequest, "invalid query parameter", errors: [FieldProblem(field: name, reason: "must be a non-negative integer")])
        }
        return value
    }

    private func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try ConveyorJSON.encode(value))))
    }
}
