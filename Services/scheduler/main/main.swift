import Scheduler
import ServiceKit

await ServiceMain.run("scheduler") { settings, logger in
    try SchedulerService.build(settings: settings, logger: logger)
}
