import Foundation

/// A search over object attributes: terms combined with AND, OR and NOT.
///
/// JSON: `{"term": {"attrName": "region", "operator": "EQ", "value": "EU"}}`, `{"and": [...]}`,
/// `{"or": [...]}`, `{"not": {...}}`. Exactly one key per node.
public indirect enum SearchExpression: Sendable, Hashable {
    case term(SearchTerm)
    case and([SearchExpression])
    case or([SearchExpression])
    case not(SearchExpression)

    public static let maxTerms = 50
    public static let maxDepth = 8

    /// Every problem of the expression, with paths under `field`.
    public func problems(field: String) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        var terms = 0
        collect(field, depth: 0, terms: &terms, into: &problems)
        if terms > Self.maxTerms {
            problems.append(FieldProblem(field: field, reason: "at most \(Self.maxTerms) terms per search"))
        }
        return problems
    }

    private func collect(_ field: String, depth: Int, terms: inout Int, into problems: inout [FieldProblem]) {
        guard depth < Self.maxDepth else {
            return problems.append(FieldProblem(field: field, reason: "expressions nest at most \(Self.maxDepth) levels"))
        }
        switch self {
        case .term(let term):
            terms += 1
            problems += term.problems(field: field + ".term")
        case .and(let items), .or(let items):
            let name = if case .and = self { "and" } else { "or" }
            if items.isEmpty { problems.append(FieldProblem(field: "\(field).\(name)", reason: "must list at least one expression")) }
            for (index, item) in items.enumerated() { item.collect("\(field).\(name)[\(index)]", depth: depth + 1, terms: &terms, into: &problems) }
        case .not(let item):
            item.collect(field + ".not", depth: depth + 1, terms: &terms, into: &problems)
        }
    }

    public static let shape: JSONShape = .object([
        "term": .optional(.object([
            "attrName": .required(.string), "operator": .required(.enumeration(SearchOperator.self)), "value": .optional(.value),
        ])),
        "and": .optional(.array(.deferred { SearchExpression.shape })),
        "or": .optional(.array(.deferred { SearchExpression.shape })),
        "not": .optional(.deferred { SearchExpression.shape }),
    ])
}

extension SearchExpression: Codable {
    private enum Keys: String, CodingKey { case term, and, or, not }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        let present = container.allKeys
        guard present.count == 1, let key = present.first else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "give exactly one of term, and, or, not"))
        }
        switch key {
        case .term: self = .term(try container.decode(SearchTerm.self, forKey: .term))
        case .and: self = .and(try container.decode([SearchExpression].self, forKey: .and))
        case .or: self = .or(try container.decode([SearchExpression].self, forKey: .or))
        case .not: self = .not(try container.decode(SearchExpression.self, forKey: .not))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        switch self {
        case .term(let term): try container.encode(term, forKey: .term)
        case .and(let items): try container.encode(items, forKey: .and)
        case .or(let items): try container.encode(items, forKey: .or)
        case .not(let item): try container.encode(item, forKey: .not)
        }
    }
}

public enum SearchOperator: String, Sendable, Codable, CaseIterable, Hashable {
    case eq = "EQ", ne = "NE", lt = "LT", le = "LE", gt = "GT", ge = "GE", `in` = "IN", exists = "EXISTS"
}

/// One condition on one attribute. A multi-valued attribute matches when any of its values does;
/// NE matches objects that have the attribute with no value equal to the one given. Comparison
/// terms on the same attribute in one AND form a range: one value must lie within all the bounds.
public struct SearchTerm: Sendable, Codable, Hashable {
    public var attrName: String
    public var `operator`: SearchOperator
    /// The value to compare with (an ARRAY for IN; none for EXISTS).
    public var value: Value?

    public init(attrName: String, operator: SearchOperator, value: Value? = nil) {
        self.attrName = attrName
        self.operator = `operator`
        self.value = value
    }

    func problems(field: String) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if let reason = TagUpdate.nameProblem(attrName) { problems.append(FieldProblem(field: field + ".attrName", reason: reason)) }
        switch (self.operator, value) {
        case (.exists, nil): break
        case (.exists, _?): problems.append(FieldProblem(field: field + ".value", reason: "EXISTS takes no value"))
        case (_, nil): problems.append(FieldProblem(field: field + ".value", reason: "\(self.operator.rawValue) needs a value"))
        case (.in, .array(let items)?):
            if items.isEmpty { problems.append(FieldProblem(field: field + ".value", reason: "IN needs at least one value")) }
            if items.contains(where: { !$0.basicType.isScalar }) {
                problems.append(FieldProblem(field: field + ".value", reason: "IN takes an array of scalar values"))
            }
            if Set(items.map { SearchTerm.family($0.basicType) }).count > 1 {
                problems.append(FieldProblem(field: field + ".value", reason: "the values of IN must all have one type"))
            }
        case (.in, _?): problems.append(FieldProblem(field: field + ".value", reason: "IN takes an array of values"))
        case (_, let value?):
            if !value.basicType.isScalar {
                problems.append(FieldProblem(field: field + ".value", reason: "\(self.operator.rawValue) takes a scalar value"))
            } else if value.basicType == .boolean, ![.eq, .ne].contains(self.operator) {
                problems.append(FieldProblem(field: field + ".value", reason: "BOOLEAN values can only be compared with EQ or NE"))
            }
        }
        return problems
    }

    /// How values of a type are stored in the search index.
    public enum Family: String, Sendable { case text, number, boolean, time }

    public static func family(_ type: BasicType) -> Family {
        switch type {
        case .integer, .float, .decimal: .number
        case .boolean: .boolean
        case .date, .datetime: .time
        default: .text
        }
    }
}
