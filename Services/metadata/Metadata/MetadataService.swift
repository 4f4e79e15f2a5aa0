import AMQPClient
import ConveyorModels
import Foundation
import Logging
import Messaging
import Postgres
import ServiceKit
import ServiceLifecycle

/// The metadata service: the system of record. Owns the PostgreSQL schema, answers RPC, applies
/// workers' reports and publishes domain events through its outbox.
public enum MetadataService {
    /// Builds the service's parts: database pool, AMQP connections, RPC server, report consumer,
    /// outbox publisher, batchers and health endpoint. Applies pending schema migrations before returning.
    ///
    /// Reads `postgres.*`, `amqp.*`, `metadata.health.port` (default 8181), `metadata.enabledJobTypes`,
    /// `metadata.logCapBytes`, `limits.*`, `storage.root` (uploaded files are kept there; job logs are kept in PostgreSQL).
    public static func build(settings: ConveyorSettings, logger: Logger) async throws -> [any Service] {
        let pool = PostgresPool(
            configuration: PostgresConfiguration(url: settings.postgresURL, poolSize: settings.postgresPoolSize),
            logger: logger)
        try await pool.waitUntilAvailable(timeout: .seconds(60))
        try await pool.migrate(MetadataSchema.migrations)

        let consumer = try AMQPConnection(
            name: "metadata-consume", configuration: settings.amqp, topology: Topology.metadataDeclarations, logger: logger)
        let publisher = try AMQPConnection(
            name: "metadata-publish", configuration: settings.amqp, topology: Topology.eventConsumerDeclarations,
            logger: logger)
        let outbox = OutboxPublisher(pool: pool, publisher: publisher, logger: logger)
        var store = JobStore(
            pool: pool, objects: ObjectStore(pool: pool, storage: InternalStorage(root: settings.storageRoot)),
            validator: JobValidator(limits: settings.deploymentLimits),
            logCapBytes: settings.int("metadata.logCapBytes", default: 8 * 1024 * 1024), publish: { outbox.publish($0) },
            logger: logger)
        store.externalStorages = ["local": settings.localExternalStorageRoot]
        store.announce = { messages in
            for message in messages { publisher.publish(message) { _ in } }
        }
        let maxQueued = settings.int("quotas.maxQueuedPerOwner", default: 0)
        store.maxQueuedPerOwner = maxQueued > 0 ? maxQueued : nil
        store.maxWorkerLost = max(1, settings.int("metadata.maxWorkerLost", default: 3))
        let health = HealthServer.make(
            service: "metadata", settings: settings, defaultPort: 8181,
            checks: [
                HealthCheck("amqp") { consumer.isConnected && publisher.isConnected },
                HealthCheck("postgres") { (try? await pool.query("SELECT 1")) != nil },
            ],
            logger: logger)
        let batchers = RPCServer.Batchers(store: store)
        let reports = ReportConsumer(store: store, consumer: consumer, logger: logger)
        // A service group stops its services in reverse order: the consumers first, then the batchers
        // they feed (which finish what was queued), the outbox, the connections, the pool last.
        let sweeper = LeaseSweeper(store: store, interval: .seconds(2), logger: logger)
        return [pool, publisher, consumer, outbox, sweeper] + batchers.services + [reports.batcher]
            + [RPCServer(store: store, tokens: TokenStore(pool: pool), consumer: consumer, publisher: publisher, batchers: batchers, logger: logger), reports, health]
    }
}
