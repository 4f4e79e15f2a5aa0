import Foundation

/// Each owner's recent usage in CPU-seconds, fading with a half-life: what fair share compares.
///
/// Usage is charged when a job is dispatched (its cpus times its expected run time, so two owners
/// with queued work alternate at once, before any job ended) and corrected when it ends (by what it
/// really ran). Values are kept relative to a reference time, so that comparing two owners never
/// needs the fading applied: at any moment every owner's usage fades by the same factor.
struct FairShare: Sendable {
    let halfLife: Double
    private var reference: Double
    private var scaled: [String: Double] = [:]

    init(halfLife: Double, now: Double) {
        self.halfLife = max(1, halfLife)
        self.reference = now
    }

    /// The owner's usage, scaled to the reference time (only for comparing owners).
    func rank(_ owner: String) -> Double { scaled[owner] ?? 0 }

    /// The owner's usage in CPU-seconds at `now`.
    func usage(_ owner: String, now: Double) -> Double {
        (scaled[owner] ?? 0) * pow(2, -(now - reference) / halfLife)
    }

    /// Adds (or, for a correction, takes away) CPU-seconds used at `now`.
    mutating func charge(_ owner: String, cpuSeconds: Double, now: Double) {
        rebaseIfNeeded(now)
        let value = (scaled[owner] ?? 0) + cpuSeconds * pow(2, (now - reference) / halfLife)
        scaled[owner] = max(0, value)
    }

    /// Keeps the scale factor far from overflow: after many half-lives, everything is rescaled to now
    /// (and owners whose usage has faded to nothing are forgotten).
    private mutating func rebaseIfNeeded(_ now: Double) {
        let exponent = (now - reference) / halfLife
        guard exponent > 256 else { return }
        let factor = pow(2, -exponent)
        scaled = scaled.compactMapValues { value in
            let rescaled = value * factor
            return rescaled < 1e-6 ? nil : rescaled
        }
        reference = now
    }
}
