import ConveyorModels
import Foundation
import Logging
import Postgres
import ServiceKit

/// Versioned objects and their tags. Object versions and tag versions are immutable rows; a new
/// version supersedes the previous one at the time of its transaction, which is what as-of reads
/// and searches go by. Attributes are also written, one row per value, to the `tag_attrs` index.
struct ObjectStore: Sendable {
    let pool: PostgresPool
    let storage: InternalStorage

    // MARK: Writing

    /// Creates an object (version 1) owned by `owner` and shared with `sharedWith`, or, with `prior`,
    /// the next version of an existing object (which keeps that object's owner and sharing), with tag
    /// version 1 holding `attributes`. Runs in the caller's transaction.
    /// - Parameter changedBy: who asks for a new version: must be allowed to change the object (nil: a
    ///   service, unchecked).
    /// - Throws: ``MetadataError`` `notFound`/`conflict` when `prior` is not the latest version,
    ///   `forbidden` when `changedBy` may not change it.
    func insert(
        _ connection: PostgresConnection, definition: ObjectDefinition, attributes: [String: Value], storagePath: String?,
        jobId: UUID?, objectId: UUID = UUID(), owner: String?, sharedWith: [String]? = nil, prior: TagSelector? = nil,
        changedBy: Principal? = nil
    ) async throws -> ObjectRecord {
        var objectId = objectId
        var version = 1
        var owner = owner
        var sharedWith = sharedWith.flatMap { $0.isEmpty ? nil : $0 }
        if let prior {
            // Writers of one object queue here; what follows reads what the previous one committed.
            try await lockObject(connection, prior.objectId)
            let rows = try await connection.query(
                """
                SELECT object_version, object_type, owner, shared_with FROM objects
                WHERE object_id = $1 ORDER BY object_version DESC LIMIT 1
                """,
                [prior.objectId])
            guard let latest = rows.first else { throw MetadataError.notFound("no object \(prior.objectId.lowercased)") }
            owner = latest.stringIfPresent("owner")
            sharedWith = try Self.sharedWith(latest)
            if let changedBy, let refusal = ObjectAccess.changeRefusal(prior.objectId.lowercased, owner: owner, sharedWith: sharedWith, as: changedBy) {
                throw MetadataError.forbidden(refusal)
            }
            let latestVersion = try latest.int("object_version")
            guard try latest.string("object_type") == definition.objectType.rawValue else {
                throw MetadataError.invalid("a new version must keep the object type",
                    problems: [FieldProblem(field: "definition.objectType", reason: "object \(prior.objectId.lowercased) is a \(try latest.string("object_type"))")])
            }
            if let expected = prior.objectVersion, expected != latestVersion {
                throw MetadataError.conflict("object \(prior.objectId.lowercased) is at version \(latestVersion), not \(expected)")
            }
            objectId = prior.objectId
            version = latestVersion + 1
            _ = try await connection.query(
                "UPDATE objects SET superseded_at = now() WHERE object_id = $1 AND object_version = $2", [objectId, latestVersion])
            _ = try await connection.query(
                "UPDATE object_tags SET search_to = now() WHERE object_id = $1 AND object_version = $2 AND search_to IS NULL",
                [objectId, latestVersion])
        }
        // One statement: the version, its first tag and the tag's index rows.
        let entries = AttributeIndex.entries(attributes)
        let rows = try await connection.query(
            """
            WITH version AS (
                INSERT INTO objects (object_id, object_version, object_type, definition, storage_path, job_id, created_at, owner, shared_with)
                VALUES ($1, $2, $3, $4, $5, $6, now(), $13, $14) RETURNING object_id, object_version, object_type, created_at
            ), tag AS (
                INSERT INTO object_tags (object_id, object_version, tag_version, object_type, attributes, created_at, search_from)
                SELECT object_id, object_version, 1, object_type, $7, created_at, created_at FROM version
                RETURNING tag_key
            ), indexed AS (
                INSERT INTO tag_attrs (tag_key, attr_name, v_text, v_num, v_bool, v_time)
                SELECT tag.tag_key, x.name, x.t, x.n::numeric, x.b::boolean, x.tm::timestamptz
                FROM tag, unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::text[]) AS x(name, t, n, b, tm)
            )
            SELECT created_at FROM version
            """,
            [
                objectId, version, definition.objectType.rawValue, try PostgresJSON(ConveyorJSON.encode(definition)), storagePath,
                jobId, try PostgresJSON(ConveyorJSON.encode(attributes)),
            ] + AttributeIndex.arrays(entries) + [owner, try sharedWith.map { try PostgresJSON(ConveyorJSON.encode($0)) }])
        let createdAt = try rows[0].date("created_at")
        return ObjectRecord(
            objectType: definition.objectType, objectId: objectId, objectVersion: version, tagVersion: 1, definition: definition,
            attributes: attributes, storagePath: storagePath, createdAt: createdAt, tagCreatedAt: createdAt, jobId: jobId,
            owner: owner, sharedWith: sharedWith)
    }

