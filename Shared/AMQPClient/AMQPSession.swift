import CRabbitMQ
import Foundation
import Logging
import Synchronization

/// Owns one librabbitmq connection and the one thread that ever touches it.
///
/// librabbitmq is not thread-safe and its calls block, so a session runs a loop on a dedicated
/// `Thread` (never on Swift's cooperative pool): it polls the socket and an eventfd, sends queued
/// commands (publishes, acks, consumer registrations), reads deliveries and publisher confirms, and
/// services heartbeats. When the connection breaks it fails what was in flight, waits with backoff,
/// reconnects, declares the topology again and resumes every consumer.
///
/// `@unchecked Sendable`: the C handle and the loop state are touched only by the session thread;
/// the only state shared with other threads is `shared`, guarded by a `Mutex`, and the eventfd.
final class AMQPSession: @unchecked Sendable {
    enum Command {
        /// Publish; the completion runs once the broker confirmed (or at once without confirms).
        case publish(OutgoingMessage, PublishCompletion?)
        case ack(tag: UInt64, generation: UInt64)
        case nack(tag: UInt64, generation: UInt64, requeue: Bool)
        /// How many messages a queue holds (a passive declare); the queue must exist.
        case messageCount(queue: String, completion: @Sendable (Result<Int, AMQPError>) -> Void)
    }

    struct ConsumerRegistration {
        var tag: String
        var queue: String
        var prefetch: Int
        var noAck: Bool
        var continuation: AsyncStream<AMQPDelivery>.Continuation
    }

    struct Shared {
        var commands: [Command] = []
        var newConsumers: [ConsumerRegistration] = []
        var cancelledConsumers: [String] = []
        var stopping = false
        var connected = false
        var generation: UInt64 = 0
        /// Who waits for the connection, by a number of their own (a cancelled wait removes its own).
        var connectWaiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var nextConnectWaiter: UInt64 = 0
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
        var stopped = false
    }

    let name: String
    let configuration: AMQPConfiguration
    /// The brokers to try, in turn (one, or the nodes of a cluster).
    let endpoints: [AMQPEndpoint]
    let topology: AMQPTopology
    let confirms: Bool
    let logger: Logger
    let shared = Mutex(Shared())
    let wakeFD: Int32
    let metrics: AMQPSessionMetrics

    // Loop state: session thread only.
    var connection: amqp_connection_state_t?
    var consumers: [String: ConsumerRegistration] = [:]
    var nextPublishTag: UInt64 = 1
    var pendingConfirms: [(tag: UInt64, completion: PublishCompletion?)] = []
    var backlog: [Command] = []
    var generation: UInt64 = 0
    /// The broker connected to, or tried next.
    var endpointIndex = 0
    var endpoint: AMQPEndpoint { endpoints[endpointIndex] }
    static let channel: amqp_channel_t = 1

    init(name: String, configuration: AMQPConfiguration, topology: AMQPTopology, confirms: Bool, logger: Logger) throws {
        self.name = name
        self.configuration = configuration
        self.endpoints = try AMQPEndpoint.list(configuration.url)
        self.topology = topology
        self.confirms = confirms
        var logger = logger
        logger[metadataKey: "amqp.connection"] = "\(name)"
        self.logger = logger
        self.metrics = AMQPSessionMetrics(connection: name)
        self.wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard wakeFD >= 0 else { throw AMQPError(.connectionFailed, "eventfd failed: errno \(errno)") }
    }

    deinit {
        close(wakeFD)
    }

    func start() {
        let thread = Thread { [self] in self.loop() }
        thread.name = "amqp-\(name)"
        thread.start()
    }

    // MARK: Called from any thread

    func submit(_ command: Command) {
        let rejected: Bool = shared.withLock { state in
            if state.stopping { return true }
            state.commands.append(command)
            return false
        }
        if rejected {
            if case .publish(_, let completion?) = command {
                completion(.failure(AMQPError(.closed, "connection \(name) is closed")))
            }
            if case .messageCount(_, let completion) = command {
                completion(.failure(AMQPError(.closed, "connection \(name) is closed")))
            }
            return
        }
        wake()
    }

    func addConsumer(_ registration: ConsumerRegistration) {
        let closed = shared.withLock { state -> Bool in
            if state.stopped || state.stopping { return true }
            state.newConsumers.append(registration)
            return false
        }
        if closed { registration.continuation.finish() } else { wake() }
    }

    func cancelConsumer(_ tag: String) {
        shared.withLock { $0.cancelledConsumers.append(tag) }
        wake()
    }

