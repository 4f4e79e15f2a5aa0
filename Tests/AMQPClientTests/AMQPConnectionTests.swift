import AMQPClient
import Foundation
import Testing

@Suite("AMQP client against a real RabbitMQ", .serialized)
struct AMQPConnectionTests {
    @Test("a confirmed persistent message reaches a consumer with its properties")
    func publishAndConsume() async throws {
        let queue = AMQPTestSupport.uniqueName("roundtrip")
        let connection = try AMQPConnection(
            name: "roundtrip", configuration: AMQPTestSupport.configuration,
            topology: AMQPTopology(queues: [AMQPTestSupport.queue(queue)]), logger: AMQPTestSupport.logger)
        defer { Task { await connection.close() } }
        try await connection.waitUntilConnected()

        try await connection.publish(
            OutgoingMessage(
                exchange: "", routingKey: queue, body: Data("héllo".utf8), messageId: "m-1", correlationId: "c-1",
                type: "test.message"))
        var iterator = connection.consume(queue: queue, prefetch: 10).makeAsyncIterator()
        let delivery = try #require(await iterator.next())
        #expect(String(decoding: delivery.body, as: UTF8.self) == "héllo")
        #expect(delivery.messageId == "m-1")
        #expect(delivery.correlationId == "c-1")
        #expect(delivery.type == "test.message")
        #expect(delivery.redelivered == false)
        connection.ack(delivery)
    }

    @Test("2000 pipelined publishes are all confirmed and all consumed once acked")
    func pipelinedPublishes() async throws {
        let queue = AMQPTestSupport.uniqueName("pipeline")
        let connection = try AMQPConnection(
            name: "pipeline", configuration: AMQPConfiguration(url: AMQPTestSupport.url, maxUnconfirmed: 100),
            topology: AMQPTopology(queues: [AMQPTestSupport.queue(queue)]), logger: AMQPTestSupport.logger)
        defer { Task { await connection.close() } }
        let count = 2000
        try await connection.publish(
            (0..<count).map { OutgoingMessage(exchange: "", routingKey: queue, body: Data("\($0)".utf8)) })

        var seen = Set<Int>()
        for await delivery in connection.consume(queue: queue, prefetch: 200) {
            seen.insert(Int(String(decoding: delivery.body, as: UTF8.self))!)
            connection.ack(delivery)
            if seen.count == count { break }
        }
        #expect(seen == Set(0..<count))
    }

    @Test("a nacked delivery without requeue goes to the queue's dead-letter queue")
    func deadLetter() async throws {
        let queue = AMQPTestSupport.uniqueName("dlx")
        let exchange = AMQPTestSupport.uniqueName("dlx-exchange")
        let connection = try AMQPConnection(
            name: "dlx", configuration: AMQPTestSupport.configuration,
            topology: AMQPTopology(
                exchanges: [.init(name: exchange, type: "direct")],
                queues: [
                    AMQPTopology.Queue(name: queue, deadLetterExchange: exchange, expiresMilliseconds: 60_000)
                ]),
            logger: AMQPTestSupport.logger)
        defer { Task { await connection.close() } }
        try await connection.publish(OutgoingMessage(exchange: "", routingKey: queue, body: Data("poison".utf8)))
        var deliveries = connection.consume(queue: queue).makeAsyncIterator()
        let delivery = try #require(await deliveries.next())
        connection.nack(delivery, requeue: false)
        var dead = connection.consume(queue: "\(queue).dlq").makeAsyncIterator()
        let deadDelivery = try #require(await dead.next())
        #expect(String(decoding: deadDelivery.body, as: UTF8.self) == "poison")
        connection.ack(deadDelivery)
    }

