import Foundation

/// Checks what a job refers to and pins it: every referenced object exists with the right type and
/// is pinned to the exact object and tag version that was current; parameters and inputs match what
/// the model (or each model of a flow) declares; parameter values are converted to the declared
/// types and defaults filled in. Every problem is listed with its JSON path.
public struct JobReferenceCheck {
    /// Looks up an object by selector; nil when there is none.
    public typealias Resolve = (TagSelector) async throws -> ObjectRecord?

    let resolve: Resolve
    /// Who submits: every object must be readable by them (``ObjectAccess``); nil checks no access.
    let caller: Principal?
    var problems: [FieldProblem] = []
    /// Whether an object was one the caller may not read.
    var refusedAccess = false

    public init(caller: Principal? = nil, resolve: @escaping Resolve) {
        self.caller = caller
        self.resolve = resolve
    }

    /// The pinned definition, or every problem found.
    public static func pin(
        _ job: JobDefinition, caller: Principal? = nil, resolve: @escaping Resolve
    ) async throws -> Result<JobDefinition, ValidationFailure> {
        var check = JobReferenceCheck(caller: caller, resolve: resolve)
        var pinned = job
        try await check.pin(&pinned, at: "")
        return check.problems.isEmpty ? .success(pinned) : .failure(ValidationFailure(check.problems, forbidden: check.refusedAccess))
    }

    mutating func pin(_ job: inout JobDefinition, at prefix: String) async throws {
        if var run = job.runModel {
            if let model = try await object(&run.model, prefix + "runModel.model", .model) {
                let declared = model.definition.model
                run.parameters = typed(run.parameters, declared: [declared?.parameters], prefix + "runModel.parameters")
                try await inputs(&run.inputs, declared: declared?.inputs, prefix + "runModel.inputs")
                if let outputs = declared?.outputs {
                    try await priorOutputs(&run.priorOutputs, declared: Set(outputs.keys), prefix + "runModel.priorOutputs")
                } else {
                    try await selectors(&run.priorOutputs, prefix + "runModel.priorOutputs", .data, needsContent: false, forWriting: true)
                }
            } else {
                try await selectors(&run.inputs, prefix + "runModel.inputs", .data)
                try await selectors(&run.priorOutputs, prefix + "runModel.priorOutputs", .data, needsContent: false, forWriting: true)
            }
            job.runModel = run
        }
        if var flowJob = job.runFlow {
            try await pinFlow(&flowJob, prefix + "runFlow")
            job.runFlow = flowJob
        }
        if var importData = job.importData {
            if importData.model != nil, let model = try await object(&importData.model!, prefix + "importData.model", .model) {
                importData.parameters = typed(importData.parameters, declared: [model.definition.model?.parameters], prefix + "importData.parameters")
            }
            try await selectors(&importData.inputs, prefix + "importData.inputs", .data)
            try await selectors(&importData.priorOutputs, prefix + "importData.priorOutputs", .data, needsContent: false, forWriting: true)
            job.importData = importData
        }
        if var export = job.exportData {
            if export.model != nil, let model = try await object(&export.model!, prefix + "exportData.model", .model) {
                export.parameters = typed(export.parameters, declared: [model.definition.model?.parameters], prefix + "exportData.parameters")
            }
            var inputs: [String: TagSelector]? = export.inputs
            try await selectors(&inputs, prefix + "exportData.inputs", .data)
            export.inputs = inputs ?? [:]
            try await selectors(&export.priorOutputs, prefix + "exportData.priorOutputs", .data, needsContent: false, forWriting: true)
            job.exportData = export
        }
        if var group = job.jobGroup {
            for index in group.jobs.indices {
                try await pin(&group.jobs[index], at: prefix + "jobGroup.jobs[\(index)].")
            }
            job.jobGroup = group
        }
    }

