import ConveyorModels
import Foundation
import Postgres
import Testing

@testable import Metadata

/// Versioned objects, tags, as-of reads and search, against PostgreSQL (same fixture as the job store).
extension JobStoreTests {
    var objects: ObjectStore { store.objects }

    func create(_ definition: ObjectDefinition, _ attrs: [TagUpdate] = [], content: Data? = nil, prior: TagSelector? = nil) async throws -> ObjectRecord {
        try await objects.create(CreateObject(definition: definition, attrs: attrs, content: content, priorVersion: prior))
    }

    static let schemaDefinition = SchemaDefinition(fields: [
        SchemaField(fieldName: "id", fieldType: .integer, businessKey: true), SchemaField(fieldName: "name", fieldType: .string),
    ])

    @Test("object versions and tag versions are immutable; selectors read exactly the version asked for, also as of a time")
    func versionsAndAsOf() async throws {
        let v1 = try await create(.schema(Self.schemaDefinition), [TagUpdate(attrName: "owner", value: .string("ann"))])
        let afterV1 = try await pool.query("SELECT clock_timestamp() AS t")[0].date("t")
        let tag2 = try await objects.updateTag(UpdateTag(selector: v1.selector, updates: [TagUpdate(attrName: "owner", value: .string("bob"))]))
        #expect(tag2.tagVersion == 2 && tag2.objectVersion == 1)
        let afterTag2 = try await pool.query("SELECT clock_timestamp() AS t")[0].date("t")
        var changed = Self.schemaDefinition
        changed.fields.append(SchemaField(fieldName: "amount", fieldType: .decimal))
        let v2 = try await create(.schema(changed), [TagUpdate(attrName: "owner", value: .string("cy"))], prior: TagSelector(objectId: v1.objectId, objectVersion: 1))
        #expect(v2.objectVersion == 2 && v2.tagVersion == 1 && v2.objectId == v1.objectId)

        func read(_ selector: TagSelector) async throws -> ObjectRecord { try await objects.object(selector) }
        let id = v1.objectId
        #expect(try await read(TagSelector(objectId: id)).definition.schema?.fields.count == 3)
        #expect(try await read(TagSelector(objectId: id, objectVersion: 1)).attributes["owner"] == .string("bob"))
        #expect(try await read(TagSelector(objectId: id, objectVersion: 1, tagVersion: 1)).attributes["owner"] == .string("ann"))
        #expect(try await read(TagSelector(objectId: id, objectAsOf: afterV1)).attributes["owner"] == .string("bob"), "the version current then, with its latest tag")
        #expect(try await read(TagSelector(objectId: id, objectAsOf: afterV1, tagAsOf: afterV1)).tagVersion == 1)
        #expect(try await read(TagSelector(objectId: id, objectAsOf: afterTag2)).objectVersion == 1)
        await #expect(throws: MetadataError.self) { try await read(TagSelector(objectId: id, objectAsOf: v1.createdAt.addingTimeInterval(-1))) }
        await #expect(throws: MetadataError.self) { try await read(TagSelector(objectId: id, objectVersion: 3)) }

        let versions = try await objects.versions(ListObjectVersions(objectId: id))
        #expect(versions.map(\.objectVersion) == [1, 2])
        #expect(versions.map(\.tagVersion) == [2, 1], "each version with its latest tag")
        #expect(try await objects.versions(ListObjectVersions(objectId: id, objectVersion: 1)).map(\.attributes["owner"]) == [.string("ann"), .string("bob")])
    }

