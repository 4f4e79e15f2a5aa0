/// One change to an object's attributes (TRAC's `TagUpdate`). A list of updates is applied in order
/// and produces a new tag version; the object version itself never changes.
public struct TagUpdate: Sendable, Codable, Hashable {
    public enum Operation: String, Sendable, Codable, CaseIterable, Hashable {
        /// Set the attribute, replacing any value it had (the default).
        case createOrReplace = "CREATE_OR_REPLACE"
        /// Set the attribute, or add the value to it when it exists (making it multi-valued).
        case createOrAppend = "CREATE_OR_APPEND"
        /// Set an attribute that must not exist yet.
        case create = "CREATE"
        /// Replace an attribute that must exist.
        case replace = "REPLACE"
        /// Add a value to an attribute that must exist, with the same type.
        case append = "APPEND"
        /// Remove an attribute that must exist.
        case delete = "DELETE"
        /// Remove every attribute.
        case clearAll = "CLEAR_ALL"
    }

    public var operation: Operation?
    public var attrName: String?
    public var value: Value?

    public init(_ operation: Operation? = nil, attrName: String? = nil, value: Value? = nil) {
        self.operation = operation
        self.attrName = attrName
        self.value = value
    }

    public var effectiveOperation: Operation { operation ?? .createOrReplace }

    /// Attribute names: a letter or `_`, then letters, digits or `_`, at most 100 characters.
    /// Names starting with `conveyor_` are set by the platform only.
    public static func nameProblem(_ name: String) -> String? {
        guard let first = name.unicodeScalars.first, name.count <= 100,
            first == "_" || (first.isASCII && first.properties.isAlphabetic),
            name.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) })
        else { return "attribute names are 1-100 letters, digits or '_', not starting with a digit" }
        return nil
    }

    /// Applies `updates` in order to `attributes`; every problem is listed (field paths start at `field`).
    public static func apply(
        _ updates: [TagUpdate], to attributes: [String: Value], field: String, allowReserved: Bool = false
    ) -> Result<[String: Value], ValidationFailure> {
        var result = attributes
        var problems: [FieldProblem] = []
        for (index, update) in updates.enumerated() {
            let path = "\(field)[\(index)]"
            let operation = update.effectiveOperation
            if operation == .clearAll {
                result = result.filter { $0.key.hasPrefix(reservedPrefix) }
                continue
            }
            guard let name = update.attrName else {
                problems.append(FieldProblem(field: path + ".attrName", reason: "is required for \(operation.rawValue)"))
                continue
            }
            if let reason = nameProblem(name) {
                problems.append(FieldProblem(field: path + ".attrName", reason: reason))
                continue
            }
            if name.hasPrefix(reservedPrefix) && !allowReserved {
                problems.append(FieldProblem(field: path + ".attrName", reason: "names starting with '\(reservedPrefix)' are reserved"))
                continue
            }
            let existing = result[name]
            if operation == .delete {
                if existing == nil {
                    problems.append(FieldProblem(field: path + ".attrName", reason: "attribute '\(name)' does not exist"))
                }
                result[name] = nil
                continue
            }
            guard let value = update.value else {
                problems.append(FieldProblem(field: path + ".value", reason: "is required for \(operation.rawValue)"))
                continue
            }
            if value.basicType == .map {
                problems.append(FieldProblem(field: path + ".value", reason: "attributes cannot be MAP values"))
                continue
            }
            switch operation {
            case .createOrReplace:
                result[name] = value
            case .create:
                if existing != nil {
                    problems.append(FieldProblem(field: path + ".attrName", reason: "attribute '\(name)' already exists"))
                }
                result[name] = value
            case .replace:
                if existing == nil {
                    problems.append(FieldProblem(field: path + ".attrName", reason: "attribute '\(name)' does not exist"))
                }
                result[name] = value
            case .append, .createOrAppend:
                guard let existing else {
                    if operation == .append {
                        problems.append(FieldProblem(field: path + ".attrName", reason: "attribute '\(name)' does not exist"))
                    }
                    result[name] = value
                    continue
                }
                let current = existing.items
                let added = value.items
                if let type = current.first?.basicType, added.contains(where: { $0.basicType != type }) {
                    problems.append(
                        FieldProblem(field: path + ".value", reason: "cannot append a \(added[0].basicType.rawValue) to a \(type.rawValue) attribute"))
                    continue
                }
                result[name] = .array(current + added)
            case .delete, .clearAll:
                break
            }
        }
        return problems.isEmpty ? .success(result) : .failure(ValidationFailure(problems))
    }

    public static let reservedPrefix = "conveyor_"
}

extension Value {
    /// The items of an ARRAY, or the value itself as a single item.
    var items: [Value] {
        if case .array(let items) = self { return items }
        return [self]
    }
}
