import ConveyorModels
import Crypto
import Foundation
import PostgresClient

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
        if let prior = request.priorVersion { problems += prior.problems(field: "priorVersion") }
        if definition.objectType == .file {
            if let content = request.content {
                definition.file?.sizeBytes = content.count
                definition.file?.sha256 = SHA256.hash(data: content).map { String(format: "%02x", $0) }.joined()
            } else {
                problems.append(FieldProblem(field: "content", reason: "a FILE needs content"))
            }
        } else if request.content != nil {
            problems.append(FieldProblem(field: "content", reason: "only FILE objects take content"))
        }
        guard problems.isEmpty else { throw RPCFailure(code: .invalid, message: "the object is invalid", problems: problems) }

        return try await pool.withTransaction { connection in
            if let schema = definition.data?.schema {
                guard let record = try await resolve(schema, connection) else {
                    throw RPCFailure(code: .invalid, message: "the schema does not exist", problems: [FieldProblem(field: "definition.data.schema.objectId", reason: "no SCHEMA object \(schema.objectId.lowercased)\(Self.describe(schema))")])
                }
                guard record.objectType == .schema else {
                    throw RPCFailure(code: .invalid, message: "the schema is not a SCHEMA", problems: [FieldProblem(field: "definition.data.schema.objectId", reason: "is a \(record.objectType.rawValue) object, expected SCHEMA")])
                }
                definition.data?.schema = record.selector
            }
            var storagePath: String? = nil
            let objectId = request.priorVersion?.objectId ?? UUID()
            if let content = request.content, let file = definition.file {
                // Written before the row; a failed transaction leaves an unreferenced file, never a row without content.
                let path = "files/\(objectId.lowercased)/\(UUID().uuidString.lowercased())/\(file.name)"
                try storage.store(content, at: path)
                storagePath = path
            }
            return try await insert(
                connection, definition: definition, attributes: attributes, storagePath: storagePath, jobId: nil,
                objectId: objectId, prior: request.priorVersion)
        }
    }
}
