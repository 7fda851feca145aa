import GatewayClient
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import WireProtocol

/// A mutual-TLS server with the demo's server certificate that speaks the gateway's framing, and decides
/// per request what to do: answer itself, say nothing (a gateway that does not answer), or relay to a real
/// gateway (as the same terminal) and pass its answer back, or drop that answer (a response lost on the
/// way back: the real gateway did the work, the terminal never hears of it).
final class FakeGateway: Sendable {
    enum Action: Sendable {
        case answer(JSONValue)
        case swallow
        case relay
        case relayAndDropAnswer
    }

    /// `request`, and how many requests of its `type` came before it (on any connection).
    typealias Policy = @Sendable (_ request: JSONValue, _ earlierOfType: Int) -> Action

    let port: Int
    private let channel: Channel
    private let state: NIOLockedValueBox<[JSONValue]>
    private let upstream: GatewayConnection?

    /// Every request received, in order.
    var requests: [JSONValue] { state.withLockedValue { $0 } }
    func requests(ofType type: String) -> [JSONValue] { requests.filter { $0["type"]?.stringValue == type } }

    private init(port: Int, channel: Channel, state: NIOLockedValueBox<[JSONValue]>, upstream: GatewayConnection?) {
        self.port = port
        self.channel = channel
        self.state = state
        self.upstream = upstream
    }

    /// `dir` is a demo environment (its server certificate, key and CA); `upstream`, for `.relay`, the real
    /// gateway and the terminal's credentials to reach it with. One upstream connection, opened here, carries
    /// every relayed request (the gateway answers in order), so relaying needs no Swift task: the relay keeps
    /// working while a test blocks the cooperative threads waiting for a `pos` process.
    static func start(dir: String, upstream: TerminalCredentials? = nil, policy: @escaping Policy) async throws -> FakeGateway {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(dir + "/certs/server.pem").map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: dir + "/certs/server.key", format: .pem)))
        tls.minimumTLSVersion = .tlsv13
        tls.certificateVerification = .noHostnameVerification
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(dir + "/certs/ca.pem"))
        let context = try NIOSSLContext(configuration: tls)
        let state = NIOLockedValueBox<[JSONValue]>([])
        var connection: GatewayConnection?
        if let upstream {
            connection = try await GatewayConnection.connect(upstream, group: MultiThreadedEventLoopGroup.singleton)
        }
        let relay = connection
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    let sync = child.pipeline.syncOperations
                    try sync.addHandler(NIOSSLServerHandler(context: context))
                    try sync.addHandler(FrameDecoder.handler())
                    try sync.addHandler(MessageToByteHandler(FrameEncoder()))
                    try sync.addHandler(FakeGatewayHandler(state: state, policy: policy, upstream: relay))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return FakeGateway(port: channel.localAddress?.port ?? 0, channel: channel, state: state, upstream: connection)
    }

    func stop() async {
        try? await channel.close()
        await upstream?.close()
    }
}

/// One connection. Answers go back in request order (a chain of futures on the connection's event loop).
final class FakeGatewayHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let state: NIOLockedValueBox<[JSONValue]>
    private let policy: FakeGateway.Policy
    private let upstream: GatewayConnection?
    private var lastAnswer: EventLoopFuture<Void>?
    private var hung = false

    init(state: NIOLockedValueBox<[JSONValue]>, policy: @escaping FakeGateway.Policy, upstream: GatewayConnection?) {
        self.state = state
        self.policy = policy
        self.upstream = upstream
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let bytes = Array(frame.readableBytesView)
        guard let request = try? JSONValue.parse(bytes) else { return }
        let type = request["type"]?.stringValue ?? ""
        let earlier = state.withLockedValue { seen -> Int in
            defer { seen.append(request) }
            return seen.filter { $0["type"]?.stringValue == type }.count
        }
        let loop = context.eventLoop
        let channel = context.channel
        let previous = lastAnswer ?? loop.makeSucceededVoidFuture()
        let action = policy(request, earlier)
        switch action {
        case .swallow:
            // Nothing more is answered on this connection: the gateway hangs.
            hung = true
        case _ where hung:
            break
        case .answer(let response):
            lastAnswer = previous.map {
                channel.writeAndFlush(channel.allocator.buffer(bytes: response.encoded()), promise: nil)
            }
        case .relay, .relayAndDropAnswer:
            guard let upstream else { return }
            let drop: Bool
            if case .relayAndDropAnswer = action { drop = true } else { drop = false }
            let answer = upstream.sendRaw(bytes).hop(to: loop)
            lastAnswer = previous.flatMap { answer }.map { buffer in
                if !drop { channel.writeAndFlush(buffer, promise: nil) }
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

/// The gateway's answer to `request` with `code` and the fields given.
func answer(_ request: JSONValue, code: String, message: String = "Accepté", _ fields: [(String, JSONValue)] = []) -> JSONValue {
    .object([("type", request["type"] ?? .null), ("id", request["id"] ?? .null), ("code", .string(code)),
             ("message", .string(message))] + fields)
}
