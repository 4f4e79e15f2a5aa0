import ConveyorModels
import Foundation
import Testing

/// The reference check against an in-memory catalogue of objects.
@Suite("Job reference check")
struct JobReferenceCheckTests {
    let model = ObjectRecord(
        objectType: .model, objectId: UUID(), objectVersion: 3, tagVersion: 2,
        definition: .model(ModelDefinition(
            language: "python", repository: "r", version: "v1", entryPoint: "m.py",
            parameters: ["rows": ModelParameter(paramType: .integer), "rate": ModelParameter(paramType: .float, defaultValue: .float(0.5)), "day": ModelParameter(paramType: .date)],
            inputs: ["customers": ModelInputOutput(), "extra": ModelInputOutput(optional: true)], outputs: ["summary": ModelInputOutput()])),
        attributes: [:], storagePath: "models/m", createdAt: Date(), jobId: nil)
    let data = ObjectRecord(
        objectType: .data, objectId: UUID(), objectVersion: 1, definition: .data(DataDefinition()), attributes: [:],
        storagePath: "data/d", createdAt: Date(), jobId: nil)

    func check(_ job: JobDefinition) async throws -> Result<JobDefinition, ValidationFailure> {
        let catalogue = [model.objectId: model, data.objectId: data]
        return try await JobReferenceCheck.pin(job) { selector in catalogue[selector.objectId] }
    }

    @Test("a matching job is pinned to exact versions, parameters typed and defaults filled in")
    func pinned() async throws {
        let job = JobDefinition(jobType: .runModel, runModel: RunModelJob(
            model: TagSelector(objectId: model.objectId), parameters: ["rows": .integer(10), "day": .string("2026-11-21")],
            inputs: ["customers": TagSelector(objectId: data.objectId)]))
        let pinned = try await check(job).get().runModel!
        #expect(pinned.model == TagSelector(objectType: .model, objectId: model.objectId, objectVersion: 3, tagVersion: 2))
        #expect(pinned.inputs?["customers"]?.objectVersion == 1)
        #expect(pinned.parameters == ["rows": .integer(10), "day": .date("2026-11-21"), "rate": .float(0.5)])
    }

