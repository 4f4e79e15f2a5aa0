import Foundation

/// Checks a job definition before anything is written, collecting every problem with its field path.
public struct JobValidator: Sendable {
    /// The job types this deployment accepts.
    public var enabledTypes: Set<JobType>

    public init(enabledTypes: Set<JobType> = JobType.executable) {
        self.enabledTypes = enabledTypes
    }

    /// Decodes and validates a submitted JSON body.
    /// - Throws: ``ValidationFailure`` naming each field that is wrong.
    public func decode(_ body: Data) throws -> JobDefinition {
        let definition: JobDefinition
        do {
            definition = try ConveyorJSON.decode(JobDefinition.self, from: body)
        } catch let error as DecodingError {
            throw ValidationFailure([Self.problem(from: error)])
        } catch {
            throw ValidationFailure([FieldProblem(field: "$", reason: "body is not valid JSON")])
        }
        try validate(definition)
        return definition
    }

    /// Validates a decoded definition.
    /// - Throws: ``ValidationFailure`` listing all problems.
    public func validate(_ job: JobDefinition) throws {
        var problems: [FieldProblem] = []
        func check(_ condition: Bool, _ field: String, _ reason: String) {
            if !condition { problems.append(FieldProblem(field: field, reason: reason)) }
        }

        check(
            enabledTypes.contains(job.jobType), "jobType",
            "\(job.jobType.rawValue) is not enabled in this deployment (enabled: \(enabledTypes.map(\.rawValue).sorted().joined(separator: ", ")))")

        let sections: [(JobType, String, Bool)] = [
            (.importModel, "importModel", job.importModel != nil),
            (.runModel, "runModel", job.runModel != nil),
            (.exportData, "exportData", job.exportData != nil),
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
                problems.append(FieldProblem(field: "importModel.entryPoint", reason: reason))
            }
            if let path = model.path, let reason = Self.relativePathProblem(path, allowEmpty: true) {
                problems.append(FieldProblem(field: "importModel.path", reason: reason))
            }
            check(
                ImportModelJob.languages.contains(model.language), "importModel.language",
                "must be one of \(ImportModelJob.languages.sorted().joined(separator: ", "))")
        }
        if let run = job.runModel {
            check(
                run.model.objectType == nil || run.model.objectType == .model, "runModel.model.objectType",
                "must be MODEL")
            check((run.model.objectVersion ?? 1) >= 1, "runModel.model.objectVersion", "must be at least 1")
        }
        if let export = job.exportData {
            check(
                export.data.objectType == nil || export.data.objectType == .data, "exportData.data.objectType",
                "must be DATA")
            check((export.data.objectVersion ?? 1) >= 1, "exportData.data.objectVersion", "must be at least 1")
            check((export.storage ?? "local") == "local", "exportData.storage", "unknown storage (available: local)")
            if let reason = Self.relativePathProblem(export.path, allowEmpty: false) {
                problems.append(FieldProblem(field: "exportData.path", reason: reason))
            }
        }

        if let priority = job.priority {
            check(
                JobDefinition.priorityRange.contains(priority), "priority",
                "must be between \(JobDefinition.priorityRange.lowerBound) and \(JobDefinition.priorityRange.upperBound)")
        }
        if let resources = job.resources {
            if let cpus = resources.cpus { check(cpus >= 1 && cpus <= 256, "resources.cpus", "must be between 1 and 256") }
            if let memory = resources.memoryMB {
                check(memory >= 1 && memory <= 1_048_576, "resources.memoryMB", "must be between 1 and 1048576")
            }
            if let seconds = resources.maxRunSeconds {
                check(
                    seconds >= 1 && seconds <= ResourceRequirements.maxRunSecondsLimit, "resources.maxRunSeconds",
                    "must be between 1 and \(ResourceRequirements.maxRunSecondsLimit)")
            }
        }
        if let notification = job.notification {
            check(!notification.email.isEmpty, "notification.email", "must list at least one address")
            for (index, address) in notification.email.enumerated() where !Self.isPlausibleEmail(address) {
                problems.append(FieldProblem(field: "notification.email[\(index)]", reason: "not a valid e-mail address"))
            }
            if let on = notification.on {
                for (index, status) in on.enumerated() where !status.isTerminal {
                    problems.append(
                        FieldProblem(field: "notification.on[\(index)]", reason: "\(status.rawValue) is not a terminal status"))
                }
            }
        }
        if let owner = job.owner {
            check(Self.isPlainText(owner, maxLength: 200) && !owner.isEmpty, "owner", "must be 1-200 printable characters")
        }
        if let key = job.idempotencyKey {
            check(Self.isPlainText(key, maxLength: 200) && !key.isEmpty, "idempotencyKey", "must be 1-200 printable characters")
        }
        for (key, value) in job.labels ?? [:] {
            check(Self.isPlainText(key, maxLength: 100) && !key.isEmpty, "labels.\(key)", "label names must be 1-100 printable characters")
            check(Self.isPlainText(value, maxLength: 500), "labels.\(key)", "label values must be at most 500 printable characters")
        }
        if !problems.isEmpty { throw ValidationFailure(problems) }
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

    static func isPlausibleEmail(_ text: String) -> Bool {
        guard isPlainText(text, maxLength: 254), !text.contains(" "), !text.contains("<"), !text.contains(">") else {
            return false
        }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
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
