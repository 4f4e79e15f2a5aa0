// conveyor-dlq: look at and replay the dead-letter queues. Every durable queue of Conveyor
// dead-letters what its consumer rejects to `<queue>.dlq` (a malformed message, an RPC request
// without reply_to, a report that cannot be decoded); nothing reads those queues by itself.
//
//   conveyor-dlq list                        how many messages each dead-letter queue holds
//   conveyor-dlq show QUEUE [--limit N]      the first N (10) messages of QUEUE.dlq: type, message
//                                            id, content type and body; they stay where they are
//   conveyor-dlq replay QUEUE [--limit N]    moves up to N (all) messages of QUEUE.dlq back to QUEUE,
//                                            each with its properties, confirmed before it is removed
//
// QUEUE is a queue name such as `notifier.events` (`.dlq` may be given too).
// Environment: AMQP_URL (amqp://guest:guest@127.0.0.1:5672/).

import AMQPClient
import ConveyorModels
import Foundation
import Logging

let queues = [
    Topology.metadataRPCQueue, Topology.metadataReportsQueue, Topology.schedulerEventsQueue, Topology.schedulerRPCQueue,
    Topology.schedulerHeartbeatsQueue, Topology.notifierEventsQueue,
]

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("conveyor-dlq: \(message)\n".utf8))
    exit(2)
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else {
    fail("usage: conveyor-dlq list | show QUEUE [--limit N] | replay QUEUE [--limit N]")
}
arguments.removeFirst()
var limit: Int?
if let flag = arguments.firstIndex(of: "--limit") {
    guard flag + 1 < arguments.count, let value = Int(arguments[flag + 1]), value > 0 else { fail("--limit needs a positive number") }
    limit = value
    arguments.removeSubrange(flag...(flag + 1))
}

var logger = Logger(label: "conveyor-dlq")
logger.logLevel = .warning
let url = ProcessInfo.processInfo.environment["AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/"
let connection = try AMQPConnection(name: "conveyor-dlq", configuration: AMQPConfiguration(url: url), logger: logger)
do {
    try await connection.waitUntilConnected()
} catch {
    fail("cannot reach \(url): \(error)")
}

/// The queue a dead-letter queue belongs to, from `name` or `name.dlq`.
func owner(_ text: String?) -> String {
    guard let text, !text.isEmpty else { fail("name the queue, e.g. \(Topology.notifierEventsQueue)") }
    return text.hasSuffix(".dlq") ? String(text.dropLast(4)) : text
}

func describe(_ delivery: AMQPDelivery) -> String {
    let body = String(decoding: delivery.body.prefix(2048), as: UTF8.self)
    return """
        type: \(delivery.type ?? "-")  message id: \(delivery.messageId ?? "-")  content type: \(delivery.contentType ?? "-")
        \(body)\(delivery.body.count > 2048 ? "... (\(delivery.body.count) bytes)" : "")
        """
}

switch command {
case "list":
    for queue in queues {
        let count = try await connection.messageCount(queue: queue + ".dlq")
        print("\(queue).dlq\t\(count)")
    }
case "show":
    let queue = owner(arguments.first) + ".dlq"
    let count = min(try await connection.messageCount(queue: queue), limit ?? 10)
    print("\(queue): showing \(count) of \(try await connection.messageCount(queue: queue))")
    var shown: [AMQPDelivery] = []
    if count > 0 {
        for await delivery in connection.consume(queue: queue, prefetch: count) {
            shown.append(delivery)
            print("--- \(shown.count)\n" + describe(delivery))
            if shown.count == count { break }
        }
    }
    // Back where they were, in their order.
    for delivery in shown { connection.nack(delivery, requeue: true) }
case "replay":
    let target = owner(arguments.first)
    let queue = target + ".dlq"
    let count = min(try await connection.messageCount(queue: queue), limit ?? Int.max)
    var replayed = 0
    if count > 0 {
        for await delivery in connection.consume(queue: queue, prefetch: min(count, 100)) {
            do {
                try await connection.publish(
                    OutgoingMessage(
                        exchange: "", routingKey: target, body: delivery.body, contentType: delivery.contentType ?? "application/octet-stream",
                        messageId: delivery.messageId, correlationId: delivery.correlationId, replyTo: delivery.replyTo,
                        type: delivery.type))
            } catch {
                connection.nack(delivery, requeue: true)
                fail("could not put a message back on \(target) (\(error)); \(replayed) replayed, the rest stay in \(queue)")
            }
            connection.ack(delivery)
            replayed += 1
            if replayed == count { break }
        }
    }
    print("replayed \(replayed) message(s) from \(queue) to \(target)")
default:
    fail("unknown command \(command) (list, show, replay)")
}
// Acks and nacks go out before the connection closes.
try? await Task.sleep(for: .milliseconds(300))
await connection.close()
