import ConveyorModels
import Foundation
import Postgres
import ServiceKit

/// Objects created directly through the API (no job): uploaded FILEs, DATA sets with their SCHEMA,
/// FLOWs and SCHEMAs, each checked first so that nothing is written when anything is wrong.
extension ObjectStore {
    static let creatableTypes: Set<ObjectType> = [.file, .data, .flow, .schema]

    func create(_ request: CreateObject) async throws -> ObjectRecord {
        var definition = request.definition
        var problems = definition.problems(field: "definition")
        if !Self.creatableTypes.contains(definition.objectType) {
            let how = definition.objectType == .model ? "models come in through IMPORT_MODEL jobs" : "jobs are created by submitting them"
            problems.append(FieldProblem(field: "definition.objectType", reason: "\(definition.objectType.rawValue) objects cannot be created directly (\(how))"))
        }
        var attributes: [String: Value] = [:]
        switch TagUpdate.apply(request.attrs ?? [], to: [:], field: "attrs") {
        case .success(let applied): attributes = applied
        case .failure(let failure): problems += failure.problems
        }
        if let prior = request.priorVersion {
            problems += prior.problems(field: "priorVersion")
            if request.sharedWith != nil {
                problems.append(
                    FieldProblem(field: "sharedWith", reason: "a new version keeps the object's sharing (PUT /api/v1/objects/{id}/sharing changes it)"))
            }
        } else {
            problems += ObjectAccess.sharingProblems(request.sharedWith ?? [], by: request.caller, field: "sharedWith")
        }
        if definition.objectType == .file {
            if let content = request.content {
                definition.file?.sizeBytes = content.count
                definition.file?.sha256 = ContentDigest.sha256(content)
            } else {
                problems.append(FieldProblem(field: "content", reason: "a FILE needs content"))
            }
        } else if definition.objectType == .data, let content = request.content {
            definition.data?.sizeBytes = content.count
        } else if request.content != nil {
            problems.append(FieldProblem(field: "content", reason: "only FILE and DATA objects take content"))
        }
        guard problems.isEmpty else { throw MetadataError.invalid("the object is invalid", problems: problems) }

        // Checked with a plain connection, and the content written, before the transaction: no
        // transaction waits on file I/O. A failed insert leaves an unreferenced file, never a row
        // without its content.
        try await pool.withConnection { connection in
            // Refused before any content is stored (the insert checks again, under the object's lock).
            if let prior = request.priorVersion, let caller = request.caller {
                let rows = try await connection.query("SELECT owner, shared_with FROM objects WHERE object_id = $1 LIMIT 1", [prior.objectId])
                if let row = rows.first,
                    let refusal = ObjectAccess.changeRefusal(prior.objectId.lowercased, owner: row.stringIfPresent("owner"), sharedWith: try Self.sharedWith(row), as: caller)
                {
                    throw MetadataError.forbidden(refusal)
                }
            }
            if let schema = definition.data?.schema {
                guard let record = try await resolve(schema, connection) else {
                    throw MetadataError.invalid("the schema does not exist", problems: [FieldProblem(field: "definition.data.schema.objectId", reason: "no SCHEMA object \(schema.objectId.lowercased)\(schema.versionDescription)")])
                }
                if let caller = request.caller, !ObjectAccess.mayRead(owner: record.owner, sharedWith: record.sharedWith, as: caller) {
                    let reason = ObjectAccess.readRefusal(record.objectId.lowercased)
                    throw MetadataError.forbidden(reason, problems: [FieldProblem(field: "definition.data.schema.objectId", reason: reason)])
                }
                guard record.objectType == .schema else {
                    throw MetadataError.invalid("the schema is not a SCHEMA", problems: [FieldProblem(field: "definition.data.schema.objectId", reason: "is a \(record.objectType.rawValue) object, expected SCHEMA")])
                }
                definition.data?.schema = record.selector
            }
            if let content = request.content, let data = definition.data,
                let schema = try await schemaFields(data, connection), let problem = Self.csvHeaderProblem(content, format: data.format, schema: schema)
            {
                throw MetadataError.invalid("the content does not match the schema", problems: [problem])
            }
        }
        var storagePath: String? = nil
        let objectId = request.priorVersion?.objectId ?? UUID()
        if let content = request.content {
            let name = definition.file?.name ?? "content"
            let folder = definition.objectType == .file ? "files" : "data/uploads"
            let path = "\(folder)/\(objectId.lowercased)/\(UUID().uuidString.lowercased())/\(name)"
            try storage.store(content, at: path)
            storagePath = path
        }
        let pinned = definition
        return try await pool.withTransaction { connection in
            try await insert(
                connection, definition: pinned, attributes: attributes, storagePath: storagePath, jobId: nil,
                objectId: objectId, owner: request.caller?.name, sharedWith: request.sharedWith.map { Array(Set($0)).sorted() },
                prior: request.priorVersion, changedBy: request.caller)
        }
    }

    /// The schema fields of a DATA set (its SCHEMA object's, or inline), nil when it has none.
    private func schemaFields(_ data: DataDefinition, _ connection: PostgresConnection) async throws -> [SchemaField]? {
        if let inline = data.schemaDefinition { return inline.fields }
        guard let selector = data.schema else { return nil }
        return try await resolve(selector, connection)?.definition.schema?.fields
    }

    /// For CSV content: the header row must name exactly the schema's fields (in any order, any case).
    static func csvHeaderProblem(_ content: Data, format: String?, schema: [SchemaField]) -> FieldProblem? {
        guard format == "text/csv" else { return nil }
        let body = content.starts(with: [0xEF, 0xBB, 0xBF]) ? content.dropFirst(3) : content[...]  // a UTF-8 BOM
        let firstLine = body.prefix { $0 != UInt8(ascii: "\n") }
        let header = String(decoding: firstLine, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let columns = Set(header.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \"")).lowercased() })
        let fields = Set(schema.map { $0.fieldName.lowercased() })
        guard columns != fields else { return nil }
        let missing = fields.subtracting(columns).sorted()
        let extra = columns.subtracting(fields).sorted()
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing \(missing.joined(separator: ", "))") }
        if !extra.isEmpty { parts.append("not in the schema: \(extra.joined(separator: ", "))") }
        return FieldProblem(field: "content", reason: "the CSV header does not match the schema (\(parts.joined(separator: "; ")))")
    }
}
