import AMQPClient
import ConveyorModels
import Foundation
import Logging
import PostgresClient
import ServiceLifecycle

/// Answers metadata RPC requests (queue `metadata.rpc`), many at once, replying through the
/// requester's direct reply-to and acking each request after its reply was published.
final class RPCServer: Service, Sendable {
    private let store: JobStore
    private let consumer: AMQPConnection
    private let publisher: AMQPConnection
    private let logger: Logger
    static let prefetch = 64

    init(store: JobStore, consumer: AMQPConnection, publisher: AMQPConnection, logger: Logger) {
        self.store = store
        self.consumer = consumer
        self.publisher = publisher
        self.logger = logger
    }

    func run() async throws {
        let requests = consumer.consume(queue: Topology.metadataRPCQueue, prefetch: Self.prefetch)
        await withDiscardingTaskGroup { group in
            for await request in requests.cancelOnGracefulShutdown() {
                group.addTask { await self.serve(request) }
            }
        }
    }

    private func serve(_ request: AMQPDelivery) async {
        guard let replyTo = request.replyTo else {
            logger.warning("RPC request without reply-to dropped", metadata: ["type": "\(request.type ?? "?")"])
            consumer.nack(request, requeue: false)
            return
        }
        let reply = await handle(request.body)
        do {
            try await publisher.publish(
                OutgoingMessage(
                    exchange: "", routingKey: replyTo, body: reply, persistent: false,
                    correlationId: request.correlationId, type: "metadata.reply"))
            consumer.ack(request)
        } catch {
            logger.warning("RPC reply failed; the request will be redelivered", metadata: ["error": "\(error)"])
            consumer.nack(request, requeue: true)
        }
    }

    /// Decodes a request, runs it and encodes the reply (a result or an error, never a throw).
    func handle(_ body: Data) async -> Data {
        let type = (try? ConveyorJSON.decode(EnvelopeHeader.self, from: body))?.type ?? ""
        switch type {
        case SubmitJob.messageType: return await respond(SubmitJob.self, body) { try await self.store.submit($0.definition) }
        case GetJob.messageType: return await respond(GetJob.self, body) { try await self.store.job($0.jobId) }
        case ListJobs.messageType: return await respond(ListJobs.self, body) { try await self.store.list($0) }
        case GetJobLog.messageType: return await respond(GetJobLog.self, body) { try await self.store.log($0) }
        case CancelJob.messageType: return await respond(CancelJob.self, body) { try await self.store.cancel($0) }
        case ClaimJob.messageType: return await respond(ClaimJob.self, body) { try await self.store.claim($0) }
        case RequeueJob.messageType: return await respond(RequeueJob.self, body) { try await self.store.requeue($0) }
        case ListActiveJobs.messageType: return await respond(ListActiveJobs.self, body) { _ in try await self.store.active() }
        case ValidateJob.messageType: return await respond(ValidateJob.self, body) { try await self.store.validate($0.definition) }
        case RerunJob.messageType: return await respond(RerunJob.self, body) { try await self.store.rerun($0) }
        case GetObject.messageType: return await respond(GetObject.self, body) { try await self.store.objects.object($0.selector) }
        case CreateObject.messageType: return await respond(CreateObject.self, body) { try await self.store.objects.create($0) }
        case UpdateTag.messageType: return await respond(UpdateTag.self, body) { try await self.store.objects.updateTag($0) }
        case ListObjectVersions.messageType:
            return await respond(ListObjectVersions.self, body) { try await self.store.objects.versions($0) }
        case SearchObjects.messageType: return await respond(SearchObjects.self, body) { try await self.store.objects.search($0) }
        case GetObjectContent.messageType:
            return await respond(GetObjectContent.self, body) { try await self.store.objects.content($0.selector) }
        default:
            return Self.encode(
                RPCReply<JSONValue>(error: RPCFailure(code: .invalid, message: "unknown request type '\(type)'")))
        }
    }

    private func respond<Call: MetadataCall>(
        _ call: Call.Type, _ body: Data, _ handler: @Sendable (Call) async throws -> Call.Result
    ) async -> Data {
        do {
            let envelope = try Envelope<Call>.decode(body)
            return Self.encode(RPCReply(result: try await handler(envelope.payload)))
        } catch let failure as RPCFailure {
            return Self.encode(RPCReply<Call.Result>(error: failure))
        } catch let error as MessageDecodingError {
            return Self.encode(RPCReply<Call.Result>(error: RPCFailure(code: .invalid, message: error.description)))
        } catch let error as PostgresError where error.isConnectionFailure {
            logger.warning("database unavailable", metadata: ["error": "\(error)"])
            return Self.encode(RPCReply<Call.Result>(error: RPCFailure(code: .unavailable, message: "the database is unavailable; retry")))
        } catch {
            logger.error("RPC failed", metadata: ["type": "\(Call.messageType)", "error": "\(error)"])
            return Self.encode(RPCReply<Call.Result>(error: RPCFailure(code: .internal, message: "internal error")))
        }
    }

    private static func encode<Result>(_ reply: RPCReply<Result>) -> Data {
        (try? Envelope(reply).encoded()) ?? Data(#"{"type":"metadata.reply","schemaVersion":1}"#.utf8)
    }
}