    @Test("every mismatch with the model's declarations is listed")
    func mismatches() async throws {
        let job = JobDefinition(jobType: .runModel, runModel: RunModelJob(
            model: TagSelector(objectId: model.objectId), parameters: ["rows": .string("ten"), "colour": .string("red")],
            inputs: ["orders": TagSelector(objectId: data.objectId)], priorOutputs: ["summary": TagSelector(objectId: model.objectId)]))
        guard case .failure(let failure) = try await check(job) else { Issue.record("accepted"); return }
        #expect(Set(failure.problems.map(\.description)) == [
            "runModel.inputs: input 'customers' is required by the model",
            "runModel.inputs.orders: the model declares no input 'orders' (declared: customers, extra)",
            "runModel.parameters: parameter 'day' (DATE) is required by the model",
            "runModel.parameters.colour: the model declares no parameter 'colour' (declared: day, rate, rows)",
            "runModel.parameters.rows: expected INTEGER, got STRING",
            "runModel.priorOutputs.summary.objectId: is a MODEL object, expected DATA",
        ])
    }

    @Test("unknown objects and objects of the wrong type are named")
    func references() async throws {
        let ghost = UUID()
        let job = JobDefinition(jobType: .runModel, runModel: RunModelJob(model: TagSelector(objectId: data.objectId), inputs: ["x": TagSelector(objectId: ghost, objectVersion: 4)]))
        guard case .failure(let failure) = try await check(job) else { Issue.record("accepted"); return }
        #expect(Set(failure.problems.map(\.description)) == [
            "runModel.inputs.x.objectId: no DATA object \(ghost.uuidString.lowercased()) version 4",
            "runModel.model.objectId: is a DATA object, expected MODEL",
        ])
    }

    @Test("an object the submitter may not read is named, and the failure is marked forbidden; shared with their team it is pinned")
    func access() async throws {
        var owned = model
        owned.owner = "alice"
        var input = data
        input.owner = "alice"
        input.sharedWith = ["risk"]
        let catalogue = [owned.objectId: owned, input.objectId: input]
        let job = JobDefinition(jobType: .runModel, runModel: RunModelJob(
            model: TagSelector(objectId: owned.objectId), parameters: ["rows": .integer(1), "day": .string("2026-12-01")], inputs: ["customers": TagSelector(objectId: input.objectId)]))
        let bob = Principal(name: "bob", role: .user, teams: ["risk"], method: "token")
        let refused = try await JobReferenceCheck.pin(job, caller: bob) { catalogue[$0.objectId] }
        guard case .failure(let failure) = refused else { Issue.record("accepted"); return }
        #expect(failure.forbidden)
        #expect(failure.problems.map(\.field) == ["runModel.model.objectId"], "the input is shared with bob's team: \(failure.problems)")
        owned.sharedWith = [ObjectAccess.everyone]
        let open = [owned.objectId: owned, input.objectId: input]
        let pinned = try await JobReferenceCheck.pin(job, caller: bob) { open[$0.objectId] }
        #expect((try? pinned.get()) != nil, "shared with everyone: \(pinned)")
        let admin = Principal(name: "root", role: .admin, method: "token")
        #expect((try? await JobReferenceCheck.pin(job, caller: admin) { catalogue[$0.objectId] }.get()) != nil)
    }

    @Test("a prior output is written to: the submitter must be allowed to change it, reading is not enough; a refusal says nothing of the object's type")
    func priorOutputAccess() async throws {
        var input = data
        input.owner = "alice"
        input.sharedWith = ["risk"]
        var target = ObjectRecord(
            objectType: .data, objectId: UUID(), objectVersion: 2, definition: .data(DataDefinition()), attributes: [:],
            storagePath: nil, createdAt: Date(), jobId: nil)
        target.owner = "alice"
        target.sharedWith = ["risk"]
        var secret = model
        secret.objectId = UUID()
        secret.owner = "alice"
        let catalogue = [model.objectId: model, input.objectId: input, target.objectId: target, secret.objectId: secret]
        let job = JobDefinition(jobType: .runModel, runModel: RunModelJob(
            model: TagSelector(objectId: model.objectId), parameters: ["rows": .integer(1), "day": .string("2026-12-01")],
            inputs: ["customers": TagSelector(objectId: input.objectId), "extra": TagSelector(objectId: secret.objectId)],
            priorOutputs: ["summary": TagSelector(objectId: target.objectId)]))
        let bob = Principal(name: "bob", role: .user, teams: ["risk"], method: "token")
        guard case .failure(let failure) = try await JobReferenceCheck.pin(job, caller: bob, resolve: { catalogue[$0.objectId] }) else {
            Issue.record("accepted")
            return
        }
        #expect(failure.forbidden)
        let secretId = secret.objectId.uuidString.lowercased()
        #expect(Set(failure.problems.map(\.description)) == [
            "runModel.priorOutputs.summary.objectId: object \(target.objectId.uuidString.lowercased()) belongs to alice; only its owner or an admin may change it",
            "runModel.inputs.extra.objectId: \(ObjectAccess.readRefusal(secretId))",
        ])
        let alice = Principal(name: "alice", role: .user, method: "token")
        var own = job
        own.runModel?.inputs?["extra"] = nil
        let pinned = try await JobReferenceCheck.pin(own, caller: alice) { catalogue[$0.objectId] }
        #expect((try? pinned.get())?.runModel?.priorOutputs?["summary"]?.objectVersion == 2, "the owner writes it: \(pinned)")
    }

    @Test("outputs kept from an earlier flow run name a model node and give every output the flow uses, as DATA with content")
    func flowReuse() async throws {
        let flow = ObjectRecord(
            objectType: .flow, objectId: UUID(), objectVersion: 1,
            definition: .flow(FlowDefinition(
                nodes: [
                    "raw": FlowNode(nodeType: .input), "first": FlowNode(nodeType: .model, inputs: ["customers"], outputs: ["summary"]),
                    "second": FlowNode(nodeType: .model, inputs: ["customers"], outputs: ["summary"]), "report": FlowNode(nodeType: .output),
                ],
                edges: [
                    FlowEdge(source: FlowSocket(node: "raw"), target: FlowSocket(node: "first", socket: "customers")),
                    FlowEdge(source: FlowSocket(node: "first", socket: "summary"), target: FlowSocket(node: "second", socket: "customers")),
                    FlowEdge(source: FlowSocket(node: "second", socket: "summary"), target: FlowSocket(node: "report")),
                ])),
            attributes: [:], storagePath: nil, createdAt: Date(), jobId: nil)
        let catalogue = [model.objectId: model, data.objectId: data, flow.objectId: flow]
        func run(_ reuse: [String: [String: TagSelector]]) async throws -> Result<JobDefinition, ValidationFailure> {
            let job = JobDefinition(jobType: .runFlow, runFlow: RunFlowJob(
                flow: TagSelector(objectId: flow.objectId), models: ["first": TagSelector(objectId: model.objectId), "second": TagSelector(objectId: model.objectId)],
                parameters: ["rows": .integer(1), "day": .string("2026-11-21")], inputs: ["raw": TagSelector(objectId: data.objectId)], reuse: reuse))
            return try await JobReferenceCheck.pin(job) { selector in catalogue[selector.objectId] }
        }
        let kept = try await run(["first": ["summary": TagSelector(objectId: data.objectId)]]).get()
        #expect(kept.runFlow?.reuse?["first"]?["summary"]?.objectVersion == 1, "pinned")
        guard case .failure(let failure) = try await run(["report": [:], "second": ["other": TagSelector(objectId: model.objectId)]]) else {
            Issue.record("accepted")
            return
        }
        #expect(Set(failure.problems.map(\.description)) == [
            "runFlow.reuse.report: the flow has no model node 'report'",
            "runFlow.reuse.second: output 'summary' of node 'second' is used by the flow and not given",
            "runFlow.reuse.second.other.objectId: is a MODEL object, expected DATA",
        ])
    }
}
