import AMQPClient
import ConveyorModels
import Foundation
import Logging
import Postgres

/// The system of record for jobs. Every operation takes many requests at once (the RPC server and
/// the report consumer gather them, see ``Batcher``) and carries them out in one transaction: the
/// jobs' states are loaded and locked, ``JobLifecycle`` decides, ``JobWrites`` writes the decisions
/// (history, row changes, objects and the events in the outbox) with the `COMMIT`, and the events
/// are handed to the publisher once committed.
struct JobStore: Sendable {
    let pool: PostgresPool
    let objects: ObjectStore
    let validator: JobValidator
    /// The largest log kept per attempt; what comes after is dropped behind a marker line.
    let logCapBytes: Int
    /// External storages by key → their root folder, for checking that files to import exist.
    var externalStorages: [String: String] = [:]
    /// The most jobs one owner may have waiting (PENDING or QUEUED); a submission past it is refused
    /// (`quotas.maxQueuedPerOwner`; nil: no limit).
    var maxQueuedPerOwner: Int? = nil
    /// The loss of its worker that fails a job (`metadata.maxWorkerLost`, 3: the third loss fails it).
    var maxWorkerLost = 3
    /// Takes the events of a committed transaction (with their outbox rows) to publish them.
    let publish: @Sendable ([OutboxEntry]) -> Void
    /// Publishes messages that need no outbox (``JobProgressEvent``), without waiting.
    var announce: @Sendable ([OutgoingMessage]) -> Void = { _ in }
    let logger: Logger

    /// The number of log lines an end-of-job event carries for the e-mail.
    static let logTailLines = 20

    /// Runs `body` in a transaction whose gathered writes are committed at its end (with the writes
    /// in the same round trip as the `COMMIT`), then publishes their events.
    ///
    /// A transaction that lost a race (a deadlock, or a job that changed after it was locked, see
    /// ``JobWrites``) is run again from the start, a few times; then it is a `conflict`.
    func withJobTransaction<T: Sendable>(_ body: (JobTransaction) async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                let (value, events) = try await pool.withPipelinedTransaction { transaction in
                    let jobTransaction = JobTransaction(transaction)
                    let value = try await body(jobTransaction)
                    // Jobs that ended release (or cancel) the jobs waiting for them, in the same transaction.
                    try await settleDependents(in: jobTransaction)
                    return (value, try await jobTransaction.commit())
                }
                if !events.isEmpty {
                    publish(events)
                    JobMetrics.record(events.lazy.compactMap(\.event))
                }
                return value
            } catch let error as PostgresError where ["40001", "40P01"].contains(error.sqlState) {
                guard attempt < Self.maxTransactionAttempts else { throw MetadataError.conflict(error.message) }
                logger.debug("transaction lost a race; running it again", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                attempt += 1
            }
        }
    }

    /// How often a transaction that lost a race runs before it is a conflict.
    static let maxTransactionAttempts = 3

    /// Runs a batch operation over `items`, where each job may appear once per transaction: later
    /// requests for a job already in the batch go into the next transaction, after it.
    static func inRounds<Item, Output>(
        _ items: [Item], jobId: (Item) -> UUID, _ run: ([Item]) async throws -> [Result<Output, any Error>]
    ) async throws -> [Result<Output, any Error>] {
        var results = [Result<Output, any Error>?](repeating: nil, count: items.count)
        var remaining = Array(items.indices)
        while !remaining.isEmpty {
            var seen: Set<UUID> = []
            var round: [Int] = []
            var later: [Int] = []
            for index in remaining {
                if seen.insert(jobId(items[index])).inserted { round.append(index) } else { later.append(index) }
            }
            let outputs = try await run(round.map { items[$0] })
            for (index, output) in zip(round, outputs) { results[index] = output }
            remaining = later
        }
        return results.map { $0! }
    }
}

/// The events a transaction wrote: each with the id of the outbox row that holds it, and its message.
struct OutboxEntry: Sendable {
    var id: Int64
    /// Nil for a row whose body does not decode (it is still published as it is).
    var event: JobEvent?
    var message: OutgoingMessage
}

/// One transaction of the job store: the writes gathered from decisions, sent with the next round
/// trip the transaction makes anyway, and the events they wrote.
final class JobTransaction: @unchecked Sendable {
    /// Only used by the task that runs the transaction.
    let transaction: PostgresTransaction
    var writes = JobWrites()
    private var events: [OutboxEntry] = []
    /// The jobs waiting for each of some jobs, when read ahead (``JobRepository/lockStates(_:in:withDefinitions:dependentsFor:)``).
    private(set) var knownDependents: [UUID: [UUID]] = [:]
    private(set) var dependentsKnown: Set<UUID> = []

    func knowDependents(of jobIds: [UUID], _ dependents: [UUID: [UUID]]) {
        dependentsKnown.formUnion(jobIds)
        knownDependents.merge(dependents) { $1 }
    }

    init(_ transaction: PostgresTransaction) {
        self.transaction = transaction
    }

    /// Sends the writes gathered so far (so that what comes next reads them), without committing.
    func flush() async throws {
        guard !writes.isEmpty else { return }
        let (statements, messages) = try writes.statements()
        writes = JobWrites()
        record(try await transaction.pipeline(statements), messages)
    }

    /// Sends the remaining writes with the `COMMIT`; returns every event the transaction wrote.
    func commit() async throws -> [OutboxEntry] {
        let (statements, messages) = try writes.statements()
        writes = JobWrites()
        record(try await transaction.commit(statements), messages)
        return events
    }

    /// Pairs the messages with the outbox row that holds them (the last statement's).
    private func record(_ results: [PostgresRows], _ messages: [(JobEvent, OutgoingMessage)]) {
        guard !messages.isEmpty, let id = results.last?.first?.int64IfPresent("id") else { return }
        for (event, message) in messages { events.append(OutboxEntry(id: id, event: event, message: message)) }
    }
}
