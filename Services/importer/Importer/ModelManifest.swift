import ConveyorModels
import Foundation
import WorkerKit

/// What a model declares in `conveyor-model.json` (in the model's folder): its parameters with
/// types and defaults, its inputs and its outputs. Jobs are checked against the declarations; a
/// model without the file declares nothing, and its jobs' parameters and inputs pass as given.
///
/// ```json
/// {"parameters": {"rows": {"paramType": "INTEGER", "defaultValue": 3}},
///  "inputs": {"customers": {"label": "customer list"}}, "outputs": {"summary": {}}}
/// ```
struct ModelManifest: Codable {
    var parameters: [String: ModelParameter]?
    var inputs: [String: ModelInputOutput]?
    var outputs: [String: ModelInputOutput]?

    static let fileName = "conveyor-model.json"

    static let shape = JSONShape.object([
        "parameters": .optional(.map(.object([
            "paramType": .required(.enumeration(BasicType.self)), "label": .optional(.string), "defaultValue": .optional(.value),
        ]))),
        "inputs": .optional(.map(socket)),
        "outputs": .optional(.map(socket)),
    ])

    /// An input or output: its label, whether it may be left out, and (TRAC models) its schema.
    static let socket = JSONShape.object([
        "label": .optional(.string), "optional": .optional(.boolean),
        "schema": .optional(.object([
            "fields": .required(.array(.object([
                "fieldName": .required(.string), "fieldType": .required(.enumeration(BasicType.self)),
                "label": .optional(.string), "businessKey": .optional(.boolean), "notNull": .optional(.boolean),
            ])))
        ])),
    ])

    /// Reads and checks the manifest in `folder`.
    /// - Throws: ``JobFailure`` listing every problem of a manifest that is there but wrong.
    static func read(from folder: String) throws -> ModelManifest {
        guard let data = FileManager.default.contents(atPath: folder + "/" + fileName) else { return ModelManifest() }
        return try decode(data, from: fileName)
    }

    /// Checks and decodes declarations (`what` names where they come from in messages).
    static func decode(_ data: Data, from what: String) throws -> ModelManifest {
        var manifest: ModelManifest
        do {
            manifest = try ConveyorJSON.decode(ModelManifest.self, from: data, checking: shape)
        } catch let failure as ValidationFailure {
            throw JobFailure("\(what) is invalid: \(failure)")
        }
        let definition = ModelDefinition(
            language: "shell", repository: "-", version: "-", entryPoint: "-", parameters: manifest.parameters,
            inputs: manifest.inputs, outputs: manifest.outputs)
        let problems = ObjectDefinition.model(definition).problems(field: what)
        guard problems.isEmpty else { throw JobFailure("\(what) is invalid: \(ValidationFailure(problems))") }
        // With a manifest, what it leaves out is declared empty: the model takes nothing else.
        manifest.parameters = manifest.parameters ?? [:]
        manifest.inputs = manifest.inputs ?? [:]
        manifest.outputs = manifest.outputs ?? [:]
        return manifest
    }

    var summary: String {
        func names(_ map: [String: some Any]?) -> String { (map ?? [:]).keys.sorted().joined(separator: ", ").ifEmpty("none") }
        return "the model declares parameters: \(names(parameters)); inputs: \(names(inputs)); outputs: \(names(outputs))"
    }
}

extension String {
    func ifEmpty(_ replacement: String) -> String { isEmpty ? replacement : self }
}