    @Test("tag updates and new versions are compare-and-set")
    func compareAndSet() async throws {
        let object = try await create(.schema(Self.schemaDefinition))
        _ = try await objects.updateTag(UpdateTag(selector: object.selector, updates: [TagUpdate(attrName: "a", value: .integer(1))]))
        await #expect(throws: MetadataError.conflict("the tag of object \(object.objectId.uuidString.lowercased()) v1 is at version 2, not 1")) {
            try await objects.updateTag(UpdateTag(selector: object.selector, updates: [TagUpdate(attrName: "a", value: .integer(2))]))
        }
        _ = try await create(.schema(Self.schemaDefinition), prior: TagSelector(objectId: object.objectId, objectVersion: 1))
        do {
            _ = try await create(.schema(Self.schemaDefinition), prior: TagSelector(objectId: object.objectId, objectVersion: 1))
            Issue.record("a stale prior version was accepted")
        } catch let error as MetadataError {
                let failure = error.rpcFailure
            #expect(failure.code == .conflict)
        }
        #expect(try await objects.versions(ListObjectVersions(objectId: object.objectId)).count == 2)
    }

    @Test("direct creation checks everything first: a FLOW with a cycle, a DATA with a missing schema, a MODEL")
    func creationChecks() async throws {
        let cyclic = FlowDefinition(
            nodes: ["a": FlowNode(nodeType: .model, inputs: ["in"], outputs: ["out"]), "b": FlowNode(nodeType: .model, inputs: ["in"], outputs: ["out"])],
            edges: [FlowEdge(source: FlowSocket(node: "a", socket: "out"), target: FlowSocket(node: "b", socket: "in")),
                    FlowEdge(source: FlowSocket(node: "b", socket: "out"), target: FlowSocket(node: "a", socket: "in"))])
        let before = try await pool.query("SELECT count(*) AS n FROM objects")[0].int("n")
        for (definition, field) in [
            (ObjectDefinition.flow(cyclic), "definition.flow.edges"),
            (.data(DataDefinition(schema: TagSelector(objectId: UUID()))), "definition.data.schema.objectId"),
            (.model(ModelDefinition(language: "python", repository: "r", version: "v", entryPoint: "m.py")), "definition.objectType"),
            (ObjectDefinition(objectType: .data, schema: Self.schemaDefinition), "definition.data"),
        ] {
            do {
                _ = try await create(definition)
                Issue.record("accepted \(definition.objectType)")
            } catch let error as MetadataError {
                let failure = error.rpcFailure
                #expect(failure.problems?.contains { $0.field == field } == true, "\(failure.problems ?? [])")
            }
        }
        #expect(try await pool.query("SELECT count(*) AS n FROM objects")[0].int("n") == before)
        let schema = try await create(.schema(Self.schemaDefinition))
        let data = try await create(.data(DataDefinition(schema: TagSelector(objectId: schema.objectId), format: "text/csv")))
        #expect(data.definition.data?.schema == schema.selector, "the schema reference is pinned")
        let file = try await create(.file(FileDefinition(name: "notes.txt", mimeType: "text/plain", sizeBytes: 0)), content: Data("hello".utf8))
        #expect(file.definition.file?.sizeBytes == 5)
        #expect(file.definition.file?.sha256 == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        #expect(try await objects.content(file.selector).data == Data("hello".utf8))
    }

    @Test("search: every operator, AND/OR/NOT, multi-valued attributes, latest versions only, as of a time, paging")
    func search() async throws {
        var ids: [String: UUID] = [:]
        for (name, region, size, day, tags) in [
            ("alpha", "EU", 10, "2026-01-01", ["x"]), ("beta", "US", 20, "2026-02-01", ["x", "y"]),
            ("gamma", "EU", 30, "2026-03-01", ["y"]), ("delta", "APAC", 40, "2026-04-01", []),
        ] {
            var attrs: [String: Value] = ["name": .string(name), "region": .string(region), "size": .integer(Int64(size)), "day": .date(day), "flag": .boolean(size > 15)]
            if !tags.isEmpty { attrs["tags"] = .array(tags.map { .string($0) }) }
            ids[name] = try await dataObject(attrs)
        }
        func names(_ expression: SearchExpression?, asOf: Date? = nil) async throws -> Set<String> {
            let page = try await objects.search(SearchObjects(objectType: .data, search: expression, asOf: asOf, limit: 100))
            return Set(page.objects.compactMap { $0.attributes["name"].flatMap { if case .string(let s) = $0 { s } else { nil } } })
        }
        func term(_ attr: String, _ op: SearchOperator, _ value: Value? = nil) -> SearchExpression { .term(SearchTerm(attrName: attr, operator: op, value: value)) }
        #expect(try await names(term("region", .eq, .string("EU"))) == ["alpha", "gamma"])
        #expect(try await names(term("region", .ne, .string("EU"))) == ["beta", "delta"])
        #expect(try await names(term("size", .lt, .integer(20))) == ["alpha"])
        #expect(try await names(term("size", .le, .integer(20))) == ["alpha", "beta"])
        #expect(try await names(term("size", .gt, .float(29.5))) == ["gamma", "delta"])
        #expect(try await names(term("size", .ge, .decimal("30"))) == ["gamma", "delta"])
        #expect(try await names(term("day", .lt, .date("2026-02-15"))) == ["alpha", "beta"])
        #expect(try await names(term("region", .in, .array([.string("US"), .string("APAC")]))) == ["beta", "delta"])
        #expect(try await names(term("tags", .exists)) == ["alpha", "beta", "gamma"])
        #expect(try await names(term("tags", .eq, .string("y"))) == ["beta", "gamma"], "a multi-valued attribute matches any value")
        #expect(try await names(term("flag", .eq, .boolean(true))) == ["beta", "gamma", "delta"])
        #expect(try await names(.and([term("region", .eq, .string("EU")), term("size", .gt, .integer(15))])) == ["gamma"])
        #expect(try await names(.or([term("region", .eq, .string("US")), term("size", .ge, .integer(40))])) == ["beta", "delta"])
        #expect(try await names(.not(term("tags", .exists))) == ["delta"])
        #expect(try await names(term("region", .eq, .string("EU' OR '1'='1"))) == [], "values are bound, never spliced")

        let before = try await pool.query("SELECT clock_timestamp() AS t")[0].date("t")
        let alpha = try await objects.object(TagSelector(objectId: ids["alpha"]!))
        _ = try await objects.updateTag(UpdateTag(selector: alpha.selector, updates: [TagUpdate(attrName: "region", value: .string("US"))]))
        #expect(try await names(term("region", .eq, .string("US"))) == ["alpha", "beta"], "the latest tag is searched")
        #expect(try await names(term("region", .eq, .string("US")), asOf: before) == ["beta"], "as of a time: the tags current then")

        let first = try await objects.search(SearchObjects(objectType: .data, limit: 3))
        #expect(first.objects.count == 3)
        let cursor = try #require(first.nextCursor)
        _ = try await dataObject(["name": .string("late")])  // arrives between pages
        let second = try await objects.search(SearchObjects(objectType: .data, limit: 3, cursor: cursor))
        #expect(Set(first.objects.map(\.objectId)).isDisjoint(with: second.objects.map(\.objectId)))
        #expect(first.objects.count + second.objects.count == 4, "the snapshot of the first page: the late object is not in it")
    }
}

