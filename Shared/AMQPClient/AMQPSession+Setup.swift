import CRabbitMQ
import Foundation
import Logging

/// Opening a connection: login, channel, confirm mode, the topology and the consumers.
extension AMQPSession {
    func connect() throws {
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
        let waiters = shared.withLock { state -> Dictionary<UInt64, CheckedContinuation<Void, any Error>>.Values in
            state.connected = true
            defer { state.connectWaiters = [:] }
            return state.connectWaiters.values
        }
        logger.info("AMQP connected", metadata: ["endpoint": "\(endpoint)", "generation": "\(generation)"])
        waiters.forEach { $0.resume() }
    }

    func declare(_ topology: AMQPTopology, on state: amqp_connection_state_t) throws {
        for exchange in topology.exchanges {
            let arena = CArena()
            amqp_exchange_declare(
                state, Self.channel, arena.bytes(exchange.name), arena.bytes(exchange.type), 0, 1, 0, 0,
                amqp_empty_table)
            try check(amqp_get_rpc_reply(state), "declare exchange \(exchange.name)")
        }
        // Durable shared queues are of the configured type (quorum: replicated across a cluster's
        // nodes). Dead-letter queues stay classic, as they were declared before: a broker refuses
        // to declare an existing queue with another type.
        let queueType: [(String, TableValue)] = configuration.queueType != "classic" ? [("x-queue-type", .string(configuration.queueType))] : []
        for queue in topology.queues {
            if let dlx = queue.deadLetterExchange {
                try declareQueue(
                    name: queue.deadLetterQueueName, durable: true, arguments: [], on: state)
                try bind(queue: queue.deadLetterQueueName, exchange: dlx, key: queue.name, on: state)
            }
            var arguments: [(String, TableValue)] = []
            if let dlx = queue.deadLetterExchange {
                arguments.append(("x-dead-letter-exchange", .string(dlx)))
                arguments.append(("x-dead-letter-routing-key", .string(queue.name)))
            }
            if let expires = queue.expiresMilliseconds {
                arguments.append(("x-expires", .int(Int64(expires))))
            }
            if queue.durable && !queue.exclusive { arguments += queueType }
            try declareQueue(
                name: queue.name, durable: queue.durable, exclusive: queue.exclusive, arguments: arguments, on: state)
            for binding in queue.bindings {
                try bind(queue: queue.name, exchange: binding.exchange, key: binding.routingKey, on: state)
            }
            for binding in queue.retiredBindings {
                let arena = CArena()
                amqp_queue_unbind(
                    state, Self.channel, arena.bytes(queue.name), arena.bytes(binding.exchange), arena.bytes(binding.routingKey),
                    amqp_empty_table)
                try check(amqp_get_rpc_reply(state), "unbind \(queue.name) from \(binding.exchange) with \(binding.routingKey)")
            }
        }
    }

    func declareQueue(
        name: String, durable: Bool, exclusive: Bool = false, arguments: [(String, TableValue)],
        on state: amqp_connection_state_t
    ) throws {
        let arena = CArena()
        amqp_queue_declare(
            state, Self.channel, arena.bytes(name), 0, durable ? 1 : 0, exclusive ? 1 : 0, 0, arena.table(arguments))
        try check(amqp_get_rpc_reply(state), "declare queue \(name)")
    }

    func bind(queue: String, exchange: String, key: String, on state: amqp_connection_state_t) throws {
        let arena = CArena()
        amqp_queue_bind(
            state, Self.channel, arena.bytes(queue), arena.bytes(exchange), arena.bytes(key), amqp_empty_table)
        try check(amqp_get_rpc_reply(state), "bind \(queue) to \(exchange) with \(key)")
    }

    func startConsumer(_ registration: ConsumerRegistration, on state: amqp_connection_state_t) throws {
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
}
