import Metrics

/// The client's timings: how long a caller waited for a pooled connection, and how long each
/// statement or pipeline took from the call to its answer (the server's work, the round trip and
/// the hop to the connection's thread).
enum PostgresMetrics {
    static let poolWait = Timer(label: "conveyor_postgres_pool_wait_seconds", preferredDisplayUnit: .seconds)
    static let roundTrip = Timer(label: "conveyor_postgres_round_trip_seconds", preferredDisplayUnit: .seconds)
}