    /// Returns once the connection is up (at once when it is).
    /// - Throws: ``AMQPError`` `closed` when the connection is closed first, `CancellationError` when
    ///   the waiting task is cancelled (a standby scheduler that is asked to stop).
    func waitUntilConnected() async throws {
        let waiter = shared.withLock { state -> UInt64 in
            state.nextConnectWaiter += 1
            return state.nextConnectWaiter
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let immediate: Result<Void, any Error>? = shared.withLock { state in
                    if state.connected { return .success(()) }
                    if state.stopping { return .failure(AMQPError(.closed, "connection \(name) is closed")) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.connectWaiters[waiter] = continuation
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            shared.withLock { $0.connectWaiters.removeValue(forKey: waiter) }?.resume(throwing: CancellationError())
        }
    }

    var isConnected: Bool { shared.withLock { $0.connected } }

    func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done: Bool = shared.withLock { state in
                state.stopping = true
                if state.stopped { return true }
                state.stopWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
            wake()
        }
    }

    func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    func drainWake() {
        var value: UInt64 = 0
        _ = read(wakeFD, &value, 8)
    }

    // MARK: The session thread

    func loop() {
        var delay = configuration.reconnectDelay.initial
        var lastFailure: String? = nil
        var connectedBefore = false
        while !shared.withLock({ $0.stopping }) {
            do {
                try connect()
                if connectedBefore { metrics.reconnects.increment() }
                connectedBefore = true
                delay = configuration.reconnectDelay.initial
                lastFailure = nil
                try serve()
            } catch {
                // The same failure again (a broker that stays away, a lock held elsewhere) is logged once.
                let failure = "\(error)"
                logger.log(
                    level: failure == lastFailure ? .debug : .warning, "AMQP connection failed, reconnecting",
                    metadata: ["error": "\(failure)", "endpoint": "\(endpoint)", "retryIn": "\(delay)"])
                lastFailure = failure
            }
            disconnect(reason: AMQPError(.connectionLost, "connection \(name) to \(endpoint) was lost"))
            if shared.withLock({ $0.stopping }) { break }
            // The next broker of a cluster at once; a pause only once each was tried.
            endpointIndex = (endpointIndex + 1) % endpoints.count
            if endpointIndex == 0 {
                sleepInterruptibly(delay)
                delay = min(delay * 2, configuration.reconnectDelay.maximum)
            }
        }
        finish()
    }

    func sleepInterruptibly(_ duration: Duration) {
        var pfd = pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        _ = poll(&pfd, 1, milliseconds)
        drainWake()
    }

    func closeGracefully(_ state: amqp_connection_state_t) {
        _ = amqp_channel_close(state, Self.channel, AMQP_REPLY_SUCCESS)
        _ = amqp_connection_close(state, AMQP_REPLY_SUCCESS)
        logger.debug("AMQP connection closed")
    }

    func disconnect(reason: AMQPError) {
        shared.withLock { $0.connected = false }
        if let state = connection {
            amqp_destroy_connection(state)
            connection = nil
        }
        let pending = pendingConfirms
        pendingConfirms = []
        metrics.unconfirmed.record(0)
        for entry in pending { entry.completion?(.failure(reason)) }
    }

    func finish() {
        let (waiters, commands, stopWaiters, unstarted) = shared.withLock {
            state -> (Dictionary<UInt64, CheckedContinuation<Void, any Error>>.Values, [Command], [CheckedContinuation<Void, Never>], [ConsumerRegistration]) in
            state.stopped = true
            state.connected = false
            defer {
                state.connectWaiters = [:]
                state.commands = []
                state.stopWaiters = []
                state.newConsumers = []
            }
            return (state.connectWaiters.values, state.commands, state.stopWaiters, state.newConsumers)
        }
        unstarted.forEach { $0.continuation.finish() }
        let closed = AMQPError(.closed, "connection \(name) is closed")
        waiters.forEach { $0.resume(throwing: closed) }
        for command in backlog + commands {
            if case .publish(_, let completion?) = command { completion(.failure(closed)) }
            if case .messageCount(_, let completion) = command { completion(.failure(closed)) }
        }
        backlog = []
        for consumer in consumers.values { consumer.continuation.finish() }
        consumers = [:]
        stopWaiters.forEach { $0.resume() }
    }

    // MARK: Helpers

    func check(_ reply: amqp_rpc_reply_t, _ what: String) throws {
        guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
            throw AMQPError(
                reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION ? .brokerRefused : .connectionFailed,
                describe(reply, what))
        }
    }

    func describe(_ reply: amqp_rpc_reply_t, _ what: String) -> String {
        switch reply.reply_type {
        case AMQP_RESPONSE_NONE:
            return "\(what): missing RPC reply"
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            return "\(what): \(String(cString: amqp_error_string2(reply.library_error)))"
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            if reply.reply.id == MethodID.connectionClose, let decoded = reply.reply.decoded {
                let close = decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                return "\(what): broker closed the connection: \(close.reply_code) \(string(close.reply_text))"
            }
            if reply.reply.id == MethodID.channelClose, let decoded = reply.reply.decoded {
                let close = decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                return "\(what): broker closed the channel: \(close.reply_code) \(string(close.reply_text))"
            }
            return "\(what): broker error (method \(reply.reply.id))"
        default:
            return "\(what): unknown reply"
        }
    }

    func string(_ bytes: amqp_bytes_t) -> String {
        guard bytes.len > 0, let pointer = bytes.bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: bytes.len), as: UTF8.self)
    }
}


/// Called once with the outcome of a publish.
typealias PublishCompletion = @Sendable (Result<Void, AMQPError>) -> Void

/// AMQP basic-properties flags (librabbitmq defines them as macros Swift cannot import).
enum PropertyFlag {
    static let contentType: amqp_flags_t = 1 << 15
    static let deliveryMode: amqp_flags_t = 1 << 12
    static let correlationId: amqp_flags_t = 1 << 10
    static let replyTo: amqp_flags_t = 1 << 9
    static let expiration: amqp_flags_t = 1 << 8
    static let messageId: amqp_flags_t = 1 << 7
    static let timestamp: amqp_flags_t = 1 << 6
    static let type: amqp_flags_t = 1 << 5
}

/// AMQP method ids (macros with casts in librabbitmq's headers).
enum MethodID {
    static let basicAck: amqp_method_number_t = 0x003C_0050
    static let basicNack: amqp_method_number_t = 0x003C_0078
    static let basicReturn: amqp_method_number_t = 0x003C_0032
    static let basicCancel: amqp_method_number_t = 0x003C_001E
    static let channelClose: amqp_method_number_t = 0x0014_0028
    static let connectionClose: amqp_method_number_t = 0x000A_0032
}
