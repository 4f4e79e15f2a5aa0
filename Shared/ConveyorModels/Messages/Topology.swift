/// Names of the exchanges, queues and routing keys that make up Conveyor's message contracts.
/// `docs/messages.md` documents each one.
public enum Topology {
    /// Topic exchange for domain events; routing key `job.<status>.<type>`, e.g. `job.succeeded.run_model`.
    public static let eventsExchange = "conveyor.events"
    /// Direct exchange for work; routing key = a worker's id.
    public static let workExchange = "conveyor.work"
    /// Dead-letter exchange (direct); routing key = the name of the queue the message died in.
    public static let deadLetterExchange = "conveyor.dlx"

    /// RPC requests into metadata (replies through direct reply-to).
    public static let metadataRPCQueue = "metadata.rpc"
    /// Reports from workers (log chunks, finishes) into metadata.
    public static let metadataReportsQueue = "metadata.reports"
    /// Job events the scheduler follows.
    public static let schedulerEventsQueue = "scheduler.events"
    /// An exclusive queue whose holder is the one active scheduler.
    public static let schedulerLockQueue = "scheduler.lock"
    /// Worker heartbeats into the scheduler.
    public static let schedulerHeartbeatsQueue = "scheduler.heartbeats"
    /// Terminal job events the notifier follows.
    public static let notifierEventsQueue = "notifier.events"

    /// The queue of one worker's dispatches.
    public static func workerQueue(_ workerId: String) -> String { "work.\(workerId)" }

    /// The dead-letter queue of `queue`.
    public static func deadLetterQueue(_ queue: String) -> String { "\(queue).dlq" }

    /// The routing key of a job event.
    public static func eventKey(status: JobStatus, type: JobType) -> String {
        "job.\(status.routingSegment).\(type.routingSegment)"
    }

    /// Binding keys of the scheduler's event queue.
    public static let schedulerEventBindings = ["job.queued.*", "job.succeeded.*", "job.failed.*", "job.cancelled.*"]
    /// Binding keys of the notifier's event queue.
    public static let notifierEventBindings = ["job.succeeded.*", "job.failed.*", "job.cancelled.*"]
}
