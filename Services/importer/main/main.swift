import Importer
import ServiceKit

await ServiceMain.run("importer") { settings, logger in
    try ImporterService.build(settings: settings, logger: logger)
}
