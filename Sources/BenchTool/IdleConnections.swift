import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import WireProtocol

/// Sends one `echo` on a new connection (so the gateway has accepted the terminal's certificate and
/// attached the connection), then keeps the connection open and silent.
final class IdleHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let id: String
    private let ready: EventLoopPromise<Void>

    init(id: String, ready: EventLoopPromise<Void>) {
        self.id = id
        self.ready = ready
    }

    func channelActive(context: ChannelHandlerContext) {
        let request = JSONValue.object([("type", .string("echo")), ("id", .string(id))]).encoded()
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: request)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if let answer = try? JSONValue.parse(frame.readableBytesView), answer["code"]?.stringValue == "00",
           answer["id"]?.stringValue == id {
            ready.succeed(())
        } else {
            ready.fail(ValidationError("unexpected answer \(String(decoding: frame.readableBytesView, as: UTF8.self))"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        ready.fail(ValidationError("connection \(id) closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        ready.fail(error)
        context.close(promise: nil)
    }
}

/// Opens `--connections` mutual-TLS connections spread over the plan's terminals, each answered once
/// (an `echo`), and reads the gateway's resident memory while they are all open and idle.
struct IdleConnections: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle",
        abstract: "Open many idle mTLS connections to the gateway and read its RSS (/proc/PID/status) meanwhile.")

    @Option(help: "The plan written by `bench-load prepare`.")
    var plan: String
    @Option var host: String = "127.0.0.1"
    @Option var port: Int
    @Option(help: "Connections to hold open, spread over the plan's terminals.")
    var connections: Int = 1000
    @Option(name: .customLong("gateway-pid"), help: "The gateway's process id, for /proc/PID/status.")
    var gatewayPID: Int32
    @Option(help: "Handshakes in progress at a time.")
    var concurrency: Int = 50
    @Option(help: "Seconds to wait, all connections open, before reading the RSS.")
    var settle: Double = 1
    @Option var threads: Int = 1

    func run() async throws {
        let plan = try BenchPlan.load(plan)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        let contexts = try plan.terminals.map { try clientContext(plan: plan, terminal: $0) }
        let before = procStatusKiB(pid: gatewayPID, field: "VmRSS") ?? 0

        let started = Clock.now()
        var channels: [Channel] = []
        var errors = 0
        var samples: [String] = []
        var next = 0
        while next < connections {
            let wave = min(concurrency, connections - next)
            var pending: [(EventLoopFuture<Channel>, EventLoopFuture<Void>)] = []
            for index in next..<(next + wave) {
                let loop = group.next()
                let ready = loop.makePromise(of: Void.self)
                let id = "idle-\(index)"
                let connect = clientBootstrap(loop: loop, context: contexts[index % contexts.count]) {
                    IdleHandler(id: id, ready: ready)
                }.connect(host: host, port: port)
                connect.whenFailure { ready.fail($0) }
                pending.append((connect, ready.futureResult))
            }
            for (connect, ready) in pending {
                do {
                    try await ready.get()
                    channels.append(try await connect.get())
                } catch {
                    errors += 1
                    if samples.count < 5 { samples.append("\(error)") }
                }
            }
            next += wave
        }
        let openSeconds = Double(Clock.now() - started) / 1e9
        try await Task.sleep(nanoseconds: UInt64(settle * 1e9))
        let open = channels.filter(\.isActive).count
        errors += channels.count - open
        let rss = procStatusKiB(pid: gatewayPID, field: "VmRSS") ?? 0
        let hwm = procStatusKiB(pid: gatewayPID, field: "VmHWM") ?? 0
        for sample in samples { warn("idle: error: \(sample)") }
        let perConnection = open > 0 ? Double(rss - before) / Double(open) : 0
        say("idle: \(open) connections open and idle (over \(min(connections, contexts.count)) terminals, opened in "
            + "\(format(openSeconds, decimals: 1)) s); gateway VmRSS \(format(Double(before) / 1024, decimals: 1)) MiB before, "
            + "\(format(Double(rss) / 1024, decimals: 1)) MiB with them open (\(format(perConnection, decimals: 1)) KiB each); "
            + "VmHWM \(format(Double(hwm) / 1024, decimals: 1)) MiB; \(errors) errors")
        say("result idle connections=\(open) rss_kib=\(rss) rss_before_kib=\(before) errors=\(errors)")
        for channel in channels { channel.close(promise: nil) }
        for channel in channels { try? await channel.closeFuture.get() }
        try? await group.shutdownGracefully()
    }
}
