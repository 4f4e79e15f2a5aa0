import Logging
import ServiceLifecycle
import Synchronization

/// Carries out many small requests as few batches (group commit, one message for many calls).
///
/// Natural batching: an item submitted while the batcher is idle goes out at once, alone, so an idle
/// system pays no extra latency; items submitted while `concurrency` batches are being processed
/// wait and go out together in the next batch (at most `maxBatch` items). Under load, batches grow
/// by themselves with the time each one takes.
///
/// Run it as a `Service` (or call ``run()``): on graceful shutdown it finishes what was submitted,
/// then refuses new items with ``BatcherClosed``. Order it after the services that submit to it in a
/// `ServiceGroup` (which stops services in reverse order), so that they stop submitting first.
public final class Batcher<Item: Sendable, Output: Sendable>: Service, Sendable {
    /// Processes one batch and answers each item, in order (the array has one entry per item).
    public typealias Process = @Sendable ([Item]) async -> [Result<Output, any Error>]

    private struct Waiting {
        var item: Item
        var completion: @Sendable (Result<Output, any Error>) -> Void
    }

    private struct State {
        var pending: [Waiting] = []
        var idleWorkers: [CheckedContinuation<Bool, Never>] = []
        /// Batches being processed (by workers or, when the batcher was idle, by their submitter).
        var running = 0
        var closed = false
    }

    public let name: String
    private let maxBatch: Int
    private let concurrency: Int
    private let process: Process
    private let state = Mutex(State())

    public init(name: String, maxBatch: Int, concurrency: Int = 1, process: @escaping Process) {
        precondition(maxBatch > 0 && concurrency > 0)
        self.name = name
        self.maxBatch = maxBatch
        self.concurrency = concurrency
        self.process = process
    }

    /// Submits one item and waits for its answer.
    /// - Throws: what the batch answered for the item, or ``BatcherClosed``.
    public func submit(_ item: Item) async throws -> Output {
        // An idle batcher: the submitter processes its item itself, sparing a hop to a worker task.
        let alone = state.withLock { state -> Bool in
            guard !state.closed, state.pending.isEmpty, state.running < concurrency else { return false }
            state.running += 1
            return true
        }
        if alone {
            let result = await process([item]).first ?? .failure(BatcherClosed(name: name, reason: "the batch gave no answer"))
            finishedBatch()
            return try result.get()
        }
        return try await withCheckedThrowingContinuation { continuation in
            enqueue(item) { continuation.resume(with: $0) }
        }
    }

    /// A batch ended: a worker takes what waits meanwhile.
    private func finishedBatch() {
        let wake = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.running -= 1
            if !state.pending.isEmpty { return state.idleWorkers.popLast().map { [$0] } ?? [] }
            // Closed and done: the waiting workers stop.
            guard state.closed else { return [] }
            defer { state.idleWorkers = [] }
            return state.idleWorkers
        }
        wake.forEach { $0.resume(returning: true) }
    }

    /// Queues one item now, behind every item queued before it, without waiting; `completion` gets
    /// its answer (or ``BatcherClosed``). Items go into batches in the order they were queued.
    public func enqueue(_ item: Item, completion: @escaping @Sendable (Result<Output, any Error>) -> Void) {
        let outcome = state.withLock { state -> (accepted: Bool, wake: CheckedContinuation<Bool, Never>?) in
            guard !state.closed else { return (false, nil) }
            state.pending.append(Waiting(item: item, completion: completion))
            return (true, state.running < concurrency ? state.idleWorkers.popLast() : nil)
        }
        guard outcome.accepted else { return completion(.failure(BatcherClosed(name: name))) }
        outcome.wake?.resume(returning: true)
    }

    /// Processes batches until graceful shutdown or cancellation; what was submitted before is still
    /// processed.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            for _ in 0..<concurrency {
                group.addTask { await self.work() }
            }
            try? await gracefulShutdown()
            close()
        }
    }

    /// Refuses new items; the workers finish what is pending and stop.
    public func close() {
        let idle = state.withLock { state in
            state.closed = true
            defer { state.idleWorkers = [] }
            return state.idleWorkers
        }
        // Each looks again: it takes what is pending, or stops.
        idle.forEach { $0.resume(returning: true) }
    }

    private func work() async {
        while true {
            let batch = state.withLock { state -> [Waiting] in
                guard state.running < concurrency else { return [] }
                let count = min(maxBatch, state.pending.count)
                if count > 0 { state.running += 1 }
                defer { state.pending.removeFirst(count) }
                return Array(state.pending.prefix(count))
            }
            if !batch.isEmpty {
                let results = await process(batch.map(\.item))
                for (index, waiting) in batch.enumerated() {
                    waiting.completion(
                        index < results.count ? results[index] : .failure(BatcherClosed(name: name, reason: "the batch gave no answer")))
                }
                finishedBatch()
                continue
            }
            let proceed = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let decision = state.withLock { state -> Bool? in
                    if !state.pending.isEmpty, state.running < concurrency { return true }
                    if (state.closed && state.pending.isEmpty) || Task.isCancelled { return false }
                    state.idleWorkers.append(continuation)
                    return nil
                }
                if let decision { continuation.resume(returning: decision) }
            }
            if !proceed { return }
        }
    }
}

/// The batcher no longer takes items (it is shutting down).
public struct BatcherClosed: Error, CustomStringConvertible, Sendable {
    public var name: String
    public var reason = "it is shutting down"
    public var description: String { "\(name) takes no more work: \(reason)" }
}
