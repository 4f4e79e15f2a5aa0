import ConveyorModels
import Foundation

/// What TRAC's runtime reports of a run (its job result file, `result.format` json): the status,
/// TRAC's message, and for each output the file it wrote with its schema and row count.
public struct TracResult: Sendable, Equatable {
    public var succeeded: Bool
    public var message: String
    public var outputs: [String: Output]

    public struct Output: Sendable, Equatable {
        /// The file, relative to the storage root.
        public var path: String
        public var schema: SchemaDefinition?
        public var rowCount: Int?
    }

    /// Reads a job result document.
    /// - Throws: ``JobFailure`` when it is not one.
    public static func parse(_ data: Data) throws -> TracResult {
        guard case .object(let document) = try? ConveyorJSON.decode(JSONValue.self, from: data),
            case .object(let result)? = document["result"], let status = result["statusCode"]?.stringValue
        else { throw JobFailure("TRAC's job result is not readable") }
        var objects: [String: JSONValue] = [:]
        if case .object(let all)? = document["objects"] { objects = all }
        // Objects are keyed TYPE-id-vN; a selector's version does not always match the key's.
        func object(_ type: String, _ id: String?) -> [String: JSONValue]? {
            guard let id else { return nil }
            let prefix = type + "-" + id + "-v"
            guard let key = objects.keys.filter({ $0.hasPrefix(prefix) }).sorted().last, case .object(let found)? = objects[key],
                case .object(let section)? = found[type.lowercased()]
            else { return nil }
            return section
        }
        var outputs: [String: Output] = [:]
        if case .object(let selectors)? = result["outputs"] {
            for (name, selector) in selectors {
                guard case .object(let fields) = selector, let data = object("DATA", fields["objectId"]?.stringValue) else {
                    throw JobFailure("TRAC's job result does not describe output '\(name)'")
                }
                guard let path = Self.path(of: data, in: object("STORAGE", data["storageId"]?.field("objectId")?.stringValue)) else {
                    throw JobFailure("TRAC's job result does not say where output '\(name)' is")
                }
                var rowCount: Int?
                if case .number(let count)? = data["rowCount"] { rowCount = Int(count) }
                outputs[name] = Output(path: path, schema: Self.schema(of: data), rowCount: rowCount)
            }
        }
        return TracResult(succeeded: status == "SUCCEEDED", message: result["statusMessage"]?.stringValue ?? "", outputs: outputs)
    }

    /// The file of a data set's first part: its delta's data item, looked up in the storage object.
    static func path(of data: [String: JSONValue], in storage: [String: JSONValue]?) -> String? {
        guard case .object(let parts)? = data["parts"], let part = parts.values.first,
            case .array(let deltas)? = part.field("snap")?.field("deltas"), let item = deltas.first?.field("dataItem")?.stringValue,
            case .array(let incarnations)? = storage?["dataItems"]?.field(item)?.field("incarnations"),
            case .array(let copies)? = incarnations.last?.field("copies")
        else { return nil }
        return copies.first?.field("storagePath")?.stringValue
    }

    static func schema(of data: [String: JSONValue]) -> SchemaDefinition? {
        guard case .array(let fields)? = data["schema"]?.field("table")?.field("fields") else { return nil }
        let converted: [SchemaField] = fields.compactMap { field in
            guard let name = field.field("fieldName")?.stringValue, let type = field.field("fieldType")?.stringValue.flatMap(BasicType.init) else {
                return nil
            }
            return SchemaField(
                fieldName: name, fieldType: type, label: field.field("label")?.stringValue.flatMap { $0.isEmpty ? nil : $0 },
                businessKey: field.field("businessKey") == .bool(true) ? true : nil, notNull: field.field("notNull") == .bool(true) ? true : nil)
        }
        return converted.isEmpty ? nil : SchemaDefinition(fields: converted)
    }

    /// TRAC's reason for a run that ended before it could write a result (a parameter it cannot
    /// convert, a class it cannot load): the first `tracdap.rt.exceptions.EXxx: message` line of
    /// its output (later ones wrap it).
    public static func firstError(in output: String) -> String? {
        for line in output.split(whereSeparator: \.isNewline) {
            guard let range = line.range(of: "tracdap.rt.exceptions.") else { continue }
            let error = line[range.upperBound...]
            guard let colon = error.range(of: ": ") else { continue }
            return "\(error[..<colon.lowerBound]): \(error[colon.upperBound...])"
        }
        return nil
    }
}