    /// The teams of an `objects` row's `shared_with` (nil when not shared).
    static func sharedWith(_ row: PostgresRow) throws -> [String]? {
        guard let text = row.stringIfPresent("shared_with") else { return nil }
        let teams = try ConveyorJSON.decode([String].self, from: Data(text.utf8))
        return teams.isEmpty ? nil : teams
    }

    /// One statement that registers new objects (each at object version 1 with tag version 1 holding
    /// its attributes, and the tag's index rows, owned by its `owner` and not shared), at the
    /// transaction's time; nil when there are none.
    static func insertStatement(_ objects: [NewObjectRow]) throws -> PostgresStatement? {
        guard !objects.isEmpty else { return nil }
        var attributes: [String] = []
        var entries: [(UUID, AttributeIndex.Entry)] = []
        for object in objects {
            attributes.append(String(decoding: try ConveyorJSON.encode(object.attributes), as: UTF8.self))
            entries += AttributeIndex.entries(object.attributes).map { (object.objectId, $0) }
        }
        return try PostgresStatement(
            """
            WITH x AS (
                SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::text[], $5::uuid[], $6::jsonb[], $13::text[])
                    WITH ORDINALITY AS x(id, type, definition, path, job, attributes, owner, n)
            ), version AS (
                INSERT INTO objects (object_id, object_version, object_type, definition, storage_path, job_id, created_at, owner)
                SELECT id, 1, type, definition, path, job, now(), owner FROM x ORDER BY n
            ), tag AS (
                INSERT INTO object_tags (object_id, object_version, tag_version, object_type, attributes, created_at, search_from)
                SELECT id, 1, 1, type, attributes, now(), now() FROM x ORDER BY n
                RETURNING tag_key, object_id
            )
            INSERT INTO tag_attrs (tag_key, attr_name, v_text, v_num, v_bool, v_time)
            SELECT tag.tag_key, a.name, a.t, a.n::numeric, a.b::boolean, a.tm::timestamptz
            FROM tag JOIN unnest($7::uuid[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
                AS a(id, name, t, n, b, tm) ON a.id = tag.object_id
            """,
            [
                PostgresArray.literal(values: objects.map(\.objectId)), PostgresArray.literal(objects.map(\.objectType.rawValue)),
                PostgresArray.literal(objects.map(\.definitionJSON)), PostgresArray.literal(objects.map(\.storagePath)),
                PostgresArray.literal(values: objects.map(\.jobId)), PostgresArray.literal(attributes),
                PostgresArray.literal(values: entries.map(\.0)),
            ] + AttributeIndex.arrays(entries.map(\.1)) + [PostgresArray.literal(objects.map(\.owner))])
    }

    /// Applies tag updates to one object version, creating its next tag version.
    /// - Throws: ``MetadataError`` `invalid` listing every bad update, `notFound`, or `conflict` when the
    ///   selector names a tag version that is no longer the latest.
    func updateTag(_ request: UpdateTag) async throws -> ObjectRecord {
        let problems = request.selector.problems(field: "selector")
        guard problems.isEmpty else { throw MetadataError.invalid("invalid selector", problems: problems) }
        guard !request.updates.isEmpty else {
            throw MetadataError.invalid("no updates", problems: [FieldProblem(field: "updates", reason: "must list at least one update")])
        }
        return try await pool.withTransaction { connection in
            try await lockObject(connection, request.selector.objectId)
            guard var current = try await resolve(TagSelector(objectId: request.selector.objectId, objectVersion: request.selector.objectVersion, objectAsOf: request.selector.objectAsOf), connection) else {
                throw MetadataError.notFound("no object \(request.selector.objectId.lowercased)")
            }
            if let caller = request.caller,
                let refusal = ObjectAccess.changeRefusal(current.objectId.lowercased, owner: current.owner, sharedWith: current.sharedWith, as: caller)
            {
                throw MetadataError.forbidden(refusal)
            }
            if let type = request.selector.objectType, type != current.objectType {
                throw MetadataError.invalid("object \(current.objectId.lowercased) is a \(current.objectType.rawValue), not a \(type.rawValue)")
            }
            if let expected = request.selector.tagVersion, expected != current.tagVersion {
                throw MetadataError.conflict("the tag of object \(current.objectId.lowercased) v\(current.objectVersion) is at version \(current.tagVersion), not \(expected)")
            }
            switch TagUpdate.apply(request.updates, to: current.attributes, field: "updates") {
            case .failure(let failure): throw MetadataError.invalid("the tag updates cannot be applied", problems: failure.problems)
            case .success(let attributes): current.attributes = attributes
            }
            let latestVersion = try await connection.query(
                "SELECT superseded_at IS NULL AS latest FROM objects WHERE object_id = $1 AND object_version = $2",
                [current.objectId, current.objectVersion])[0].bool("latest")
            _ = try await connection.query(
                """
                UPDATE object_tags SET superseded_at = now(), search_to = COALESCE(search_to, now())
                WHERE object_id = $1 AND object_version = $2 AND tag_version = $3
                """, [current.objectId, current.objectVersion, current.tagVersion])
            current.tagVersion += 1
            current.tagCreatedAt = try await insertTag(
                connection, objectId: current.objectId, version: current.objectVersion, tagVersion: current.tagVersion,
                type: current.objectType, attributes: current.attributes, searchable: latestVersion)
            return current
        }
    }