    private mutating func pinFlow(_ job: inout RunFlowJob, _ field: String) async throws {
        guard let flowObject = try await object(&job.flow, field + ".flow", .flow), let flow = flowObject.definition.flow else {
            try await selectors(&job.inputs, field + ".inputs", .data)
            return
        }
        let graphProblems = flow.problems(field: field + ".flow")
        guard graphProblems.isEmpty else {
            problems += graphProblems
            return
        }
        let modelNodes = flow.nodes.filter { $0.value.nodeType == .model }
        var declaredParameters: [[String: ModelParameter]?] = []
        var models = job.models
        for (name, node) in modelNodes.sorted(by: { $0.key < $1.key }) {
            guard models[name] != nil else {
                problems.append(FieldProblem(field: "\(field).models", reason: "model node '\(name)' has no model"))
                continue
            }
            guard let model = try await object(&models[name]!, "\(field).models.\(name)", .model) else { continue }
            let declared = model.definition.model
            declaredParameters.append(declared?.parameters)
            // A model that declares nothing (no conveyor-model.json) is taken as it is.
            guard let inputs = declared?.inputs, let declaredOutputs = declared?.outputs else { continue }
            let outputs = Set(declaredOutputs.keys)
            for socket in node.inputs ?? [] where inputs[socket] == nil {
                problems.append(FieldProblem(field: "\(field).models.\(name)", reason: "the model declares no input '\(socket)' (flow node '\(name)' needs it)"))
            }
            for (socket, input) in inputs.sorted(by: { $0.key < $1.key }) where input.optional != true && !(node.inputs ?? []).contains(socket) {
                problems.append(FieldProblem(field: "\(field).models.\(name)", reason: "the model's required input '\(socket)' is not an input of flow node '\(name)'"))
            }
            for socket in node.outputs ?? [] where !outputs.contains(socket) {
                problems.append(FieldProblem(field: "\(field).models.\(name)", reason: "the model declares no output '\(socket)' (flow node '\(name)' needs it)"))
            }
        }
        for name in models.keys.sorted() where modelNodes[name] == nil {
            problems.append(FieldProblem(field: "\(field).models.\(name)", reason: "the flow has no model node '\(name)'"))
        }
        job.models = models
        job.parameters = typed(job.parameters, declared: declaredParameters, field + ".parameters")
        let inputNodes = Set(flow.nodes.filter { $0.value.nodeType == .input }.keys)
        for name in inputNodes.sorted() where job.inputs?[name] == nil {
            problems.append(FieldProblem(field: field + ".inputs", reason: "flow input '\(name)' is not supplied"))
        }
        for name in (job.inputs ?? [:]).keys.sorted() where !inputNodes.contains(name) {
            problems.append(FieldProblem(field: "\(field).inputs.\(name)", reason: "the flow has no input node '\(name)'"))
        }
        try await selectors(&job.inputs, field + ".inputs", .data)
        let outputNodes = Set(flow.nodes.filter { $0.value.nodeType == .output }.keys)
        try await priorOutputs(&job.priorOutputs, declared: outputNodes, field + ".priorOutputs")
        try await reuse(&job.reuse, flow: flow, field + ".reuse")
    }

    /// Outputs kept from an earlier run: each names a model node and gives every socket the flow
    /// takes from it, as DATA with content.
    private mutating func reuse(_ reuse: inout [String: [String: TagSelector]]?, flow: FlowDefinition, _ field: String) async throws {
        guard var kept = reuse else { return }
        for name in kept.keys.sorted() {
            guard flow.nodes[name]?.nodeType == .model else {
                problems.append(FieldProblem(field: "\(field).\(name)", reason: "the flow has no model node '\(name)'"))
                continue
            }
            let used = Set(flow.edges.filter { $0.source.node == name }.compactMap(\.source.socket))
            for socket in used.sorted() where kept[name]?[socket] == nil {
                problems.append(FieldProblem(field: "\(field).\(name)", reason: "output '\(socket)' of node '\(name)' is used by the flow and not given"))
            }
            var outputs: [String: TagSelector]? = kept[name]
            try await selectors(&outputs, "\(field).\(name)", .data)
            kept[name] = outputs
        }
        reuse = kept
    }

    /// Resolves and pins one selector; records a problem and returns nil when it cannot be used.
    /// Inputs must have content; a prior output only names the object a new version is written to,
    /// and the caller must be allowed to change that object (``ObjectAccess/mayChange(owner:as:)``).
    /// Access is checked before anything else about the object is said (not even its type).
    private mutating func object(
        _ selector: inout TagSelector, _ field: String, _ type: ObjectType, needsContent: Bool = true, forWriting: Bool = false
    ) async throws -> ObjectRecord? {
        guard let record = try await resolve(selector) else {
            problems.append(FieldProblem(field: field + ".objectId", reason: "no \(type.rawValue) object \(selector.objectId.uuidString.lowercased())\(selector.versionDescription)"))
            return nil
        }
        if let caller {
            let objectId = record.objectId.uuidString.lowercased()
            let refusal =
                forWriting
                ? ObjectAccess.changeRefusal(objectId, owner: record.owner, sharedWith: record.sharedWith, as: caller)
                : ObjectAccess.mayRead(owner: record.owner, sharedWith: record.sharedWith, as: caller) ? nil : ObjectAccess.readRefusal(objectId)
            if let refusal {
                problems.append(FieldProblem(field: field + ".objectId", reason: refusal))
                refusedAccess = true
                return nil
            }
        }
        guard record.objectType == type else {
            problems.append(FieldProblem(field: field + ".objectId", reason: "is a \(record.objectType.rawValue) object, expected \(type.rawValue)"))
            return nil
        }
        if type == .data, needsContent, record.storagePath == nil {
            problems.append(FieldProblem(field: field + ".objectId", reason: "DATA object \(record.objectId.uuidString.lowercased()) v\(record.objectVersion) has no content (upload it with POST /api/v1/data)"))
            return nil
        }
        selector = record.selector
        return record
    }

