import ConveyorModels
import Foundation
import Hummingbird
import Messaging
import ServiceKit

/// `/api/v1/objects`, `/api/v1/files`, `/api/v1/search`: create objects without a job (DATA with
/// its SCHEMA, FLOW, SCHEMA; FILE by upload), read any version by selector, list versions and tag
/// versions, update tags, share with teams, download content, and search by attributes. Every call
/// names the caller; metadata applies ``ObjectAccess`` (owners, teams, roles) to what it reads and writes.
struct ObjectRoutes: Sendable {
    let metadata: MetadataClient
    let maxBodyBytes: Int
    let maxUploadBytes: Int

    func add(to router: Router<GatewayContext>) {
        let objects = router.group("api/v1/objects")
        objects.post(use: create)
        objects.get(":id", use: get)
        objects.get(":id/versions", use: versions)
        objects.post(":id/versions", use: newVersion)
        objects.get(":id/versions/:version/tags", use: tagVersions)
        objects.post(":id/tags", use: updateTag)
        objects.put(":id/sharing", use: share)
        objects.get(":id/content", use: content)
        objects.post(":id/rerun-downstream", use: rerunDownstream)
        router.post("api/v1/files", use: upload)
        router.post("api/v1/data", use: uploadData)
        router.post("api/v1/search", use: search)
    }

    /// `POST /api/v1/objects`: `{"definition": {...}, "attrs": [TagUpdate]}` → 201 with the object.
    @Sendable func create(request: Request, context: GatewayContext) async throws -> Response {
        let body = try await RouteSupport.decode(CreateObjectRequest.self, request, limit: maxBodyBytes, shape: CreateObjectRequest.shape)
        return try created(
            try await metadata.call(CreateObject(definition: body.definition, attrs: body.attrs, caller: try context.caller(), sharedWith: body.sharedWith)))
    }

    /// `PUT /api/v1/objects/{id}/sharing`: `{"sharedWith": ["team", ...]}` (`"*"`: every user; `[]`:
    /// nobody) for every version of the object; its owner or an admin, and only with teams of theirs.
    @Sendable func share(request: Request, context: GatewayContext) async throws -> Response {
        let body = try await RouteSupport.decode(ObjectSharing.self, request, limit: maxBodyBytes, shape: ObjectSharing.requestShape)
        let call = ShareObject(objectId: try RouteSupport.uuid(context), sharedWith: body.sharedWith, caller: try context.caller())
        return try RouteSupport.json(try await metadata.call(call))
    }

    /// `POST /api/v1/objects/{id}/rerun-downstream?dryRun=`: re-runs the finished jobs that read an
    /// older version of the object, on its latest version (201 with the plan and the new ids); with
    /// `dryRun=true`, only says what would run (200).
    @Sendable func rerunDownstream(request: Request, context: GatewayContext) async throws -> Response {
        // The jobs re-run may be anyone's: until objects have owners, only admins may.
        try AccessPolicy.administer(as: try context.caller())
        let objectId = try RouteSupport.uuid(context)
        return try await RouteSupport.rerunPlan(request) { dryRun in try await metadata.call(RerunDownstream(objectId: objectId, dryRun: dryRun)) }
    }

    /// `POST /api/v1/objects/{id}/versions?priorVersion=N`: the next version of an object; with
    /// `priorVersion`, only when N is still the latest (409 otherwise).
    @Sendable func newVersion(request: Request, context: GatewayContext) async throws -> Response {
        var query = QueryReader(request)
        let prior = query.integer("priorVersion", in: 1...Int(Int32.max))
        try query.check()
        let body = try await RouteSupport.decode(CreateObjectRequest.self, request, limit: maxBodyBytes, shape: CreateObjectRequest.shape)
        let selector = TagSelector(objectId: try RouteSupport.uuid(context), objectVersion: prior)
        return try created(
            try await metadata.call(
                CreateObject(definition: body.definition, attrs: body.attrs, priorVersion: selector, caller: try context.caller(), sharedWith: body.sharedWith)))
    }

