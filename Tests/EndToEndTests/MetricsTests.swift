import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Every service's Prometheus metrics through its health port, as a scraper reads them: one job's
/// way through the system moves the counters of each service it passes.
@Suite("Metrics", .serialized)
struct MetricsTests {
    /// The health port of each service (the local defaults of deploy/local/services.sh).
    static let ports = [
        "api-gateway": 8180, "metadata": 8181, "scheduler": 8182, "importer": 8183, "exporter": 8184, "runner": 8185, "notifier": 8186,
    ]

    /// One scrape: each sample's series (`name{labels}`) and value.
    static func scrape(_ service: String) async throws -> [String: Double] {
        let url = URL(string: "http://127.0.0.1:\(ports[service]!)/metrics")!
        let (data, response) = try await URLSession.shared.data(from: url)
        let http = try #require(response as? HTTPURLResponse)
        try #require(http.statusCode == 200, "\(service) /metrics answered \(http.statusCode)")
        #expect((http.value(forHTTPHeaderField: "Content-Type") ?? "").hasPrefix("text/plain; version=0.0.4"))
        var samples: [String: Double] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    /// The sum of every series of a metric whose labels include all of `labels` (`key="value"`).
    static func total(_ samples: [String: Double], _ name: String, _ labels: [String] = []) -> Double {
        samples.filter { series, _ in
            (series == name || series.hasPrefix(name + "{")) && labels.allSatisfy { series.contains($0) }
        }.values.reduce(0, +)
    }

    @Test("each service serves its metrics on its health port, and one job moves the counters of every service on its way")
    func oneJobThroughTheMetrics() async throws {
        let noop = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        var before: [String: [String: Double]] = [:]
        for service in Self.ports.keys { before[service] = try await Self.scrape(service) }

        let id = try await Platform.submit(
            #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(noop)"}},"notification":{"email":["metrics@example.com"],"when":"ALWAYS"}}"#)
        let job = try await Platform.waitForEnd(id)
        try #require(job["status"] as? String == "SUCCEEDED")
        _ = try await Platform.waitForMail(forJob: id)

        // Counters that one job moves (the notifier's once its e-mail is recorded; the scheduler's gauges every 5 s).
        let checks: [(service: String, name: String, labels: [String])] = [
            ("metadata", "conveyor_jobs_finished_total", [#"job_type="RUN_MODEL""#, #"status="SUCCEEDED""#, #"reason="none""#]),
            ("metadata", "conveyor_jobs_submitted_total", [#"job_type="RUN_MODEL""#]),
            ("metadata", "conveyor_job_run_seconds_count", [#"job_type="RUN_MODEL""#]),
            ("metadata", "conveyor_job_queue_seconds_count", [#"job_type="RUN_MODEL""#]),
            ("metadata", "conveyor_rpc_server_seconds_count", [#"type="metadata.job.submit""#]),
            ("metadata", "conveyor_postgres_round_trip_seconds_count", []),
            ("metadata", "conveyor_amqp_published_total", []),
            ("scheduler", "conveyor_scheduler_dispatches_total", [#"job_type="RUN_MODEL""#]),
            ("scheduler", "conveyor_scheduler_decision_seconds_count", []),
            ("runner", "conveyor_reports_total", [#"kind="finished""#]),
            ("notifier", "conveyor_emails_sent_total", []),
            ("notifier", "conveyor_email_send_seconds_count", []),
            ("api-gateway", "hb_requests", [#"http_route="/api/v1/jobs""#, #"http_request_method="POST""#, #"http_response_status_code="201""#]),
            ("api-gateway", "conveyor_rpc_client_seconds_count", [#"type="metadata.job.submit""#]),
        ]
        let deadline = ContinuousClock.now + .seconds(15)
        var unmoved: [String] = []
        repeat {
            unmoved = []
            for check in checks {
                let now = Self.total(try await Self.scrape(check.service), check.name, check.labels)
                let then = Self.total(before[check.service]!, check.name, check.labels)
                if now < then + 1 { unmoved.append("\(check.service): \(check.name)\(check.labels) \(then) -> \(now)") }
            }
            if unmoved.isEmpty { break }
            try await Task.sleep(for: .milliseconds(500))
        } while ContinuousClock.now < deadline
        #expect(unmoved.isEmpty, "counters one job should move: \(unmoved)")

        // Gauges: the scheduler's view of the queue and the workers, the outbox, the workers' slots.
        let scheduler = try await Self.scrape("scheduler")
        #expect(Self.total(scheduler, "conveyor_workers_live") >= 3, "a runner, an importer and an exporter are alive")
        #expect(Self.total(scheduler, "conveyor_worker_capacity", [#"resource="slots""#]) >= 3)
        for type in ["RUN_MODEL", "IMPORT_DATA", "JOB_GROUP"] {
            #expect(scheduler.keys.contains("conveyor_queue_jobs{job_type=\"\(type)\",state=\"queued\"}"), "every job type has its line, 0 when none waits")
            #expect(scheduler.keys.contains("conveyor_queue_oldest_wait_seconds{job_type=\"\(type)\"}"))
        }
        #expect(Self.total(try await Self.scrape("runner"), "conveyor_worker_slots", [#"pool="runner""#]) >= 1)
        #expect(try await Self.scrape("metadata").keys.contains("conveyor_outbox_lag_seconds"))
        // Every failure reason of an e-mail is there from the start, at 0 until it happens.
        let notifier = try await Self.scrape("notifier")
        for reason in ["refused", "expired", "unwritable"] {
            #expect(notifier.keys.contains("conveyor_emails_failed_total{reason=\"\(reason)\"}"), "\(reason)")
        }
        // Not on the public port.
        #expect(try await Platform.request("GET", "/metrics").status != 200)
    }
}
