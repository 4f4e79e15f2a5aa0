import AMQPClient
import Configuration
import ConveyorModels
import Foundation
import SystemPackage

/// Every setting a Conveyor service reads, from `configs/conveyor.json` (or the file named by the
/// environment variable `CONVEYOR_CONFIG`) with environment-variable overrides: the key `amqp.url`
/// is overridden by `AMQP_URL`, `runner.slots` by `RUNNER_SLOTS`, and so on.
///
/// Keys (see `configs/conveyor.json` and the README for defaults):
/// - `amqp.url` (secret), `amqp.heartbeatSeconds`, `amqp.queueType`, `amqp.rpcTimeoutSeconds`
/// - `postgres.url` (secret), `postgres.poolSize`
/// - `smtp.url`, `smtp.username`, `smtp.password` (secret), `smtp.startTLS`, `smtp.from`
/// - `storage.root` (internal storage), `export.root` (the `local` external storage)
/// - `gateway.host`, `gateway.port`, `gateway.maxBodyBytes`
/// - `<service>.health.port` for every service, `health.host`
/// - `runner.slots`, `runner.workDir`, `importer.slots`, `exporter.slots`, `worker.heartbeatSeconds`,
///   `scheduler.workerTimeoutSeconds`
/// - `log.level` (`trace` … `critical`), `log.format` (`text` or `json`: one JSON object per line)
/// - `metadata.enabledJobTypes`, `metadata.logCapBytes`, `limits.maxCpus`, `limits.maxMemoryMB`,
///   `limits.maxGpus`, `limits.maxRunSeconds`, `gateway.maxUploadBytes`
public struct ConveyorSettings: Sendable {
    public let reader: ConfigReader

    /// Loads the configuration file and the environment.
    /// - Throws: when the configuration file exists but is malformed.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) async throws
        -> ConveyorSettings
    {
        let path = environment["CONVEYOR_CONFIG"] ?? "configs/conveyor.json"
        let file = try await FileProvider<JSONSnapshot>(filePath: FilePath(path), allowMissing: true)
        let env = EnvironmentVariablesProvider(
            environmentVariables: environment,
            secretsSpecifier: .specific(["AMQP_URL", "POSTGRES_URL", "SMTP_PASSWORD"]))
        return ConveyorSettings(reader: ConfigReader(providers: [env, file]))
    }

    public init(reader: ConfigReader) {
        self.reader = reader
    }

    public var amqp: AMQPConfiguration {
        AMQPConfiguration(
            url: reader.string(forKey: "amqp.url", isSecret: true, default: "amqp://guest:guest@127.0.0.1:5672/"),
            heartbeatSeconds: reader.int(forKey: "amqp.heartbeatSeconds", default: 30),
            queueType: reader.string(forKey: "amqp.queueType", default: "classic"))
    }

    /// How long an RPC to metadata may take before the caller gives up.
    public var rpcTimeout: Duration { .seconds(reader.int(forKey: "amqp.rpcTimeoutSeconds", default: 10)) }

    public var postgresURL: String {
        reader.string(forKey: "postgres.url", isSecret: true, default: "postgres://conveyor@127.0.0.1:5433/conveyor")
    }

    public var postgresPoolSize: Int { reader.int(forKey: "postgres.poolSize", default: 4) }

    public var storageRoot: String { absolute(reader.string(forKey: "storage.root", default: ".conveyor/storage")) }
    /// The folder of the `local` external storage (`export.root`): where EXPORT_DATA writes and
    /// IMPORT_DATA reads.
    public var localExternalStorageRoot: String { absolute(reader.string(forKey: "export.root", default: ".conveyor/exports")) }

    public var logLevel: String { reader.string(forKey: "log.level", default: "info") }

    /// The job types this deployment accepts (`metadata.enabledJobTypes`, comma-separated).
    public var enabledJobTypes: Set<JobType> {
        Set(
            string("metadata.enabledJobTypes", default: JobType.allCases.map(\.rawValue).joined(separator: ","))
                .split(separator: ",").compactMap { JobType(rawValue: $0.trimmingCharacters(in: .whitespaces)) })
    }

    /// What jobs may ask for here: enabled job types, `limits.maxCpus`, `limits.maxMemoryMB`,
    /// `limits.maxGpus`, `limits.maxRunSeconds`, the external storages (`local`, at `export.root`)
    /// and the execution profiles (``executionProfiles``).
    public var deploymentLimits: DeploymentLimits {
        var limits = DeploymentLimits(
            enabledTypes: enabledJobTypes, maxCpus: int("limits.maxCpus", default: 64),
            maxMemoryMB: int("limits.maxMemoryMB", default: 262_144), maxGpus: int("limits.maxGpus", default: 16),
            maxRunSeconds: int("limits.maxRunSeconds", default: ResourceRequirements.maxRunSecondsLimit), storages: ["local"],
            profiles: executionProfiles)
        // `limits.types.<TYPE>.maxCpus` (and `.maxMemoryMB`, `.maxGpus`, `.maxRunSeconds`): a type's
        // own ceiling, never above the deployment's.
        for type in JobType.allCases {
            let prefix = "limits.types.\(type.rawValue)."
            let keys = ["maxCpus", "maxMemoryMB", "maxGpus", "maxRunSeconds"]
            guard keys.contains(where: { reader.int(forKey: ConfigKey(prefix + $0)) != nil }) else { continue }
            limits.byType[type] = ResourceCeiling(
                maxCpus: min(limits.maxCpus, int(prefix + "maxCpus", default: limits.maxCpus)),
                maxMemoryMB: min(limits.maxMemoryMB, int(prefix + "maxMemoryMB", default: limits.maxMemoryMB)),
                maxGpus: min(limits.maxGpus, int(prefix + "maxGpus", default: limits.maxGpus)),
                maxRunSeconds: min(limits.maxRunSeconds, int(prefix + "maxRunSeconds", default: limits.maxRunSeconds)))
        }
        return limits
    }

    /// The health endpoint's address for `service` (e.g. `metadata` → `metadata.health.port`).
    public func healthAddress(for service: String, defaultPort: Int) -> (host: String, port: Int) {
        (
            reader.string(forKey: "health.host", default: "127.0.0.1"),
            reader.int(forKey: ConfigKey(service.split(separator: "-").map(String.init) + ["health", "port"]), default: defaultPort)
        )
    }

    /// An integer setting with a default.
    public func int(_ key: String, default value: Int) -> Int {
        reader.int(forKey: ConfigKey(key), default: value)
    }

    /// A string setting with a default.
    public func string(_ key: String, default value: String, secret: Bool = false) -> String {
        reader.string(forKey: ConfigKey(key), isSecret: secret, default: value)
    }

    /// A comma-separated list setting (empty when absent), each item trimmed, empty items left out.
    public func list(_ key: String) -> [String] {
        string(key, default: "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// An optional string setting.
    public func optionalString(_ key: String, secret: Bool = false) -> String? {
        reader.string(forKey: ConfigKey(key), isSecret: secret)
    }

    /// A boolean setting with a default.
    public func bool(_ key: String, default value: Bool) -> Bool {
        reader.bool(forKey: ConfigKey(key), default: value)
    }

    /// Resolves a path relative to the working directory.
    public func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}
