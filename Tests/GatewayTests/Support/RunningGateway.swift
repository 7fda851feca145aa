import Foundation
import GatewayClient
import GatewayEnvironment
import GatewayServer
import HDFDomain
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import Provisioning
import Testing
import WireProtocol

/// A real gateway on 127.0.0.1, an ephemeral port, over a demo environment of its own.
final class RunningGateway: @unchecked Sendable {
    let directory: String
    let manifest: DemoManifest
    private(set) var server: GatewayServer
    private(set) var port: Int
    let limits: ServerLimits
    static let logger = Logger(label: "gateway-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    private init(directory: String, manifest: DemoManifest, server: GatewayServer, port: Int, limits: ServerLimits) {
        self.directory = directory
        self.manifest = manifest
        self.server = server
        self.port = port
        self.limits = limits
    }

    /// The server's limits with the handshake and frame deadlines relaxed: in the shared `swift test` run (two
    /// cores, every suite at once) a TLS handshake can take longer than the production 3 s, and a test that is
    /// not about the deadlines must not fail on them. The tests of the deadlines set their own.
    static var sharedRunLimits: ServerLimits {
        var limits = ServerLimits()
        limits.handshakeTimeout = .seconds(30)
        limits.frameCompletionTimeout = .seconds(60)
        return limits
    }

    static func start(_ name: String, limits: ServerLimits = sharedRunLimits) async throws -> RunningGateway {
        let (directory, manifest) = try makeDemoDirectory(name)
        let server = try await serve(directory: directory, limits: limits)
        return RunningGateway(directory: directory, manifest: manifest, server: server, port: server.boundPort!, limits: limits)
    }

    private static func serve(directory: String, limits: ServerLimits) async throws -> GatewayServer {
        let configuration = try GatewayConfiguration.environment(directory: directory, port: 0, metricsPort: nil, limits: limits,
                                                                 eventLoopThreads: 2)
        let server = try GatewayServer(configuration: configuration, logger: logger, prometheus: nil)
        try await server.start()
        return server
    }

    /// Stops the server, then serves the same directory again (a new port).
    func restart(limits: ServerLimits? = nil) async throws {
        try await server.shutdown()
        server = try await Self.serve(directory: directory, limits: limits ?? self.limits)
        port = server.boundPort!
    }

    /// Stops the server, runs `gateway check` on the ledger and removes the directory.
    func stop(sourceLocation: SourceLocation = #_sourceLocation) async {
        do { try await server.shutdown() } catch { Issue.record("shutdown failed: \(error)", sourceLocation: sourceLocation) }
        expectLedgerChecks(directory: directory, sourceLocation: sourceLocation)
        try? FileManager.default.removeItem(atPath: directory)
    }

    var caPath: String { directory + "/" + manifest.gateway.ca }

    func credentials(_ terminal: String) -> TerminalCredentials {
        TerminalCredentials(host: "127.0.0.1", port: port, caPath: caPath,
                            certificatePath: directory + "/certs/\(terminal).pem", keyPath: directory + "/certs/\(terminal).key")
    }

    /// A terminal's connection, once the gateway has answered an echo on it (the handshake is done).
    func connect(_ terminal: String) async throws -> GatewayConnection {
        let connection = try await GatewayConnection.connect(credentials(terminal), group: MultiThreadedEventLoopGroup.singleton)
        let echo = try await connection.ask(#"{"type":"echo","id":"hello"}"#)
        #expect(echo.code == "00")
        return connection
    }

    func available(_ pan: String, _ code: WalletCode) throws -> Int64 {
        try availableCents(directory: directory, pan: pan, code)
    }
}

extension GatewayConnection {
    /// Sends one request written as JSON text and returns the answer.
    func ask(_ text: String, timeout: Duration = .seconds(10)) async throws -> JSONValue {
        try await send(json(text), timeout: timeout)
    }

    /// True once the connection is closed (waits at most `timeout`).
    func closes(within timeout: Duration) async -> Bool {
        await waitUntil(timeout) { !self.isActive }
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func waitUntil(_ timeout: Duration, _ condition: @Sendable () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

/// A TLS client that writes raw bytes (frame headers included: the tests choose them) and collects the
/// frames it receives, for what `GatewayConnection` cannot do: several frames in one write, bad headers.
final class RawTLSClient: Sendable {
    let channel: Channel
    private let collector: Collector

    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let frames = NIOLockedValueBox<[[UInt8]]>([])
        let failure = NIOLockedValueBox<Error?>(nil)
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            frames.withLockedValue { $0.append(Array(buffer.readableBytesView)) }
        }
        func errorCaught(context: ChannelHandlerContext, error: Error) {
            failure.withLockedValue { $0 = error }
            context.close(promise: nil)
        }
    }

    private init(channel: Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    static func connect(port: Int, tls: TLSConfiguration) async throws -> RawTLSClient {
        let context = try NIOSSLContext(configuration: tls)
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    try channel.pipeline.syncOperations.addHandler(FrameDecoder.handler())
                    try channel.pipeline.syncOperations.addHandler(collector)
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawTLSClient(channel: channel, collector: collector)
    }

    static func connect(_ credentials: TerminalCredentials) async throws -> RawTLSClient {
        try await connect(port: credentials.port, tls: credentials.tlsConfiguration())
    }

    /// Writes `bytes` as they are, in one write.
    func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes)).get()
    }

    /// Waits for `count` frames in all (at most `timeout`) and returns every frame received so far, parsed.
    func frames(_ count: Int, timeout: Duration = .seconds(10)) async -> [JSONValue] {
        _ = await waitUntil(timeout) { self.collector.frames.withLockedValue { $0.count } >= count || !self.channel.isActive }
        return collector.frames.withLockedValue { $0 }.map { (try? JSONValue.parse($0)) ?? .null }
    }

    func closes(within timeout: Duration) async -> Bool {
        await waitUntil(timeout) { !self.channel.isActive }
    }

    func close() async { try? await channel.close() }
}

/// One frame: the 4-byte big-endian length, then the payload.
func frame(_ text: String) -> [UInt8] {
    let payload = Array(text.utf8)
    return header(UInt32(payload.count)) + payload
}

func header(_ length: UInt32) -> [UInt8] {
    [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
}
