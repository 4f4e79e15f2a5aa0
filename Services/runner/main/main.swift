import Runner
import ServiceKit
import WorkerKit

await ServiceMain.run("runner") { settings, logger in
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
