import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// What every service's `main` does: load settings, bootstrap logging once, build the services and
/// run them in one `ServiceGroup` that shuts down gracefully on SIGTERM or SIGINT.
public enum ServiceMain {
    /// Runs a service until it is asked to stop.
    /// - Parameters:
    ///   - name: the executable name, used as log label.
    ///   - build: builds the long-running parts from the settings; they start in order and stop in reverse.
    public static func run(
        _ name: String, build: @escaping @Sendable (ConveyorSettings, Logger) async throws -> [any Service]
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
            guard let services = try await buildUnlessStopped(settings, logger, build) else {
                logger.info("stopped while starting", metadata: ["service": "\(name)"])
                return
            }
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

    /// Builds the services, or nil when SIGTERM or SIGINT arrives first: the build is cancelled (say,
    /// metadata waiting for its database or migrating it, in one transaction per migration) and the
    /// process ends cleanly, as a running service group would.
    static func buildUnlessStopped(
        _ settings: ConveyorSettings, _ logger: Logger, _ build: @escaping @Sendable (ConveyorSettings, Logger) async throws -> [any Service]
    ) async throws -> [any Service]? {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        return try await withThrowingTaskGroup(of: [any Service]?.self) { group in
            group.addTask { try await build(settings, logger) }
            group.addTask {
                // Nil on a signal; the loop also ends (with nil) when cancelled once the build is done.
                for await signal in signals {
                    logger.info("signal while starting: stopping", metadata: ["signal": "\(signal)"])
                    return nil
                }
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }
}
