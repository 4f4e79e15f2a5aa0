import ConveyorModels
import Synchronization

/// Requests a second per identity, as token buckets: an identity may burst up to twice its rate,
/// then gets 429 with how long to wait. Kept per gateway (each instance counts its own requests).
final class RateLimiter: Sendable {
    /// The rate of identities whose token names none (0: no limit).
    private let defaultPerSecond: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    struct Bucket {
        var tokens: Double
        var at: ContinuousClock.Instant

        /// Takes one request's worth at `rate` a second with room for `capacity`; the seconds to
        /// wait when there is none.
        mutating func take(rate: Double, capacity: Double, now: ContinuousClock.Instant) -> Double? {
            let elapsed = now - at
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            tokens = min(capacity, tokens + seconds * rate)
            at = now
            if tokens >= 1 {
                tokens -= 1
                return nil
            }
            return (1 - tokens) / rate
        }
    }

    init(defaultPerSecond: Int) {
        self.defaultPerSecond = defaultPerSecond
    }

    /// Counts a request of `caller`.
    /// - Throws: a 429 ``Problem`` with `Retry-After` when the caller is over their rate.
    func admit(_ caller: Principal, now: ContinuousClock.Instant = .now) throws {
        let rate = caller.requestsPerSecond ?? defaultPerSecond
        guard rate > 0 else { return }
        let key = caller.tokenId.map { "token:\($0)" } ?? "\(caller.method):\(caller.name)"
        let capacity = Double(rate * 2)
        let wait = buckets.withLock { buckets -> Double? in
            if buckets.count > 100_000 { buckets.removeAll(keepingCapacity: true) }
            var bucket = buckets[key] ?? Bucket(tokens: capacity, at: now)
            let wait = bucket.take(rate: Double(rate), capacity: capacity, now: now)
            buckets[key] = bucket
            return wait
        }
        if let wait {
            throw Problem(.tooManyRequests, "more than \(rate) requests a second with this identity; retry later", retryAfter: max(1, Int(wait.rounded(.up))))
        }
    }
}
