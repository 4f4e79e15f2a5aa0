import ConveyorModels
import Foundation
import Metrics
import ServiceKit

/// The jobs' metrics, from the events of each committed transaction: jobs submitted, jobs ended
/// by type, final status and reason (the kind of failure, `none` for a success), the time a job
/// waited from submission to its first start, and the time its last attempt ran.
enum JobMetrics {
    static let submitted = MetricFamily(labels: ["job_type"]) { Counter(label: "conveyor_jobs_submitted_total", dimensions: $0) }
    static let finished = MetricFamily(labels: ["job_type", "status", "reason"]) {
        Counter(label: "conveyor_jobs_finished_total", dimensions: $0)
    }
    static let queueTime = MetricFamily(labels: ["job_type"]) {
        Timer(label: "conveyor_job_queue_seconds", dimensions: $0, preferredDisplayUnit: .seconds)
    }
    static let runTime = MetricFamily(labels: ["job_type"]) {
        Timer(label: "conveyor_job_run_seconds", dimensions: $0, preferredDisplayUnit: .seconds)
    }

    static func record(_ events: some Sequence<JobEvent>) {
        for event in events {
            let type = event.jobType.rawValue
            // A new job's event is the one made at its submission (its time is the submission's).
            if event.attempt == 0, event.occurredAt == event.submittedAt { submitted(type).increment() }
            if event.status == .running, event.previousStatus != .running, event.attempt <= 1, event.jobType != .jobGroup {
                queueTime(type).recordNanoseconds(nanoseconds(from: event.submittedAt, to: event.occurredAt))
            }
            if event.status.isTerminal {
                finished(type, event.status.rawValue, event.failure?.kind.rawValue ?? "none").increment()
                if let started = event.startedAt {
                    runTime(type).recordNanoseconds(nanoseconds(from: started, to: event.occurredAt))
                }
            }
        }
    }

    private static func nanoseconds(from start: Date, to end: Date) -> Int64 {
        Int64(max(0, end.timeIntervalSince(start)) * 1e9)
    }
}
