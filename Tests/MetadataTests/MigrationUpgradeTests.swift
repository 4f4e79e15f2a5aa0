import ConveyorModels
import Foundation
import Logging
import Postgres
import ServiceKit
import Testing

@testable import Metadata

/// Upgrading a database written by the first schema version loses nothing.
@Suite("Metadata schema upgrade", .serialized)
struct MigrationUpgradeTests {
    @Test("objects of schema 1 become version 1 with typed tag version 1, searchable; job labels are indexed")
    func upgrade() async throws {
        let base = ProcessInfo.processInfo.environment["CONVEYOR_TEST_POSTGRES_URL"] ?? "postgres://conveyor@127.0.0.1:5433/conveyor"
        let schema = "test_upgrade_\(UUID().uuidString.prefix(8).lowercased())"
        let admin = PostgresPool(configuration: PostgresConfiguration(url: base, poolSize: 1), logger: Logger(label: "t"))
        try await admin.execute("CREATE SCHEMA \(schema)")
        defer { Task { try? await admin.execute("DROP SCHEMA \(schema) CASCADE"); await admin.close() } }
        var logger = Logger(label: "upgrade")
        logger.logLevel = .warning
        let pool = PostgresPool(configuration: PostgresConfiguration(url: base + "?options=-csearch_path%3D\(schema)", poolSize: 1), logger: logger)
        try await pool.migrate(Array(MetadataSchema.migrations.prefix(1)))
        let model = UUID()
        let job = UUID()
        _ = try await pool.query(
            """
            INSERT INTO objects (object_id, object_version, object_type, attributes, storage_path) VALUES
              ($1, 1, 'MODEL', '{"entryPoint": "m.py", "language": "python", "repository": "r", "version": "v1", "commit": "abc", "size": 12, "ratio": 0.5, "ok": true, "huge": 1e20}', 'models/m')
            """, [model])
        _ = try await pool.query(
            """
            INSERT INTO jobs (job_id, job_type, owner, priority, definition, status, status_message, submitted_at)
            VALUES ($1, 'RUN_MODEL', 'o', 50, $2, 'QUEUED', 'waiting', now())
            """, [job, PostgresJSON(Data(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"n":2,"gone":null},"outputAttrs":{"team":"risk"}},"labels":{"team":"risk"}}"#.utf8))])
        let export = UUID()
        let importJob = UUID()
        for (id, type, definition) in [
            (export, "EXPORT_DATA", #"{"jobType":"EXPORT_DATA","exportData":{"data":{"objectId":"\#(model)"},"storage":"local","path":"a/b.json"}}"#),
            (importJob, "IMPORT_MODEL", #"{"jobType":"IMPORT_MODEL","importModel":{"repository":"r","entryPoint":"m.py","language":"python","version":"v1","modelAttrs":{"team":"risk","n":1}}}"#),
        ] {
            _ = try await pool.query(
                """
                INSERT INTO jobs (job_id, job_type, owner, priority, definition, status, status_message, submitted_at)
                VALUES ($1, $2, 'o', 50, $3, 'SUCCEEDED', 'done', now())
                """, [id, type, PostgresJSON(Data(definition.utf8))])
        }
        try await pool.migrate(MetadataSchema.migrations)

        let objects = ObjectStore(pool: pool, storage: InternalStorage(root: TestStorage.folder()))
        let record = try await objects.object(TagSelector(objectId: model))
        #expect(record.objectVersion == 1 && record.tagVersion == 1)
        #expect(record.definition.model?.entryPoint == "m.py")
        #expect(record.attributes["size"] == .integer(12) && record.attributes["ratio"] == .float(0.5) && record.attributes["ok"] == .boolean(true))
        let found = try await objects.search(SearchObjects(search: .term(SearchTerm(attrName: "size", operator: .ge, value: .integer(10)))))
        #expect(found.objects.map(\.objectId) == [model])
        let store = JobStore(pool: pool, objects: objects, validator: JobValidator(), logCapBytes: 1024, publish: { _ in }, logger: logger)
        #expect(try await store.list(ListJobs(limit: 5, labels: ["team": "risk"])).jobs.map(\.jobId) == [job])
        #expect(try await store.list(ListJobs(limit: 5)).jobs.count == 3, "every job of the first release still reads")
        let exported = try await store.job(export).definition.exportData
        #expect(exported?.inputs["data"]?.objectId == model && exported?.exports["data"] == StorageLocation(storage: "local", path: "a/b.json"))
        #expect(try await store.job(importJob).definition.importModel?.modelAttrs?.count == 2)
        #expect(try await store.job(job).definition.runModel?.parameters == ["n": .integer(2)])
        #expect(try await store.job(job).definition.runModel?.outputAttrs == [TagUpdate(attrName: "team", value: .string("risk"))])
        #expect(record.attributes["huge"] == .float(1e20))
        await pool.close()
    }
}
