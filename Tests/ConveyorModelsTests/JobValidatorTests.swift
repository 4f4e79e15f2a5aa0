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
        #expect(job.runModel?.parameters?["n"] == .number(3))
        #expect(job.effectivePriority == 70)
    }

    @Test("malformed JSON names the body")
    func malformed() {
        #expect(problems("{not json") == [FieldProblem(field: "$", reason: "body is not valid JSON")])
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
        #expect(found == [FieldProblem(field: "priority", reason: "expected an integer")])
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
    func disabledType() {
        let found = problems(#"{"jobType":"RUN_FLOW"}"#)
        #expect(found.contains { $0.field == "jobType" && $0.reason.contains("not enabled") })
    }

    @Test("paths that escape their root are refused")
    func paths() {
        #expect(JobValidator.relativePathProblem("../etc/passwd", allowEmpty: false) != nil)
        #expect(JobValidator.relativePathProblem("/etc/passwd", allowEmpty: false) != nil)
        #expect(JobValidator.relativePathProblem("a/b.txt", allowEmpty: false) == nil)
    }
}
