@testable import ServiceKit
import Synchronization
import Testing

/// The metrics plumbing without a registry: names as Prometheus allows them, and a family that
/// makes each labelled metric once.
@Suite("Service metrics")
struct ServiceMetricsTests {
    @Test("library names and labels are written with underscores; a leading digit gets one in front")
    func sanitizedNames() {
        #expect(ServiceMetrics.sanitized("http.server.request.duration") == "http_server_request_duration")
        #expect(ServiceMetrics.sanitized("conveyor_jobs_finished_total") == "conveyor_jobs_finished_total")
        #expect(ServiceMetrics.sanitized("error.type") == "error_type")
        #expect(ServiceMetrics.sanitized("9lives-é") == "_9lives__")
    }

    @Test("a family makes the metric of each combination of label values once, with the family's label names")
    func familyMakesOnce() {
        let made = Mutex<[[String]]>([])
        final class Box: Sendable { let labels: [String]; init(_ labels: [String]) { self.labels = labels } }
        let family = MetricFamily(labels: ["job_type", "status"]) { dimensions -> Box in
            made.withLock { $0.append(dimensions.map { "\($0.0)=\($0.1)" }) }
            return Box(dimensions.map(\.1))
        }
        let first = family("RUN_MODEL", "SUCCEEDED")
        #expect(family("RUN_MODEL", "SUCCEEDED") === first)
        #expect(family("RUN_MODEL", "FAILED") !== first)
        #expect(made.withLock { $0 } == [["job_type=RUN_MODEL", "status=SUCCEEDED"], ["job_type=RUN_MODEL", "status=FAILED"]])
    }
}
