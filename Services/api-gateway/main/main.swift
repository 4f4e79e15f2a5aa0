import APIGateway
import ServiceKit

await ServiceMain.run("api-gateway") { settings, logger in
    try await APIGateway.Gateway.build(settings: settings, logger: logger)
}
