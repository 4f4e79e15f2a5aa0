import Logging
import ServiceKit
import ServiceLifecycle
import WorkerKit

/// The importer's process: a worker of pool `importer` whose executor is ``ImportExecutor``.
public enum ImporterService {
    /// Builds the importer from the settings (`importer.*`, `storage.root`, `export.root`: the
    /// `local` external storage it reads); its health server listens on `importer.health.port`
    /// (default 8183).
    public static func build(settings: ConveyorSettings, logger: Logger) throws -> [any Service] {
        try WorkerRuntime.build(
            pool: "importer",
            executor: ImportExecutor(
                storage: InternalStorage(root: settings.storageRoot), externalRoot: settings.localExternalStorageRoot,
                environments: PythonEnvironments(settings: settings),
                containment: try Containment.start(settings: settings, pool: "importer", logger: logger),
                limitRules: AttemptLimitRules(settings: settings, pool: "importer")),
            settings: settings, defaultHealthPort: 8183, logger: logger)
    }
}
