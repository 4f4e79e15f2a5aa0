import Foundation

/// TRAC's metadata object types.
public enum ObjectType: String, Sendable, Codable, CaseIterable, Hashable {
    case model = "MODEL"
    case data = "DATA"
    case file = "FILE"
    case flow = "FLOW"
    case schema = "SCHEMA"
    case job = "JOB"
}

/// One object version with one tag version: immutable once written.
public struct ObjectRecord: Sendable, Codable, Hashable {
    public var objectType: ObjectType
    public var objectId: UUID
    public var objectVersion: Int
    public var tagVersion: Int
    public var definition: ObjectDefinition
    /// Attributes (TRAC's tags) of this tag version.
    public var attributes: [String: Value]
    /// Where the content lives, relative to the internal storage root (append-only).
    public var storagePath: String?
    /// When this object version was created.
    public var createdAt: Date
    /// When this tag version was created.
    public var tagCreatedAt: Date
    /// The job that produced this version, if any.
    public var jobId: UUID?
    /// Who owns the object (every version of it): who created it, or the owner of the job that did;
    /// nil for an object that predates owners (see ``ObjectAccess``).
    public var owner: String?
    /// The teams whose members may read the object (``ObjectAccess/everyone``: every user); nil when
    /// it is not shared.
    public var sharedWith: [String]?

    public init(
        objectType: ObjectType, objectId: UUID, objectVersion: Int, tagVersion: Int = 1,
        definition: ObjectDefinition, attributes: [String: Value], storagePath: String?, createdAt: Date,
        tagCreatedAt: Date? = nil, jobId: UUID?, owner: String? = nil, sharedWith: [String]? = nil
    ) {
        self.objectType = objectType
        self.objectId = objectId
        self.objectVersion = objectVersion
        self.tagVersion = tagVersion
        self.definition = definition
        self.attributes = attributes
        self.storagePath = storagePath
        self.createdAt = createdAt
        self.tagCreatedAt = tagCreatedAt ?? createdAt
        self.jobId = jobId
        self.owner = owner
        self.sharedWith = sharedWith
    }

    /// A selector pinned to exactly this object and tag version.
    public var selector: TagSelector {
        TagSelector(objectType: objectType, objectId: objectId, objectVersion: objectVersion, tagVersion: tagVersion)
    }
}

/// An object a worker asks metadata to register when its job finishes, or a client creates directly.
public struct NewObject: Sendable, Codable, Hashable {
    public var objectType: ObjectType
    public var definition: ObjectDefinition
    /// Attributes set on the first tag version.
    public var attributes: [String: Value]
    public var storagePath: String?
    /// The output name this object fills (for a job's result), if any.
    public var outputName: String?
    /// Register the object as the next version of this existing object instead of a new one.
    public var priorVersion: TagSelector?

    public init(
        objectType: ObjectType, definition: ObjectDefinition, attributes: [String: Value], storagePath: String?,
        outputName: String? = nil, priorVersion: TagSelector? = nil
    ) {
        self.objectType = objectType
        self.definition = definition
        self.attributes = attributes
        self.storagePath = storagePath
        self.outputName = outputName
        self.priorVersion = priorVersion
    }
}

/// A page of objects.
public struct ObjectPage: Sendable, Codable, Hashable {
    public var objects: [ObjectRecord]
    public var nextCursor: String?
    public init(objects: [ObjectRecord], nextCursor: String?) {
        self.objects = objects
        self.nextCursor = nextCursor
    }
}
