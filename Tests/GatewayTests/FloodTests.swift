import Foundation
import GatewayClient
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Testing
import WireProtocol

/// Hostile clients against a real gateway process (`gateway serve`, debug build, its own RSS), each while a
/// well-behaved terminal is measured: it never gets `96`, its p99 stays under 50 ms, and the gateway's
/// resident memory under 300 MiB.
///
/// They measure latency, so they run alone: only with `HDF_ALONE_TESTS=1`, which `scripts/test.sh` sets in a
/// `swift test --filter` of their own after the other suites (which run in parallel).
@Suite("Floods against a gateway process", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["HDF_ALONE_TESTS"] == "1", "set HDF_ALONE_TESTS=1 (they must run alone)"))
struct FloodTests {
    static let p99BoundMs = 50.0
    static let residentBoundMiB = 300.0

    /// Samples the gateway's RSS every 200 ms while `body` runs; the highest seen.
    static func peakResident(of gateway: GatewayProcess, while body: () async throws -> Void) async rethrows -> Double {
        let peak = NIOLockedValueBox(0.0)
        let sampling = Task {
            while !Task.isCancelled {
                let now = gateway.residentMiB
                peak.withLockedValue { $0 = max($0, now) }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        try await body()
        sampling.cancel()
        _ = await sampling.value
        return max(peak.withLockedValue { $0 }, gateway.residentMiB)
    }

    @Test("a terminal writing 9 MB of pipelined frames and never reading: memory bounded, others served")
    func nonReadingClient() async throws {
        let gateway = try GatewayProcess.start("nonreading")
        defer { gateway.remove() }
        let (flooding, measured) = gateway.terminals
        let probe = try await GatewayConnection.connect(gateway.credentials(measured), group: MultiThreadedEventLoopGroup.singleton)
        let before = gateway.residentMiB

        let flood = try await NonReadingClient.connect(gateway.credentials(flooding))
        let chunk = (0..<2_000).flatMap { frame(#"{"type":"echo","id":"f\#($0)"}"#) }   // about 64 KB
        let chunks = 9 * 1_024 * 1_024 / chunk.count
        flood.write(chunk, times: chunks)

        var figures = MeasuredTerminal.Figures()
        let peak = try await Self.peakResident(of: gateway) {
            let stopAt = ContinuousClock.now + .seconds(6)
            figures = await MeasuredTerminal.measure(probe) { ContinuousClock.now >= stopAt }
        }
        let answeredToFlood = gateway.log.components(separatedBy: "terminal=\(flooding) type=echo").count - 1
        await flood.close()
        try? await Task.sleep(for: .seconds(10))
        let after = gateway.residentMiB
        print("non-reading flood: gateway RSS \(Int(before)) MiB before, peak \(Int(peak)) MiB during, \(Int(after)) MiB 10 s after; "
              + "flood wrote \(chunks * chunk.count) bytes, the gateway answered \(answeredToFlood) of its echos; "
              + "measured terminal: \(figures)")
        #expect(answeredToFlood > 0, "the gateway took some of the flood (else the test proves nothing)")

        #expect(figures.busyAnswers == 0 && figures.failures.isEmpty, "\(figures)")
        #expect(figures.p99Ms < Self.p99BoundMs, "\(figures)")
        #expect(peak < Self.residentBoundMiB)
        await probe.close()
        #expect(gateway.stop() == 0)
    }

    @Test("a terminal pipelining 40,000 echos on one connection: every one answered, none 96, others served")
    func pipeliningClient() async throws {
        let gateway = try GatewayProcess.start("pipelining")
        defer { gateway.remove() }
        let (flooding, measured) = gateway.terminals
        let probe = try await GatewayConnection.connect(gateway.credentials(measured), group: MultiThreadedEventLoopGroup.singleton)
        let flood = try await RawTLSClient.connect(gateway.credentials(flooding))
        let count = 40_000
        let bytes = (0..<count).flatMap { frame(#"{"type":"echo","id":"p\#($0)"}"#) }
        var figures = MeasuredTerminal.Figures()
        var answers: [JSONValue] = []
        let started = ContinuousClock.now
        let floodDone = NIOLockedValueBox(false)
        let peak = try await Self.peakResident(of: gateway) {
            try await flood.write(bytes)
            async let measuring = MeasuredTerminal.measure(probe) { floodDone.withLockedValue { $0 } }
            answers = await flood.frames(count, timeout: .seconds(90))
            floodDone.withLockedValue { $0 = true }
            figures = await measuring
        }
        let elapsed = ContinuousClock.now - started
        print("pipelining flood: \(answers.count) answers in \(elapsed), \(answers.filter { $0.code == "96" }.count) of them 96; "
              + "gateway RSS peak \(Int(peak)) MiB; measured terminal: \(figures)")
        #expect(answers.count == count)
        #expect(answers.allSatisfy { $0.code == "00" })
        #expect(figures.busyAnswers == 0 && figures.failures.isEmpty, "\(figures)")
        #expect(figures.p99Ms < Self.p99BoundMs, "\(figures)")
        #expect(peak < Self.residentBoundMiB)
        await flood.close()
        await probe.close()
        #expect(gateway.stop() == 0)
    }

    @Test("4,000 plain TCP connections held open before any TLS: a terminal still connects and is served")
    func preAuthenticationFlood() async throws {
        raiseOpenFileLimit()
        let gateway = try GatewayProcess.start("preauth")
        defer { gateway.remove() }
        let (_, measured) = gateway.terminals
        // The strangers and the measured terminal each have event loops of their own in this process, so that
        // the strangers' connection bursts do not delay the measured terminal's client side.
        let strangersGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let probeGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer {
            strangersGroup.shutdownGracefully { _ in }
            probeGroup.shutdownGracefully { _ in }
        }
        // A real attacker's CPU is not the gateway's: here it shares two cores with it, so its loop runs at a
        // lower priority (nice 10 for that thread), and the gateway's own cost per stranger is what is measured.
        // (`who` 0 is the calling thread: on Linux the nice value is per thread.)
        try await strangersGroup.next().submit { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10) }.get()
        let flood = StrangerFlood(port: gateway.port, connections: 4_000, group: strangersGroup)
        try await flood.open()
        let keeping = Task { await flood.keepOpen() }

        var figures = MeasuredTerminal.Figures()
        var connectMs: [Double] = []
        let peak = try await Self.peakResident(of: gateway) {
            // New connections during the flood, each handshake timed, then echos measured on the last one.
            var probe: GatewayConnection?
            for _ in 0..<5 {
                await probe?.close()
                let started = ContinuousClock.now
                probe = try await GatewayConnection.connect(gateway.credentials(measured), group: probeGroup)
                #expect(try await probe!.send(json(#"{"type":"echo","id":"hello"}"#)).code == "00")
                let elapsed = ContinuousClock.now - started
                connectMs.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
            }
            let stopAt = ContinuousClock.now + .seconds(4)
            figures = await MeasuredTerminal.measure(probe!) { ContinuousClock.now >= stopAt }
            await probe!.close()
        }
        keeping.cancel()
        let opened = await keeping.value
        let log = gateway.log
        print("pre-authentication flood: \(opened) stranger connections opened in all, \(flood.openNow) open at the end; "
              + "measured terminal: new connections \(connectMs.map { Int($0) }) ms, \(figures); gateway RSS peak \(Int(peak)) MiB")
        await flood.close()
        #expect(opened >= 4_000)
        #expect(figures.busyAnswers == 0 && figures.failures.isEmpty, "\(figures)")
        #expect(figures.p99Ms < Self.p99BoundMs, "\(figures)")
        #expect(peak < Self.residentBoundMiB)
        #expect(log.contains("too many connections in their TLS handshake"), "the caps before authentication closed some")
        #expect(gateway.stop() == 0)
    }

    func raiseOpenFileLimit() {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        #expect(limit.rlim_cur >= 8_192, "the test needs 4,000 sockets and the gateway as many")
    }
}

/// A terminal that completes its TLS handshake, then writes and never reads (autoRead off).
final class NonReadingClient: Sendable {
    let channel: Channel

    private init(channel: Channel) { self.channel = channel }

    static func connect(_ credentials: TerminalCredentials) async throws -> NonReadingClient {
        let context = try NIOSSLContext(configuration: credentials.tlsConfiguration())
        let handshake = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Void.self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    try channel.pipeline.syncOperations.addHandler(HandshakeWaiter(promise: handshake))
                }
            }
            .connect(host: credentials.host, port: credentials.port).get()
        try await handshake.futureResult.get()
        try await channel.setOption(ChannelOptions.autoRead, value: false).get()
        return NonReadingClient(channel: channel)
    }

    /// Writes `bytes` `times` times, without waiting.
    func write(_ bytes: [UInt8], times: Int) {
        let channel = self.channel
        channel.eventLoop.execute {
            for _ in 0..<times {
                channel.write(channel.allocator.buffer(bytes: bytes), promise: nil)
            }
            channel.flush()
        }
    }

    func close() async { try? await channel.close() }

    final class HandshakeWaiter: ChannelInboundHandler, Sendable {
        typealias InboundIn = NIOAny
        let promise: EventLoopPromise<Void>
        init(promise: EventLoopPromise<Void>) { self.promise = promise }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case TLSUserEvent.handshakeCompleted = event { promise.succeed() }
            context.fireUserInboundEventTriggered(event)
        }
        func channelInactive(context: ChannelHandlerContext) {
            promise.fail(ChannelError.ioOnClosedChannel)
            context.fireChannelInactive()
        }
        func errorCaught(context: ChannelHandlerContext, error: Error) {
            promise.fail(error)
            context.close(promise: nil)
        }
    }
}

/// Strangers: plain TCP connections that never start TLS, from 100 loopback addresses (127.0.1.1 to
/// 127.0.1.100), reopened every second as the gateway closes them, so that `connections` are held open
/// for as long as it runs.
final class StrangerFlood: Sendable {
    let port: Int
    let connections: Int
    static let sourceAddresses = (1...100).map { "127.0.1.\($0)" }
    private let channels = NIOLockedValueBox<[Channel]>([])
    private let opened = NIOLockedValueBox(0)
    let group: EventLoopGroup

    init(port: Int, connections: Int, group: EventLoopGroup) {
        self.port = port
        self.connections = connections
        self.group = group
    }

    var openNow: Int { channels.withLockedValue { $0.filter(\.isActive).count } }

    /// Opens connections until `connections` are open (in batches of 500).
    func open() async throws {
        var missing = connections - openNow
        var index = opened.withLockedValue { $0 }
        while missing > 0 {
            let batch = min(missing, 500)
            let futures = (0..<batch).map { offset in
                ClientBootstrap(group: group)
                    .bind(to: try! SocketAddress(ipAddress: Self.sourceAddresses[(index + offset) % Self.sourceAddresses.count], port: 0))
                    .connect(host: "127.0.0.1", port: port)
            }
            index += batch
            for future in futures {
                if let channel = try? await future.get() {
                    channels.withLockedValue { $0.append(channel) }
                    opened.withLockedValue { $0 += 1 }
                }
            }
            channels.withLockedValue { $0.removeAll { !$0.isActive } }
            missing -= batch
        }
    }

    /// Reopens closed connections every second until cancelled; returns how many were opened in all.
    func keepOpen() async -> Int {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            try? await open()
        }
        return opened.withLockedValue { $0 }
    }

    func close() async {
        let all = channels.withLockedValue { $0 }
        for channel in all { try? await channel.close() }
    }
}
