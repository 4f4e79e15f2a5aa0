import Synchronization

/// A request to stop one running attempt, made from outside it (a `work.cancel`, a lease that was
/// lost or could not be renewed, the drain timeout) and awaited inside the attempt's own task group,
/// which then cancels the attempt's work: the attempt stays a child task of the worker.
final class AttemptStop: Sendable {
    private struct State {
        var requested = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Whether a stop was requested.
    var isRequested: Bool { state.withLock { $0.requested } }

    /// Requests the stop (again: nothing more happens).
    func request() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.requested else { return nil }
            state.requested = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Returns once a stop is requested, or when the waiting task is cancelled (one waiter at a time).
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.requested || Task.isCancelled { return true }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
