import AMQPClient
import ConveyorModels
import Dispatch
import Metrics
import ServiceKit

/// RPC timings and failures by message type, for both ends: `conveyor_rpc_<side>_seconds{type}`,
/// `conveyor_rpc_<side>_failures_total{type, code}` (`code`: the RPC error code, `timeout` when no
/// reply came in time, `unavailable` when the call could not be made).
public struct RPCMetrics: Sendable {
    /// The calls a service answers.
    public static let server = RPCMetrics(side: "server")
    /// The calls a service makes.
    public static let client = RPCMetrics(side: "client")

    private let timers: MetricFamily<Timer>
    private let failures: MetricFamily<Counter>

    private init(side: String) {
        timers = MetricFamily(labels: ["type"]) { Timer(label: "conveyor_rpc_\(side)_seconds", dimensions: $0, preferredDisplayUnit: .seconds) }
        failures = MetricFamily(labels: ["type", "code"]) { Counter(label: "conveyor_rpc_\(side)_failures_total", dimensions: $0) }
    }

    /// Records one call of `type` that took since `start`.
    public func record(_ type: String, since start: DispatchTime) {
        timers(type).recordInterval(since: start)
    }

    /// Counts a call of `type` that failed with `code`.
    public func fail(_ type: String, code: String) {
        failures(type, code).increment()
    }

    /// Runs a call made to another service, recording its time and how it failed.
    public func measure<T>(_ type: String, _ call: () async throws -> T) async throws -> T {
        let start = DispatchTime.now()
        defer { record(type, since: start) }
        do {
            return try await call()
        } catch let error as RPCFailure {
            fail(type, code: error.code.rawValue)
            throw error
        } catch let error as AMQPError where error.code == .timeout {
            fail(type, code: "timeout")
            throw error
        } catch {
            fail(type, code: "unavailable")
            throw error
        }
    }
}
