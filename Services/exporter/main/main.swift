import Exporter
import ServiceKit
import WorkerKit

await ServiceMain.run("exporter") { settings, logger in
    try WorkerRuntime.build(
        pool: "exporter",
        executor: DataExporter(
            storage: InternalStorage(root: settings.storageRoot), externalRoot: settings.localExternalStorageRoot,
            containment: try Containment.start(settings: settings, pool: "exporter", logger: logger),
            limitRules: AttemptLimitRules(settings: settings, pool: "exporter")),
        settings: settings, defaultHealthPort: 8184, logger: logger)
}