    @Test("a wait for a connection the broker refuses (an exclusive queue another holds) ends when its task is cancelled")
    func cancelledWaitForConnection() async throws {
        let lock = AMQPTopology(queues: [AMQPTopology.Queue(name: AMQPTestSupport.uniqueName("lock"), durable: false, exclusive: true)])
        let holder = try AMQPConnection(
            name: "lock-holder", configuration: AMQPTestSupport.configuration, topology: lock, confirms: false,
            logger: AMQPTestSupport.logger)
        defer { Task { await holder.close() } }
        try await holder.waitUntilConnected()
        let standby = try AMQPConnection(
            name: "lock-standby", configuration: AMQPTestSupport.configuration, topology: lock, confirms: false,
            logger: AMQPTestSupport.logger)
        defer { Task { await standby.close() } }

        let waiting = Task { try await standby.waitUntilConnected() }
        try await Task.sleep(for: .milliseconds(500))
        #expect(standby.isConnected == false)
        waiting.cancel()
        let started = ContinuousClock.now
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(ContinuousClock.now - started < .seconds(2))
        // A task cancelled before it waits does not wait either.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await standby.waitUntilConnected()
        }
        await #expect(throws: CancellationError.self) { try await early.value }
    }

    @Test("RPC over direct reply-to gets the reply, and times out when nobody answers")
    func rpc() async throws {
        let queue = AMQPTestSupport.uniqueName("rpc")
        let server = try AMQPConnection(
            name: "rpc-server", configuration: AMQPTestSupport.configuration,
            topology: AMQPTopology(queues: [AMQPTestSupport.queue(queue)]), logger: AMQPTestSupport.logger)
        let client = try AMQPRPCClient(
            name: "rpc-client", configuration: AMQPTestSupport.configuration, logger: AMQPTestSupport.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            group.addTask {
                for await request in server.consume(queue: queue) {
                    let text = String(decoding: request.body, as: UTF8.self)
                    try await server.publish(
                        OutgoingMessage(
                            exchange: "", routingKey: request.replyTo!, body: Data(text.uppercased().utf8),
                            persistent: false, correlationId: request.correlationId))
                    server.ack(request)
                }
            }
            try await server.waitUntilConnected()
            try await client.waitUntilConnected()
            async let first = client.call(queue: queue, body: Data("ping".utf8), type: "t", timeout: .seconds(5))
            async let second = client.call(queue: queue, body: Data("pong".utf8), type: "t", timeout: .seconds(5))
            let replies = try await [first, second].map { String(decoding: $0.body, as: UTF8.self) }
            #expect(replies == ["PING", "PONG"])

            let nobody = AMQPTestSupport.uniqueName("nobody")
            await #expect(throws: AMQPError.self) {
                _ = try await client.call(queue: nobody, body: Data(), type: "t", timeout: .milliseconds(300))
            }
            await server.close()
            group.cancelAll()
        }
    }

    @Test("after the broker restarts, the client reconnects, re-declares, resumes its consumer and loses no confirmed message")
    func reconnect() async throws {
        let queue = AMQPTestSupport.uniqueName("reconnect")
        let connection = try AMQPConnection(
            name: "reconnect",
            configuration: AMQPConfiguration(url: AMQPTestSupport.url, heartbeatSeconds: 5),
            topology: AMQPTopology(queues: [AMQPTestSupport.queue(queue)]), logger: AMQPTestSupport.logger)
        defer { Task { await connection.close() } }
        try await connection.waitUntilConnected()
        try await connection.publish(OutgoingMessage(exchange: "", routingKey: queue, body: Data("before".utf8)))

        // Restart the broker application: every connection drops; durable queues and persistent
        // messages survive.
        #expect(await AMQPTestSupport.infra(["rabbitmqctl", "stop_app"]) == 0)
        #expect(await AMQPTestSupport.infra(["rabbitmqctl", "start_app"]) == 0)

        // Publishing keeps working once the connection is back (retry what was in flight).
        var published = false
        for _ in 0..<300 where !published {
            do {
                try await connection.publish(OutgoingMessage(exchange: "", routingKey: queue, body: Data("after".utf8)))
                published = true
            } catch let error as AMQPError where error.code == .connectionLost {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(published)
        var bodies: [String] = []
        for await delivery in connection.consume(queue: queue) {
            bodies.append(String(decoding: delivery.body, as: UTF8.self))
            connection.ack(delivery)
            if bodies.contains("after") && bodies.contains("before") { break }
        }
        #expect(bodies.contains("before"))
        #expect(bodies.contains("after"))
    }

    @Test("a malformed URL is refused with a clear error")
    func badURL() {
        #expect(throws: AMQPError.self) {
            _ = try AMQPConnection(name: "bad", configuration: AMQPConfiguration(url: "http://x"), logger: AMQPTestSupport.logger)
        }
    }
}