    private mutating func selectors(
        _ map: inout [String: TagSelector]?, _ field: String, _ type: ObjectType, needsContent: Bool = true, forWriting: Bool = false
    ) async throws {
        guard var entries = map else { return }
        for name in entries.keys.sorted() {
            _ = try await object(&entries[name]!, "\(field).\(name)", type, needsContent: needsContent, forWriting: forWriting)
        }
        map = entries
    }

    private mutating func inputs(_ map: inout [String: TagSelector]?, declared: [String: ModelInputOutput]?, _ field: String) async throws {
        guard let declared else { return try await selectors(&map, field, .data) }
        for name in (map ?? [:]).keys.sorted() where declared[name] == nil {
            problems.append(FieldProblem(field: "\(field).\(name)", reason: "the model declares no input '\(name)' (declared: \(Self.list(declared.keys)))"))
        }
        for (name, input) in declared.sorted(by: { $0.key < $1.key }) where input.optional != true && map?[name] == nil {
            problems.append(FieldProblem(field: field, reason: "input '\(name)' is required by the model"))
        }
        try await selectors(&map, field, .data)
    }

    private mutating func priorOutputs(_ map: inout [String: TagSelector]?, declared: Set<String>, _ field: String) async throws {
        for name in (map ?? [:]).keys.sorted() where !declared.contains(name) {
            problems.append(FieldProblem(field: "\(field).\(name)", reason: "there is no output '\(name)' (outputs: \(Self.list(declared)))"))
        }
        try await selectors(&map, field, .data, needsContent: false, forWriting: true)
    }

    /// Checks parameters against the declarations of one or more models and converts them to the
    /// declared types; fills in defaults.
    /// A model whose parameters are nil declares nothing (it has no `conveyor-model.json`): then any
    /// parameter is passed to it as given.
    private mutating func typed(_ values: [String: Value]?, declared: [[String: ModelParameter]?], _ field: String) -> [String: Value]? {
        var result = values ?? [:]
        var known: [String: ModelParameter] = [:]
        var required: Set<String> = []
        var defaults: [String: Set<Value>] = [:]
        let acceptsAnything = declared.contains { $0 == nil }
        for declarations in declared.compactMap({ $0 }) {
            for (name, parameter) in declarations {
                if let other = known[name], other.paramType != parameter.paramType {
                    problems.append(FieldProblem(field: "\(field).\(name)", reason: "the models declare '\(name)' with different types (\(other.paramType.rawValue), \(parameter.paramType.rawValue))"))
                }
                known[name] = parameter
                if let value = parameter.defaultValue {
                    defaults[name, default: []].insert(value.coerced(to: parameter.paramType) ?? value)
                } else {
                    required.insert(name)
                }
            }
        }
        for (name, value) in (values ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let parameter = known[name] else {
                if acceptsAnything { continue }
                problems.append(FieldProblem(field: "\(field).\(name)", reason: "the model declares no parameter '\(name)' (declared: \(Self.list(known.keys)))"))
                continue
            }
            guard let converted = value.coerced(to: parameter.paramType) else {
                problems.append(FieldProblem(field: "\(field).\(name)", reason: "expected \(parameter.paramType.rawValue), got \(value.basicType.rawValue)"))
                continue
            }
            result[name] = converted
        }
        for (name, parameter) in known.sorted(by: { $0.key < $1.key }) where result[name] == nil {
            if required.contains(name) {
                problems.append(FieldProblem(field: field, reason: "parameter '\(name)' (\(parameter.paramType.rawValue)) is required by the model"))
            } else if let values = defaults[name], values.count == 1 {
                result[name] = values.first
            } else {
                problems.append(FieldProblem(field: field, reason: "the models declare different defaults for '\(name)'; give it a value"))
            }
        }
        return result.isEmpty && values == nil ? nil : result
    }

    private static func list(_ names: some Collection<String>) -> String {
        names.isEmpty ? "none" : names.sorted().joined(separator: ", ")
    }
}
