import ConveyorModels
import Foundation
import Testing
import WorkerKit

/// How a trac run is handed to TRAC's runtime and how its job result is read back (a result file
/// written by tracdap-runtime 0.11.0, trimmed of the fields Conveyor does not read).
@Suite("TRAC runtime contract")
struct TracRuntimeTests {
    static let succeeded = #"""
{"result": {"statusCode": "SUCCEEDED", "statusMessage": "", "outputs": {"scaled": {"objectType": "DATA", "objectId": "01a22ff1-8a0b-7262-b885-4775c6e8bb19", "objectVersion": 1, "tagVersion": 1}}}, "objects": {"DATA-01a22ff1-8a0b-7262-b885-4775c6e8bb19-v1": {"objectType": "DATA", "data": {"schema": {"schemaType": "TABLE_SCHEMA", "partType": "PART_ROOT", "table": {"fields": [{"fieldName": "key", "fieldOrder": 0, "fieldType": "STRING", "label": "Account key (with suffix)", "businessKey": true, "categorical": false, "notNull": true}, {"fieldName": "scaled_value", "fieldOrder": 1, "fieldType": "FLOAT", "label": "Balance * factor", "businessKey": false, "categorical": false, "notNull": false}, {"fieldName": "count", "fieldOrder": 2, "fieldType": "INTEGER", "label": "Number of items", "businessKey": false, "categorical": false, "notNull": false}]}}, "parts": {"part-root": {"snap": {"snapIndex": 0, "deltas": [{"deltaIndex": 0, "dataItem": "data/table_schema/01a22ff1-8a0b-7262-b885-4775c6e8bb19/part-root/snap-0/delta-0", "physicalRowCount": 3, "deltaRowCount": 3}]}}}, "storageId": {"objectType": "STORAGE", "objectId": "01a22ff1-8a0b-71cc-ae7b-58d419902221", "objectVersion": 1, "tagVersion": 1}, "rowCount": 3}}, "STORAGE-01a22ff1-8a0b-71cc-ae7b-58d419902221-v2": {"objectType": "STORAGE", "storage": {"dataItems": {"data/table/01a22ff1-8a0b-7262-b885-4775c6e8bb19/part-root/snap-0/delta-0": {"incarnations": [{"copies": [{"storageKey": "run_storage", "storagePath": "outputs/scaled.csv", "storageFormat": "CSV", "copyStatus": "COPY_AVAILABLE"}], "incarnationIndex": 0, "incarnationStatus": "INCARNATION_AVAILABLE"}]}, "data/table_schema/01a22ff1-8a0b-7262-b885-4775c6e8bb19/part-root/snap-0/delta-0": {"incarnations": [{"copies": [{"storageKey": "run_storage", "storagePath": "outputs/scaled.csv", "storageFormat": "CSV", "copyStatus": "COPY_AVAILABLE"}], "incarnationIndex": 0, "incarnationStatus": "INCARNATION_AVAILABLE"}]}}, "layout": "DEVELOPER_LAYOUT"}}}}
"""#

    @Test("a succeeded result gives each output's file, schema and row count (the data item's copy, not the placeholder)")
    func succeeded() throws {
        let result = try TracResult.parse(Data(Self.succeeded.utf8))
        #expect(result.succeeded && result.message.isEmpty)
        let scaled = try #require(result.outputs["scaled"])
        #expect(scaled.path == "outputs/scaled.csv" && scaled.rowCount == 3)
        #expect(scaled.schema?.fields.map(\.fieldName) == ["key", "scaled_value", "count"])
        #expect(scaled.schema?.fields.map(\.fieldType) == [.string, .float, .integer])
        #expect(scaled.schema?.fields.first?.businessKey == true && scaled.schema?.fields.first?.notNull == true)
        #expect(scaled.schema?.fields.last?.label == "Number of items")
    }

    @Test("a failed result carries TRAC's message; something else is refused")
    func failed() throws {
        let failed = try TracResult.parse(Data(#"{"result":{"statusCode":"FAILED","statusMessage":"Failed to read table [inputs/a.csv]: CSV data is missing one or more columns: [value]","outputs":{}},"objects":{}}"#.utf8))
        #expect(!failed.succeeded && failed.message.contains("missing one or more columns: [value]"))
        #expect(throws: JobFailure.self) { try TracResult.parse(Data("{}".utf8)) }
        #expect(throws: JobFailure.self) {
            try TracResult.parse(Data(#"{"result":{"statusCode":"SUCCEEDED","outputs":{"x":{"objectId":"nope"}}}}"#.utf8))
        }
    }

    @Test("before a result exists, the first TRAC exception of the output is the reason")
    func startFailure() {
        let output = """
            Traceback (most recent call last):
              File "dev_mode.py", line 853, in _process_parameters_dict
            tracdap.rt.exceptions.EConfigParse: Failed to encode parameter [factor]: Value of type [str] cannot be converted to FLOAT
            tracdap.rt.exceptions.EStartup: TRAC runtime failed to start
            """
        #expect(TracResult.firstError(in: output) == "EConfigParse: Failed to encode parameter [factor]: Value of type [str] cannot be converted to FLOAT")
        #expect(TracResult.firstError(in: "just a log line") == nil)
    }

    @Test("the job config names the model, its typed parameters, inputs in the run's folder and one CSV per output")
    func jobConfig() throws {
        let launch = TracLaunch(
            folder: "/w/run", entryPoint: "pkg.mod.Model", parameters: ["factor": .float(2.5), "day": .date("2026-01-31")],
            inputs: ["accounts": "/w/run/inputs/accounts/a.parquet"], outputs: ["scaled"])
        let config = try launch.jobConfig()
        guard case .object(let job)? = config.field("job")?.field("runModel") else { Issue.record("no runModel"); return }
        #expect(job["model"] == .string("pkg.mod.Model"))
        #expect(job["parameters"] == .object(["factor": .number(2.5), "day": .string("2026-01-31")]))
        #expect(job["inputs"] == .object(["accounts": .string("inputs/accounts/a.parquet")]))
        #expect(job["outputs"] == .object(["scaled": .string("outputs/scaled.csv")]))
        #expect(config.field("properties")?.field("result.storage.path") == .string(TracLaunch.resultPath))
        #expect(launch.systemConfig.field("resources")?.field("run")?.field("properties")?.field("rootPath") == .string("/w/run"))
        #expect(launch.command(interpreter: "/env/bin/python").prefix(3) == ["/env/bin/python", "-m", "tracdap.rt.launch"])
        let outside = TracLaunch(folder: "/w/run", entryPoint: "a.B", parameters: [:], inputs: ["x": "/etc/passwd"], outputs: [])
        #expect(throws: JobFailure.self) { try outside.jobConfig() }
    }
}
