import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import WireProtocol

/// Where and as whom a terminal connects: the gateway's address, the partner CA that signed the server's
/// certificate, and the terminal's own certificate and key.
public struct TerminalCredentials: Sendable {
    public let host: String
    public let port: Int
    public let caPath: String
    public let certificatePath: String
    public let keyPath: String

    public init(host: String, port: Int, caPath: String, certificatePath: String, keyPath: String) {
        self.host = host
        self.port = port
        self.caPath = caPath
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }

    public func tlsConfiguration() throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv13
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caPath))
        tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem))
        return tls
    }
}

public enum GatewayClientError: Error, CustomStringConvertible {
    case connectionClosed
    case timedOut(Duration)
    case unreadableResponse(String)

    public var description: String {
        switch self {
        case .connectionClosed: return "the gateway closed the connection"
        case .timedOut(let duration): return "no answer from the gateway within \(duration)"
        case .unreadableResponse(let why): return "unreadable answer from the gateway: \(why)"
        }
    }
}

/// One mutual-TLS connection to the gateway. Requests may be pipelined; answers come back in order and
/// complete the requests in order. Used by the terminal (`pos`), the tests and the bench's load process.
public final class GatewayConnection: Sendable {
    private let channel: Channel
    private let handler: ResponseMatcher

    private init(channel: Channel, handler: ResponseMatcher) {
        self.channel = channel
        self.handler = handler
    }

    public static func connect(_ credentials: TerminalCredentials, group: EventLoopGroup,
                               serverHostname: String = "localhost", connectTimeout: Duration = .seconds(5)) async throws -> GatewayConnection {
        let context = try NIOSSLContext(configuration: credentials.tlsConfiguration())
        let matcher = ResponseMatcher()
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(connectTimeout.components.seconds * 1000 + connectTimeout.components.attoseconds / 1_000_000_000_000_000))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverHostname))
                    try sync.addHandler(FrameDecoder.handler())
                    try sync.addHandler(MessageToByteHandler(FrameEncoder()))
                    try sync.addHandler(matcher)
                }
            }
            .connect(host: credentials.host, port: credentials.port).get()
        return GatewayConnection(channel: channel, handler: matcher)
    }

    /// Sends one frame's payload as is and returns the next answer's payload.
    public func sendRaw(_ payload: [UInt8]) -> EventLoopFuture<ByteBuffer> {
        let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
        let matcher = handler
        let channel = self.channel
        channel.eventLoop.execute {
            // A closed connection would never answer: fail at once instead of waiting forever.
            guard channel.isActive else {
                promise.fail(GatewayClientError.connectionClosed)
                return
            }
            matcher.enqueue(promise)
            channel.writeAndFlush(channel.allocator.buffer(bytes: payload), promise: nil)
        }
        return promise.futureResult
    }

    /// Sends a request and waits for its answer, at most `timeout`.
    public func send(_ request: JSONValue, timeout: Duration = .seconds(10)) async throws -> JSONValue {
        let future = sendRaw(request.encoded())
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(timeout.components.seconds * 1_000_000_000
                                                                    + timeout.components.attoseconds / 1_000_000_000)) {}
        let buffer: ByteBuffer
        do {
            buffer = try await withTimeout(future, timer: timer, timeout: timeout)
        }
        do {
            return try JSONValue.parse(Array(buffer.readableBytesView))
        } catch {
            throw GatewayClientError.unreadableResponse("\(error)")
        }
    }

    private func withTimeout(_ future: EventLoopFuture<ByteBuffer>, timer: Scheduled<Void>, timeout: Duration) async throws -> ByteBuffer {
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: ByteBuffer.self)
        future.cascade(to: promise)
        timer.futureResult.whenSuccess { promise.fail(GatewayClientError.timedOut(timeout)) }
        defer { timer.cancel() }
        return try await promise.futureResult.get()
    }

    public func close() async {
        try? await channel.close()
    }

    public var isActive: Bool { channel.isActive }

    /// Completes when the gateway (or anyone) closes the connection.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }
}

/// Matches answers to requests in order (the gateway answers in request order).
final class ResponseMatcher: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    private let waiting = NIOLockedValueBox<[EventLoopPromise<ByteBuffer>]>([])

    func enqueue(_ promise: EventLoopPromise<ByteBuffer>) {
        waiting.withLockedValue { $0.append(promise) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let next = waiting.withLockedValue { $0.isEmpty ? nil : $0.removeFirst() }
        next?.succeed(frame)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let pending = waiting.withLockedValue { queue -> [EventLoopPromise<ByteBuffer>] in
            defer { queue.removeAll() }
            return queue
        }
        for promise in pending { promise.fail(GatewayClientError.connectionClosed) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let pending = waiting.withLockedValue { queue -> [EventLoopPromise<ByteBuffer>] in
            defer { queue.removeAll() }
            return queue
        }
        for promise in pending { promise.fail(error) }
        context.close(promise: nil)
    }
}
