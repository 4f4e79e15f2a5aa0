import AMQPClient
import ConveyorModels
import Foundation
import Logging
import ServiceKit
import ServiceLifecycle

/// Questions to the active scheduler over AMQP RPC (``SchedulerCall``: queue positions, the queue
/// summary). Only the scheduler holding the lock answers; while none does, calls time out.
public final class SchedulerClient: Service, Sendable {
    private let rpc: AMQPRPCClient

    /// - Parameter settings: reads `amqp.*`.
    public init(name: String, settings: ConveyorSettings, logger: Logger) throws {
        rpc = try AMQPRPCClient(name: name, configuration: settings.amqp, logger: logger)
    }

    public func run() async throws {
        try await rpc.run()
    }

    public var isConnected: Bool { rpc.isConnected }

    /// The result of `call` as the scheduler wrote it (JSON).
    /// - Throws: ``RPCFailure`` when the scheduler refused the question, ``AMQPError`` (`timeout`)
    ///   when no scheduler answered within `timeout`.
    public func callReturningJSON<Call: SchedulerCall>(_ call: Call, timeout: Duration) async throws -> Data {
        try await RPCMetrics.client.measure(Call.messageType) {
            let reply = try await rpc.call(queue: Topology.schedulerRPCQueue, body: try Envelope(call).encoded(), type: Call.messageType, timeout: timeout).body
            if let result = JSONSlice.range(of: ["payload", "result"], in: reply) { return Data(reply[result]) }
            let envelope = try Envelope<RPCReply<JSONValue>>.decode(reply)
            throw envelope.payload.error ?? RPCFailure(code: .internal, message: "the scheduler replied with neither a result nor an error")
        }
    }

    /// The result of `call`, decoded.
    public func call<Call: SchedulerCall>(_ call: Call, timeout: Duration) async throws -> Call.Result {
        try ConveyorJSON.decode(Call.Result.self, from: try await callReturningJSON(call, timeout: timeout))
    }
}
