import AMQPClient
import ConveyorModels

/// The declarations of the exchanges and queues that ``Topology`` names (see `docs/messages.md`).
///
/// Every service declares the parts it uses each time it connects; declarations are idempotent, so
/// services can start in any order.
extension Topology {
    /// The three exchanges.
    public static let exchangeDeclarations = AMQPTopology(exchanges: [
        .init(name: Topology.eventsExchange, type: "topic"),
        .init(name: Topology.workExchange, type: "direct"),
        .init(name: Topology.deadLetterExchange, type: "direct"),
    ])

    /// A durable queue with its dead-letter queue.
    public static func durableQueue(
        _ name: String, bindings: [(exchange: String, routingKey: String)] = [],
        retiredBindings: [(exchange: String, routingKey: String)] = []
    ) -> AMQPTopology.Queue {
        AMQPTopology.Queue(
            name: name, durable: true, deadLetterExchange: Topology.deadLetterExchange, bindings: bindings,
            retiredBindings: retiredBindings)
    }

    /// What metadata consumes.
    public static let metadataDeclarations = exchangeDeclarations.merged(
        with: AMQPTopology(queues: [
            durableQueue(Topology.metadataRPCQueue),
            durableQueue(Topology.metadataReportsQueue),
        ]))

    /// What the scheduler consumes.
    public static let schedulerDeclarations = exchangeDeclarations.merged(
        with: AMQPTopology(queues: [
            durableQueue(
                Topology.schedulerEventsQueue,
                retiredBindings: Topology.retiredSchedulerEventBindings.map { (Topology.eventsExchange, $0) }),
            durableQueue(Topology.schedulerHeartbeatsQueue),
            durableQueue(Topology.schedulerRPCQueue),
        ]))

    /// What the notifier consumes.
    public static let notifierDeclarations = exchangeDeclarations.merged(
        with: AMQPTopology(queues: [
            durableQueue(
                Topology.notifierEventsQueue,
                retiredBindings: Topology.retiredNotifierEventBindings.map { (Topology.eventsExchange, $0) })
        ]))

    /// The queues metadata feeds with job events: metadata, their publisher, declares them too, so no
    /// event is lost when it is published before the scheduler or notifier first started.
    public static let eventConsumerDeclarations = schedulerDeclarations.merged(with: AMQPTopology(queues: notifierDeclarations.queues))

    /// A worker's own dispatch queue: durable, dead-lettered, removed a while after the worker is gone.
    public static func workerDeclarations(_ workerId: String) -> AMQPTopology {
        exchangeDeclarations.merged(
            with: AMQPTopology(queues: [
                AMQPTopology.Queue(
                    name: Topology.workerQueue(workerId), durable: true,
                    deadLetterExchange: Topology.deadLetterExchange, expiresMilliseconds: 10 * 60 * 1000,
                    bindings: [(Topology.workExchange, workerId)]),
                durableQueue(Topology.schedulerHeartbeatsQueue),
                durableQueue(Topology.metadataReportsQueue),
            ]))
    }
}
