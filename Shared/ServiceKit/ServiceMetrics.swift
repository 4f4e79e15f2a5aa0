import Foundation
import Hummingbird
import Metrics
import Prometheus

/// Every service's metrics: swift-metrics handlers kept in one Prometheus registry, served as text
/// at `GET /metrics` on the service's health port. Names follow Prometheus's conventions
/// (`conveyor_..._total` counters, `_seconds` histograms); a library's dotted names and labels
/// (Hummingbird's `http.server.request.duration`) are written with underscores.
public enum ServiceMetrics {
    /// The registry the service's metrics live in (the process has one).
    public static let registry = PrometheusCollectorRegistry()

    /// Makes swift-metrics report into ``registry``; once per process, before the first metric is
    /// made (``ServiceMain`` does it). Metrics made before, or in processes that never call it
    /// (tests), go nowhere.
    public static func bootstrap() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = durationBuckets
        factory.nameAndLabelSanitizer = { name, labels in
            (sanitized(name), labels.map { (sanitized($0.0), $0.1) })
        }
        MetricsSystem.bootstrap(factory)
    }

    /// From 0.5 ms to 5 minutes: a PostgreSQL round trip and a job's whole run both land in a bucket.
    static let durationBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
        .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
    ]

    /// A name or label as Prometheus allows it: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    static func sanitized(_ name: String) -> String {
        var result = String(name.unicodeScalars.map { scalar -> Character in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", ":": return Character(scalar)
            default: return "_"
            }
        })
        if result.first?.isNumber == true { result = "_" + result }
        return result
    }

    /// The registry in Prometheus's text format.
    public static func exposition() -> ByteBuffer {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16 << 10)
        registry.emit(into: &bytes)
        return ByteBuffer(bytes: bytes)
    }
}

extension RouterMethods {
    /// Adds `GET /metrics`: the service's metrics in Prometheus's text format (version 0.0.4).
    @discardableResult
    public func addMetricsRoute() -> Self {
        get("metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ServiceMetrics.exposition()))
        }
        return self
    }
}
