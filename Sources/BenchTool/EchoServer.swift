import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import WireProtocol

/// Answers every frame with the same small JSON object, shaped like the gateway's `echo` answer.
final class FixedAnswerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let answer: [UInt8] = JSONValue.object([
        ("type", .string("echo")), ("id", .string("bench")), ("code", .string("00")), ("message", .string("Approuvé")),
        ("server_time", .string("2026-05-26T12:00:00.000+02:00")),
    ]).encoded()

    private var buffer: ByteBuffer?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if buffer == nil { buffer = context.channel.allocator.buffer(bytes: Self.answer) }
        // The gateway writes and flushes each answer as it is decided: so does this one.
        context.writeAndFlush(wrapOutboundOut(buffer!), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

/// A mutual-TLS server with the gateway's framing and certificates (TLS 1.3, a client certificate of the
/// partner CA required), to measure what the network and TLS alone allow: `tls_echo/s`.
struct EchoServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-server",
        abstract: "Serve a fixed echo answer over mutual TLS with the gateway's framing and certificates, until killed.")

    @Option(help: "The plan written by `bench-load prepare` (for the certificates).")
    var plan: String

    @Option var host: String = "127.0.0.1"

    @Option(help: "0: any free port (printed on the ready line).")
    var port: Int = 0

    @Option(help: "Event loop threads (the gateway uses one per core).")
    var threads: Int = System.coreCount

    func run() async throws {
        let plan = try BenchPlan.load(plan)
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(plan.serverCert).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: plan.serverKey, format: .pem)))
        tls.minimumTLSVersion = .tlsv13
        tls.certificateVerification = .noHostnameVerification
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(plan.ca))
        let context = try NIOSSLContext(configuration: tls)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLServerHandler(context: context))
                    try sync.addHandler(FrameDecoder.handler())
                    try sync.addHandler(MessageToByteHandler(FrameEncoder()))
                    try sync.addHandler(FixedAnswerHandler())
                }
            }
            .bind(host: host, port: port).get()
        say("echo-server ready on \(host):\(listener.localAddress?.port ?? port)")
        try await listener.closeFuture.get()
    }
}
