import ArgumentParser
import CardApplication
import Foundation
import GatewayClient
import HDFDomain
import NIOCore
import NIOPosix
import NIOSSL
import WireProtocol

/// When a load run counts: answers received in [warmEnd, measureEnd) are measured; no request is sent
/// after measureEnd; a connection still waiting for an answer at giveUp has lost it (an error).
struct RunWindow: Sendable {
    let start: UInt64
    let warmEnd: UInt64
    let measureEnd: UInt64
    let giveUp: UInt64

    init(warmup: Double, duration: Double, grace: Double = 10) {
        start = Clock.now()
        warmEnd = start + UInt64(warmup * 1e9)
        measureEnd = warmEnd + UInt64(duration * 1e9)
        giveUp = measureEnd + UInt64(grace * 1e9)
    }

    var measuredSeconds: Double { Double(measureEnd - warmEnd) / 1e9 }
}

/// One connection's figures.
struct ConnectionResult: Sendable {
    /// Round trips (request written → answer read), nanoseconds, of the good answers in the measured window.
    var latencies: [UInt64] = []
    /// Good answers, all phases.
    var answered = 0
    /// Requests without an answer, or with another answer than expected.
    var errors = 0
    var errorSamples: [String] = []

    mutating func error(_ why: String) {
        errors += 1
        if errorSamples.count < 5 { errorSamples.append(why) }
    }
}

/// The load of one connection: one request in flight at a time, the next sent as soon as the answer is in.
/// `expectID`: the answer must be the request's (type purchase, same id) with code 00 (the gateway);
/// otherwise any answer with code 00 (the echo server's fixed one).
final class LoadHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var generator: PurchaseGenerator
    private let window: RunWindow
    private let expectID: Bool
    private let done: EventLoopPromise<ConnectionResult>
    private var result = ConnectionResult()
    private var outstanding: (id: String, sentAt: UInt64)?
    private var finished = false
    private var giveUpTimer: Scheduled<Void>?

    init(generator: PurchaseGenerator, window: RunWindow, expectID: Bool, done: EventLoopPromise<ConnectionResult>) {
        self.generator = generator
        self.window = window
        self.expectID = expectID
        self.done = done
        result.latencies.reserveCapacity(65_536)
    }

    func channelActive(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        giveUpTimer = context.eventLoop.scheduleTask(deadline: .uptimeNanoseconds(window.giveUp)) {
            let (handler, context) = loopBound.value
            guard !handler.finished else { return }
            if handler.outstanding != nil { handler.result.error("no answer within 10 s after the end of the run") }
            handler.outstanding = nil
            handler.finish(context: context)
        }
        // Written now, sent by the TLS handler as soon as its handshake is done.
        sendNext(context: context)
        context.fireChannelActive()
    }

    private func sendNext(context: ChannelHandlerContext) {
        let (id, payload) = generator.next()
        outstanding = (id, Clock.now())
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: payload)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = Clock.now()
        let frame = unwrapInboundIn(data)
        guard !finished else { return }
        guard let (id, sentAt) = outstanding else {
            result.error("an answer to no request")
            return
        }
        outstanding = nil
        if let problem = check(frame, id: id) {
            result.error(problem)
        } else {
            result.answered += 1
            if now >= window.warmEnd && now < window.measureEnd { result.latencies.append(now - sentAt) }
        }
        if now < window.measureEnd {
            sendNext(context: context)
        } else {
            finish(context: context)
        }
    }

    private func check(_ frame: ByteBuffer, id: String) -> String? {
        guard let answer = try? JSONValue.parse(frame.readableBytesView) else {
            return "unreadable answer: \(String(decoding: frame.readableBytesView.prefix(200), as: UTF8.self))"
        }
        guard answer["code"]?.stringValue == "00" else { return "answer \(answer) to \(id)" }
        if expectID {
            guard answer["id"]?.stringValue == id, answer["type"]?.stringValue == "purchase" else {
                return "answer \(answer) to another request than \(id)"
            }
        }
        return nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished {
            if outstanding != nil { result.error("connection closed with a request unanswered") }
            outstanding = nil
            finish(context: context)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if !finished {
            if outstanding != nil { result.error("connection error with a request unanswered: \(error)") }
            outstanding = nil
            finish(context: context)
        }
        context.close(promise: nil)
    }

    private func finish(context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        giveUpTimer?.cancel()
        done.succeed(result)
        context.close(promise: nil)
    }
}

