import ConveyorModels
import Foundation
import Testing

@Suite("Typed values and the JSON codec")
struct ValueCodecTests {
    func roundTrip<T: Codable & Equatable>(_ value: T) throws -> T {
        try ConveyorJSON.decode(T.self, from: try ConveyorJSON.encode(value))
    }

    @Test("every basic type round-trips exactly in its canonical form", arguments: [
        Value.boolean(true), .integer(-42), .integer(Int64(1) << 52), .float(0.1), .float(2), .decimal("-12.3400"),
        .string("naïve \"quoted\" \n line"), .date("2024-02-29"), .datetime("2026-11-21T12:00:00.123456Z"),
        .array([.integer(1), .string("two")]), .map(["a": .boolean(false), "b": .array([])]),
    ])
    func canonical(_ value: Value) throws {
        let encoded = try ConveyorJSON.encode(value)
        #expect(try ConveyorJSON.decode(Value.self, from: encoded) == value)
        #expect(try ConveyorJSON.encode(try ConveyorJSON.decode(Value.self, from: encoded)) == encoded, "encoding is stable")
    }

    @Test("plain JSON is typed by its shape")
    func shorthand() throws {
        let decoded = try ConveyorJSON.decode([String: Value].self, from: Data(#"{"b":true,"i":3,"f":2.5,"s":"x","a":[1],"m":{"k":"v"}}"#.utf8))
        #expect(decoded == ["b": .boolean(true), "i": .integer(3), "f": .float(2.5), "s": .string("x"), "a": .array([.integer(1)]), "m": .map(["k": .string("v")])])
    }

    @Test("values are converted to declared types only without loss")
    func coercion() {
        #expect(Value.integer(3).coerced(to: .float) == .float(3))
        #expect(Value.integer(3).coerced(to: .decimal) == .decimal("3"))
        #expect(Value.string("2026-01-31").coerced(to: .date) == .date("2026-01-31"))
        #expect(Value.string("2026-01-32").coerced(to: .date) == nil)
        #expect(Value.string("1.5e3").coerced(to: .decimal) == nil)
        #expect(Value.float(1.5).coerced(to: .integer) == nil)
        #expect(Value.string("3").coerced(to: .integer) == nil)
    }

    @Test("malformed typed values are named with their path")
    func malformed() {
        let body = Data(#"{"a":{"type":"DECIMAL","value":"1,5"},"b":{"type":"INTEGER","value":1.5},"c":{"type":"DATETIME","value":"yesterday"},"d":{"type":"BOOLEAN"},"e":null}"#.utf8)
        do {
            _ = try ConveyorJSON.decode([String: Value].self, from: body, checking: .map(.value))
            Issue.record("decoded")
        } catch let failure as ValidationFailure {
            #expect(Set(failure.problems.map(\.field)) == ["a.value", "b.value", "c.value", "d.value", "e"])
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("timestamps keep microseconds")
    func microseconds() throws {
        let date = Timestamp.parse("2026-11-21T12:00:00.123456Z")!
        #expect(Timestamp.format(date) == "2026-11-21T12:00:00.123456Z")
        #expect(Timestamp.format(Timestamp.parse("2026-11-21T13:00:00.5+01:00")!) == "2026-11-21T12:00:00.500000Z")
    }

    @Test("a definition of every job type round-trips exactly")
    func definitions() throws {
        let id = UUID()
        let selector = TagSelector(objectType: .data, objectId: id, objectVersion: 2, tagVersion: 1)
        let updates = [TagUpdate(.createOrAppend, attrName: "team", value: .string("risk")), TagUpdate(.clearAll)]
        let jobs: [JobDefinition] = [
            JobDefinition(jobType: .importModel, importModel: ImportModelJob(language: "python", repository: "r", packageGroup: "g", package: "p", version: "v1", entryPoint: "m.py", path: "src", modelAttrs: updates)),
            JobDefinition(jobType: .importData, importData: ImportDataJob(model: TagSelector(objectType: .model, objectId: id, latestObject: true), parameters: ["d": .date("2026-01-01")], imports: ["raw": StorageLocation(storage: "local", path: "in/raw.csv")], storageAccess: ["local"], importAttrs: updates, outputAttrs: updates)),
            JobDefinition(jobType: .exportData, exportData: ExportDataJob(inputs: ["a": selector], priorOutputs: ["a": selector], exports: ["a": StorageLocation(path: "out/a.csv")])),
            JobDefinition(jobType: .runModel, runModel: RunModelJob(model: TagSelector(objectId: id, objectAsOf: Timestamp.parse("2026-01-01T00:00:00.000001Z"), tagAsOf: Date(timeIntervalSince1970: 1)), parameters: ["n": .decimal("1.50")], inputs: ["x": selector], outputAttrs: updates), priority: 9, resources: ResourceRequirements(cpus: 2, memoryMB: 512, maxRunSeconds: 60), notification: NotificationSettings(email: ["a@b.c"], on: [.failed]), labels: ["k": "v"], owner: "o", idempotencyKey: "key"),
            JobDefinition(jobType: .runFlow, runFlow: RunFlowJob(flow: TagSelector(objectType: .flow, objectId: id), models: ["m": TagSelector(objectId: id, objectVersion: 1)], parameters: ["p": .array([.float(1.5)])], inputs: ["in": selector])),
            JobDefinition(jobType: .jobGroup, jobGroup: JobGroupJob(groupType: .parallel, jobs: [JobDefinition(jobType: .runModel, runModel: RunModelJob(model: TagSelector(objectId: id)))])),
        ]
        for job in jobs {
            let encoded = try ConveyorJSON.encode(job)
            let decoded = try JobValidator().decode(encoded)
            #expect(decoded == job)
            #expect(try ConveyorJSON.encode(decoded) == encoded)
        }
    }
}

@Suite("Tag updates")
struct TagUpdateTests {
    func apply(_ updates: [TagUpdate], to attributes: [String: Value] = [:]) -> Result<[String: Value], ValidationFailure> {
        TagUpdate.apply(updates, to: attributes, field: "attrs")
    }

    @Test("each operation does what it says")
    func operations() throws {
        let start: [String: Value] = ["a": .string("x"), "conveyor_job_id": .string("j")]
        #expect(try apply([TagUpdate(attrName: "a", value: .integer(1))], to: start).get()["a"] == .integer(1))
        #expect(try apply([TagUpdate(.createOrAppend, attrName: "a", value: .string("y"))], to: start).get()["a"] == .array([.string("x"), .string("y")]))
        #expect(try apply([TagUpdate(.createOrAppend, attrName: "b", value: .string("y"))], to: start).get()["b"] == .string("y"))
        #expect(try apply([TagUpdate(.create, attrName: "b", value: .boolean(true))], to: start).get()["b"] == .boolean(true))
        #expect(try apply([TagUpdate(.replace, attrName: "a", value: .string("z"))], to: start).get()["a"] == .string("z"))
        #expect(try apply([TagUpdate(.append, attrName: "a", value: .string("z"))], to: start).get()["a"] == .array([.string("x"), .string("z")]))
        #expect(try apply([TagUpdate(.delete, attrName: "a")], to: start).get()["a"] == nil)
        #expect(try apply([TagUpdate(.clearAll)], to: start).get() == ["conveyor_job_id": .string("j")], "platform attributes stay")
    }

    @Test("every refused update is listed with its index")
    func refusals() {
        guard case .failure(let failure) = apply([
            TagUpdate(.create, attrName: "a", value: .integer(1)), TagUpdate(.replace, attrName: "zz", value: .integer(1)),
            TagUpdate(.append, attrName: "a", value: .string("z")), TagUpdate(.delete, attrName: "nope"),
            TagUpdate(attrName: "1bad", value: .integer(1)), TagUpdate(attrName: "conveyor_x", value: .integer(1)),
            TagUpdate(attrName: "m", value: .map([:])), TagUpdate(attrName: "v"),
        ], to: ["a": .string("x")]) else { Issue.record("accepted"); return }
        #expect(failure.problems.map(\.field) == [
            "attrs[0].attrName", "attrs[1].attrName", "attrs[2].value", "attrs[3].attrName", "attrs[4].attrName",
            "attrs[5].attrName", "attrs[6].value", "attrs[7].value",
        ])
    }
}

@Suite("Flow graphs")
struct FlowDefinitionTests {
    static func model(_ inputs: [String], _ outputs: [String]) -> FlowNode { FlowNode(nodeType: .model, inputs: inputs, outputs: outputs) }
    static func edge(_ from: String, _ fromSocket: String?, _ to: String, _ toSocket: String?) -> FlowEdge {
        FlowEdge(source: FlowSocket(node: from, socket: fromSocket), target: FlowSocket(node: to, socket: toSocket))
    }

    static let chain = FlowDefinition(
        nodes: ["raw": FlowNode(nodeType: .input), "clean": model(["source"], ["result"]), "count": model(["source"], ["counts"]), "report": FlowNode(nodeType: .output)],
        edges: [edge("raw", nil, "clean", "source"), edge("clean", "result", "count", "source"), edge("count", "counts", "report", nil)])

    @Test("a valid chain has no problems and runs in dependency order")
    func valid() {
        #expect(Self.chain.problems(field: "flow").isEmpty)
        #expect(Self.chain.topologicalOrder() == ["raw", "clean", "count", "report"])
    }

    @Test("a cycle is refused, naming it")
    func cycle() {
        let flow = FlowDefinition(
            nodes: ["a": Self.model(["in"], ["out"]), "b": Self.model(["in"], ["out"])],
            edges: [Self.edge("a", "out", "b", "in"), Self.edge("b", "out", "a", "in")])
        let problems = flow.problems(field: "flow")
        #expect(problems.count == 1)
        #expect(problems.first?.reason == "the flow has a cycle: a → b → a")
        #expect(flow.topologicalOrder() == nil)
    }

    @Test("unconnected inputs, unknown sockets and doubly fed inputs are refused")
    func wiring() {
        let flow = FlowDefinition(
            nodes: ["raw": FlowNode(nodeType: .input), "m": Self.model(["a", "b"], ["out"]), "o": FlowNode(nodeType: .output)],
            edges: [Self.edge("raw", nil, "m", "a"), Self.edge("raw", nil, "m", "a"), Self.edge("m", "nope", "ghost", nil), Self.edge("o", nil, "raw", nil)])
        let reasons = flow.problems(field: "flow").map(\.description)
        #expect(reasons.contains("flow.edges[1].target: m.a is already fed by edges[0]"))
        #expect(reasons.contains("flow.edges[2].source: model node 'm' has no output 'nope'"))
        #expect(reasons.contains("flow.edges[2].target: no node 'ghost'"))
        #expect(reasons.contains("flow.edges[3].source: an OUTPUT node cannot be a source"))
        #expect(reasons.contains("flow.nodes.m.inputs: input 'b' is not connected"))
        #expect(reasons.contains("flow.nodes.o: output node 'o' is not connected"))
    }
}
