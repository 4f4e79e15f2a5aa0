import Foundation
import Logging
import ServiceLifecycle

/// What every service's `main` does: load settings, bootstrap logging once, build the services and
/// run them in one `ServiceGroup` that shuts down gracefully on SIGTERM or SIGINT.
public enum ServiceMain {
    /// Runs a service until it is asked to stop.
    /// - Parameters:
    ///   - name: the executable name, used as log label.
    ///   - build: builds the long-running parts from the settings; they start in order and stop in reverse.
    public static func run(
        _ name: String, build: (ConveyorSettings, Logger) async throws -> [any Service]
    ) async {
        let settings: ConveyorSettings
        do {
            settings = try await ConveyorSettings.load()
        } catch {
            FileHandle.standardError.write(Data("\(name): cannot read configuration: \(error)\n".utf8))
            exit(78)
        }
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        let json = settings.string("log.format", default: "text") == "json"
        LoggingSystem.bootstrap { label in
            if json {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        ServiceMetrics.bootstrap()
        let logger = Logger(label: name)
        do {
            let services = try await build(settings, logger)
            let group = ServiceGroup(
                configuration: .init(
                    services: services.map { .init(service: $0) },
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger))
            logger.info("starting", metadata: ["service": "\(name)"])
            try await group.run()
            logger.info("stopped", metadata: ["service": "\(name)"])
        } catch {
            logger.critical("failed", metadata: ["error": "\(error)"])
            exit(1)
        }
    }
}
