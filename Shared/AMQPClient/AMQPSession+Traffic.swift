import CRabbitMQ
import Foundation
import Logging

/// The connected loop: commands out (publishes, acks), frames in (deliveries, confirms, closes).
extension AMQPSession {
    func serve() throws {
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
    func sendBacklog(on state: amqp_connection_state_t) throws {
        var index = 0
        var published = 0
        defer {
            backlog.removeFirst(index)
            if published > 0 {
                metrics.published.increment(by: published)
                if confirms { metrics.unconfirmed.record(pendingConfirms.count) }
            }
        }
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
                published += 1
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
            case .messageCount(let queue, let completion):
                let arena = CArena()
                let declared = amqp_queue_declare(state, Self.channel, arena.bytes(queue), 1, 0, 0, 0, amqp_empty_table)
                do {
                    try check(amqp_get_rpc_reply(state), "look at queue \(queue)")
                } catch let error as AMQPError {
                    index += 1
                    completion(.failure(error))
                    throw error
                }
                completion(.success(Int(declared?.pointee.message_count ?? 0)))
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

    func publish(_ message: OutgoingMessage, on state: amqp_connection_state_t) -> Int32 {
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
    func readAvailable(on state: amqp_connection_state_t) throws {
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

    func readFrame(on state: amqp_connection_state_t) throws {
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

    func settleConfirms(upTo tag: UInt64, multiple: Bool, error: AMQPError?) {
        var settled: [PublishCompletion?] = []
        if multiple {
            while let first = pendingConfirms.first, first.tag <= tag {
                settled.append(first.completion)
                pendingConfirms.removeFirst()
            }
        } else if let index = pendingConfirms.firstIndex(where: { $0.tag == tag }) {
            settled.append(pendingConfirms.remove(at: index).completion)
        }
        metrics.unconfirmed.record(pendingConfirms.count)
        for completion in settled {
            completion?(error.map { .failure($0) } ?? .success(()))
        }
    }

    func deliver(_ envelope: amqp_envelope_t) {
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
            contentType: property(PropertyFlag.contentType, properties.content_type),
            deliveryTag: envelope.delivery_tag,
            generation: generation)
        if let consumer = consumers[tag] {
            consumer.continuation.yield(delivery)
        } else if let state = connection {
            // A delivery for a consumer we cancelled: give it back.
            amqp_basic_reject(state, Self.channel, envelope.delivery_tag, 1)
        }
    }
}
