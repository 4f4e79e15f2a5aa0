import Foundation

/// Picks one version of an object and one version of its tag (TRAC's `TagSelector`).
///
/// For the object: `objectVersion`, or `objectAsOf` (the version current at that time), or the
/// latest (`latestObject`, the default). For the tag, the same three: `tagVersion`, `tagAsOf`,
/// `latestTag` (the default). At most one criterion of each kind may be given.
public struct TagSelector: Sendable, Codable, Hashable {
    public var objectType: ObjectType?
    public var objectId: UUID
    public var objectVersion: Int?
    public var objectAsOf: Date?
    public var latestObject: Bool?
    public var tagVersion: Int?
    public var tagAsOf: Date?
    public var latestTag: Bool?

    public init(
        objectType: ObjectType? = nil, objectId: UUID, objectVersion: Int? = nil, objectAsOf: Date? = nil,
        latestObject: Bool? = nil, tagVersion: Int? = nil, tagAsOf: Date? = nil, latestTag: Bool? = nil
    ) {
        self.objectType = objectType
        self.objectId = objectId
        self.objectVersion = objectVersion
        self.objectAsOf = objectAsOf
        self.latestObject = latestObject
        self.tagVersion = tagVersion
        self.tagAsOf = tagAsOf
        self.latestTag = latestTag
    }

    /// The versions an object or tag can have.
    public static let versions = 1...Int(Int32.max)

    /// True when the selector names an exact object version (the form jobs record).
    public var isPinned: Bool { objectVersion != nil }

    /// The versions it asks for, for messages: `" version 2 tag version 1"`, `" as of ..."`, or "".
    public var versionDescription: String {
        var text = ""
        if let version = objectVersion { text += " version \(version)" }
        if let time = objectAsOf { text += " as of \(Timestamp.format(time))" }
        if let version = tagVersion { text += " tag version \(version)" }
        if let time = tagAsOf { text += " with a tag as of \(Timestamp.format(time))" }
        return text
    }

    /// What is wrong with the selector itself (before looking anything up), with paths under `field`.
    public func problems(field: String, expecting type: ObjectType? = nil) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        let objectCriteria = [objectVersion != nil, objectAsOf != nil, latestObject == true].filter { $0 }.count
        if objectCriteria > 1 {
            problems.append(FieldProblem(field: field, reason: "give at most one of objectVersion, objectAsOf, latestObject"))
        }
        let tagCriteria = [tagVersion != nil, tagAsOf != nil, latestTag == true].filter { $0 }.count
        if tagCriteria > 1 {
            problems.append(FieldProblem(field: field, reason: "give at most one of tagVersion, tagAsOf, latestTag"))
        }
        if let version = objectVersion, !Self.versions.contains(version) {
            problems.append(FieldProblem(field: field + ".objectVersion", reason: "must be between 1 and \(Self.versions.upperBound)"))
        }
        if let version = tagVersion, !Self.versions.contains(version) {
            problems.append(FieldProblem(field: field + ".tagVersion", reason: "must be between 1 and \(Self.versions.upperBound)"))
        }
        if let type, let given = objectType, given != type {
            problems.append(FieldProblem(field: field + ".objectType", reason: "must be \(type.rawValue)"))
        }
        return problems
    }
}

/// The name used in earlier releases.
public typealias ObjectSelector = TagSelector
