import Foundation
import Synchronization

extension UUID {
    /// A version 7 UUID (RFC 9562): 48 bits of Unix time in milliseconds, a 12-bit counter that keeps
    /// the ids made in one millisecond in the order they were made, then random bits.
    ///
    /// Ids made one after another sort in that order (as bytes, and as their text), so new rows land
    /// at the end of a primary-key index, and jobs submitted in one batch keep their order.
    public static func timeOrdered() -> UUID {
        let (milliseconds, counter) = TimeOrderedClock.shared.next()
        var bytes = UUID().uuid  // random bits, with version 4 and the variant set
        bytes.0 = UInt8(truncatingIfNeeded: milliseconds >> 40)
        bytes.1 = UInt8(truncatingIfNeeded: milliseconds >> 32)
        bytes.2 = UInt8(truncatingIfNeeded: milliseconds >> 24)
        bytes.3 = UInt8(truncatingIfNeeded: milliseconds >> 16)
        bytes.4 = UInt8(truncatingIfNeeded: milliseconds >> 8)
        bytes.5 = UInt8(truncatingIfNeeded: milliseconds)
        bytes.6 = 0x70 | UInt8(truncatingIfNeeded: counter >> 8)
        bytes.7 = UInt8(truncatingIfNeeded: counter)
        bytes.8 = 0x80 | (bytes.8 & 0x3f)
        return UUID(uuid: bytes)
    }
}

/// The millisecond and counter of the last time-ordered id of this process.
private final class TimeOrderedClock: Sendable {
    static let shared = TimeOrderedClock()
    private let state = Mutex<(milliseconds: UInt64, counter: UInt16)>((0, 0))

    func next() -> (UInt64, UInt16) {
        let now = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        return state.withLock { state in
            if now > state.milliseconds {
                // A random start leaves room to count up within the millisecond.
                state = (now, UInt16.random(in: 0..<0x400))
            } else if state.counter < 0xfff {
                state.counter += 1
            } else {
                // 4096 ids in one millisecond: borrow the next one.
                state = (state.milliseconds + 1, 0)
            }
            return (state.milliseconds, state.counter)
        }
    }
}
