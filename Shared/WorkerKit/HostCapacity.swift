import Foundation

/// What this host has, the default of what a worker offers its jobs.
public enum HostCapacity {
    public static var cpus: Int { ProcessInfo.processInfo.activeProcessorCount }
    public static var memoryMB: Int { Int(ProcessInfo.processInfo.physicalMemory / 1_048_576) }
    /// NVIDIA devices (`/dev/nvidia0`, `/dev/nvidia1`, ...); 0 without any.
    public static var gpus: Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/dev")) ?? []
        return names.filter { $0.hasPrefix("nvidia") && Int($0.dropFirst("nvidia".count)) != nil }.count
    }
}
