import Metrics

/// What a session reports about itself (labelled with its connection name): reconnections after a
/// lost connection, messages published, and publishes the broker has not confirmed yet.
struct AMQPSessionMetrics {
    let reconnects: Counter
    let published: Counter
    let unconfirmed: Gauge

    init(connection name: String) {
        let dimensions = [("connection", name)]
        reconnects = Counter(label: "conveyor_amqp_reconnects_total", dimensions: dimensions)
        published = Counter(label: "conveyor_amqp_published_total", dimensions: dimensions)
        unconfirmed = Gauge(label: "conveyor_amqp_unconfirmed_messages", dimensions: dimensions)
    }
}
