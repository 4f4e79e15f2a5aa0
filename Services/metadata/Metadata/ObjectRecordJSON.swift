import ConveyorModels
import Foundation
import Postgres

/// An object record written as JSON straight from its row (`objects` joined with `object_tags`):
/// the definition and the attributes are JSON in the database already, so a read that only answers
/// with records (a search page, an object, its versions) splices them instead of decoding them into
/// models and encoding them again, which was most of a search's time in this service.
///
/// The text decodes to exactly the ``ObjectRecord`` ``ObjectStore/record(_:)`` reads from the row.
enum ObjectRecordJSON {
    /// Appends the record of `row` (keys sorted, as ``ConveyorJSON`` writes them).
    static func write(_ row: PostgresRow, to json: inout JSONText) throws {
        json.raw(#"{"attributes":"#)
        json.compacted(try row.string("attributes"))
        json.raw(#","createdAt":"#)
        json.string(Timestamp.format(try row.date("created_at")))
        json.raw(#","definition":"#)
        json.compacted(try row.string("definition"))
        if let jobId = row.uuidIfPresent("job_id") {
            json.raw(#","jobId":"#)
            json.string(jobId.uuidString)
        }
        json.raw(#","objectId":"#)
        json.string(try row.uuid("object_id").uuidString)
        json.raw(#","objectType":"#)
        json.string(try row.string("object_type"))
        json.raw(#","objectVersion":"#)
        json.raw(String(try row.int("object_version")))
        if let owner = row.stringIfPresent("owner") {
            json.raw(#","owner":"#)
            json.string(owner)
        }
        if let teams = row.stringIfPresent("shared_with"), teams != "[]" {
            json.raw(#","sharedWith":"#)
            json.compacted(teams)
        }
        if let path = row.stringIfPresent("storage_path") {
            json.raw(#","storagePath":"#)
            json.string(path)
        }
        json.raw(#","tagCreatedAt":"#)
        json.string(Timestamp.format(try row.date("tag_created_at")))
        json.raw(#","tagVersion":"#)
        json.raw(String(try row.int("tag_version")))
        json.raw("}")
    }

    /// One record.
    static func record(_ row: PostgresRow) throws -> Data {
        var json = JSONText()
        try write(row, to: &json)
        return json.data
    }

    /// An array of records.
    static func array(_ rows: some Sequence<PostgresRow>) throws -> Data {
        var json = JSONText(capacity: 8192)
        json.raw("[")
        for (index, row) in rows.enumerated() {
            if index > 0 { json.raw(",") }
            try write(row, to: &json)
        }
        json.raw("]")
        return json.data
    }

    /// A page of records (``ObjectPage``).
    static func page(_ rows: some Sequence<PostgresRow>, nextCursor: String?) throws -> Data {
        var json = JSONText(capacity: 32768)
        if let nextCursor {
            json.raw(#"{"nextCursor":"#)
            json.string(nextCursor)
            json.raw(#","objects":["#)
        } else {
            json.raw(#"{"objects":["#)
        }
        for (index, row) in rows.enumerated() {
            if index > 0 { json.raw(",") }
            try write(row, to: &json)
        }
        json.raw("]}")
        return json.data
    }
}
