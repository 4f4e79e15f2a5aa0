import ServiceKit
import Synchronization
import Testing

/// Natural batching: what arrives while batches are processed goes out together, in order, within
/// the batch size and concurrency limits; an idle batcher sends each item at once.
@Suite("Batcher")
struct BatcherTests {
    /// Records the batches it processes; each takes `pause`.
    final class Recorder: Sendable {
        let batches = Mutex<[[Int]]>([])
        let inFlight = Mutex<(now: Int, most: Int)>((0, 0))
        let pause: Duration

        init(pause: Duration) { self.pause = pause }

        func process(_ items: [Int]) async -> [Result<Int, any Error>] {
            inFlight.withLock { $0 = ($0.now + 1, max($0.most, $0.now + 1)) }
            batches.withLock { $0.append(items) }
            try? await Task.sleep(for: pause)
            inFlight.withLock { $0.now -= 1 }
            return items.map { .success($0 * 10) }
        }
    }

    func withBatcher<T>(
        maxBatch: Int = 100, concurrency: Int = 1, pause: Duration = .milliseconds(50),
        _ body: (Batcher<Int, Int>, Recorder) async throws -> T
    ) async throws -> T {
        let recorder = Recorder(pause: pause)
        let batcher = Batcher<Int, Int>(name: "test", maxBatch: maxBatch, concurrency: concurrency) { await recorder.process($0) }
        let running = Task { try await batcher.run() }
        defer {
            batcher.close()
            running.cancel()
        }
        return try await body(batcher, recorder)
    }

    @Test("an idle batcher processes an item alone, at once")
    func idle() async throws {
        try await withBatcher(pause: .zero) { batcher, recorder in
            let one = try await batcher.submit(1)
            let two = try await batcher.submit(2)
            #expect(one == 10 && two == 20)
            #expect(recorder.batches.withLock { $0 } == [[1], [2]])
        }
    }

    @Test("items that arrive while a batch is processed go together in the next one, in the order they came")
    func gathering() async throws {
        try await withBatcher { batcher, recorder in
            let first = Task { try await batcher.submit(0) }
            try await Task.sleep(for: .milliseconds(10))
            let outcomes = Mutex<[Int: Int]>([:])
            for item in 1...20 {
                batcher.enqueue(item) { result in
                    if case .success(let value) = result { outcomes.withLock { $0[item] = value } }
                }
            }
            _ = try await first.value
            while outcomes.withLock({ $0.count }) < 20 { try await Task.sleep(for: .milliseconds(5)) }
            #expect(recorder.batches.withLock { $0 } == [[0], Array(1...20)])
            #expect(outcomes.withLock { $0 } == Dictionary(uniqueKeysWithValues: (1...20).map { ($0, $0 * 10) }))
        }
    }

    @Test("batches stay within their size and the number processed at once")
    func limits() async throws {
        try await withBatcher(maxBatch: 4, concurrency: 2, pause: .milliseconds(20)) { batcher, recorder in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for item in 0..<30 { group.addTask { try await batcher.submit(item) } }
                var values: [Int] = []
                for try await value in group { values.append(value) }
                #expect(values.sorted() == (0..<30).map { $0 * 10 })
            }
            let batches = recorder.batches.withLock { $0 }
            #expect(batches.allSatisfy { $0.count <= 4 })
            #expect(batches.flatMap { $0 }.sorted() == Array(0..<30))
            #expect(recorder.inFlight.withLock { $0.most } <= 2)
        }
    }

    @Test("closing finishes what was submitted and refuses what comes after")
    func closing() async throws {
        let recorder = Recorder(pause: .milliseconds(20))
        let batcher = Batcher<Int, Int>(name: "closing", maxBatch: 100) { await recorder.process($0) }
        let running = Task { try await batcher.run() }
        let first = Task { try await batcher.submit(1) }
        try await Task.sleep(for: .milliseconds(5))
        let second = Task { try await batcher.submit(2) }
        try await Task.sleep(for: .milliseconds(5))
        batcher.close()
        let one = try await first.value
        let two = try await second.value
        #expect(one == 10 && two == 20)
        await #expect(throws: BatcherClosed.self) { try await batcher.submit(3) }
        running.cancel()
    }
}
