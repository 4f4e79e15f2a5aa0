import ConveyorModels
import Foundation
import Postgres

/// Reading objects by selector (including as of a past time) and listing their versions.
extension ObjectStore {
    /// The object version and tag version a selector picks, or nil when there is none.
    func resolve(_ selector: TagSelector, _ connection: PostgresConnection) async throws -> ObjectRecord? {
        try await resolvedRow(selector, connection).map(Self.record)
    }

    /// The row (object version with its tag) a selector picks, or nil when there is none.
    private func resolvedRow(_ selector: TagSelector, _ connection: PostgresConnection) async throws -> PostgresRow? {
        try await connection.pipeline([try Self.resolveStatement(selector)])[0].first
    }

    /// The statement that reads the row a selector picks (none when there is none).
    static func resolveStatement(_ selector: TagSelector) throws -> PostgresStatement {
        try PostgresStatement(
            """
            WITH v AS (
                SELECT * FROM objects
                WHERE object_id = $1 AND ($2::int IS NULL OR object_version = $2::int)
                  AND ($3::timestamptz IS NULL OR created_at <= $3::timestamptz)
                ORDER BY object_version DESC LIMIT 1
            )
            SELECT v.object_id, v.object_version, v.object_type, v.definition, v.storage_path, v.job_id, v.created_at,
                   v.owner, v.shared_with, t.tag_version, t.attributes, t.created_at AS tag_created_at
            FROM v JOIN object_tags t USING (object_id, object_version)
            WHERE ($4::int IS NULL OR t.tag_version = $4::int) AND ($5::timestamptz IS NULL OR t.created_at <= $5::timestamptz)
            ORDER BY t.tag_version DESC LIMIT 1
            """,
            [selector.objectId, selector.objectVersion, selector.objectAsOf, selector.tagVersion, selector.tagAsOf])
    }

    /// One object by selector, for `caller` (nil: a service, unchecked).
    /// - Throws: ``MetadataError`` `invalid` for a malformed selector or a type mismatch, `notFound`,
    ///   `forbidden` when the caller may not read it.
    func object(_ selector: TagSelector, caller: Principal? = nil) async throws -> ObjectRecord {
        try Self.record(try await objectRow(selector, caller: caller))
    }

    /// ``object(_:caller:)`` as JSON, written from the stored row (``ObjectRecordJSON``).
    func objectJSON(_ selector: TagSelector, caller: Principal? = nil) async throws -> Data {
        try ObjectRecordJSON.record(try await objectRow(selector, caller: caller))
    }

    /// Refuses a caller who may not read the object of `row` (any `objects` row with `owner` and `shared_with`).
    static func checkRead(_ row: PostgresRow, caller: Principal?) throws {
        guard let caller else { return }
        guard ObjectAccess.mayRead(owner: row.stringIfPresent("owner"), sharedWith: try sharedWith(row), as: caller) else {
            throw MetadataError.forbidden(ObjectAccess.readRefusal(try row.uuid("object_id").lowercased))
        }
    }

    private func objectRow(_ selector: TagSelector, caller: Principal?) async throws -> PostgresRow {
        let problems = selector.problems(field: "selector")
        guard problems.isEmpty else { throw MetadataError.invalid("invalid selector", problems: problems) }
        let row = try await pool.withConnection { try await resolvedRow(selector, $0) }
        guard let row else {
            throw MetadataError.notFound("no object \(selector.objectId.lowercased)\(selector.versionDescription)")
        }
        try Self.checkRead(row, caller: caller)
        if let type = selector.objectType, let found = row.stringIfPresent("object_type"), type.rawValue != found {
            throw MetadataError.invalid("object \(selector.objectId.lowercased) is a \(found), not a \(type.rawValue)")
        }
        return row
    }

    /// Every version of an object with its latest tag; or every tag version of one object version.
    func versions(_ request: ListObjectVersions) async throws -> [ObjectRecord] {
        try await versionRows(request).map(Self.record)
    }

    /// ``versions(_:)`` as JSON, written from the stored rows (``ObjectRecordJSON``).
    func versionsJSON(_ request: ListObjectVersions) async throws -> Data {
        try ObjectRecordJSON.array(try await versionRows(request))
    }

