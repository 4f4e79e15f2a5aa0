import Exporter
import ServiceKit
import WorkerKit

await ServiceMain.run("exporter") { settings, logger in
    try WorkerRuntime.build(
        pool: "exporter",
        executor: DataExporter(storage: InternalStorage(root: settings.storageRoot), exportRoot: settings.exportRoot),
        settings: settings, defaultHealthPort: 8184, logger: logger)
}
