import Foundation

/// The expected shape of a JSON document, used to report every structural problem of a request at
/// once (a `Decodable` stops at the first), each with its JSON path.
public indirect enum JSONShape: Sendable {
    case string
    case integer
    case number
    case boolean
    case uuid
    case dateTime
    case enumeration([String])
    /// An object with known fields; any other field is reported as unknown.
    case object([String: JSONField])
    /// An object with free keys, each value of one shape.
    case map(JSONShape)
    case array(JSONShape)
    /// A typed ``Value`` (canonical or plain form).
    case value
    case any
    /// A shape defined later (for recursive documents).
    case deferred(@Sendable () -> JSONShape)

    public static func enumeration<E: RawRepresentable & CaseIterable>(_ type: E.Type) -> JSONShape where E.RawValue == String {
        .enumeration(type.allCases.map(\.rawValue))
    }

    /// Every problem of `json` against this shape; paths start at `path` (`$` is the document).
    public func problems(in json: JSONValue, at path: String = "$") -> [FieldProblem] {
        var problems: [FieldProblem] = []
        check(json, path, &problems)
        return problems
    }

    private func check(_ json: JSONValue, _ path: String, _ problems: inout [FieldProblem]) {
        func expected(_ what: String) { problems.append(FieldProblem(field: path, reason: "expected \(what), got \(json.kindName)")) }
        switch self {
        case .any: return
        case .deferred(let shape): shape().check(json, path, &problems)
        case .string: if json.stringValue == nil { expected("a string") }
        case .boolean: if case .bool = json {} else { expected("a boolean") }
        case .number: if case .number = json {} else { expected("a number") }
        case .integer:
            guard case .number(let value) = json else { return expected("an integer") }
            if value.rounded() != value || abs(value) > 9e15 { problems.append(FieldProblem(field: path, reason: "expected an integer, got \(value)")) }
        case .uuid:
            guard let text = json.stringValue else { return expected("a UUID string") }
            if UUID(uuidString: text) == nil { problems.append(FieldProblem(field: path, reason: "'\(text.prefix(60))' is not a valid UUID")) }
        case .dateTime:
            guard let text = json.stringValue else { return expected("an ISO 8601 date-time string") }
            if Timestamp.parse(text) == nil {
                problems.append(FieldProblem(field: path, reason: "'\(text.prefix(60))' is not an ISO 8601 date-time with an offset in years 0001-9999"))
            }
        case .enumeration(let allowed):
            guard let text = json.stringValue else { return expected("one of \(allowed.joined(separator: ", "))") }
            if !allowed.contains(text) {
                problems.append(FieldProblem(field: path, reason: "unknown value '\(text.prefix(60))' (expected one of \(allowed.joined(separator: ", ")))"))
            }
        case .array(let item):
            guard case .array(let items) = json else { return expected("an array") }
            for (index, element) in items.enumerated() { item.check(element, "\(path)[\(index)]", &problems) }
        case .map(let item):
            guard case .object(let entries) = json else { return expected("an object") }
            for (key, element) in entries.sorted(by: { $0.key < $1.key }) { item.check(element, Self.join(path, key), &problems) }
        case .object(let fields):
            guard case .object(let entries) = json else { return expected("an object") }
            for (name, field) in fields.sorted(by: { $0.key < $1.key }) {
                switch entries[name] {
                case nil, .null?:
                    if field.required { problems.append(FieldProblem(field: Self.join(path, name), reason: "is required")) }
                case let element?:
                    field.shape.check(element, Self.join(path, name), &problems)
                }
            }
            for key in entries.keys.sorted() where fields[key] == nil {
                let known = fields.keys.sorted().joined(separator: ", ")
                problems.append(FieldProblem(field: Self.join(path, key), reason: "unknown field (known: \(known))"))
            }
        case .value:
            checkValue(json, path, &problems)
        }
    }

    private func checkValue(_ json: JSONValue, _ path: String, _ problems: inout [FieldProblem]) {
        switch json {
        case .null: problems.append(FieldProblem(field: path, reason: "a value cannot be null"))
        case .array(let items): for (index, item) in items.enumerated() { checkValue(item, "\(path)[\(index)]", &problems) }
        case .object(let entries):
            guard let typeName = entries["type"]?.stringValue, let type = BasicType(rawValue: typeName) else {
                for (key, item) in entries.sorted(by: { $0.key < $1.key }) { checkValue(item, Self.join(path, key), &problems) }
                return
            }
            let valuePath = Self.join(path, "value")
            guard let value = entries["value"], value != .null else {
                return problems.append(FieldProblem(field: valuePath, reason: "is required for a \(type.rawValue) value"))
            }
            for key in entries.keys.sorted() where key != "type" && key != "value" {
                problems.append(FieldProblem(field: Self.join(path, key), reason: "unknown field (a typed value has type and value)"))
            }
            switch type {
            case .boolean: JSONShape.boolean.check(value, valuePath, &problems)
            case .integer: JSONShape.integer.check(value, valuePath, &problems)
            case .float: JSONShape.number.check(value, valuePath, &problems)
            case .string: JSONShape.string.check(value, valuePath, &problems)
            case .decimal, .date, .datetime:
                guard let text = value.stringValue else {
                    return problems.append(FieldProblem(field: valuePath, reason: "expected a string holding a \(type.rawValue), got \(value.kindName)"))
                }
                do { _ = try Value.scalar(type, text: text) } catch { problems.append(FieldProblem(field: valuePath, reason: "\(error)")) }
            case .array:
                guard case .array(let items) = value else {
                    return problems.append(FieldProblem(field: valuePath, reason: "expected an array, got \(value.kindName)"))
                }
                for (index, item) in items.enumerated() { checkValue(item, "\(valuePath)[\(index)]", &problems) }
            case .map:
                guard case .object(let items) = value else {
                    return problems.append(FieldProblem(field: valuePath, reason: "expected an object, got \(value.kindName)"))
                }
                for (key, item) in items.sorted(by: { $0.key < $1.key }) { checkValue(item, Self.join(valuePath, key), &problems) }
            }
        case .number(let number) where number.rounded() == number && abs(number) >= 9e15:
            problems.append(FieldProblem(
                field: path,
                reason: "\(number) is an integer too large to keep exactly as a plain number; send {\"type\":\"DECIMAL\",\"value\":\"...\"} for an exact value or {\"type\":\"FLOAT\",\"value\":...}"))
        default: return
        }
    }

    static func join(_ path: String, _ key: String) -> String { path == "$" ? key : "\(path).\(key)" }
}