    private func versionRows(_ request: ListObjectVersions) async throws -> PostgresRows {
        let rows: PostgresRows
        if let version = request.objectVersion {
            rows = try await pool.query(
                """
                SELECT o.object_id, o.object_version, o.object_type, o.definition, o.storage_path, o.job_id, o.created_at,
                       o.owner, o.shared_with, t.tag_version, t.attributes, t.created_at AS tag_created_at
                FROM objects o JOIN object_tags t USING (object_id, object_version)
                WHERE o.object_id = $1 AND o.object_version = $2 ORDER BY t.tag_version
                """, [request.objectId, version])
        } else {
            rows = try await pool.query(
                """
                SELECT DISTINCT ON (o.object_version) o.object_id, o.object_version, o.object_type, o.definition,
                       o.storage_path, o.job_id, o.created_at, o.owner, o.shared_with, t.tag_version, t.attributes,
                       t.created_at AS tag_created_at
                FROM objects o JOIN object_tags t USING (object_id, object_version)
                WHERE o.object_id = $1 ORDER BY o.object_version, t.tag_version DESC
                """, [request.objectId])
        }
        guard !rows.isEmpty else {
            let version = request.objectVersion.map { " version \($0)" } ?? ""
            throw MetadataError.notFound("no object \(request.objectId.lowercased)\(version)")
        }
        // Every version has the same owner and sharing.
        try Self.checkRead(rows[0], caller: request.caller)
        return rows
    }

    /// The bytes of a FILE object, for `caller` (nil: a service, unchecked).
    func content(_ selector: TagSelector, caller: Principal? = nil) async throws -> ObjectContent {
        let record = try await object(selector, caller: caller)
        guard record.objectType == .file || record.objectType == .data, let path = record.storagePath else {
            throw MetadataError.invalid("object \(record.objectId.lowercased) is a \(record.objectType.rawValue) without stored content")
        }
        let file = storage.path(path)
        if record.attributes["conveyor_kind"] == .string("job_log"), !FileManager.default.fileExists(atPath: file),
            let jobId = record.jobId, let attempt = Self.logAttempt(path)
        {
            return ObjectContent(object: record, data: try await jobLog(jobId: jobId, attempt: attempt))
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        guard size <= CreateObject.maxContentBytes else {
            throw MetadataError.invalid("the content is \(size) bytes; the largest that can be served is \(CreateObject.maxContentBytes)")
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw MetadataError.notFound("the content of object \(record.objectId.lowercased) v\(record.objectVersion) is missing from storage")
        }
        return ObjectContent(object: record, data: data)
    }

    /// A job log FILE's content: its attempt's log chunks (the log is kept in the database, where the
    /// transaction that registered the FILE committed it; logs of earlier versions are files).
    private func jobLog(jobId: UUID, attempt: Int) async throws -> Data {
        let chunks = try await pool.withConnection { connection in
            try await connection.pipeline([
                try PostgresStatement(
                    "SELECT byte_offset, data FROM job_log_chunks WHERE job_id = $1 AND attempt = $2 ORDER BY byte_offset",
                    [jobId, attempt])
            ])[0]
        }
        return try JobStore.assemble(chunks, from: 0)
    }

    /// The attempt a job log's path (`logs/<jobId>/attempt-<n>.log`) names.
    static func logAttempt(_ path: String) -> Int? {
        guard path.hasPrefix("logs/"), let name = path.split(separator: "/").last, name.hasPrefix("attempt-"), name.hasSuffix(".log") else {
            return nil
        }
        return Int(name.dropFirst("attempt-".count).dropLast(".log".count))
    }

    static func record(_ row: PostgresRow) throws -> ObjectRecord {
        ObjectRecord(
            objectType: ObjectType(rawValue: try row.string("object_type")) ?? .data,
            objectId: try row.uuid("object_id"), objectVersion: try row.int("object_version"),
            tagVersion: try row.int("tag_version"),
            definition: try ConveyorJSON.decode(ObjectDefinition.self, from: Data(try row.string("definition").utf8)),
            attributes: try ConveyorJSON.decode([String: Value].self, from: Data(try row.string("attributes").utf8)),
            storagePath: row.stringIfPresent("storage_path"), createdAt: try row.date("created_at"),
            tagCreatedAt: try row.date("tag_created_at"), jobId: row.uuidIfPresent("job_id"), owner: row.stringIfPresent("owner"),
            sharedWith: try sharedWith(row))
    }
}
