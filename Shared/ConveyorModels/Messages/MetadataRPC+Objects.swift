import Foundation

/// `metadata.object.create`: creates an object (version 1, tag version 1), or the next version of an
/// existing one when `priorVersion` names its latest version.
public struct CreateObject: MetadataCall {
    public typealias Result = ObjectRecord
    public static let messageType = "metadata.object.create"
    public var definition: ObjectDefinition
    public var attrs: [TagUpdate]?
    /// The content of a FILE (the gateway passes the uploaded bytes).
    public var content: Data?
    /// Create the next version of this object; it must name the latest version (compare-and-set).
    public var priorVersion: TagSelector?

    public init(definition: ObjectDefinition, attrs: [TagUpdate]? = nil, content: Data? = nil, priorVersion: TagSelector? = nil) {
        self.definition = definition
        self.attrs = attrs
        self.content = content
        self.priorVersion = priorVersion
    }

    public static let maxContentBytes = 32 * 1024 * 1024
}

/// `metadata.object.tag`: applies tag updates to an object version, creating the next tag version.
/// The selector's `tagVersion`, when given, must be the latest one (compare-and-set).
public struct UpdateTag: MetadataCall {
    public typealias Result = ObjectRecord
    public static let messageType = "metadata.object.tag"
    public var selector: TagSelector
    public var updates: [TagUpdate]
    public init(selector: TagSelector, updates: [TagUpdate]) {
        self.selector = selector
        self.updates = updates
    }
}

/// `metadata.object.versions`: every version of an object (each with its latest tag), oldest first;
/// with `objectVersion`, every tag version of that object version.
public struct ListObjectVersions: MetadataCall {
    public typealias Result = [ObjectRecord]
    public static let messageType = "metadata.object.versions"
    public var objectId: UUID
    public var objectVersion: Int?
    public init(objectId: UUID, objectVersion: Int? = nil) {
        self.objectId = objectId
        self.objectVersion = objectVersion
    }
}

/// `metadata.object.search`: objects whose attributes match, latest versions (or as of a time), paged.
public struct SearchObjects: MetadataCall {
    public typealias Result = ObjectPage
    public static let messageType = "metadata.object.search"
    public var objectType: ObjectType?
    public var search: SearchExpression?
    public var asOf: Date?
    public var limit: Int?
    public var cursor: String?

    public init(objectType: ObjectType? = nil, search: SearchExpression? = nil, asOf: Date? = nil, limit: Int? = nil, cursor: String? = nil) {
        self.objectType = objectType
        self.search = search
        self.asOf = asOf
        self.limit = limit
        self.cursor = cursor
    }

    public static let defaultLimit = 50
    public static let maxLimit = 500

    public static let shape: JSONShape = .object([
        "objectType": .optional(.enumeration(ObjectType.self)), "search": .optional(SearchExpression.shape),
        "asOf": .optional(.dateTime), "limit": .optional(.integer), "cursor": .optional(.string),
    ])
}

/// `metadata.object.content`: the bytes of a FILE object (or a byte range of them).
public struct GetObjectContent: MetadataCall {
    public typealias Result = ObjectContent
    public static let messageType = "metadata.object.content"
    public var selector: TagSelector
    public init(selector: TagSelector) { self.selector = selector }
}

public struct ObjectContent: Codable, Sendable, Hashable {
    public var object: ObjectRecord
    public var data: Data
    public init(object: ObjectRecord, data: Data) {
        self.object = object
        self.data = data
    }
}

/// The request body of `POST /api/v1/objects`.
public struct CreateObjectRequest: Codable, Sendable, Hashable {
    public var definition: ObjectDefinition
    public var attrs: [TagUpdate]?

    public static let shape: JSONShape = .object([
        "definition": .required(ObjectDefinition.shape), "attrs": .optional(.array(TagUpdate.shape)),
    ])
}
