import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// CPU time of every process of the system, read from `/proc/<pid>/stat`, grouped by component:
/// the seven services (with the processes they waited for: models, git), RabbitMQ, PostgreSQL
/// (the postmaster and every backend) and this client. Two snapshots around a workload give the CPU
/// it cost; `/proc/stat` gives the machine's busy time as a cross-check.
struct ProcessCPU {
    /// CPU seconds by component.
    var seconds: [String: Double]
    /// Busy and total jiffies of the whole machine (`/proc/stat`).
    var machineBusy: Double
    var machineTotal: Double

    static let services = ["api-gateway", "metadata", "scheduler", "importer", "exporter", "runner", "notifier"]

    /// Reads every process now. `pidFolder` holds `<service>.pid` files (deploy/local/services.sh).
    static func snapshot(pidFolder: String) -> ProcessCPU {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var servicePids: [Int: String] = [:]
        for name in services {
            if let text = try? String(contentsOfFile: "\(pidFolder)/\(name).pid", encoding: .utf8),
                let pid = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                servicePids[pid] = name
            }
        }
        let me = Int(getpid())
        var seconds: [String: Double] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
            else { continue }
            let command = String(stat[stat.index(after: open)..<close])
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            guard fields.count > 14, let user = Double(fields[11]), let system = Double(fields[12]),
                let childrenUser = Double(fields[13]), let childrenSystem = Double(fields[14])
            else { continue }
            let own = (user + system) / ticks
            let withChildren = (user + system + childrenUser + childrenSystem) / ticks
            if let name = servicePids[pid] {
                seconds[name, default: 0] += withChildren
            } else if ["beam.smp", "erl_child_setup", "inet_gethost", "epmd"].contains(command) {
                seconds["rabbitmq", default: 0] += own
            } else if command.hasPrefix("postgres") {
                seconds["postgres", default: 0] += own
            } else if pid == me {
                seconds["client", default: 0] += own
            }
        }
        var busy = 0.0
        var total = 0.0
        if let line = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8))?.split(separator: "\n").first {
            let values = line.split(separator: " ").dropFirst().prefix(8).compactMap { Double($0) }
            if values.count == 8 {
                total = values.reduce(0, +)
                busy = total - values[3] - values[4]
            }
        }
        return ProcessCPU(seconds: seconds, machineBusy: busy, machineTotal: total)
    }

    /// What happened between `earlier` and this snapshot.
    func since(_ earlier: ProcessCPU) -> ProcessCPU {
        var delta: [String: Double] = [:]
        for (name, value) in seconds { delta[name] = value - (earlier.seconds[name] ?? 0) }
        return ProcessCPU(
            seconds: delta, machineBusy: machineBusy - earlier.machineBusy, machineTotal: machineTotal - earlier.machineTotal)
    }

    /// All components, the client included (as the Celery peer counts it).
    var total: Double { seconds.values.reduce(0, +) }

    /// How many cores were busy on average.
    var busyCores: Double {
        machineTotal > 0 ? Double(ProcessInfo.processInfo.activeProcessorCount) * machineBusy / machineTotal : .nan
    }
}
