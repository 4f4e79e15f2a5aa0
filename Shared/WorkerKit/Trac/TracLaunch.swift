import ConveyorModels
import Foundation

/// How one run of a `trac` model is handed to TRAC's runtime: `python -m tracdap.rt.launch` in dev
/// mode with a system config and a job config written for the run (``write(in:)``). The run's folder
/// is TRAC's storage: the inputs are read where the runner copied them (`inputs/<name>/<file>`, CSV
/// or Parquet by extension, checked by TRAC against the model's schemas), each output is written as
/// `outputs/<name>.csv` (where every model's outputs are collected), and TRAC's job result as
/// `trac/result.json` (read back with ``TracResult``).
public struct TracLaunch: Sendable {
    /// The run's folder (absolute): TRAC's storage root.
    public var folder: String
    /// `module.Class`.
    public var entryPoint: String
    public var parameters: [String: Value]
    /// Input name → the input's file inside `folder`.
    public var inputs: [String: String]
    /// The output names the model declares.
    public var outputs: [String]

    public init(folder: String, entryPoint: String, parameters: [String: Value], inputs: [String: String], outputs: [String]) {
        self.folder = folder
        self.entryPoint = entryPoint
        self.parameters = parameters
        self.inputs = inputs
        self.outputs = outputs
    }

    public var configFolder: String { folder + "/trac" }
    public var scratchFolder: String { configFolder + "/scratch" }
    public static let resultPath = "trac/result.json"
    public var resultFile: String { folder + "/" + Self.resultPath }

    /// The command that runs the model with `interpreter` (the model's environment's).
    public func command(interpreter: String) -> [String] {
        [
            interpreter, "-m", "tracdap.rt.launch", "--sys-config", configFolder + "/sys-config.json",
            "--job-config", configFolder + "/job-config.json", "--dev-mode", "--scratch-dir", scratchFolder,
        ]
    }

    /// TRAC's system config: one local storage, the run's folder, CSV unless a path says otherwise.
    public var systemConfig: JSONValue {
        .object([
            "properties": .object(["storage.default.location": .string("run"), "storage.default.format": .string("CSV")]),
            "resources": .object([
                "run": .object([
                    "resourceType": .string("INTERNAL_STORAGE"), "protocol": .string("LOCAL"),
                    "properties": .object(["rootPath": .string(folder)]),
                ])
            ]),
        ])
    }

    /// TRAC's job config: the model by entry point, its parameters, inputs and outputs as paths in
    /// the storage, and the job result written as JSON.
    public func jobConfig() throws -> JSONValue {
        var inputPaths: [String: JSONValue] = [:]
        for (name, path) in inputs {
            guard path.hasPrefix(folder + "/") else { throw JobFailure("input '\(name)' is not in the run's folder") }
            inputPaths[name] = .string(String(path.dropFirst(folder.count + 1)))
        }
        return .object([
            "job": .object([
                "runModel": .object([
                    "model": .string(entryPoint),
                    "parameters": .object(parameters.mapValues(\.plainJSON)),
                    "inputs": .object(inputPaths),
                    "outputs": .object(Dictionary(uniqueKeysWithValues: outputs.map { ($0, JSONValue.string("outputs/\($0).csv")) })),
                ])
            ]),
            "properties": .object([
                "result.enabled": .string("true"), "result.storage.location": .string("run"),
                "result.storage.path": .string(Self.resultPath), "result.format": .string("json"),
            ]),
        ])
    }

    /// Writes both configs and an empty scratch folder (TRAC refuses one that is not empty).
    public func write() throws {
        try? FileManager.default.removeItem(atPath: configFolder)
        try FileManager.default.createDirectory(atPath: scratchFolder, withIntermediateDirectories: true)
        try ScratchFile.write(try ConveyorJSON.encode(systemConfig), to: configFolder + "/sys-config.json")
        try ScratchFile.write(try ConveyorJSON.encode(try jobConfig()), to: configFolder + "/job-config.json")
    }
}
