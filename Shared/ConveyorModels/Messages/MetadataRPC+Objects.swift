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
    /// Who asks (the gateway's caller): the owner of a new object, and who must be allowed to change
    /// the object of `priorVersion` (``ObjectAccess``). Nil for a service's own call: no owner, no check.
    public var caller: Principal?
    /// The teams a new object is shared with (a new version keeps the object's sharing).
    public var sharedWith: [String]?

    public init(
        definition: ObjectDefinition, attrs: [TagUpdate]? = nil, content: Data? = nil, priorVersion: TagSelector? = nil,
        caller: Principal? = nil, sharedWith: [String]? = nil
    ) {
        self.definition = definition
        self.attrs = attrs
        self.content = content
        self.priorVersion = priorVersion
        self.caller = caller
        self.sharedWith = sharedWith
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
    /// Who asks: must be allowed to change the object (``ObjectAccess``); nil for a service's own call.
    public var caller: Principal?
    public init(selector: TagSelector, updates: [TagUpdate], caller: Principal? = nil) {
        self.selector = selector
        self.updates = updates
        self.caller = caller
    }
}

/// `metadata.object.share`: sets the teams an object (every version of it) is shared with; an empty
/// list shares it with nobody. Only its owner or an admin may.
public struct ShareObject: MetadataCall {
    public typealias Result = ObjectSharing
    public static let messageType = "metadata.object.share"
    public var objectId: UUID
    public var sharedWith: [String]
    public var caller: Principal?
    public init(objectId: UUID, sharedWith: [String], caller: Principal? = nil) {
        self.objectId = objectId
        self.sharedWith = sharedWith
        self.caller = caller
    }
}

/// Who owns an object and whom it is shared with; also the body of `PUT /api/v1/objects/{id}/sharing`
/// (only `sharedWith` is read there).
public struct ObjectSharing: Codable, Sendable, Hashable {
    public var objectId: UUID?
    public var owner: String?
    public var sharedWith: [String]
    public init(objectId: UUID? = nil, owner: String? = nil, sharedWith: [String]) {
        self.objectId = objectId
        self.owner = owner
        self.sharedWith = sharedWith
    }

    public static let requestShape: JSONShape = .object(["sharedWith": .required(.array(.string))])
}

/// `metadata.object.versions`: every version of an object (each with its latest tag), oldest first;
/// with `objectVersion`, every tag version of that object version.
public struct ListObjectVersions: MetadataCall {
    public typealias Result = [ObjectRecord]
    public static let messageType = "metadata.object.versions"
    public var objectId: UUID
    public var objectVersion: Int?
    /// Who asks: must be allowed to read the object (``ObjectAccess``); nil for a service's own call.
    public var caller: Principal?
    public init(objectId: UUID, objectVersion: Int? = nil, caller: Principal? = nil) {
        self.objectId = objectId
        self.objectVersion = objectVersion
        self.caller = caller
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
    /// Who asks: the search finds only the objects they may read (``ObjectAccess``); nil for a
    /// service's own call. Set by the gateway, never read from a request body.
    public var caller: Principal?

    public init(
        objectType: ObjectType? = nil, search: SearchExpression? = nil, asOf: Date? = nil, limit: Int? = nil, cursor: String? = nil,
        caller: Principal? = nil
    ) {
        self.objectType = objectType
        self.search = search
        self.asOf = asOf
        self.limit = limit
        self.cursor = cursor
        self.caller = caller
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
    /// Who asks: must be allowed to read the object (``ObjectAccess``); nil for a service's own call.
    public var caller: Principal?
    public init(selector: TagSelector, caller: Principal? = nil) {
        self.selector = selector
        self.caller = caller
    }
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
    /// The teams the new object is shared with (ignored for a new version, which keeps the object's).
    public var sharedWith: [String]?

    public static let shape: JSONShape = .object([
        "definition": .required(ObjectDefinition.shape), "attrs": .optional(.array(TagUpdate.shape)),
        "sharedWith": .optional(.array(.string)),
    ])
}
