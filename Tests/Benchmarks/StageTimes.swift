import ConveyorModels
import Foundation

/// Where one job's time goes on an idle system, stage by stage: from the client's clock (request
/// sent, 201 received, terminal event seen) and the job's own record (its status history and when
/// its model process started and ended). Every process runs on this machine, so the clocks agree.
struct StageTimes {
    /// The stages in order: a name and the two moments it lies between.
    static let stages: [(name: String, from: String, to: String)] = [
        ("HTTP accepted → committed (QUEUED)", "sent", "queued"),
        ("committed → 201 at the client", "queued", "accepted"),
        ("committed → dispatched (SUBMITTED)", "queued", "submitted"),
        ("dispatched → claimed (RUNNING)", "submitted", "running"),
        ("claimed → process started", "running", "processStarted"),
        ("process started → ended", "processStarted", "processEnded"),
        ("process ended → result committed", "processEnded", "succeeded"),
        ("result committed → event seen", "succeeded", "seen"),
        ("total: sent → event seen", "sent", "seen"),
    ]

    private var samples: [String: [Double]] = [:]

    mutating func add(sent: Date, accepted: Date, seen: Date, job: JobRecord) {
        func at(_ status: JobStatus) -> Date? { job.updates.last { $0.status == status }?.at }
        let moments: [String: Date?] = [
            "sent": sent, "accepted": accepted, "seen": seen, "queued": at(.queued), "submitted": at(.submitted),
            "running": at(.running), "succeeded": at(.succeeded),
            "processStarted": job.result?.resourceUsage?.startedAt, "processEnded": job.result?.resourceUsage?.endedAt,
        ]
        for stage in Self.stages {
            guard let from = moments[stage.from] ?? nil, let to = moments[stage.to] ?? nil else { continue }
            samples[stage.name, default: []].append(to.timeIntervalSince(from) * 1000)
        }
    }

    func print() {
        Swift.print("where the time of one job goes on the idle system (ms, p50 / p90):")
        for stage in Self.stages {
            guard let values = samples[stage.name]?.sorted(), !values.isEmpty else {
                Swift.print("  \(stage.name): not measured")
                continue
            }
            Swift.print(String(format: "  %@: %.2f / %.2f", stage.name, median(values), values[min(values.count - 1, values.count * 9 / 10)]))
        }
    }

    private func median(_ sorted: [Double]) -> Double { sorted[sorted.count / 2] }
}
