import Foundation
import MailboxRules

/// What a deployment allows: the job types its workers run, the largest resource requests, the
/// external storages it has.
public struct DeploymentLimits: Sendable, Hashable, Codable {
    public var enabledTypes: Set<JobType>
    public var maxCpus: Int
    public var maxMemoryMB: Int
    public var maxGpus: Int
    public var maxRunSeconds: Int
    public var storages: Set<String>
    /// The execution profiles jobs may name, by name.
    public var profiles: [String: ExecutionProfile]
    /// Tighter ceilings for some job types (`limits.types.<TYPE>.*`); a type without one has the
    /// deployment's.
    public var byType: [JobType: ResourceCeiling] = [:]

    /// The most a job of `type` may ask for.
    public func ceiling(for type: JobType) -> ResourceCeiling {
        byType[type] ?? ResourceCeiling(maxCpus: maxCpus, maxMemoryMB: maxMemoryMB, maxGpus: maxGpus, maxRunSeconds: maxRunSeconds)
    }

    public init(
        enabledTypes: Set<JobType> = JobType.executable, maxCpus: Int = 64, maxMemoryMB: Int = 262_144, maxGpus: Int = 16,
        maxRunSeconds: Int = ResourceRequirements.maxRunSecondsLimit, storages: Set<String> = ["local"],
        profiles: [String: ExecutionProfile] = [:]
    ) {
        self.profiles = profiles
        self.enabledTypes = enabledTypes
        self.maxCpus = maxCpus
        self.maxMemoryMB = maxMemoryMB
        self.maxGpus = maxGpus
        self.maxRunSeconds = maxRunSeconds
        self.storages = storages
    }
}

/// The most one job may ask for: the deployment's, or its type's.
public struct ResourceCeiling: Sendable, Hashable, Codable {
    public var maxCpus: Int
    public var maxMemoryMB: Int
    public var maxGpus: Int
    public var maxRunSeconds: Int

    public init(maxCpus: Int, maxMemoryMB: Int, maxGpus: Int, maxRunSeconds: Int) {
        self.maxCpus = maxCpus
        self.maxMemoryMB = maxMemoryMB
        self.maxGpus = maxGpus
        self.maxRunSeconds = maxRunSeconds
    }
}

/// Checks a job definition on its own (before any object is looked up), collecting every problem
/// with its JSON path. ``JobReferenceCheck`` then checks what the job refers to.
public struct JobValidator: Sendable {
    public var limits: DeploymentLimits

    public init(limits: DeploymentLimits = DeploymentLimits()) {
        self.limits = limits
    }

    public init(enabledTypes: Set<JobType>) {
        self.limits = DeploymentLimits(enabledTypes: enabledTypes)
    }

    public var enabledTypes: Set<JobType> { limits.enabledTypes }

    /// Decodes and validates a submitted JSON body.
    /// - Throws: ``ValidationFailure`` naming every field that is wrong.
    public func decode(_ body: Data) throws -> JobDefinition {
        let definition = try ConveyorJSON.decode(JobDefinition.self, from: body, checking: JobDefinition.shape)
        try validate(definition)
        return definition
    }

    /// Validates a decoded definition.
    /// - Throws: ``ValidationFailure`` listing all problems.
    public func validate(_ job: JobDefinition) throws {
        var problems: [FieldProblem] = []
        collect(job, at: "", depth: 0, into: &problems)
        if !problems.isEmpty { throw ValidationFailure(problems) }
    }