/// A field of a ``JSONShape/object(_:)``.
public struct JSONField: Sendable {
    public var shape: JSONShape
    public var required: Bool

    public static func required(_ shape: JSONShape) -> JSONField { JSONField(shape: shape, required: true) }
    public static func optional(_ shape: JSONShape) -> JSONField { JSONField(shape: shape, required: false) }
}

extension JSONValue {
    /// "a string", "null", ... for messages.
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

extension ConveyorJSON {
    /// Decodes `body` as `T` after checking it against `shape` and against what the store can keep
    /// (``StorableText``: no NUL in any string or key, at most 64 levels of nesting).
    /// - Throws: ``ValidationFailure`` listing every problem with its JSON path.
    public static func decode<T: Decodable>(_ type: T.Type, from body: Data, checking shape: JSONShape) throws -> T {
        guard String(data: body, encoding: .utf8) != nil else {
            throw ValidationFailure([FieldProblem(field: "$", reason: "the body is not valid UTF-8")])
        }
        if StorableText.depth(of: body) > StorableText.maxDepth {
            throw ValidationFailure([FieldProblem(field: "$", reason: "the body nests arrays and objects deeper than \(StorableText.maxDepth) levels")])
        }
        let json: JSONValue
        do {
            json = try decode(JSONValue.self, from: body)
        } catch {
            throw ValidationFailure([FieldProblem(field: "$", reason: "the body is not valid JSON")])
        }
        var problems = shape.problems(in: json)
        if StorableText.mayHoldNUL(body) { problems += StorableText.problems(in: json) }
        guard problems.isEmpty else { throw ValidationFailure(problems) }
        do {
            return try decode(T.self, from: body)
        } catch let error as DecodingError {
            throw ValidationFailure([JobValidator.problem(from: error)])
        }
    }
}