/// The client TLS configuration of a terminal of the plan (TLS 1.3, the partner CA, its certificate).
func clientContext(plan: BenchPlan, terminal: BenchPlan.Terminal) throws -> NIOSSLContext {
    try NIOSSLContext(configuration: TerminalCredentials(host: "127.0.0.1", port: 0, caPath: plan.ca,
                                                         certificatePath: terminal.cert, keyPath: terminal.key)
        .tlsConfiguration())
}

func clientBootstrap(loop: EventLoop, context: NIOSSLContext,
                     handler: @escaping @Sendable () -> ChannelHandler) -> ClientBootstrap {
    ClientBootstrap(group: loop)
        .connectTimeout(.seconds(10))
        .channelOption(.socketOption(.tcp_nodelay), value: 1)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                let sync = channel.pipeline.syncOperations
                try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                try sync.addHandler(FrameDecoder.handler())
                try sync.addHandler(MessageToByteHandler(FrameEncoder()))
                try sync.addHandler(handler())
            }
        }
}

/// Runs the load shape of `purchases` and `echo`: one connection per terminal of the plan, one request in
/// flight each, for warm-up + duration. Prints the figures and one `result` line the script reads.
func runLoad(name: String, options: LoadOptions, expectID: Bool) async throws -> Int {
    let plan = try BenchPlan.load(options.plan)
    let count = options.connections ?? plan.terminals.count
    guard count >= 1, count <= plan.terminals.count else {
        throw ValidationError("--connections must be 1 to \(plan.terminals.count) (one per terminal of the plan)")
    }
    let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, options.threads))
    do {
        let errors = try await runLoad(name: name, plan: plan, count: count, options: options, expectID: expectID, group: group)
        try? await group.shutdownGracefully()
        return errors
    } catch {
        try? await group.shutdownGracefully()
        throw error
    }
}

