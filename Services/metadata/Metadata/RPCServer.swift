import AMQPClient
import ConveyorModels
import Foundation
import Logging
import Messaging
import Postgres
import ServiceKit
import ServiceLifecycle

/// Answers metadata RPC requests (queue `metadata.rpc`), many at once, replying through the
/// requester's direct reply-to and acking each request once its reply is confirmed.
///
/// A request is one call, or a batch of calls (``MessageBatch``: one envelope per line) answered by
/// a batch of replies in the same order. Submissions, claims and job reads are gathered across
/// requests by ``Batcher``s, so the calls of one moment share one transaction or one query.
final class RPCServer: Service, Sendable {
    private let store: JobStore
    private let tokens: TokenStore
    private let notificationDefaults: NotificationDefaults
    private let audit: AuditStore
    private let consumer: AMQPConnection
    private let publisher: AMQPConnection
    private let batchers: Batchers
    private let logger: Logger
    static let prefetch = 256

    /// The batchers of the calls that come in numbers: add them to the service group before the server.
    struct Batchers: Sendable {
        let submits: Batcher<JobStore.Submission, JobRecord>
        let claims: Batcher<ClaimJob, ClaimAnswer>
        let reads: Batcher<UUID, JobRecord>

        init(store: JobStore) {
            submits = Batcher(name: "submissions", maxBatch: 200, concurrency: 2) { items in
                await Self.each(items) { try await store.submit($0) }
            }
            claims = Batcher(name: "claims", maxBatch: 200, concurrency: 2) { items in
                await Self.each(items) { try await store.claims($0) }
            }
            reads = Batcher(name: "job reads", maxBatch: 200, concurrency: 2) { items in
                await Self.each(items) { try await store.jobs($0) }
            }
        }

        var services: [any Service] { [submits, claims, reads] }

        /// Runs a batch operation; a failure of the whole batch is every item's answer.
        static func each<Item, Output>(_ items: [Item], _ run: ([Item]) async throws -> [Result<Output, any Error>]) async
            -> [Result<Output, any Error>]
        {
            do { return try await run(items) } catch { return items.map { _ in .failure(error) } }
        }
    }

    init(store: JobStore, tokens: TokenStore, consumer: AMQPConnection, publisher: AMQPConnection, batchers: Batchers, logger: Logger) {
        self.store = store
        self.tokens = tokens
        self.notificationDefaults = NotificationDefaults(pool: store.pool)
        self.audit = AuditStore(pool: store.pool)
        self.consumer = consumer
        self.publisher = publisher
        self.batchers = batchers
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
        let body: Data
        let contentType: String
        if request.contentType == MessageBatch.contentType {
            let calls = MessageBatch.split(request.body)
            let replies = await withTaskGroup(of: (Int, Data).self) { group in
                for (index, call) in calls.enumerated() {
                    group.addTask { (index, await self.handle(call)) }
                }
                var replies = [Data](repeating: Data(), count: calls.count)
                for await (index, reply) in group { replies[index] = reply }
                return replies
            }
            body = MessageBatch.join(replies)
            contentType = MessageBatch.contentType
        } else {
            body = await handle(request.body)
            contentType = "application/json"
        }
        // The reply goes out behind the events its call committed (same connection, in order).
        publisher.publish(
            OutgoingMessage(
                exchange: "", routingKey: replyTo, body: body, persistent: false, contentType: contentType,
                correlationId: request.correlationId, type: "metadata.reply")
        ) { [consumer, logger] result in
            switch result {
            case .success:
                consumer.ack(request)
            case .failure(let error) where request.redelivered:
                // Already redelivered (after a failed reply or a lost connection): the caller's reply queue is most likely gone (a direct reply-to on a broker
                // node that went away makes every reply to it fail). The caller times out and asks
                // again; answering it forever would only break this connection again and again.
                logger.warning("RPC reply failed again; the request is dropped", metadata: ["error": "\(error)", "type": "\(request.type ?? "?")"])
                consumer.ack(request)
            case .failure(let error):
                logger.warning("RPC reply failed; the request will be redelivered", metadata: ["error": "\(error)"])
                consumer.nack(request, requeue: true)
            }
        }
    }

