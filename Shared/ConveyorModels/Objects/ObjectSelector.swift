import Foundation

/// Picks one version of a metadata object: an explicit version, or the latest when none is given.
public struct ObjectSelector: Sendable, Codable, Hashable {
    public var objectType: ObjectType?
    public var objectId: UUID
    public var objectVersion: Int?

    public init(objectType: ObjectType? = nil, objectId: UUID, objectVersion: Int? = nil) {
        self.objectType = objectType
        self.objectId = objectId
        self.objectVersion = objectVersion
    }
}

/// TRAC's metadata object types.
public enum ObjectType: String, Sendable, Codable, CaseIterable, Hashable {
    case model = "MODEL"
    case data = "DATA"
    case file = "FILE"
    case flow = "FLOW"
    case schema = "SCHEMA"
    case job = "JOB"
}

/// One immutable version of a metadata object.
public struct ObjectRecord: Sendable, Codable, Hashable {
    public var objectType: ObjectType
    public var objectId: UUID
    public var objectVersion: Int
    /// Attributes (TRAC's tags).
    public var attributes: [String: JSONValue]
    /// Where the content lives, relative to the internal storage root (append-only).
    public var storagePath: String?
    public var createdAt: Date
    /// The job that produced this version, if any.
    public var jobId: UUID?

    public init(
        objectType: ObjectType, objectId: UUID, objectVersion: Int, attributes: [String: JSONValue],
        storagePath: String?, createdAt: Date, jobId: UUID?
    ) {
        self.objectType = objectType
        self.objectId = objectId
        self.objectVersion = objectVersion
        self.attributes = attributes
        self.storagePath = storagePath
        self.createdAt = createdAt
        self.jobId = jobId
    }

    public var selector: ObjectSelector {
        ObjectSelector(objectType: objectType, objectId: objectId, objectVersion: objectVersion)
    }
}

/// An object a worker asks metadata to register when its job finishes.
public struct NewObject: Sendable, Codable, Hashable {
    public var objectType: ObjectType
    public var attributes: [String: JSONValue]
    public var storagePath: String?

    public init(objectType: ObjectType, attributes: [String: JSONValue], storagePath: String?) {
        self.objectType = objectType
        self.attributes = attributes
        self.storagePath = storagePath
    }
}
