import Logging
import ServiceKit
import ServiceLifecycle
import WorkerKit

/// The runner's process: a worker of pool `runner` whose executor is ``ModelRunner``.
public enum RunnerService {
    /// Builds the runner from the settings (`runner.*`, `storage.root`, `profiles.*`); its health
    /// server listens on `runner.health.port` (default 8185).
    public static func build(settings: ConveyorSettings, logger: Logger) throws -> [any Service] {
        try WorkerRuntime.build(
            pool: "runner",
            executor: ModelRunner(
                storage: InternalStorage(root: settings.storageRoot),
                workRoot: settings.absolute(settings.string("runner.workDir", default: ".conveyor/work")),
                containment: try Containment.start(settings: settings, pool: "runner", logger: logger),
                limitRules: AttemptLimitRules(settings: settings, pool: "runner"), profiles: settings.executionProfiles,
                environments: PythonEnvironments(settings: settings)),
            settings: settings, defaultHealthPort: 8185, logger: logger)
    }
}
