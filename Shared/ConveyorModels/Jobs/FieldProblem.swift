/// One thing wrong with a request: where (a JSON path such as `runModel.model.objectId`) and why.
public struct FieldProblem: Sendable, Codable, Hashable, CustomStringConvertible {
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}

/// A request that cannot be accepted, with every problem found.
public struct ValidationFailure: Error, Sendable, CustomStringConvertible {
    public var problems: [FieldProblem]
    /// Whether a problem is something the caller may not use (another owner's object): a 403
    /// rather than a 422.
    public var forbidden: Bool

    public init(_ problems: [FieldProblem], forbidden: Bool = false) {
        self.problems = problems
        self.forbidden = forbidden
    }

    public var description: String { problems.map(\.description).joined(separator: "; ") }
}
