import Foundation

/// The content description of an object version: exactly one section, matching ``objectType``.
public struct ObjectDefinition: Sendable, Codable, Hashable {
    public var objectType: ObjectType
    public var model: ModelDefinition?
    public var data: DataDefinition?
    public var file: FileDefinition?
    public var flow: FlowDefinition?
    public var schema: SchemaDefinition?
    public var job: JobDefinition?

    public init(
        objectType: ObjectType, model: ModelDefinition? = nil, data: DataDefinition? = nil, file: FileDefinition? = nil,
        flow: FlowDefinition? = nil, schema: SchemaDefinition? = nil, job: JobDefinition? = nil
    ) {
        self.objectType = objectType
        self.model = model
        self.data = data
        self.file = file
        self.flow = flow
        self.schema = schema
        self.job = job
    }

    public static func model(_ model: ModelDefinition) -> Self { .init(objectType: .model, model: model) }
    public static func data(_ data: DataDefinition) -> Self { .init(objectType: .data, data: data) }
    public static func file(_ file: FileDefinition) -> Self { .init(objectType: .file, file: file) }
    public static func flow(_ flow: FlowDefinition) -> Self { .init(objectType: .flow, flow: flow) }
    public static func schema(_ schema: SchemaDefinition) -> Self { .init(objectType: .schema, schema: schema) }
    public static func job(_ job: JobDefinition) -> Self { .init(objectType: .job, job: job) }

    /// Every problem with the definition itself, with paths under `field`.
    public func problems(field: String) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        let sections: [(ObjectType, String, Bool)] = [
            (.model, "model", model != nil), (.data, "data", data != nil), (.file, "file", file != nil),
            (.flow, "flow", flow != nil), (.schema, "schema", schema != nil), (.job, "job", job != nil),
        ]
        for (type, name, present) in sections {
            if type == objectType, !present {
                problems.append(FieldProblem(field: "\(field).\(name)", reason: "required for objectType \(type.rawValue)"))
            } else if type != objectType, present {
                problems.append(FieldProblem(field: "\(field).\(name)", reason: "not allowed for objectType \(objectType.rawValue)"))
            }
        }
        if let flow { problems += flow.problems(field: "\(field).flow") }
        if let schema { problems += schema.problems(field: "\(field).schema") }
        if let file { problems += file.problems(field: "\(field).file") }
        if let data {
            if let schema = data.schema { problems += schema.problems(field: "\(field).data.schema", expecting: .schema) }
            if let inline = data.schemaDefinition { problems += inline.problems(field: "\(field).data.schemaDefinition") }
        }
        if let model { problems += model.problems(field: "\(field).model") }
        return problems
    }
}

/// A model's code and what it declares: parameters with types, named inputs and outputs.
public struct ModelDefinition: Sendable, Codable, Hashable {
    public var language: String
    public var repository: String
    public var packageGroup: String?
    public var package: String?
    public var version: String
    public var entryPoint: String
    public var path: String?
    /// The commit the snapshot was taken from.
    public var commit: String?
    public var parameters: [String: ModelParameter]?
    public var inputs: [String: ModelInputOutput]?
    public var outputs: [String: ModelInputOutput]?
    /// A `python` model that ships `requirements.txt`: the key of the Python environment the importer
    /// built for it (``PythonEnvironments``); the runner runs the model with its interpreter.
    public var environment: String?

    public init(
        language: String, repository: String, packageGroup: String? = nil, package: String? = nil, version: String,
        entryPoint: String, path: String? = nil, commit: String? = nil, parameters: [String: ModelParameter]? = nil,
        inputs: [String: ModelInputOutput]? = nil, outputs: [String: ModelInputOutput]? = nil, environment: String? = nil
    ) {
        self.environment = environment
        self.language = language
        self.repository = repository
        self.packageGroup = packageGroup
        self.package = package
        self.version = version
        self.entryPoint = entryPoint
        self.path = path
        self.commit = commit
        self.parameters = parameters
        self.inputs = inputs
        self.outputs = outputs
    }

    func problems(field: String) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        for (name, parameter) in parameters ?? [:] {
            if let reason = TagUpdate.nameProblem(name) { problems.append(FieldProblem(field: "\(field).parameters.\(name)", reason: reason)) }
            if let value = parameter.defaultValue, value.coerced(to: parameter.paramType) == nil {
                problems.append(
                    FieldProblem(field: "\(field).parameters.\(name).defaultValue", reason: "expected \(parameter.paramType.rawValue), got \(value.basicType.rawValue)"))
            }
        }
        for (kind, sockets) in [("inputs", inputs), ("outputs", outputs)] {
            for (name, socket) in sockets ?? [:] {
                if let reason = TagUpdate.nameProblem(name) { problems.append(FieldProblem(field: "\(field).\(kind).\(name)", reason: reason)) }
                if let schema = socket.schema { problems += schema.problems(field: "\(field).\(kind).\(name).schema") }
            }
        }
        return problems
    }
}