extension JobStoreTests {
    @Test("records written as JSON from their rows decode to exactly the records read as models")
    func recordsAsJSON() async throws {
        let tricky: [TagUpdate] = [
            TagUpdate(attrName: "note", value: .string("quote \" backslash \\ newline \n tab \t bell \u{07} ünï 😀 / slash")),
            TagUpdate(attrName: "amount", value: .decimal("12345678901234567890.000100")),
            TagUpdate(attrName: "ratio", value: .float(0.1)),
            TagUpdate(attrName: "day", value: .date("2026-02-28")),
            TagUpdate(attrName: "at", value: .datetime("2026-02-28T12:34:56.123456Z")),
            TagUpdate(attrName: "list", value: .array([.string("a b"), .string("c")])),
            TagUpdate(attrName: "flag", value: .boolean(false)),
        ]
        let v1 = try await create(.schema(Self.schemaDefinition), tricky)
        _ = try await create(.schema(Self.schemaDefinition), tricky, prior: TagSelector(objectId: v1.objectId, objectVersion: 1))
        let file = try await create(.file(FileDefinition(name: "a \"b\".txt", mimeType: "text/plain", sizeBytes: 0)), tricky, content: Data("x".utf8))
        let written = try await pool.withTransaction { connection in
            try await objects.insert(
                connection, definition: .data(DataDefinition()), attributes: ["n": .integer(-7)], storagePath: "data/ä \"q\"", jobId: UUID(), owner: nil)
        }
        for selector in [TagSelector(objectId: v1.objectId), TagSelector(objectId: v1.objectId, objectVersion: 1), file.selector, TagSelector(objectId: written.objectId)] {
            let typed = try await objects.object(selector)
            #expect(try ConveyorJSON.decode(ObjectRecord.self, from: try await objects.objectJSON(selector)) == typed)
        }
        for request in [ListObjectVersions(objectId: v1.objectId), ListObjectVersions(objectId: v1.objectId, objectVersion: 1)] {
            #expect(try ConveyorJSON.decode([ObjectRecord].self, from: try await objects.versionsJSON(request)) == (try await objects.versions(request)))
        }
        for request in [SearchObjects(limit: 2), SearchObjects(search: .term(SearchTerm(attrName: "note", operator: .exists)))] {
            let page = try ConveyorJSON.decode(ObjectPage.self, from: try await objects.searchJSON(request))
            let typed = try await objects.search(request)
            #expect(page.objects == typed.objects && !page.objects.isEmpty)
            #expect((page.nextCursor == nil) == (typed.nextCursor == nil), "each cursor holds its own search's time")
        }
        await #expect(throws: MetadataError.self) { try await objects.objectJSON(TagSelector(objectType: .data, objectId: v1.objectId)) }
    }

    @Test("an OR mixing terms with NOT or NE compiles with every parameter used")
    func mixedOr() async throws {
        _ = try await dataObject(["region": .string("EU"), "size": .integer(1)])
        _ = try await dataObject(["region": .string("US"), "size": .integer(2)])
        func term(_ attr: String, _ op: SearchOperator, _ value: Value? = nil) -> SearchExpression { .term(SearchTerm(attrName: attr, operator: op, value: value)) }
        for expression in [
            SearchExpression.or([term("region", .eq, .string("EU")), .not(term("size", .lt, .integer(2)))]),
            .or([term("region", .eq, .string("EU")), term("region", .ne, .string("EU"))]),
        ] {
            #expect(try await objects.search(SearchObjects(objectType: .data, search: expression)).objects.count == 2)
        }
    }

    @Test("concurrent tag updates: one wins, the other is a conflict, never an error")
    func concurrentTags() async throws {
        let object = try await create(.schema(Self.schemaDefinition))
        let results = await withTaskGroup(of: Result<ObjectRecord, any Error>.self) { group in
            for index in 0..<4 {
                group.addTask {
                    do {
                        return .success(try await objects.updateTag(UpdateTag(selector: object.selector, updates: [TagUpdate(attrName: "n", value: .integer(Int64(index)))])))
                    } catch { return .failure(error) }
                }
            }
            var all: [Result<ObjectRecord, any Error>] = []
            for await result in group { all.append(result) }
            return all
        }
        #expect(results.filter { if case .success = $0 { true } else { false } }.count == 1)
        for case .failure(let error) in results { #expect((error as? MetadataError)?.rpcFailure.code == .conflict, "\(error)") }
    }
}
