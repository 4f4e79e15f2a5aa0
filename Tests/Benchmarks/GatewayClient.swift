import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import TestSupport

/// The benchmark's HTTP client: keep-alive HTTP/1.1 connections to the gateway over SwiftNIO, one per
/// request in flight (a connection is taken from the idle ones, or opened, and given back after its
/// answer). A load generator must cost little: the client's CPU counts in the benchmark's CPU per
/// job, and Foundation's URLSession on Linux costs several times what the gateway does per request.
struct GatewayClient: Sendable {
    let host: String
    let port: Int
    /// The local admin's token (see ``LocalAdminToken``).
    static let token = LocalAdminToken.read()
    private let idle = NIOLockedValueBox<[any Channel]>([])

    init(base: String) {
        let url = URLComponents(string: base)
        host = url?.host ?? "127.0.0.1"
        port = url?.port ?? 80
    }

    /// The status and body of a request.
    func send(_ method: GatewayHTTP.Method, _ path: String, json: Data? = nil) async throws -> (status: Int, body: Data) {
        let channel = try await connection()
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method.rawValue), uri: path)
        head.headers.add(name: "Host", value: "\(host):\(port)")
        head.headers.add(name: "Authorization", value: "Bearer \(Self.token)")
        var body: ByteBuffer?
        if let json {
            head.headers.add(name: "Content-Type", value: "application/json")
            body = ByteBuffer(bytes: json)
        }
        head.headers.add(name: "Content-Length", value: "\(body?.readableBytes ?? 0)")
        let answer = channel.eventLoop.makePromise(of: ResponseCollector.Answer.self)
        do {
            try await channel.writeAndFlush(ResponseCollector.Request(head: head, body: body, answer: answer)).get()
            let response = try await answer.futureResult.get()
            if response.keepAlive { idle.withLockedValue { $0.append(channel) } } else { try? await channel.close() }
            return (response.status, Data(response.body.readableBytesView))
        } catch {
            try? await channel.close()
            throw error
        }
    }

    func shutdown() async {
        for channel in idle.withLockedValue({ idle in defer { idle = [] }; return idle }) { try? await channel.close() }
    }

    private func connection() async throws -> any Channel {
        while let channel = idle.withLockedValue({ $0.popLast() }) {
            if channel.isActive { return channel }
        }
        return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector())
                }
            }
            .connect(host: host, port: port).get()
    }
}

/// Writes one request and collects its response into one buffer; fails the waiting request when
/// the connection ends first.
private final class ResponseCollector: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Request
    typealias OutboundOut = HTTPClientRequestPart

    struct Request: Sendable {
        var head: HTTPRequestHead
        var body: ByteBuffer?
        var answer: EventLoopPromise<Answer>
    }

    struct Answer: Sendable {
        var status: Int
        var body: ByteBuffer
        var keepAlive: Bool
    }

    private var waiting: EventLoopPromise<Answer>?
    private var answer = Answer(status: 0, body: ByteBuffer(), keepAlive: true)

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        waiting = request.answer
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        if let body = request.body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            answer = Answer(status: Int(head.status.code), body: context.channel.allocator.buffer(capacity: 0), keepAlive: head.isKeepAlive)
        case .body(var part):
            answer.body.writeBuffer(&part)
        case .end:
            waiting?.succeed(answer)
            waiting = nil
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        waiting?.fail(error)
        waiting = nil
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        waiting?.fail(ChannelError.ioOnClosedChannel)
        waiting = nil
        context.fireChannelInactive()
    }
}