private func runLoad(name: String, plan: BenchPlan, count: Int, options: LoadOptions, expectID: Bool,
                     group: MultiThreadedEventLoopGroup) async throws -> Int {

    let runTag = PurchaseGenerator.runTag()
    let contexts = try plan.terminals.prefix(count).map { try clientContext(plan: plan, terminal: $0) }
    let window = RunWindow(warmup: options.warmup, duration: options.duration)
    var futures: [EventLoopFuture<ConnectionResult>] = []
    var connecting: [EventLoopFuture<Channel>] = []
    for (index, terminal) in plan.terminals.prefix(count).enumerated() {
        // In waves of 50 (the gateway admits 64 handshakes at a time from one address): the first requests of
        // a wave are written once its connections are up, then the next wave starts.
        if connecting.count == 50 {
            for future in connecting { _ = try? await future.get() }
            connecting.removeAll()
            try await Task.sleep(nanoseconds: 30_000_000)
        }
        let cards = try terminal.cards.map { BenchCard(pan: try PAN(validating: $0.pan), key: try Hex.decode($0.key), atc: options.firstATC) }
        let generator = PurchaseGenerator(cards: cards, kind: "P", runTag: runTag, maxAmount: options.maxAmount,
                                          seed: UInt64(index) &+ 0x5EED)
        let loop = group.next()
        let done = loop.makePromise(of: ConnectionResult.self)
        let connect = clientBootstrap(loop: loop, context: contexts[index]) {
            LoadHandler(generator: generator, window: window, expectID: expectID, done: done)
        }.connect(host: options.host, port: options.port)
        connecting.append(connect)
        connect.whenFailure { error in
            var failed = ConnectionResult()
            failed.error("terminal \(terminal.id) could not connect: \(error)")
            done.succeed(failed)
        }
        futures.append(done.futureResult)
    }

    // The CPU the server and this process use over the measured window, per thread.
    let wait = { (deadline: UInt64) async throws in
        let now = Clock.now()
        if deadline > now { try await Task.sleep(nanoseconds: deadline - now) }
    }
    try await wait(window.warmEnd)
    let serverBefore = options.serverPID.flatMap { ThreadCPUSnapshot(pid: $0) }
    let selfBefore = ThreadCPUSnapshot(pid: getpid())
    try await wait(window.measureEnd)
    let serverAfter = options.serverPID.flatMap { ThreadCPUSnapshot(pid: $0) }
    let selfAfter = ThreadCPUSnapshot(pid: getpid())

    var results: [ConnectionResult] = []
    for future in futures { results.append(try await future.get()) }

    var latencies: [UInt64] = []
    latencies.reserveCapacity(results.reduce(0) { $0 + $1.latencies.count })
    for result in results { latencies.append(contentsOf: result.latencies) }
    latencies.sort()
    let errors = results.reduce(0) { $0 + $1.errors }
    let answered = results.reduce(0) { $0 + $1.answered }
    let rate = Double(latencies.count) / window.measuredSeconds
    var distinct: [String: Int] = [:]
    for sample in results.flatMap(\.errorSamples) { distinct[sample, default: 0] += 1 }
    for (sample, times) in distinct.sorted(by: { $0.value > $1.value }).prefix(5) {
        warn("\(name): error\(times > 1 ? " (\(times) times)" : ""): \(sample)")
    }
    let p50 = percentileMilliseconds(latencies, 0.50), p99 = percentileMilliseconds(latencies, 0.99)
    say("\(name): \(count) connections x 1 in flight, \(format(options.warmup, decimals: 0)) s warm-up + "
        + "\(format(window.measuredSeconds, decimals: 0)) s: \(latencies.count) answers measured, \(Int(rate.rounded()))/s; "
        + "latency p50 \(format(p50)) ms p90 \(format(percentileMilliseconds(latencies, 0.90))) ms "
        + "p99 \(format(p99)) ms p99.9 \(format(percentileMilliseconds(latencies, 0.999))) ms "
        + "max \(format(percentileMilliseconds(latencies, 1.0))) ms; \(answered) good answers in all, \(errors) errors")
    if let serverBefore, let serverAfter {
        let usage = serverAfter.usage(since: serverBefore)
        say("\(name): server CPU over the measured window: \(ThreadCPUSnapshot.describe(usage)); "
            + "\(format(usage.cpuSeconds / Double(max(1, latencies.count)) * 1e6, decimals: 0)) µs of server CPU per answer")
    }
    if let selfBefore, let selfAfter {
        let usage = selfAfter.usage(since: selfBefore)
        say("\(name): load process CPU over the measured window: \(ThreadCPUSnapshot.describe(usage)); "
            + "\(format(usage.cpuSeconds / Double(max(1, latencies.count)) * 1e6, decimals: 0)) µs per answer")
    }
    say("result \(name) rate=\(Int(rate.rounded())) p50_ms=\(format(p50)) p99_ms=\(format(p99)) errors=\(errors)")
    return errors
}

struct PurchasesLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purchases",
        abstract: "Purchases against the gateway: one mTLS connection per terminal, one request in flight each.")
    @OptionGroup var options: LoadOptions

    func run() async throws {
        _ = try await runLoad(name: "purchases", options: options, expectID: true)
    }
}

struct EchoLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo", abstract: "The purchases' load shape against `bench-load echo-server`.")
    @OptionGroup var options: LoadOptions

    func run() async throws {
        _ = try await runLoad(name: "tls_echo", options: options, expectID: false)
    }
}
