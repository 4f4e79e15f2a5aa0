import Logging
import ServiceKit
import ServiceLifecycle
import WorkerKit

/// The exporter's process: a worker of pool `exporter` whose executor is ``DataExporter``.
public enum ExporterService {
    /// Builds the exporter from the settings (`exporter.*`, `storage.root`, `export.root`: the
    /// `local` external storage it writes); its health server listens on `exporter.health.port`
    /// (default 8184).
    public static func build(settings: ConveyorSettings, logger: Logger) throws -> [any Service] {
        try WorkerRuntime.build(
            pool: "exporter",
            executor: DataExporter(
                storage: InternalStorage(root: settings.storageRoot), externalRoot: settings.localExternalStorageRoot,
                containment: try Containment.start(settings: settings, pool: "exporter", logger: logger),
                limitRules: AttemptLimitRules(settings: settings, pool: "exporter")),
            settings: settings, defaultHealthPort: 8184, logger: logger)
    }
}