    /// Sets the teams an object (every version) is shared with.
    /// - Throws: ``MetadataError`` `invalid` naming each bad team, `notFound`, or `forbidden` when the
    ///   caller is neither the owner nor an admin.
    func share(_ request: ShareObject) async throws -> ObjectSharing {
        let teams = Array(Set(request.sharedWith)).sorted()
        return try await pool.withTransaction { connection in
            try await lockObject(connection, request.objectId)
            let rows = try await connection.query("SELECT owner, shared_with FROM objects WHERE object_id = $1 LIMIT 1", [request.objectId])
            guard let row = rows.first else { throw MetadataError.notFound("no object \(request.objectId.lowercased)") }
            let owner = row.stringIfPresent("owner")
            // Who may not share it hears that first, not which of the teams they named are wrong.
            if let caller = request.caller,
                let refusal = ObjectAccess.changeRefusal(request.objectId.lowercased, owner: owner, sharedWith: try Self.sharedWith(row), as: caller)
            {
                throw MetadataError.forbidden(refusal)
            }
            let problems = ObjectAccess.sharingProblems(request.sharedWith, by: request.caller, field: "sharedWith")
            guard problems.isEmpty else { throw MetadataError.invalid("the teams cannot be shared with", problems: problems) }
            _ = try await connection.query(
                "UPDATE objects SET shared_with = $2 WHERE object_id = $1",
                [request.objectId, teams.isEmpty ? nil : try PostgresJSON(ConveyorJSON.encode(teams))])
            return ObjectSharing(objectId: request.objectId, owner: owner, sharedWith: teams)
        }
    }

    /// Serializes the writers of one object (new versions, tag updates) until the transaction ends.
    private func lockObject(_ connection: PostgresConnection, _ objectId: UUID) async throws {
        _ = try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 7262))", [objectId])
    }

    /// Writes a later tag version and its attribute index rows; returns its creation time.
    @discardableResult
    private func insertTag(
        _ connection: PostgresConnection, objectId: UUID, version: Int, tagVersion: Int, type: ObjectType,
        attributes: [String: Value], searchable: Bool
    ) async throws -> Date {
        let rows = try await connection.query(
            """
            INSERT INTO object_tags (object_id, object_version, tag_version, object_type, attributes, created_at, search_from, search_to)
            VALUES ($1, $2, $3, $4, $5, now(), now(), CASE WHEN $6 THEN NULL ELSE now() END)
            RETURNING tag_key, created_at
            """, [objectId, version, tagVersion, type.rawValue, try PostgresJSON(ConveyorJSON.encode(attributes)), searchable])
        let tagKey = try rows[0].int64("tag_key")
        let entries = AttributeIndex.entries(attributes)
        if !entries.isEmpty {
            // One statement for all values: parallel arrays unnested.
            _ = try await connection.query(
                """
                INSERT INTO tag_attrs (tag_key, attr_name, v_text, v_num, v_bool, v_time)
                SELECT $1, name, t, n::numeric, b::boolean, tm::timestamptz
                FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS x(name, t, n, b, tm)
                """, [tagKey] + AttributeIndex.arrays(entries))
        }
        return try rows[0].date("created_at")
    }
}

/// A new object at version 1, as ``ObjectStore/insertStatement(_:)`` writes it.
struct NewObjectRow: Sendable {
    var objectId: UUID
    var objectType: ObjectType
    /// The `ObjectDefinition` as JSON.
    var definitionJSON: String
    var attributes: [String: Value]
    var storagePath: String?
    var jobId: UUID?
    /// The owner of the job that made it.
    var owner: String?
}

extension UUID {
    /// The canonical lowercase text.
    var lowercased: String { uuidString.lowercased() }
}
