import Metadata
import ServiceKit

await ServiceMain.run("metadata") { settings, logger in
    try await MetadataService.build(settings: settings, logger: logger)
}
