import Synchronization

/// One metric name with labels: the metric of each combination of label values is made on first
/// use and kept, so a hot path pays a dictionary lookup, not the metrics factory's. Every
/// combination has the same label names (Prometheus refuses a family whose labels differ).
///
///     let finished = MetricFamily(labels: ["job_type", "status"]) { Counter(label: "conveyor_jobs_finished_total", dimensions: $0) }
///     finished("RUN_MODEL", "SUCCEEDED").increment()
public final class MetricFamily<Metric: Sendable>: Sendable {
    private let labels: [String]
    private let make: @Sendable ([(String, String)]) -> Metric
    private let made = Mutex<[[String]: Metric]>([:])

    public init(labels: [String], make: @escaping @Sendable ([(String, String)]) -> Metric) {
        self.labels = labels
        self.make = make
    }

    /// The metric of these label values, in the order of the family's label names.
    public func callAsFunction(_ values: String...) -> Metric {
        precondition(values.count == labels.count, "a metric family takes \(labels.count) label values")
        return made.withLock { made in
            if let metric = made[values] { return metric }
            let metric = make(Array(zip(labels, values)))
            made[values] = metric
            return metric
        }
    }
}
