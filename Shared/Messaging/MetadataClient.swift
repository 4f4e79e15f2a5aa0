import AMQPClient
import ConveyorModels
import Foundation
import Logging
import ServiceKit
import ServiceLifecycle

/// Typed calls to the metadata service over AMQP RPC (direct reply-to).
///
/// Calls made at the same moment travel together: while ``maxInFlight`` requests await their
/// replies, new calls gather and go out as one batch message (``MessageBatch``), answered by one
/// reply message; an idle client sends each call at once, alone.
public final class MetadataClient: Service, Sendable {
    private let rpc: AMQPRPCClient
    private let timeout: Duration
    private let batcher: Batcher<Data, Data>
    static let maxInFlight = 4
    static let maxBatch = 200

    /// - Parameter settings: reads `amqp.*` and `amqp.rpcTimeoutSeconds`.
    public init(name: String, settings: ConveyorSettings, logger: Logger) throws {
        let rpc = try AMQPRPCClient(name: name, configuration: settings.amqp, logger: logger)
        let timeout = settings.rpcTimeout
        self.rpc = rpc
        self.timeout = timeout
        batcher = Batcher(name: "\(name) calls", maxBatch: Self.maxBatch, concurrency: Self.maxInFlight) { bodies in
            await Self.send(bodies, with: rpc, timeout: timeout)
        }
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { try? await self.batcher.run() }
            try? await rpc.run()
            batcher.close()
        }
    }

    /// Sends one call alone, or several as one batch message, and answers each with its reply body.
    private static func send(_ bodies: [Data], with rpc: AMQPRPCClient, timeout: Duration) async -> [Result<Data, any Error>] {
        do {
            if bodies.count == 1 {
                let type = EnvelopeHeader.type(of: bodies[0]) ?? "metadata.call"
                return [.success(try await rpc.call(queue: Topology.metadataRPCQueue, body: bodies[0], type: type, timeout: timeout).body)]
            }
            let reply = try await rpc.call(
                queue: Topology.metadataRPCQueue, body: MessageBatch.join(bodies), type: "metadata.batch",
                contentType: MessageBatch.contentType, timeout: timeout)
            let replies = MessageBatch.split(reply.body)
            guard replies.count == bodies.count else {
                throw RPCFailure(code: .internal, message: "metadata answered \(replies.count) replies to \(bodies.count) calls")
            }
            return replies.map { .success($0) }
        } catch {
            return bodies.map { _ in .failure(error) }
        }
    }

    public var isConnected: Bool { rpc.isConnected }

    public func waitUntilConnected() async throws {
        try await rpc.waitUntilConnected()
    }

    /// Sends `call` and returns its result.
    /// - Throws: ``RPCFailure`` when metadata refused the call; ``AMQPError`` (`timeout`) when it did not answer.
    public func call<Call: MetadataCall>(_ call: Call, timeout: Duration? = nil) async throws -> Call.Result {
        try await RPCMetrics.client.measure(Call.messageType) {
            let reply = try await send(call, timeout: timeout)
            let envelope = try Envelope<RPCReply<Call.Result>>.decode(reply)
            if let error = envelope.payload.error { throw error }
            guard let result = envelope.payload.result else {
                throw RPCFailure(code: .internal, message: "metadata replied with neither a result nor an error")
            }
            return result
        }
    }

    /// Sends `call` and returns its result as the JSON metadata wrote it, not decoded: for a caller
    /// that passes the result on as it is (the gateway answering a request with it).
    /// - Throws: like ``call(_:timeout:)``.
    public func callReturningJSON<Call: MetadataCall>(_ call: Call) async throws -> Data {
        try await RPCMetrics.client.measure(Call.messageType) {
            let reply = try await send(call, timeout: nil)
            if EnvelopeHeader.type(of: reply) == RPCReply<Call.Result>.messageType,
                let result = JSONSlice.range(of: ["payload", "result"], in: reply)
            {
                return Data(reply[result])
            }
            let envelope = try Envelope<RPCReply<JSONValue>>.decode(reply)
            if let error = envelope.payload.error { throw error }
            throw RPCFailure(code: .internal, message: "metadata replied with neither a result nor an error")
        }
    }

    /// The reply envelope to `call`.
    private func send<Call: MetadataCall>(_ call: Call, timeout: Duration?) async throws -> Data {
        let body = try Envelope(call).encoded()
        if let timeout {
            // A call with a deadline of its own goes alone.
            return try await rpc.call(queue: Topology.metadataRPCQueue, body: body, type: Call.messageType, timeout: timeout).body
        }
        return try await batcher.submit(body)
    }

    /// Like ``call(_:timeout:)``, but rides out broker and database outages: transient failures
    /// (no reply, connection lost, metadata unavailable) are retried with backoff for up to `patience`.
    /// - Throws: ``RPCFailure`` at once when metadata refused the call; the last transient error after `patience`.
    public func callRetrying<Call: MetadataCall>(_ call: Call, patience: Duration) async throws -> Call.Result {
        let deadline = ContinuousClock.now + patience
        var delay = Duration.milliseconds(200)
        while true {
            do {
                return try await self.call(call)
            } catch let error as AMQPError where error.code != .closed && ContinuousClock.now < deadline {
                // Transient: no reply, or the connection dropped. Wait and try again.
            } catch let failure as RPCFailure where failure.code == .unavailable && ContinuousClock.now < deadline {
                // Metadata's database is away. Wait and try again.
            }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
    }
}