    /// `POST /api/v1/files?name=&objectId=&priorVersion=`: uploads the body as a FILE (its media type
    /// from `Content-Type`); with `objectId`, as the next version of that FILE.
    @Sendable func upload(request: Request, context: GatewayContext) async throws -> Response {
        var query = QueryReader(request)
        let prior = query.integer("priorVersion", in: 1...Int(Int32.max))
        let objectId = query.uuid("objectId")
        let name = query.string("name")
        let sharedWith = Self.teams(query)
        if name == nil { query.problems.append(FieldProblem(field: "name", reason: "is required (the file name)")) }
        if prior != nil, objectId == nil { query.problems.append(FieldProblem(field: "priorVersion", reason: "needs objectId")) }
        try query.check()
        let body = try await request.body.collect(upTo: maxUploadBytes)
        let definition = ObjectDefinition.file(FileDefinition(name: name!, mimeType: Self.mediaType(request), sizeBytes: body.readableBytes))
        let priorVersion = objectId.map { TagSelector(objectType: .file, objectId: $0, objectVersion: prior) }
        return try created(
            try await metadata.call(
                CreateObject(
                    definition: definition, content: Data(buffer: body), priorVersion: priorVersion, caller: try context.caller(), sharedWith: sharedWith)))
    }

    /// The `sharedWith` query parameter of an upload: team names separated by commas.
    private static func teams(_ query: QueryReader) -> [String]? {
        query.string("sharedWith").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    /// `POST /api/v1/data?schemaId=&schemaVersion=&objectId=&priorVersion=`: uploads the body as a DATA
    /// set (its format from `Content-Type`) described by a SCHEMA object; a CSV header must name the
    /// schema's fields. With `objectId`, as the next version of that DATA set.
    @Sendable func uploadData(request: Request, context: GatewayContext) async throws -> Response {
        var query = QueryReader(request)
        let prior = query.integer("priorVersion", in: 1...Int(Int32.max))
        let schemaVersion = query.integer("schemaVersion", in: 1...Int(Int32.max))
        let schemaId = query.uuid("schemaId")
        let objectId = query.uuid("objectId")
        let sharedWith = Self.teams(query)
        if prior != nil, objectId == nil { query.problems.append(FieldProblem(field: "priorVersion", reason: "needs objectId")) }
        if schemaVersion != nil, schemaId == nil { query.problems.append(FieldProblem(field: "schemaVersion", reason: "needs schemaId")) }
        try query.check()
        let body = try await request.body.collect(upTo: maxUploadBytes)
        let definition = ObjectDefinition.data(DataDefinition(
            schema: schemaId.map { TagSelector(objectType: .schema, objectId: $0, objectVersion: schemaVersion) },
            format: Self.mediaType(request), sizeBytes: body.readableBytes))
        let priorVersion = objectId.map { TagSelector(objectType: .data, objectId: $0, objectVersion: prior) }
        return try created(
            try await metadata.call(
                CreateObject(
                    definition: definition, content: Data(buffer: body), priorVersion: priorVersion, caller: try context.caller(), sharedWith: sharedWith)))
    }

    /// `GET /api/v1/objects/{id}?objectVersion=&objectAsOf=&tagVersion=&tagAsOf=`: one version (latest by default).
    @Sendable func get(request: Request, context: GatewayContext) async throws -> Response {
        RouteSupport.json(passing: try await metadata.callReturningJSON(GetObject(selector: try selector(request, context), caller: try context.caller())))
    }

    /// `GET /api/v1/objects/{id}/versions`: every version with its latest tag, oldest first.
    @Sendable func versions(request: Request, context: GatewayContext) async throws -> Response {
        RouteSupport.json(passing: try await metadata.callReturningJSON(ListObjectVersions(objectId: try RouteSupport.uuid(context), caller: try context.caller())))
    }

    /// `GET /api/v1/objects/{id}/versions/{version}/tags`: every tag version of one object version.
    @Sendable func tagVersions(request: Request, context: GatewayContext) async throws -> Response {
        guard let text = context.parameters.get("version"), let version = Int(text), (1...Int(Int32.max)).contains(version) else {
            throw Problem(.badRequest, "the version in the path is not a positive integer", errors: [FieldProblem(field: "version", reason: "must be an integer of at least 1")])
        }
        return RouteSupport.json(passing: try await metadata.callReturningJSON(
                ListObjectVersions(objectId: try RouteSupport.uuid(context), objectVersion: version, caller: try context.caller())))
    }

    /// `POST /api/v1/objects/{id}/tags`: `{"objectVersion": n?, "tagVersion": n?, "updates": [TagUpdate]}`;
    /// `tagVersion`, when given, must be the latest (409 otherwise).
    @Sendable func updateTag(request: Request, context: GatewayContext) async throws -> Response {
        struct Body: Decodable {
            var objectVersion: Int?
            var tagVersion: Int?
            var updates: [TagUpdate]
        }
        let shape = JSONShape.object([
            "objectVersion": .optional(.integer), "tagVersion": .optional(.integer), "updates": .required(.array(TagUpdate.shape)),
        ])
        let body = try await RouteSupport.decode(Body.self, request, limit: maxBodyBytes, shape: shape)
        let selector = TagSelector(objectId: try RouteSupport.uuid(context), objectVersion: body.objectVersion, tagVersion: body.tagVersion)
        return try RouteSupport.json(try await metadata.call(UpdateTag(selector: selector, updates: body.updates, caller: try context.caller())))
    }

    /// `GET /api/v1/objects/{id}/content`: the bytes of a FILE (or a DATA object's file).
    @Sendable func content(request: Request, context: GatewayContext) async throws -> Response {
        let content = try await metadata.call(GetObjectContent(selector: try selector(request, context), caller: try context.caller()))
        let type = content.object.definition.file?.mimeType ?? content.object.definition.data?.format ?? "application/octet-stream"
        let name = content.object.definition.file?.name ?? "\(content.object.objectId.uuidString.lowercased())-v\(content.object.objectVersion)"
        let safeName = String(name.unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" })
        return Response(
            status: .ok,
            headers: [
                .contentType: type, .contentDisposition: "attachment; filename=\"\(safeName)\"",
                .init("X-Content-Type-Options")!: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: content.data)))
    }

    /// `POST /api/v1/search`: `{"objectType": ..., "search": expression, "asOf": time, "limit": n, "cursor": ...}`.
    @Sendable func search(request: Request, context: GatewayContext) async throws -> Response {
        var body = try await RouteSupport.decode(SearchObjects.self, request, limit: maxBodyBytes, shape: SearchObjects.shape)
        // Only the objects the caller may read (the shape refuses a `caller` in the body).
        body.caller = try context.caller()
        return RouteSupport.json(passing: try await metadata.callReturningJSON(body))
    }

    /// The upload's media type from `Content-Type` without parameters (`application/octet-stream` when absent).
    private static func mediaType(_ request: Request) -> String {
        let type = request.headers[.contentType]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return type.isEmpty ? "application/octet-stream" : type
    }

    private func selector(_ request: Request, _ context: GatewayContext) throws -> TagSelector {
        var query = QueryReader(request)
        let selector = TagSelector(
            objectId: try RouteSupport.uuid(context), objectVersion: query.integer("objectVersion", in: 1...Int(Int32.max)),
            objectAsOf: query.date("objectAsOf"), tagVersion: query.integer("tagVersion", in: 1...Int(Int32.max)),
            tagAsOf: query.date("tagAsOf"))
        query.problems += selector.problems(field: "$").map { FieldProblem(field: $0.field == "$" ? "selector" : $0.field, reason: $0.reason) }
        try query.check()
        return selector
    }

    private func created(_ object: ObjectRecord) throws -> Response {
        var response = try RouteSupport.json(object, status: .created)
        response.headers[.location] = "/api/v1/objects/\(object.objectId.uuidString.lowercased())?objectVersion=\(object.objectVersion)"
        return response
    }
}
