import Importer
import ServiceKit
import WorkerKit

await ServiceMain.run("importer") { settings, logger in
    try WorkerRuntime.build(
        pool: "importer",
        executor: ImportExecutor(
            storage: InternalStorage(root: settings.storageRoot), externalRoot: settings.localExternalStorageRoot,
            environments: PythonEnvironments(settings: settings),
            containment: try Containment.start(settings: settings, pool: "importer", logger: logger),
            limitRules: AttemptLimitRules(settings: settings, pool: "importer")),
        settings: settings, defaultHealthPort: 8183, logger: logger)
}
