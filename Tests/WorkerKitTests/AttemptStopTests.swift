import Testing

@testable import WorkerKit

@Suite("Attempt stop requests")
struct AttemptStopTests {
    @Test("a wait ends when the stop is requested, at once when it was requested before, and when its task is cancelled")
    func waits() async {
        let early = AttemptStop()
        early.request()
        early.request()
        await early.wait()
        #expect(early.isRequested)

        let later = AttemptStop()
        async let waited: Void = later.wait()
        try? await Task.sleep(for: .milliseconds(20))
        #expect(!later.isRequested)
        later.request()
        await waited
        #expect(later.isRequested)

        let never = AttemptStop()
        let waiter = Task { await never.wait() }
        try? await Task.sleep(for: .milliseconds(20))
        waiter.cancel()
        await waiter.value
        #expect(!never.isRequested)
    }
}
