import Notifier
import ServiceKit

await ServiceMain.run("notifier") { settings, logger in
    try await NotifierService.build(settings: settings, logger: logger)
}
