import ConveyorModels
import Foundation
import Testing

@Suite("Job definition validation")
struct JobValidatorTests {
    let validator = JobValidator()

    func problems(_ json: String) -> [FieldProblem] {
        do {
            _ = try validator.decode(Data(json.utf8))
            return []
        } catch let failure as ValidationFailure {
            return failure.problems
        } catch {
            Issue.record("unexpected error \(error)")
            return []
        }
    }

    @Test("a valid RUN_MODEL definition decodes")
    func valid() throws {
        let id = UUID()
        let job = try validator.decode(
            Data(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(id)"},"parameters":{"n":3}},"priority":70}"#.utf8))
        #expect(job.runModel?.model.objectId == id)
        #expect(job.runModel?.parameters?["n"] == .integer(3))
        #expect(job.effectivePriority == 70)
    }

    @Test("malformed JSON names the body")
    func malformed() {
        #expect(problems("{not json") == [FieldProblem(field: "$", reason: "the body is not valid JSON")])
        #expect(problems("\u{FF}\u{FE}") .first?.field == "$")
    }

    @Test("an unknown job type is named")
    func unknownType() {
        let found = problems(#"{"jobType":"RUN_EVERYTHING"}"#)
        #expect(found.count == 1)
        #expect(found.first?.field == "jobType")
        #expect(found.first?.reason.contains("RUN_EVERYTHING") == true)
    }

    @Test("a missing required field is named with its path")
    func missingField() {
        #expect(problems(#"{"jobType":"IMPORT_MODEL","importModel":{"repository":"r","entryPoint":"m.py","language":"python"}}"#)
            == [FieldProblem(field: "importModel.version", reason: "is required")])
    }

    @Test("a wrong type is named with its path")
    func wrongType() {
        let found = problems(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(UUID())"}},"priority":"high"}"#)
        #expect(found == [FieldProblem(field: "priority", reason: "expected an integer, got a string")])
    }

    @Test("every semantic problem is listed, not only the first")
    func allProblems() {
        let found = problems(
            #"{"jobType":"IMPORT_MODEL","importModel":{"repository":"","entryPoint":"../x","language":"cobol","version":"-v"},"priority":500,"notification":{"email":["not-an-address"]},"runModel":{"model":{"objectId":"\#(UUID())"}}}"#)
        let fields = Set(found.map(\.field))
        #expect(
            fields == [
                "importModel.repository", "importModel.entryPoint", "importModel.language", "importModel.version",
                "priority", "notification.email[0]", "runModel",
            ])
    }

    @Test("job types not enabled in the deployment are refused")
    func disabledType() throws {
        var found: [FieldProblem] = []
        do {
            _ = try JobValidator(enabledTypes: [.runModel]).decode(Data(#"{"jobType":"RUN_FLOW"}"#.utf8))
        } catch let failure as ValidationFailure {
            found = failure.problems
        }
        #expect(found.contains { $0.field == "jobType" && $0.reason.contains("not enabled") })
    }

    @Test("paths that escape their root are refused")
    func paths() {
        #expect(JobValidator.relativePathProblem("../etc/passwd", allowEmpty: false) != nil)
        #expect(JobValidator.relativePathProblem("/etc/passwd", allowEmpty: false) != nil)
        #expect(JobValidator.relativePathProblem("a/b.txt", allowEmpty: false) == nil)
    }

    @Test("structural problems are all listed with their JSON paths, unknown fields included")
    func structuralProblems() {
        let found = problems(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"nope","objectVersion":"2"},"parameters":{"a":{"type":"DATE","value":"2026-02-30"}},"inputs":{"x":{}}},"prioritty":1,"labels":{"k":3}}"#)
        #expect(Set(found.map(\.field)) == [
            "runModel.model.objectId", "runModel.model.objectVersion", "runModel.parameters.a.value", "runModel.inputs.x.objectId",
            "prioritty", "labels.k",
        ])
        #expect(found.first { $0.field == "prioritty" }?.reason.hasPrefix("unknown field") == true)
    }

    @Test("every job type's section is checked, nested group jobs included")
    func everyJobType() {
        let model = UUID()
        let found = problems(
            #"{"jobType":"JOB_GROUP","jobGroup":{"groupType":"SEQUENTIAL","jobs":[{"jobType":"RUN_FLOW","runFlow":{"flow":{"objectId":"\#(model)","objectType":"MODEL"},"models":{}}},{"jobType":"IMPORT_DATA","importData":{"imports":{"raw":{"storage":"s3","path":"/abs"}}}},{"jobType":"EXPORT_DATA","exportData":{"inputs":{"a":{"objectId":"\#(model)"}},"exports":{"b":{"path":"out.csv"}},"outputs":{"a":{"objectId":"\#(model)"}}},"idempotencyKey":"k"}]}}"#)
        #expect(Set(found.map(\.field)) == [
            "jobGroup.jobs[0].runFlow.flow.objectType", "jobGroup.jobs[0].runFlow.models",
            "jobGroup.jobs[1].importData.imports.raw.storage", "jobGroup.jobs[1].importData.imports.raw.path",
            "jobGroup.jobs[2].exportData.exports.b", "jobGroup.jobs[2].exportData.exports", "jobGroup.jobs[2].exportData.outputs",
            "jobGroup.jobs[2].idempotencyKey",
        ])
    }

