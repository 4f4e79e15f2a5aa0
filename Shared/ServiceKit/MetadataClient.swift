import AMQPClient
import ConveyorModels
import Foundation
import Logging
import ServiceLifecycle

/// Typed calls to the metadata service over AMQP RPC (direct reply-to).
public final class MetadataClient: Service, Sendable {
    private let rpc: AMQPRPCClient
    private let timeout: Duration

    /// - Parameter settings: reads `amqp.*` and `amqp.rpcTimeoutSeconds`.
    public init(name: String, settings: ConveyorSettings, logger: Logger) throws {
        rpc = try AMQPRPCClient(name: name, configuration: settings.amqp, logger: logger)
        timeout = settings.rpcTimeout
    }

    public func run() async throws {
        try await rpc.run()
    }

    public var isConnected: Bool { rpc.isConnected }

    public func waitUntilConnected() async throws {
        try await rpc.waitUntilConnected()
    }

    /// Sends `call` and returns its result.
    /// - Throws: ``RPCFailure`` when metadata refused the call; ``AMQPError`` (`timeout`) when it did not answer.
    public func call<Call: MetadataCall>(_ call: Call, timeout: Duration? = nil) async throws -> Call.Result {
        let body = try Envelope(call).encoded()
        let reply = try await rpc.call(
            queue: Topology.metadataRPCQueue, body: body, type: Call.messageType, timeout: timeout ?? self.timeout)
        let envelope = try Envelope<RPCReply<Call.Result>>.decode(reply.body)
        if let error = envelope.payload.error { throw error }
        guard let result = envelope.payload.result else {
            throw RPCFailure(code: .internal, message: "metadata replied with neither a result nor an error")
        }
        return result
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
