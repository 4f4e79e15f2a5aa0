import ConveyorModels
import Foundation
import Synchronization

/// Samples what a running attempt uses (its control group's memory and CPU, its work folder's disk)
/// and keeps at most ``UsageSample/maxSamples`` of them: when full, every other sample goes, so a
/// long run keeps an even series over its whole time.
final class UsageSampler: Sendable {
    private let cgroup: AttemptCgroup?
    private let folder: String
    private let started = ContinuousClock.now
    private let state = Mutex<(samples: [UsageSample], every: Int, skipped: Int, peakDisk: Int)>(([], 1, 0, 0))

    init(cgroup: AttemptCgroup?, folder: String) {
        self.cgroup = cgroup
        self.folder = folder
    }

    /// Takes one sample; answers the disk the folder takes now.
    @discardableResult
    func sample() -> Int {
        let disk = FileTree.diskBytes(of: folder)
        let now = cgroup?.current()
        let elapsed = ContinuousClock.now - started
        let sample = UsageSample(
            seconds: ((Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) * 10).rounded() / 10,
            memoryBytes: now?.memoryBytes, cpuSeconds: now?.cpuSeconds.map { ($0 * 1000).rounded() / 1000 }, diskBytes: disk)
        state.withLock { state in
            state.peakDisk = max(state.peakDisk, disk)
            state.skipped += 1
            guard state.skipped >= state.every else { return }
            state.skipped = 0
            state.samples.append(sample)
            if state.samples.count >= UsageSample.maxSamples {
                state.samples = state.samples.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
                state.every *= 2
            }
        }
        return disk
    }

    var samples: [UsageSample] { state.withLock { $0.samples } }
    var peakDiskBytes: Int { state.withLock { $0.peakDisk } }
}
