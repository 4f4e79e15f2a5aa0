import Exporter
import ServiceKit

await ServiceMain.run("exporter") { settings, logger in
    try ExporterService.build(settings: settings, logger: logger)
}
