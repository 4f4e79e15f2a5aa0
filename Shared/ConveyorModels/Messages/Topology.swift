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
    /// Job events the scheduler follows, in batches metadata sends straight to it.
    public static let schedulerEventsQueue = "scheduler.events"
    /// An exclusive queue whose holder is the one active scheduler.
    public static let schedulerLockQueue = "scheduler.lock"
    /// Questions to the active scheduler (queue position, summary): ``SchedulerCall``.
    public static let schedulerRPCQueue = "scheduler.rpc"
    /// Worker heartbeats into the scheduler.
    public static let schedulerHeartbeatsQueue = "scheduler.heartbeats"
    /// Terminal job events that ask for an e-mail, in batches metadata sends straight to the notifier.
    public static let notifierEventsQueue = "notifier.events"

    /// The queue of one worker's dispatches.
    public static func workerQueue(_ workerId: String) -> String { "work.\(workerId)" }

    /// Whether the scheduler follows an event: it queues jobs and frees slots by them.
    public static func schedulerFollows(_ event: JobEvent) -> Bool {
        event.status == .queued || event.status.isTerminal
    }

    /// Whether the notifier needs an event: the end of a top-level job that asked for an e-mail then.
    public static func notifierFollows(_ event: JobEvent) -> Bool {
        guard event.status.isTerminal, event.topLevel, let notification = event.notification else { return false }
        return notification.wants(event.status) && !notification.email.isEmpty
    }

    /// The routing key of a job event.
    public static func eventKey(status: JobStatus, type: JobType) -> String {
        "job.\(status.routingSegment).\(type.routingSegment)"
    }

    /// The routing key of a progress event (``JobProgressEvent``): `progress.<type>`.
    public static func progressKey(type: JobType) -> String {
        "progress.\(type.routingSegment)"
    }

    /// Binding keys the scheduler's event queue had until it was fed directly (removed where found).
    public static let retiredSchedulerEventBindings = ["job.queued.*", "job.succeeded.*", "job.failed.*", "job.cancelled.*"]
    /// Binding keys the notifier's event queue had until it was fed directly (removed where found).
    public static let retiredNotifierEventBindings = ["job.succeeded.*", "job.failed.*", "job.cancelled.*"]
}
