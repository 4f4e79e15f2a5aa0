import Importer
import ServiceKit
import WorkerKit

await ServiceMain.run("importer") { settings, logger in
    try WorkerRuntime.build(
        pool: "importer", executor: ModelImporter(storage: InternalStorage(root: settings.storageRoot)),
        settings: settings, defaultHealthPort: 8183, logger: logger)
}
