import Runner
import ServiceKit

await ServiceMain.run("runner") { settings, logger in
    try RunnerService.build(settings: settings, logger: logger)
}