    /// Decodes a request, runs it and encodes the reply (a result or an error, never a throw).
    func handle(_ body: Data) async -> Data {
        let type = EnvelopeHeader.type(of: body) ?? ""
        let objects = store.objects
        switch type {
        case SubmitJob.messageType:
            return await respond(SubmitJob.self, body) { try await self.batchers.submits.submit(JobStore.Submission(definition: $0.definition, caller: $0.caller)) }
        case ClaimJob.messageType: return await respondJSON(ClaimJob.self, body) { try await self.batchers.claims.submit($0).json }
        case GetJob.messageType: return await respond(GetJob.self, body) { try await self.batchers.reads.submit($0.jobId) }
        case ListJobs.messageType: return await respond(ListJobs.self, body) { try await self.store.list($0) }
        case ListJobChanges.messageType: return await respond(ListJobChanges.self, body) { try await self.store.changes($0) }
        case GetLogSizes.messageType: return await respond(GetLogSizes.self, body) { try await self.store.logSizes($0) }
        case GetJobLog.messageType: return await respond(GetJobLog.self, body) { try await self.store.log($0) }
        case CancelJob.messageType: return await respond(CancelJob.self, body) { try await self.store.cancel($0) }
        case RequeueJob.messageType: return await respond(RequeueJob.self, body) { try await self.store.requeue($0) }
        case RenewLeases.messageType: return await respond(RenewLeases.self, body) { try await self.store.renew($0) }
        case ListActiveJobs.messageType: return await respond(ListActiveJobs.self, body) { try await self.store.active($0) }
        case ValidateJob.messageType: return await respond(ValidateJob.self, body) { try await self.store.validate($0.definition, caller: $0.caller) }
        case RerunJob.messageType: return await respond(RerunJob.self, body) { try await self.store.rerun($0) }
        case RerunChain.messageType: return await respond(RerunChain.self, body) { try await self.store.rerunChain($0) }
        case RerunDownstream.messageType: return await respond(RerunDownstream.self, body) { try await self.store.rerunDownstream($0) }
        case GetObject.messageType: return await respondJSON(GetObject.self, body) { try await objects.objectJSON($0.selector, caller: $0.caller) }
        case CreateObject.messageType: return await respond(CreateObject.self, body) { try await objects.create($0) }
        case UpdateTag.messageType: return await respond(UpdateTag.self, body) { try await objects.updateTag($0) }
        case ShareObject.messageType: return await respond(ShareObject.self, body) { try await objects.share($0) }
        case ListObjectVersions.messageType: return await respondJSON(ListObjectVersions.self, body) { try await objects.versionsJSON($0) }
        case SearchObjects.messageType: return await respondJSON(SearchObjects.self, body) { try await objects.searchJSON($0) }
        case GetObjectContent.messageType: return await respond(GetObjectContent.self, body) { try await objects.content($0.selector, caller: $0.caller) }
        case GetNotificationDefault.messageType: return await respond(GetNotificationDefault.self, body) { try await self.notificationDefaults.get($0) }
        case SetNotificationDefault.messageType: return await respond(SetNotificationDefault.self, body) { try await self.notificationDefaults.set($0) }
        case RecordAudit.messageType: return await respond(RecordAudit.self, body) { try await self.audit.record($0) }
        case ListAudit.messageType: return await respond(ListAudit.self, body) { try await self.audit.list($0) }
        case VerifyToken.messageType: return await respond(VerifyToken.self, body) { try await self.tokens.verify($0) }
        case IssueToken.messageType: return await respond(IssueToken.self, body) { try await self.tokens.issue($0) }
        case ListTokens.messageType: return await respond(ListTokens.self, body) { try await self.tokens.list($0) }
        case RevokeToken.messageType: return await respond(RevokeToken.self, body) { try await self.tokens.revoke($0) }
        default:
            return Self.encode(
                RPCReply<JSONValue>(error: RPCFailure(code: .invalid, message: "unknown request type '\(type)'")))
        }
    }

    private func respond<Call: MetadataCall>(
        _ call: Call.Type, _ body: Data, _ handler: @Sendable (Call) async throws -> Call.Result
    ) async -> Data {
        await reply(call, body) { Self.encode(RPCReply(result: try await handler($0))) }
    }

    /// Like ``respond(_:_:_:)`` for a handler that writes its result as JSON itself (the text of
    /// `Call.Result`, see ``ObjectRecordJSON``).
    private func respondJSON<Call: MetadataCall>(
        _ call: Call.Type, _ body: Data, _ handler: @Sendable (Call) async throws -> Data
    ) async -> Data {
        await reply(call, body) { RPCReply<Call.Result>.envelope(resultJSON: try await handler($0)) }
    }

    /// Decodes the request, runs `handler` for the reply envelope, and maps what it throws to an error reply.
    private func reply<Call: MetadataCall>(
        _ call: Call.Type, _ body: Data, _ handler: @Sendable (Call) async throws -> Data
    ) async -> Data {
        let start = DispatchTime.now()
        defer { RPCMetrics.server.record(Call.messageType, since: start) }
        func failed(_ failure: RPCFailure) -> Data {
            RPCMetrics.server.fail(Call.messageType, code: failure.code.rawValue)
            return Self.encode(RPCReply<Call.Result>(error: failure))
        }
        do {
            let envelope = try Envelope<Call>.decode(body)
            return try await handler(envelope.payload)
        } catch let error as MetadataError {
            return failed(error.rpcFailure)
        } catch let error as MessageDecodingError {
            return failed(RPCFailure(code: .invalid, message: error.description))
        } catch let error as PostgresError where error.isConnectionFailure {
            logger.warning("database unavailable", metadata: ["error": "\(error)"])
            return failed(RPCFailure(code: .unavailable, message: "the database is unavailable; retry"))
        } catch let error as BatcherClosed {
            return failed(RPCFailure(code: .unavailable, message: "\(error); retry"))
        } catch {
            logger.error("RPC failed", metadata: ["type": "\(Call.messageType)", "error": "\(error)"])
            return failed(RPCFailure(code: .internal, message: "internal error"))
        }
    }

    private static func encode<Result>(_ reply: RPCReply<Result>) -> Data {
        (try? Envelope(reply).encoded()) ?? Data(#"{"type":"metadata.reply","schemaVersion":1}"#.utf8)
    }
}