/// A parameter a model declares.
public struct ModelParameter: Sendable, Codable, Hashable {
    public var paramType: BasicType
    public var label: String?
    /// Used when a job gives no value; a parameter without a default is required.
    public var defaultValue: Value?

    public init(paramType: BasicType, label: String? = nil, defaultValue: Value? = nil) {
        self.paramType = paramType
        self.label = label
        self.defaultValue = defaultValue
    }
}

/// An input or output a model declares.
public struct ModelInputOutput: Sendable, Codable, Hashable {
    public var label: String?
    /// An optional input may be left out.
    public var optional: Bool?
    /// The fields the data must have (declared by `trac` models; their runtime checks the data
    /// against it).
    public var schema: SchemaDefinition?

    public init(label: String? = nil, optional: Bool? = nil, schema: SchemaDefinition? = nil) {
        self.label = label
        self.optional = optional
        self.schema = schema
    }
}

/// A data set: its schema (a SCHEMA object or inline) and its format.
public struct DataDefinition: Sendable, Codable, Hashable {
    public var schema: TagSelector?
    public var schemaDefinition: SchemaDefinition?
    /// A media type such as `text/csv`.
    public var format: String?
    public var sizeBytes: Int?
    /// The number of rows, where the producer counted them (a `trac` model's outputs).
    public var rowCount: Int?

    public init(
        schema: TagSelector? = nil, schemaDefinition: SchemaDefinition? = nil, format: String? = nil, sizeBytes: Int? = nil,
        rowCount: Int? = nil
    ) {
        self.schema = schema
        self.schemaDefinition = schemaDefinition
        self.format = format
        self.sizeBytes = sizeBytes
        self.rowCount = rowCount
    }
}

/// A file kept as it was uploaded (or produced, like a job's complete log).
public struct FileDefinition: Sendable, Codable, Hashable {
    public var name: String
    public var mimeType: String
    public var sizeBytes: Int
    /// Hex SHA-256 of the content.
    public var sha256: String?

    public init(name: String, mimeType: String, sizeBytes: Int, sha256: String? = nil) {
        self.name = name
        self.mimeType = mimeType
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
    }

    func problems(field: String) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if name.isEmpty || name.contains("/") || name.count > 255 || name == "." || name == ".."
            || name.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "\u{7F}" })
        {
            problems.append(FieldProblem(field: "\(field).name", reason: "must be a file name of 1-255 printable characters without '/'"))
        }
        if mimeType.split(separator: "/").count != 2 || mimeType.contains(" ") {
            problems.append(FieldProblem(field: "\(field).mimeType", reason: "must be a media type such as text/plain"))
        }
        if sizeBytes < 0 { problems.append(FieldProblem(field: "\(field).sizeBytes", reason: "must not be negative")) }
        return problems
    }
}

/// The fields of a tabular data set.
public struct SchemaDefinition: Sendable, Codable, Hashable {
    public var fields: [SchemaField]

    public init(fields: [SchemaField]) { self.fields = fields }

    func problems(field: String) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if fields.isEmpty { problems.append(FieldProblem(field: "\(field).fields", reason: "must list at least one field")) }
        var seen: Set<String> = []
        for (index, schemaField) in fields.enumerated() {
            if let reason = TagUpdate.nameProblem(schemaField.fieldName) {
                problems.append(FieldProblem(field: "\(field).fields[\(index)].fieldName", reason: reason))
            } else if !seen.insert(schemaField.fieldName.lowercased()).inserted {
                problems.append(FieldProblem(field: "\(field).fields[\(index)].fieldName", reason: "duplicate field '\(schemaField.fieldName)'"))
            }
            if !schemaField.fieldType.isScalar {
                problems.append(FieldProblem(field: "\(field).fields[\(index)].fieldType", reason: "must be a scalar type"))
            }
        }
        return problems
    }
}

public struct SchemaField: Sendable, Codable, Hashable {
    public var fieldName: String
    public var fieldType: BasicType
    public var label: String?
    public var businessKey: Bool?
    public var notNull: Bool?

    public init(fieldName: String, fieldType: BasicType, label: String? = nil, businessKey: Bool? = nil, notNull: Bool? = nil) {
        self.fieldName = fieldName
        self.fieldType = fieldType
        self.label = label
        self.businessKey = businessKey
        self.notNull = notNull
    }
}