    @Test("resource requests beyond the deployment's limits are refused")
    func limits() throws {
        let validator = JobValidator(limits: DeploymentLimits(maxCpus: 4, maxMemoryMB: 1024, maxRunSeconds: 60))
        var found: [FieldProblem] = []
        do {
            _ = try validator.decode(Data(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(UUID())"}},"resources":{"cpus":8,"memoryMB":2048,"maxRunSeconds":61}}"#.utf8))
        } catch let failure as ValidationFailure {
            found = failure.problems
        }
        #expect(Set(found.map(\.field)) == ["resources.cpus", "resources.memoryMB", "resources.maxRunSeconds"])
    }

    @Test("a job type's own ceiling applies to its jobs only, and is named in the problem")
    func typeLimits() throws {
        var limits = DeploymentLimits(maxCpus: 8, maxMemoryMB: 4096, maxRunSeconds: 3600)
        limits.byType[.importData] = ResourceCeiling(maxCpus: 1, maxMemoryMB: 512, maxGpus: 0, maxRunSeconds: 600)
        let validator = JobValidator(limits: limits)
        func problems(_ json: String) -> [FieldProblem] {
            do {
                _ = try validator.decode(Data(json.utf8))
                return []
            } catch let failure as ValidationFailure { return failure.problems } catch { return [FieldProblem(field: "?", reason: "\(error)")] }
        }
        let imported = problems(#"{"jobType":"IMPORT_DATA","importData":{"imports":{"a":{"path":"a.csv"}}},"resources":{"memoryMB":1024,"maxRunSeconds":900}}"#)
        #expect(Set(imported.map(\.field)) == ["resources.memoryMB", "resources.maxRunSeconds"], "\(imported)")
        #expect(imported.first { $0.field == "resources.memoryMB" }?.reason == "must be between 1 and 512 (this deployment's limit for IMPORT_DATA jobs)")
        #expect(problems(#"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(UUID())"}},"resources":{"memoryMB":1024,"maxRunSeconds":900}}"#).isEmpty)
        #expect(limits.ceiling(for: .runModel).maxMemoryMB == 4096)
    }
}

@Suite("Execution profiles")
struct ExecutionProfileTests {
    let lean = ExecutionProfile(
        name: "lean", environment: ["A": "1"], defaults: ResourceRequirements(cpus: 1, memoryMB: 300),
        limits: ResourceRequirements(cpus: 2, memoryMB: 512, maxRunSeconds: 600))

    func problems(_ job: JobDefinition) -> [String] {
        let validator = JobValidator(limits: DeploymentLimits(profiles: ["lean": lean]))
        do {
            try validator.validate(job)
            return []
        } catch let failure as ValidationFailure {
            return failure.problems.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test("a job names a known profile, asks for no more than it allows, and is a RUN_MODEL or RUN_FLOW")
    func validation() {
        let model = RunModelJob(model: TagSelector(objectId: UUID()))
        #expect(problems(JobDefinition(jobType: .runModel, runModel: model, profile: "lean")).isEmpty)
        #expect(problems(JobDefinition(jobType: .runModel, runModel: model, profile: "big")) == ["profile: no execution profile 'big' (this deployment has lean)"])
        #expect(problems(JobDefinition(jobType: .runModel, runModel: model, resources: ResourceRequirements(cpus: 4, memoryMB: 1024, maxRunSeconds: 60), profile: "lean")) == [
            "resources.cpus: profile 'lean' allows at most 2 cpus", "resources.memoryMB: profile 'lean' allows at most 512 MB",
        ])
        let importModel = ImportModelJob(language: "shell", repository: "r", version: "v", entryPoint: "run.sh")
        #expect(problems(JobDefinition(jobType: .importModel, importModel: importModel, profile: "lean")) == [
            "profile: execution profiles apply to RUN_MODEL and RUN_FLOW jobs, not IMPORT_MODEL"
        ])
    }

    @Test("its defaults fill what a job does not ask for, also in a group's jobs; names are checked")
    func defaults() {
        let model = RunModelJob(model: TagSelector(objectId: UUID()))
        let job = JobDefinition(jobType: .runModel, runModel: model, resources: ResourceRequirements(memoryMB: 100), profile: "lean")
        #expect(job.fillingProfileDefaults(["lean": lean]).resources == ResourceRequirements(cpus: 1, memoryMB: 100))
        let group = JobDefinition(jobType: .jobGroup, jobGroup: JobGroupJob(groupType: .parallel, jobs: [JobDefinition(jobType: .runModel, runModel: model, profile: "lean")]))
        #expect(group.fillingProfileDefaults(["lean": lean]).jobGroup?.jobs[0].resources == ResourceRequirements(cpus: 1, memoryMB: 300))
        #expect(JobDefinition(jobType: .runModel, runModel: model).fillingProfileDefaults(["lean": lean]).resources == nil)
        #expect(ExecutionProfile.nameProblem("gpu-small") == nil && ExecutionProfile.nameProblem("Big") != nil && ExecutionProfile.nameProblem("") != nil)
    }
}
