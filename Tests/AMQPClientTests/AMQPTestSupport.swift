import AMQPClient
import Foundation
import Logging
import TestSupport

/// Where the integration tests find RabbitMQ (the project's `deploy/local/infra.sh up` starts it).
enum AMQPTestSupport {
    static var url: String {
        ProcessInfo.processInfo.environment["CONVEYOR_TEST_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/"
    }

    static var configuration: AMQPConfiguration {
        AMQPConfiguration(url: url, heartbeatSeconds: 10)
    }

    static let logger: Logger = {
        var logger = Logger(label: "amqp-tests")
        logger.logLevel = .warning
        return logger
    }()

    static func uniqueName(_ prefix: String) -> String {
        "test.\(prefix).\(UUID().uuidString.prefix(8))"
    }

    /// A temporary queue declared by the connection's topology (auto-expires after the test).
    static func queue(_ name: String, bindings: [(exchange: String, routingKey: String)] = []) -> AMQPTopology.Queue {
        AMQPTopology.Queue(name: name, durable: true, expiresMilliseconds: 60_000, bindings: bindings)
    }

    /// Runs the repository's infra script with arguments (e.g. to close the broker's connections).
    static func infra(_ arguments: [String]) async -> Int32 {
        await ScriptRunner.script("deploy/local/infra.sh", arguments)
    }
}
