import ConveyorModels
import Foundation
import Metrics

/// The scheduler's metrics: what waits and runs (by job type and owner), how long the oldest job
/// of each type has waited, the live workers' capacity and what of it is in use (sampled from the
/// state every few seconds), and each dispatch decision (how many jobs, how long it took).
struct SchedulerMetrics {
    private var gauges: [String: Gauge] = [:]
    private var dispatched: [JobType: Counter] = [:]
    private let decision = Timer(label: "conveyor_scheduler_decision_seconds", preferredDisplayUnit: .seconds)
    private let failedDispatches = Counter(label: "conveyor_scheduler_dispatch_failures_total")

    /// Records a dispatch decision: its jobs, by type, and the time it took.
    mutating func decided(_ jobTypes: [JobType], since start: DispatchTime) {
        decision.recordInterval(since: start)
        var counts: [JobType: Int] = [:]
        for type in jobTypes { counts[type, default: 0] += 1 }
        for (type, count) in counts {
            if dispatched[type] == nil {
                dispatched[type] = Counter(label: "conveyor_scheduler_dispatches_total", dimensions: [("job_type", type.rawValue)])
            }
            dispatched[type]!.increment(by: count)
        }
    }

    func dispatchFailed() { failedDispatches.increment() }

    /// A scheduler that is not (or no longer) the active one reports nothing: every gauge reads 0,
    /// so that sums and maxima over the replicas count the active scheduler only.
    func inactive() {
        for gauge in gauges.values { gauge.record(0) }
    }

    /// Sets the gauges from a summary of the state; a label seen before and absent now reads 0.
    mutating func sample(_ summary: QueueSummary, oldestSubmitted: [JobType: Double], now: Date) {
        var values: [String: (label: String, dimensions: [(String, String)], value: Double)] = [:]
        func set(_ label: String, _ dimensions: [(String, String)], _ value: Double) {
            values[label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()] = (label, dimensions, value)
        }
        // Every job type has its lines, 0 when nothing waits or runs (a rate or an alert sees 0, not nothing).
        for type in JobType.allCases {
            let counts = summary.types[type.rawValue]
            set("conveyor_queue_jobs", [("job_type", type.rawValue), ("state", "queued")], Double(counts?.queued ?? 0))
            set("conveyor_queue_jobs", [("job_type", type.rawValue), ("state", "running")], Double(counts?.running ?? 0))
            let waited = oldestSubmitted[type].map { max(0, now.timeIntervalSince1970 - $0) } ?? 0
            set("conveyor_queue_oldest_wait_seconds", [("job_type", type.rawValue)], waited)
        }
        for (owner, counts) in summary.owners {
            set("conveyor_queue_owner_jobs", [("owner", owner), ("state", "queued")], Double(counts.queued))
            set("conveyor_queue_owner_jobs", [("owner", owner), ("state", "running")], Double(counts.running))
        }
        set("conveyor_workers_live", [], Double(summary.workers))
        for (resource, capacity, inUse) in [
            ("slots", summary.capacity.slots, summary.inUse.slots), ("cpus", summary.capacity.cpus, summary.inUse.cpus),
            ("memory_mb", summary.capacity.memoryMB, summary.inUse.memoryMB), ("gpus", summary.capacity.gpus, summary.inUse.gpus),
        ] {
            set("conveyor_worker_capacity", [("resource", resource)], Double(capacity))
            set("conveyor_worker_in_use", [("resource", resource)], Double(inUse))
        }
        for (key, gauge) in gauges where values[key] == nil {
            // An owner with nothing queued or running leaves the metrics (their number only grows otherwise).
            if key.hasPrefix("conveyor_queue_owner_jobs|") {
                gauge.destroy()
                gauges[key] = nil
            } else {
                gauge.record(0)
            }
        }
        for (key, entry) in values {
            if gauges[key] == nil { gauges[key] = Gauge(label: entry.label, dimensions: entry.dimensions) }
            gauges[key]!.record(entry.value)
        }
    }
}