    private func collect(_ job: JobDefinition, at prefix: String, depth: Int, into problems: inout [FieldProblem]) {
        func path(_ name: String) -> String { prefix + name }
        func check(_ condition: Bool, _ field: String, _ reason: String) {
            if !condition { problems.append(FieldProblem(field: path(field), reason: reason)) }
        }
        func selector(_ selector: TagSelector?, _ field: String, _ type: ObjectType) {
            if let selector { problems += selector.problems(field: path(field), expecting: type) }
        }
        func selectors(_ map: [String: TagSelector]?, _ field: String, _ type: ObjectType) {
            for (name, item) in (map ?? [:]).sorted(by: { $0.key < $1.key }) {
                if let reason = TagUpdate.nameProblem(name) { problems.append(FieldProblem(field: path("\(field).\(name)"), reason: reason)) }
                selector(item, "\(field).\(name)", type)
            }
        }
        func platformSet(_ outputs: [String: TagSelector]?, _ field: String) {
            check(outputs?.isEmpty ?? true, field, "outputs are reported in the job's result (result.outputs); use priorOutputs to write new versions of existing objects")
        }
        func attrs(_ updates: [TagUpdate]?, _ field: String) {
            if let updates, case .failure(let failure) = TagUpdate.apply(updates, to: [:], field: path(field)) {
                problems += failure.problems
            }
        }
        func parameters(_ values: [String: Value]?, _ field: String) {
            for name in (values ?? [:]).keys.sorted() {
                if let reason = TagUpdate.nameProblem(name) { problems.append(FieldProblem(field: path("\(field).\(name)"), reason: reason)) }
            }
        }
        func location(_ location: StorageLocation, _ field: String) {
            check(limits.storages.contains(location.effectiveStorage), "\(field).storage",
                  "unknown storage '\(location.effectiveStorage)' (available: \(limits.storages.sorted().joined(separator: ", ")))")
            if let reason = Self.relativePathProblem(location.path, allowEmpty: false) {
                problems.append(FieldProblem(field: path("\(field).path"), reason: reason))
            }
        }
        func storageAccess(_ keys: [String]?, _ field: String) {
            for (index, key) in (keys ?? []).enumerated() where !limits.storages.contains(key) {
                problems.append(FieldProblem(field: path("\(field)[\(index)]"), reason: "unknown storage '\(key)'"))
            }
        }

        check(
            limits.enabledTypes.contains(job.jobType), "jobType",
            "\(job.jobType.rawValue) is not enabled in this deployment (enabled: \(limits.enabledTypes.map(\.rawValue).sorted().joined(separator: ", ")))")

        let sections: [(JobType, String, Bool)] = [
            (.importModel, "importModel", job.importModel != nil), (.importData, "importData", job.importData != nil),
            (.exportData, "exportData", job.exportData != nil), (.runModel, "runModel", job.runModel != nil),
            (.runFlow, "runFlow", job.runFlow != nil), (.jobGroup, "jobGroup", job.jobGroup != nil),
        ]
        for (type, name, present) in sections {
            if type == job.jobType {
                check(present, name, "required for jobType \(type.rawValue)")
            } else {
                check(!present, name, "not allowed for jobType \(job.jobType.rawValue)")
            }
        }

        if let model = job.importModel {
            check(!model.repository.trimmingCharacters(in: .whitespaces).isEmpty, "importModel.repository", "must not be empty")
            check(!model.version.trimmingCharacters(in: .whitespaces).isEmpty, "importModel.version", "must not be empty")
            check(!model.version.hasPrefix("-"), "importModel.version", "must not start with '-'")
            check(!model.repository.hasPrefix("-"), "importModel.repository", "must not start with '-'")
            if let reason = Self.relativePathProblem(model.entryPoint, allowEmpty: false) {
                problems.append(FieldProblem(field: path("importModel.entryPoint"), reason: reason))
            }
            if let modelPath = model.path, let reason = Self.relativePathProblem(modelPath, allowEmpty: true) {
                problems.append(FieldProblem(field: path("importModel.path"), reason: reason))
            }
            check(
                ImportModelJob.languages.contains(model.language), "importModel.language",
                "must be one of \(ImportModelJob.languages.sorted().joined(separator: ", "))")
            if model.language == "trac" {
                check(
                    ImportModelJob.isTracEntryPoint(model.entryPoint), "importModel.entryPoint",
                    "a trac model's entry point is module.Class (dotted Python names), such as trac_example.scale_model.ScaleModel")
            }
            attrs(model.modelAttrs, "importModel.modelAttrs")
        }
        if let run = job.runModel {
            selector(run.model, "runModel.model", .model)
            parameters(run.parameters, "runModel.parameters")
            selectors(run.inputs, "runModel.inputs", .data)
            selectors(run.priorOutputs, "runModel.priorOutputs", .data)
            platformSet(run.outputs, "runModel.outputs")
            attrs(run.outputAttrs, "runModel.outputAttrs")
        }
        if let flow = job.runFlow {
            selector(flow.flow, "runFlow.flow", .flow)
            check(!flow.models.isEmpty, "runFlow.models", "must name a model for every model node")
            selectors(flow.models, "runFlow.models", .model)
            parameters(flow.parameters, "runFlow.parameters")
            selectors(flow.inputs, "runFlow.inputs", .data)
            selectors(flow.priorOutputs, "runFlow.priorOutputs", .data)
            platformSet(flow.outputs, "runFlow.outputs")
            attrs(flow.outputAttrs, "runFlow.outputAttrs")
            for (node, outputs) in (flow.reuse ?? [:]).sorted(by: { $0.key < $1.key }) {
                check(!outputs.isEmpty, "runFlow.reuse.\(node)", "must name the node's outputs")
                selectors(outputs, "runFlow.reuse.\(node)", .data)
            }
        }
        if let importData = job.importData {
            selector(importData.model, "importData.model", .model)
            parameters(importData.parameters, "importData.parameters")
            selectors(importData.inputs, "importData.inputs", .data)
            selectors(importData.priorOutputs, "importData.priorOutputs", .data)
            platformSet(importData.outputs, "importData.outputs")
            check(!importData.imports.isEmpty, "importData.imports", "must name at least one file to import")
            for (name, item) in importData.imports.sorted(by: { $0.key < $1.key }) {
                if let reason = TagUpdate.nameProblem(name) { problems.append(FieldProblem(field: path("importData.imports.\(name)"), reason: reason)) }
                location(item, "importData.imports.\(name)")
            }
            for name in (importData.priorOutputs ?? [:]).keys.sorted() where importData.imports[name] == nil {
                problems.append(FieldProblem(field: path("importData.priorOutputs.\(name)"), reason: "no import named '\(name)'"))
            }
            if importData.model == nil {
                check(importData.parameters?.isEmpty ?? true, "importData.parameters", "parameters are for an import model; name one in importData.model")
                check(importData.inputs?.isEmpty ?? true, "importData.inputs", "inputs are for an import model; name one in importData.model")
            }
            storageAccess(importData.storageAccess, "importData.storageAccess")
            attrs(importData.importAttrs, "importData.importAttrs")
            attrs(importData.outputAttrs, "importData.outputAttrs")
        }
        if let export = job.exportData {
            selector(export.model, "exportData.model", .model)
            parameters(export.parameters, "exportData.parameters")
            check(!export.inputs.isEmpty, "exportData.inputs", "must name at least one DATA object to export")
            selectors(export.inputs, "exportData.inputs", .data)
            selectors(export.priorOutputs, "exportData.priorOutputs", .data)
            platformSet(export.outputs, "exportData.outputs")
            for (name, item) in export.exports.sorted(by: { $0.key < $1.key }) {
                location(item, "exportData.exports.\(name)")
                check(export.inputs[name] != nil, "exportData.exports.\(name)", "no input named '\(name)'")
            }
            for name in export.inputs.keys.sorted() where export.exports[name] == nil {
                problems.append(FieldProblem(field: path("exportData.exports"), reason: "input '\(name)' has no export location"))
            }
            if export.model == nil {
                check(export.parameters?.isEmpty ?? true, "exportData.parameters", "parameters are for an export model; name one in exportData.model")
            }
            storageAccess(export.storageAccess, "exportData.storageAccess")
            attrs(export.outputAttrs, "exportData.outputAttrs")
        }
        if let group = job.jobGroup {
            check(!group.jobs.isEmpty, "jobGroup.jobs", "must list at least one job")
            check(group.jobs.count <= JobGroupJob.maxJobs, "jobGroup.jobs", "must list at most \(JobGroupJob.maxJobs) jobs")
            if depth + 1 >= JobGroupJob.maxDepth {
                problems.append(FieldProblem(field: path("jobGroup.jobs"), reason: "groups nest at most \(JobGroupJob.maxDepth) levels deep"))
            } else {
                for (index, child) in group.jobs.enumerated() {
                    let childPath = path("jobGroup.jobs[\(index)].")
                    collect(child, at: childPath, depth: depth + 1, into: &problems)
                    if child.idempotencyKey != nil {
                        problems.append(FieldProblem(field: childPath + "idempotencyKey", reason: "only the group takes an idempotency key"))
                    }
                }
            }
        }

        if let priority = job.priority {
            check(
                JobDefinition.priorityRange.contains(priority), "priority",
                "must be between \(JobDefinition.priorityRange.lowerBound) and \(JobDefinition.priorityRange.upperBound)")
        }
        if let resources = job.resources {
            let ceiling = limits.ceiling(for: job.jobType)
            let whose = limits.byType[job.jobType] == nil ? "this deployment's limit" : "this deployment's limit for \(job.jobType.rawValue) jobs"
            if let cpus = resources.cpus {
                check(cpus >= 1 && cpus <= ceiling.maxCpus, "resources.cpus", "must be between 1 and \(ceiling.maxCpus) (\(whose))")
            }
            if let memory = resources.memoryMB {
                check(memory >= 1 && memory <= ceiling.maxMemoryMB, "resources.memoryMB", "must be between 1 and \(ceiling.maxMemoryMB) (\(whose))")
            }
            if let gpus = resources.gpus {
                check(gpus >= 0 && gpus <= ceiling.maxGpus, "resources.gpus", "must be between 0 and \(ceiling.maxGpus) (\(whose))")
            }
            if let seconds = resources.maxRunSeconds {
                check(
                    seconds >= 1 && seconds <= ceiling.maxRunSeconds, "resources.maxRunSeconds",
                    "must be between 1 and \(ceiling.maxRunSeconds) (\(whose))")
            }
        }
        if let name = job.profile {
            if let profile = limits.profiles[name] {
                for problem in profile.problems(job.resources, field: "resources") {
                    problems.append(FieldProblem(field: path(problem.field), reason: problem.reason))
                }
            } else {
                let known = limits.profiles.keys.sorted()
                check(false, "profile", "no execution profile '\(name)' (this deployment has \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
            }
            check(
                [.runModel, .runFlow].contains(job.jobType), "profile",
                "execution profiles apply to RUN_MODEL and RUN_FLOW jobs, not \(job.jobType.rawValue)")
        }
        if let retry = job.retry {
            problems += retry.problems(at: "retry.")
            if job.jobType == .jobGroup { problems.append(FieldProblem(field: "retry", reason: "a JOB_GROUP is not retried; give its jobs a retry policy")) }
        }
        if let dependencies = job.dependsOn {
            if job.jobType == .jobGroup || depth > 0 {
                problems.append(FieldProblem(field: path("dependsOn"), reason: "a JOB_GROUP and the jobs in one cannot depend on other jobs; order the group's jobs instead"))
            }
            check(!dependencies.jobIds.isEmpty && dependencies.jobIds.count <= Dependencies.maxJobs, "dependsOn.jobIds",
                "must name between 1 and \(Dependencies.maxJobs) jobs")
            check(Set(dependencies.jobIds).count == dependencies.jobIds.count, "dependsOn.jobIds", "names a job twice")
        }
        if let notification = job.notification {
            problems += notification.problems(prefix: path("notification."))
        }
        if let owner = job.owner {
            check(Self.isPlainText(owner, maxLength: 200) && !owner.isEmpty, "owner", "must be 1-200 printable characters")
        }
        if let key = job.idempotencyKey {
            check(Self.isPlainText(key, maxLength: 200) && !key.isEmpty, "idempotencyKey", "must be 1-200 printable characters")
        }
        for (key, value) in (job.labels ?? [:]).sorted(by: { $0.key < $1.key }) {
            check(Self.isPlainText(key, maxLength: 100) && !key.isEmpty, "labels.\(key)", "label names must be 1-100 printable characters")
            check(Self.isPlainText(value, maxLength: 500), "labels.\(key)", "label values must be at most 500 printable characters")
        }
    }

    /// Why `path` is not a safe relative path, or nil when it is.
    public static func relativePathProblem(_ path: String, allowEmpty: Bool) -> String? {
        if path.isEmpty || path == "." { return allowEmpty ? nil : "must not be empty" }
        if path.hasPrefix("/") { return "must be a relative path" }
        if path.split(separator: "/").contains("..") { return "must not contain '..'" }
        if path.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "\u{7F}" }) {
            return "must not contain control characters"
        }
        return nil
    }

    static func isPlainText(_ text: String, maxLength: Int) -> Bool {
        text.count <= maxLength && !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "\u{7F}" })
    }

    /// Turns a decoding error into a problem naming the JSON path.
    public static func problem(from error: DecodingError) -> FieldProblem {
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return text.isEmpty ? "$" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return FieldProblem(field: parent == "$" ? key.stringValue : "\(parent).\(key.stringValue)", reason: "is required")
        case .typeMismatch(let type, let context):
            return FieldProblem(field: path(context.codingPath), reason: "expected \(describe(type))")
        case .valueNotFound(let type, let context):
            return FieldProblem(field: path(context.codingPath), reason: "expected \(describe(type)), got null")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return FieldProblem(field: "$", reason: "body is not valid JSON")
            }
            return FieldProblem(field: path(context.codingPath), reason: readable(context.debugDescription))
        @unknown default:
            return FieldProblem(field: "$", reason: "cannot be decoded")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "a boolean"
        default:
            if "\(type)".hasPrefix("Array") { "an array" } else if "\(type)".hasPrefix("Dictionary") { "an object" } else { "an object" }
        }
    }

    private static func readable(_ debugDescription: String) -> String {
        if debugDescription.contains("Cannot initialize") {
            // e.g. "Cannot initialize JobType from invalid String value RUN_X"
            if let range = debugDescription.range(of: "invalid String value ") {
                return "unknown value '\(debugDescription[range.upperBound...])'"
            }
            return "invalid value"
        }
        if debugDescription.contains("UUID") { return "not a valid UUID" }
        return debugDescription
    }
}
