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
        var connectWaiters: [CheckedContinuation<Void, any Error>] = []
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
        var stopped = false
    }

    let name: String
    let configuration: AMQPConfiguration
    let endpoint: AMQPEndpoint
    let topology: AMQPTopology
    let confirms: Bool
    let logger: Logger
    let shared = Mutex(Shared())
    private let wakeFD: Int32

    // Loop state: session thread only.
    private var connection: amqp_connection_state_t?
    private var consumers: [String: ConsumerRegistration] = [:]
    private var nextPublishTag: UInt64 = 1
    private var pendingConfirms: [(tag: UInt64, completion: PublishCompletion?)] = []
    private var backlog: [Command] = []
    private var generation: UInt64 = 0
    private static let channel: amqp_channel_t = 1

    init(name: String, configuration: AMQPConfiguration, topology: AMQPTopology, confirms: Bool, logger: Logger) throws {
        self.name = name
        self.configuration = configuration
        self.endpoint = try AMQPEndpoint(url: configuration.url)
        self.topology = topology
        self.confirms = confirms
        var logger = logger
        logger[metadataKey: "amqp.connection"] = "\(name)"
        self.logger = logger
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
            return
        }
        wake()
    }

    func addConsumer(_ registration: ConsumerRegistration) {
        shared.withLock { $0.newConsumers.append(registration) }
        wake()
    }

    func cancelConsumer(_ tag: String) {
        shared.withLock { $0.cancelledConsumers.append(tag) }
        wake()
    }

    func waitUntilConnected() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let immediate: Result<Void, AMQPError>? = shared.withLock { state in
                if state.connected { return .success(()) }
                if state.stopping { return .failure(AMQPError(.closed, "connection \(name) is closed")) }
                state.connectWaiters.append(continuation)
                return nil
            }
            if let immediate { continuation.resume(with: immediate) }
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

    private func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    private func drainWake() {
        var value: UInt64 = 0
        _ = read(wakeFD, &value, 8)
    }

    // MARK: The session thread

    private func loop() {
        var delay = configuration.reconnectDelay.initial
        var lastFailure: String? = nil
        while !shared.withLock({ $0.stopping }) {
            do {
                try connect()
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
            sleepInterruptibly(delay)
            delay = min(delay * 2, configuration.reconnectDelay.maximum)
        }
        finish()
    }

    private func sleepInterruptibly(_ duration: Duration) {
        var pfd = pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        _ = poll(&pfd, 1, milliseconds)
        drainWake()
    }

    private func connect() throws {
        guard let state = amqp_new_connection() else { throw AMQPError(.connectionFailed, "out of memory") }
        connection = state
        guard let socket = amqp_tcp_socket_new(state) else {
            throw AMQPError(.connectionFailed, "cannot create a socket")
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        let status = amqp_socket_open_noblock(socket, endpoint.host, Int32(endpoint.port), &timeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPError(.connectionFailed, "cannot reach \(endpoint): \(String(cString: amqp_error_string2(status)))")
        }
        var rpcTimeout = timeval(tv_sec: 30, tv_usec: 0)
        amqp_set_rpc_timeout(state, &rpcTimeout)
        try check(
            conveyor_amqp_login_plain(
                state, endpoint.vhost, 0, 131072, Int32(configuration.heartbeatSeconds), endpoint.user,
                endpoint.password), "login to \(endpoint)")
        amqp_channel_open(state, Self.channel)
        try check(amqp_get_rpc_reply(state), "open channel")
        if confirms {
            amqp_confirm_select(state, Self.channel)
            try check(amqp_get_rpc_reply(state), "enable publisher confirms")
        }
        try declare(topology, on: state)

        let generation = shared.withLock { state -> UInt64 in
            state.generation += 1
            return state.generation
        }
        self.generation = generation
        nextPublishTag = 1
        for registration in consumers.values {
            try startConsumer(registration, on: state)
        }
        let waiters = shared.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.connected = true
            defer { state.connectWaiters = [] }
            return state.connectWaiters
        }
        logger.info("AMQP connected", metadata: ["endpoint": "\(endpoint)", "generation": "\(generation)"])
        waiters.forEach { $0.resume() }
    }

    private func declare(_ topology: AMQPTopology, on state: amqp_connection_state_t) throws {
        for exchange in topology.exchanges {
            let arena = CArena()
            amqp_exchange_declare(
                state, Self.channel, arena.bytes(exchange.name), arena.bytes(exchange.type), 0, 1, 0, 0,
                amqp_empty_table)
            try check(amqp_get_rpc_reply(state), "declare exchange \(exchange.name)")
        }
        for queue in topology.queues {
            if let dlx = queue.deadLetterExchange {
                try declareQueue(
                    name: Topology_deadLetterName(queue.name), durable: true, arguments: [], on: state)
                try bind(queue: Topology_deadLetterName(queue.name), exchange: dlx, key: queue.name, on: state)
            }
            var arguments: [(String, TableValue)] = []
            if let dlx = queue.deadLetterExchange {
                arguments.append(("x-dead-letter-exchange", .string(dlx)))
                arguments.append(("x-dead-letter-routing-key", .string(queue.name)))
            }
            if let expires = queue.expiresMilliseconds {
                arguments.append(("x-expires", .int(Int64(expires))))
            }
            if queue.durable && !queue.exclusive && configuration.queueType != "classic" {
                arguments.append(("x-queue-type", .string(configuration.queueType)))
            }
            try declareQueue(
                name: queue.name, durable: queue.durable, exclusive: queue.exclusive, arguments: arguments, on: state)
            for binding in queue.bindings {
                try bind(queue: queue.name, exchange: binding.exchange, key: binding.routingKey, on: state)
            }
        }
    }

    private func declareQueue(
        name: String, durable: Bool, exclusive: Bool = false, arguments: [(String, TableValue)],
        on state: amqp_connection_state_t
    ) throws {
        let arena = CArena()
        amqp_queue_declare(
            state, Self.channel, arena.bytes(name), 0, durable ? 1 : 0, exclusive ? 1 : 0, 0, arena.table(arguments))
        try check(amqp_get_rpc_reply(state), "declare queue \(name)")
    }

    private func bind(queue: String, exchange: String, key: String, on state: amqp_connection_state_t) throws {
        let arena = CArena()
        amqp_queue_bind(
            state, Self.channel, arena.bytes(queue), arena.bytes(exchange), arena.bytes(key), amqp_empty_table)
        try check(amqp_get_rpc_reply(state), "bind \(queue) to \(exchange) with \(key)")
    }

    private func startConsumer(_ registration: ConsumerRegistration, on state: amqp_connection_state_t) throws {
        if !registration.noAck {
            amqp_basic_qos(state, Self.channel, 0, UInt16(clamping: registration.prefetch), 0)
            try check(amqp_get_rpc_reply(state), "set prefetch for \(registration.queue)")
        }
        let arena = CArena()
        amqp_basic_consume(
            state, Self.channel, arena.bytes(registration.queue), arena.bytes(registration.tag), 0,
            registration.noAck ? 1 : 0, 0, amqp_empty_table)
        try check(amqp_get_rpc_reply(state), "consume from \(registration.queue)")
    }

    private func serve() throws {
        guard let state = connection else { return }
        let socketFD = amqp_get_sockfd(state)
        let heartbeatMilliseconds = configuration.heartbeatSeconds > 0 ? Int32(configuration.heartbeatSeconds * 250) : 1000
        while true {
            let (commands, newConsumers, cancelled, stopping) = shared.withLock {
                state -> ([Command], [ConsumerRegistration], [String], Bool) in
                defer {
                    state.commands = []
                    state.newConsumers = []
                    state.cancelledConsumers = []
                }
                return (state.commands, state.newConsumers, state.cancelledConsumers, state.stopping)
            }
            backlog.append(contentsOf: commands)
            for registration in newConsumers {
                consumers[registration.tag] = registration
                try startConsumer(registration, on: state)
            }
            for tag in cancelled {
                if let registration = consumers.removeValue(forKey: tag) {
                    let arena = CArena()
                    amqp_basic_cancel(state, Self.channel, arena.bytes(tag))
                    try check(amqp_get_rpc_reply(state), "cancel consumer \(tag)")
                    registration.continuation.finish()
                }
            }
            try sendBacklog(on: state)
            if stopping && backlog.isEmpty && pendingConfirms.isEmpty {
                closeGracefully(state)
                return
            }
            try readAvailable(on: state)
            var fds = [
                pollfd(fd: socketFD, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&fds, 2, heartbeatMilliseconds)
            if ready < 0 && errno != EINTR {
                throw AMQPError(.connectionLost, "poll failed: errno \(errno)")
            }
            if fds[1].revents != 0 { drainWake() }
            if fds[0].revents & Int16(POLLERR | POLLHUP) != 0 && fds[0].revents & Int16(POLLIN) == 0 {
                throw AMQPError(.connectionLost, "socket closed")
            }
        }
    }

    /// Sends queued commands; publishes wait while `maxUnconfirmed` are in flight.
    private func sendBacklog(on state: amqp_connection_state_t) throws {
        var index = 0
        defer { backlog.removeFirst(index) }
        while index < backlog.count {
            switch backlog[index] {
            case .publish(let message, let completion):
                if confirms && pendingConfirms.count >= configuration.maxUnconfirmed { return }
                let status = publish(message, on: state)
                guard status == AMQP_STATUS_OK.rawValue else {
                    index += 1
                    completion?(.failure(AMQPError(.connectionLost, "publish failed: \(String(cString: amqp_error_string2(status)))")))
                    throw AMQPError(.connectionLost, "publish failed: \(String(cString: amqp_error_string2(status)))")
                }
                if confirms {
                    pendingConfirms.append((nextPublishTag, completion))
                    nextPublishTag += 1
                } else {
                    completion?(.success(()))
                }
            case .ack(let tag, let generation):
                if generation == self.generation {
                    let status = amqp_basic_ack(state, Self.channel, tag, 0)
                    if status != AMQP_STATUS_OK.rawValue {
                        index += 1
                        throw AMQPError(.connectionLost, "ack failed: \(String(cString: amqp_error_string2(status)))")
                    }
                }
            case .nack(let tag, let generation, let requeue):
                if generation == self.generation {
                    let status = amqp_basic_nack(state, Self.channel, tag, 0, requeue ? 1 : 0)
                    if status != AMQP_STATUS_OK.rawValue {
                        index += 1
                        throw AMQPError(.connectionLost, "nack failed: \(String(cString: amqp_error_string2(status)))")
                    }
                }
            }
            index += 1
        }
    }

    private func publish(_ message: OutgoingMessage, on state: amqp_connection_state_t) -> Int32 {
        let arena = CArena()
        var properties = amqp_basic_properties_t()
        var flags: amqp_flags_t = PropertyFlag.contentType | PropertyFlag.deliveryMode | PropertyFlag.timestamp
        properties.content_type = arena.bytes(message.contentType)
        properties.delivery_mode = message.persistent ? 2 : 1
        properties.timestamp = UInt64(Date().timeIntervalSince1970)
        func set(_ value: String?, _ flag: amqp_flags_t, _ field: WritableKeyPath<amqp_basic_properties_t, amqp_bytes_t>) {
            guard let value else { return }
            flags |= flag
            properties[keyPath: field] = arena.bytes(value)
        }
        set(message.messageId, PropertyFlag.messageId, \.message_id)
        set(message.correlationId, PropertyFlag.correlationId, \.correlation_id)
        set(message.replyTo, PropertyFlag.replyTo, \.reply_to)
        set(message.type, PropertyFlag.type, \.type)
        set(message.expirationMilliseconds.map(String.init), PropertyFlag.expiration, \.expiration)
        properties._flags = flags
        return amqp_basic_publish(
            state, Self.channel, arena.bytes(message.exchange), arena.bytes(message.routingKey), 0, 0, &properties,
            arena.bytes(message.body))
    }

    /// Reads every frame that is available without blocking.
    private func readAvailable(on state: amqp_connection_state_t) throws {
        var zero = timeval(tv_sec: 0, tv_usec: 0)
        while true {
            amqp_maybe_release_buffers(state)
            var envelope = amqp_envelope_t()
            let reply = amqp_consume_message(state, &envelope, &zero, 0)
            switch reply.reply_type {
            case AMQP_RESPONSE_NORMAL:
                deliver(envelope)
                amqp_destroy_envelope(&envelope)
            case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_TIMEOUT.rawValue:
                return
            case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue:
                try readFrame(on: state)
            default:
                throw AMQPError(.connectionLost, describe(reply, "read"))
            }
        }
    }

    private func readFrame(on state: amqp_connection_state_t) throws {
        var zero = timeval(tv_sec: 0, tv_usec: 0)
        var frame = amqp_frame_t()
        let status = amqp_simple_wait_frame_noblock(state, &frame, &zero)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return }
        guard status == AMQP_STATUS_OK.rawValue else {
            throw AMQPError(.connectionLost, "read failed: \(String(cString: amqp_error_string2(status)))")
        }
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return }
        let decoded = frame.payload.method.decoded
        switch frame.payload.method.id {
        case MethodID.basicAck:
            let ack = decoded!.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            settleConfirms(upTo: ack.delivery_tag, multiple: ack.multiple != 0, error: nil)
        case MethodID.basicNack:
            let nack = decoded!.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            settleConfirms(
                upTo: nack.delivery_tag, multiple: nack.multiple != 0,
                error: AMQPError(.publishNacked, "the broker refused the message"))
        case MethodID.basicReturn:
            var message = amqp_message_t()
            let reply = amqp_read_message(state, frame.channel, &message, 0)
            if reply.reply_type == AMQP_RESPONSE_NORMAL { amqp_destroy_message(&message) }
            logger.debug("AMQP message returned as unroutable")
        case MethodID.basicCancel:
            throw AMQPError(.brokerRefused, "the broker cancelled a consumer (queue deleted?)")
        case MethodID.channelClose:
            let close = decoded!.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            throw AMQPError(.brokerRefused, "channel closed by broker: \(close.reply_code) \(string(close.reply_text))")
        case MethodID.connectionClose:
            let close = decoded!.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            throw AMQPError(.brokerRefused, "connection closed by broker: \(close.reply_code) \(string(close.reply_text))")
        default:
            return
        }
    }

    private func settleConfirms(upTo tag: UInt64, multiple: Bool, error: AMQPError?) {
        var settled: [PublishCompletion?] = []
        if multiple {
            while let first = pendingConfirms.first, first.tag <= tag {
                settled.append(first.completion)
                pendingConfirms.removeFirst()
            }
        } else if let index = pendingConfirms.firstIndex(where: { $0.tag == tag }) {
            settled.append(pendingConfirms.remove(at: index).completion)
        }
        for completion in settled {
            completion?(error.map { .failure($0) } ?? .success(()))
        }
    }

    private func deliver(_ envelope: amqp_envelope_t) {
        let tag = string(envelope.consumer_tag)
        let properties = envelope.message.properties
        func property(_ flag: amqp_flags_t, _ value: amqp_bytes_t) -> String? {
            properties._flags & flag != 0 ? string(value) : nil
        }
        let body = envelope.message.body
        let delivery = AMQPDelivery(
            body: body.len > 0 ? Data(bytes: body.bytes, count: body.len) : Data(),
            exchange: string(envelope.exchange),
            routingKey: string(envelope.routing_key),
            redelivered: envelope.redelivered != 0,
            messageId: property(PropertyFlag.messageId, properties.message_id),
            correlationId: property(PropertyFlag.correlationId, properties.correlation_id),
            replyTo: property(PropertyFlag.replyTo, properties.reply_to),
            type: property(PropertyFlag.type, properties.type),
            deliveryTag: envelope.delivery_tag,
            generation: generation)
        if let consumer = consumers[tag] {
            consumer.continuation.yield(delivery)
        } else if let state = connection {
            // A delivery for a consumer we cancelled: give it back.
            amqp_basic_reject(state, Self.channel, envelope.delivery_tag, 1)
        }
    }

    private func closeGracefully(_ state: amqp_connection_state_t) {
        _ = amqp_channel_close(state, Self.channel, AMQP_REPLY_SUCCESS)
        _ = amqp_connection_close(state, AMQP_REPLY_SUCCESS)
        logger.debug("AMQP connection closed")
    }

    private func disconnect(reason: AMQPError) {
        shared.withLock { $0.connected = false }
        if let state = connection {
            amqp_destroy_connection(state)
            connection = nil
        }
        let pending = pendingConfirms
        pendingConfirms = []
        for entry in pending { entry.completion?(.failure(reason)) }
    }

    private func finish() {
        let (waiters, commands, stopWaiters) = shared.withLock {
            state -> ([CheckedContinuation<Void, any Error>], [Command], [CheckedContinuation<Void, Never>]) in
            state.stopped = true
            state.connected = false
            defer {
                state.connectWaiters = []
                state.commands = []
                state.stopWaiters = []
            }
            return (state.connectWaiters, state.commands, state.stopWaiters)
        }
        let closed = AMQPError(.closed, "connection \(name) is closed")
        waiters.forEach { $0.resume(throwing: closed) }
        for command in backlog + commands {
            if case .publish(_, let completion?) = command { completion(.failure(closed)) }
        }
        backlog = []
        for consumer in consumers.values { consumer.continuation.finish() }
        consumers = [:]
        stopWaiters.forEach { $0.resume() }
    }

    // MARK: Helpers

    private func check(_ reply: amqp_rpc_reply_t, _ what: String) throws {
        guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
            throw AMQPError(
                reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION ? .brokerRefused : .connectionFailed,
                describe(reply, what))
        }
    }

    private func describe(_ reply: amqp_rpc_reply_t, _ what: String) -> String {
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

    private func string(_ bytes: amqp_bytes_t) -> String {
        guard bytes.len > 0, let pointer = bytes.bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: bytes.len), as: UTF8.self)
    }
}

private func Topology_deadLetterName(_ queue: String) -> String { "\(queue).dlq" }

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
