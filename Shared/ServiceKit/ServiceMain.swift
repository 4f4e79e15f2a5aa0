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
        return try await withThrowingTaskGroup(of: StartUp.self) { group in
            group.addTask { .built(try await build(settings, logger)) }
            group.addTask {
                for await signal in signals {
                    logger.info("signal while starting: stopping", metadata: ["signal": "\(signal)"])
                    return .signalled
                }
                return .watchEnded  // cancelled once the build is done
            }
            defer { group.cancelAll() }
            var services: [any Service]?
            var signalled = false
            // The first to end decides, but a signal that came as the build ended counts too (the
            // service group would not see it).
            while true {
                let ended: StartUp?
                do {
                    ended = try await group.next()
                } catch {
                    // A build cancelled by the signal ends with an error of no interest.
                    if signalled { continue }
                    throw error
                }
                guard let next = ended else { break }
                switch next {
                case .built(let built): services = built
                case .signalled: signalled = true
                case .watchEnded: break
                }
                group.cancelAll()
            }
            return signalled ? nil : services
        }
    }

    private enum StartUp: Sendable {
        case built([any Service])
        case signalled
        case watchEnded
    }
}
