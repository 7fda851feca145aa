import Foundation
@testable import GatewayServer
import Ledger
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOTLS
import Provisioning
import Testing
import WireProtocol

/// The connection handlers' limits on an `EmbeddedChannel`, with virtual time (`advanceTime`): the
/// handshake deadline and caps, the frame-completion deadline, the idle time-out, and the in-flight
/// accounting of back-pressure. No sockets, no sleeps.
@Suite("Connection limits (EmbeddedChannel, virtual time)", .serialized)
struct ConnectionHandlerLimitTests {
    static let silent = Logger(label: "handler-tests", factory: { _ in SwiftLogNoOpLogHandler() })
    static let handshakeDone = TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil)

    func connected(_ channel: EmbeddedChannel, from address: String = "192.0.2.10") throws {
        channel.remoteAddress = try SocketAddress(ipAddress: address, port: 40_000)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8583)).wait()
    }

    // MARK: handshake

    @Test("a connection still in its TLS handshake after 3 s is closed; one done in time is not")
    func handshakeDeadline() throws {
        var limits = ServerLimits()
        #expect(limits.handshakeTimeout <= .seconds(3))
        limits.handshakeTimeout = .seconds(3)
        let registry = ConnectionRegistry(limits: limits)

        let slow = EmbeddedChannel()
        try slow.pipeline.syncOperations.addHandler(HandshakeGateHandler(registry: registry, handshakeTimeout: limits.handshakeTimeout,
                                                                        logger: Self.silent))
        try connected(slow)
        #expect(registry.handshakingConnections == 1)
        slow.embeddedEventLoop.advanceTime(by: .milliseconds(2_999))
        #expect(slow.isActive)
        slow.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!slow.isActive, "closed at the deadline")
        #expect(registry.handshakingConnections == 0)

        let quick = EmbeddedChannel()
        try quick.pipeline.syncOperations.addHandler(HandshakeGateHandler(registry: registry, handshakeTimeout: limits.handshakeTimeout,
                                                                         logger: Self.silent))
        try connected(quick)
        quick.embeddedEventLoop.advanceTime(by: .seconds(2))
        quick.pipeline.fireUserInboundEventTriggered(Self.handshakeDone)
        #expect(registry.handshakingConnections == 0, "a finished handshake no longer counts")
        quick.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(quick.isActive)
        _ = try? quick.finish()
    }

    @Test("handshake caps: per source address a new one is refused; in all the oldest handshake makes room")
    func handshakeCaps() throws {
        var limits = ServerLimits()
        limits.maximumHandshakingConnections = 5
        limits.maximumHandshakingConnectionsPerAddress = 3
        let registry = ConnectionRegistry(limits: limits)
        func open(_ address: String) throws -> EmbeddedChannel {
            // EmbeddedChannel's connect sets the remote address to the one connected to: the source address
            // is set after it, and the gate is added to the active channel (it admits in `handlerAdded`).
            let channel = EmbeddedChannel()
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8583)).wait()
            channel.remoteAddress = try SocketAddress(ipAddress: address, port: 40_000)
            try channel.pipeline.syncOperations.addHandler(HandshakeGateHandler(registry: registry, handshakeTimeout: .seconds(3),
                                                                               logger: Self.silent))
            return channel
        }
        let stranger = try (0..<4).map { _ in try open("198.51.100.7") }
        #expect(stranger.map(\.isActive) == [true, true, true, false], "the 4th from one address is closed at once")
        let others = try (0..<3).map { index in try open("203.0.113.\(index + 1)") }
        #expect(others.map(\.isActive) == [true, true, true], "over 5 in all, a newcomer is admitted...")
        #expect(stranger.map(\.isActive) == [false, true, true, false], "...and the oldest handshake is closed")
        #expect(registry.handshakingConnections == 5)
        // The handshakes time out: room again, and nothing counted twice (the evicted one included).
        for channel in stranger + others { channel.embeddedEventLoop.advanceTime(by: .seconds(3)) }
        #expect(registry.handshakingConnections == 0)
        #expect(try open("198.51.100.7").isActive)
    }

    @Test("authenticated connections count against the main cap, connections in their handshake do not")
    func mainCapCountsOnlyAuthenticated() throws {
        var limits = ServerLimits()
        limits.maximumConnections = 2
        let registry = ConnectionRegistry(limits: limits)
        let strangers = (0..<10).map { _ in EmbeddedChannel() }
        for channel in strangers {
            guard case .admitted(_, nil) = registry.beginHandshake(of: channel, from: "198.51.100.9") else {
                Issue.record("a stranger's connection was not admitted to its handshake")
                continue
            }
        }
        #expect(registry.handshakingConnections == 10, "ten strangers in their handshake, over the main cap of 2")
        #expect(registry.attach(terminal: "T001") == nil)
        #expect(registry.attach(terminal: "T002") == nil)
        #expect(registry.attach(terminal: "T003") == .tooManyConnections)
        registry.detach(terminal: "T001")
        #expect(registry.attach(terminal: "T003") == nil)
    }

    // MARK: frame completion and idleness

    func frameDeadlineChannel(timeout: Duration = .seconds(10)) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(FrameDeadlineHandler(frameCompletionTimeout: timeout, logger: Self.silent))
        try connected(channel)
        return channel
    }

    /// What the socket does with autoRead: a read, then the next `read()` once the pipeline is done.
    func receive(_ channel: EmbeddedChannel, _ bytes: [UInt8]) throws {
        try channel.writeInbound(ByteBuffer(bytes: bytes))
        channel.read()
    }

    @Test("a frame begun must be complete within the deadline: one byte every 100 s is closed")
    func slowLoris() throws {
        let channel = try frameDeadlineChannel()
        let bytes = frame(#"{"type":"echo","id":"slow"}"#)
        try receive(channel, [bytes[0]])
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        try receive(channel, [bytes[1]])
        #expect(channel.isActive, "each byte does not restart the clock")
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive, "closed 10 s after the frame's first byte")
    }

    @Test("whole frames, however spaced, and a frame completed in time keep the connection")
    func framesInTime() throws {
        let channel = try frameDeadlineChannel()
        let bytes = frame(#"{"type":"echo","id":"a"}"#)
        try receive(channel, bytes)
        channel.embeddedEventLoop.advanceTime(by: .seconds(100))
        #expect(channel.isActive, "between frames, only the idle time-out applies")
        try receive(channel, Array(bytes[0..<3]))
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        try receive(channel, Array(bytes[3...]) + Array(bytes[0..<2]))
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive, "a new frame's clock starts at its own first byte")
        try receive(channel, Array(bytes[2...]))
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
        var decoded: [ByteBuffer] = []
        while let buffer = try channel.readInbound(as: ByteBuffer.self) { decoded.append(buffer) }
        #expect(decoded.reduce(0) { $0 + $1.readableBytes } == 3 * bytes.count, "every byte passed through")
        _ = try? channel.finish()
    }

    @Test("while the server holds its reads (back-pressure), a half-received frame's clock is stopped")
    func clockStoppedWhileServerNotReading() throws {
        let channel = try frameDeadlineChannel()
        let bytes = frame(#"{"type":"echo","id":"a"}"#)
        try channel.writeInbound(ByteBuffer(bytes: Array(bytes[0..<5])))   // no read() follows: the server holds
        channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        #expect(channel.isActive)
        channel.read()                                                     // the server reads again
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(!channel.isActive, "the peer then has the full deadline, no more")
    }

    @Test("the idle time-out closes a connection with nothing read or written")
    func idle() throws {
        let setup = try RequestHandlerSetup(limits: ServerLimits())
        defer { setup.remove() }
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(IdleTimeoutHandler(timeout: .seconds(120)))
        try channel.pipeline.syncOperations.addHandler(setup.handler())
        try connected(channel)
        channel.pipeline.fireUserInboundEventTriggered(Self.handshakeDone)
        channel.embeddedEventLoop.advanceTime(by: .seconds(100))
        try channel.writeInbound(ByteBuffer(bytes: [0x00]))          // a byte read: the clock starts again
        channel.embeddedEventLoop.advanceTime(by: .seconds(119))
        #expect(channel.isActive, "activity 119 s ago: still open")
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive, "120 s with nothing read or written: closed")
    }

    // MARK: back-pressure

    @Test("a request counts until its answer is written, not queued; reads stop at the limit and resume after")
    func inFlightUntilWritten() throws {
        var limits = ServerLimits()
        limits.maximumRequestsInFlightPerConnection = 4
        let setup = try RequestHandlerSetup(limits: limits)
        defer { setup.remove() }
        let (channel, socket, handler) = try setup.channel()

        // Six malformed frames in one read: each is answered at once, but the socket takes nothing.
        try channel.writeInbound(ByteBuffer(bytes: (1...6).flatMap { frame("{bad \($0)") }))
        #expect(socket.writes.count == 4, "four answers handed to the socket")
        #expect(handler.inFlight == 4, "and still in flight: none written yet")
        #expect(handler.waitingFrameCount == 2, "two frames wait, unparsed")
        let reads = socket.reads
        channel.read()
        #expect(socket.reads == reads, "at the limit, the connection is not read")

        socket.release(1)
        #expect(handler.inFlight == 4 && handler.waitingFrameCount == 1 && socket.writes.count == 5)
        #expect(socket.reads == reads, "a frame still waits: no read")
        socket.release(2)
        #expect(handler.inFlight == 3 && handler.waitingFrameCount == 0 && socket.writes.count == 6)
        #expect(socket.reads == reads + 1, "the held read goes out once under the limit with nothing waiting")
        socket.release(3)
        #expect(handler.inFlight == 0)
        #expect(socket.answers.map { $0.code ?? "?" } == Array(repeating: "30", count: 6))
    }

    @Test("a connection that is not writable is not read until it is writable again")
    func writability() throws {
        let setup = try RequestHandlerSetup(limits: ServerLimits())
        defer { setup.remove() }
        let (channel, socket, _) = try setup.channel()
        let reads = socket.reads
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        channel.read()
        #expect(socket.reads == reads)
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(socket.reads == reads + 1)
    }

    @Test("a revoked terminal's malformed frame gets 58, then the connection closes")
    func revokedBeforeAnyAnswer() throws {
        let setup = try RequestHandlerSetup(limits: ServerLimits(), standing: .revoked)
        defer { setup.remove() }
        let (channel, socket, _) = try setup.channel()
        try channel.writeInbound(ByteBuffer(bytes: frame("{bad") + frame(#"{"type":"echo","id":"x"}"#)))
        socket.release(1)
        #expect(socket.answers.map { $0.code ?? "?" } == ["58"])
        #expect(!channel.isActive)
    }

    @Test("a type holding a newline, CR or NUL is logged escaped: no forged line")
    func logInjection() throws {
        let capture = CapturingLogHandler.Store()
        let logger = Logger(label: "capture", factory: { _ in CapturingLogHandler(store: capture) })
        let setup = try RequestHandlerSetup(limits: ServerLimits(), logger: logger)
        defer { setup.remove() }
        let (channel, socket, _) = try setup.channel()
        let forged = #"{"type":"x\nFAKE LOG LINE terminal=T999 code=00\r\u0000\u001b[2J\\","id":"i"}"#
        try channel.writeInbound(ByteBuffer(bytes: frame(forged)))
        socket.release(1)
        let types = capture.lines.compactMap { $0.metadata["type"] }
        #expect(types == [#"x\nFAKE LOG LINE terminal=T999 code=00\r\0\u{1B}[2J\\"#])
        for line in capture.lines {
            for value in line.metadata.values { #expect(!value.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }) }
        }
        #expect(LogText.escaped("plain T001 00") == "plain T001 00")
        #expect(LogText.escaped("a\u{7F}b\u{85}c\u{2028}") == #"a\u{7F}b\u{85}c\u{2028}"#)
    }
}

/// The authorisation queue's admission and fairness, on a queue that is never started: the batches it
/// would hand to the writer are taken by the test.
@Suite("Authorisation queue fairness")
struct AuthorizationQueueFairnessTests {
    @Test("each terminal has its own quota, and batches are filled round-robin over terminals")
    func fairShare() throws {
        var limits = ServerLimits()
        limits.maximumQueuedRequestsPerTerminal = 100
        limits.maximumBatchSize = 10
        let setup = try RequestHandlerSetup(limits: limits)
        defer { setup.remove() }
        let loop = EmbeddedEventLoop()
        var promises: [EventLoopPromise<Decision>] = []
        func submit(_ terminal: String, _ index: Int) -> AuthorizationQueue.SubmitResult {
            guard case .request(let request) = RequestParser.parse(Array(#"{"type":"echo","id":"\#(terminal)-\#(index)"}"#.utf8)) else {
                fatalError("the echo does not parse")
            }
            let promise = loop.makePromise(of: Decision.self)
            promises.append(promise)
            return setup.queue.submit(.init(prepared: setup.queue.prepare(request), terminal: TerminalContext(terminalID: terminal, partnerID: "P"), promise: promise))
        }
        for index in 0..<100 {
            guard case .queued = submit("T001", index) else { Issue.record("T001's request \(index) was refused"); break }
        }
        guard case .refused(.terminalQueueFull) = submit("T001", 100) else {
            Issue.record("the 101st request of one terminal was queued")
            return
        }
        guard case .queued = submit("T002", 0), case .queued = submit("T003", 0) else {
            Issue.record("another terminal was refused because T001 filled its share")
            return
        }
        var batch: [AuthorizationQueue.Item] = []
        setup.queue.takeBatch(into: &batch)
        let ids = batch.map { $0.request.id }
        #expect(batch.count == 10)
        #expect(ids.contains("T002-0") && ids.contains("T003-0"), "the next batch serves every terminal waiting: \(ids)")
        #expect(ids.prefix(3).sorted() == ["T001-0", "T002-0", "T003-0"], "one from each in turn: \(ids)")
        #expect(ids.filter { $0.hasPrefix("T001") } == (0..<8).map { "T001-\($0)" }, "a terminal's own order is kept")
        var taken = batch.count
        repeat {
            batch.removeAll()
            setup.queue.takeBatch(into: &batch)
            taken += batch.count
        } while !batch.isEmpty
        #expect(taken == 102)
        let decision = Decision(answer: Answer(type: "echo", id: "x", code: .approved))
        promises.forEach { $0.succeed(decision) }
    }
}

/// A real (unstarted) authorisation queue over a demo ledger, and the request handler built as the server
/// builds it. Malformed frames are answered without the queue, so the tests stay on the event loop.
final class RequestHandlerSetup {
    let directory: String
    let queue: AuthorizationQueue
    let limits: ServerLimits
    let registry: ConnectionRegistry
    let logger: Logger
    let standing: TerminalStanding

    init(limits: ServerLimits, standing: TerminalStanding = .active, logger: Logger = ConnectionHandlerLimitTests.silent) throws {
        let (directory, _) = try makeDemoDirectory("handlers")
        self.directory = directory
        let layout = EnvironmentLayout(directory: directory)
        queue = AuthorizationQueue(ledger: try Ledger(path: layout.ledgerPath, actor: "gateway"),
                                   authorizer: Authorizer(cardKeys: try IssuerMasterKey.load(layout: layout)), limits: limits,
                                   logger: logger)
        self.limits = limits
        self.registry = ConnectionRegistry(limits: limits)
        self.logger = logger
        self.standing = standing
    }

    func handler() -> RequestHandler {
        let verified = VerifiedTerminal()
        verified.set(TerminalContext(terminalID: "T001", partnerID: "P001"))
        let standing = self.standing
        return RequestHandler(queue: queue, verified: verified, registry: registry, limits: limits, logger: logger,
                              standing: { _ in standing },
                              authenticate: { _ in .failure(.unknownTerminal("?")) })
    }

    /// socket stand-in → frame decoder → frame encoder → request handler, connected and past its handshake.
    func channel() throws -> (EmbeddedChannel, SocketStandIn, RequestHandler) {
        let channel = EmbeddedChannel()
        let socket = SocketStandIn()
        let handler = handler()
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(socket)
        try sync.addHandler(FrameDecoder.handler())
        try sync.addHandler(MessageToByteHandler(FrameEncoder()))
        try sync.addHandler(handler)
        channel.remoteAddress = try SocketAddress(ipAddress: "192.0.2.1", port: 40_000)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8583)).wait()
        channel.pipeline.fireUserInboundEventTriggered(ConnectionHandlerLimitTests.handshakeDone)
        return (channel, socket, handler)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

/// Stands in for a socket whose peer reads only when the test says: it keeps every write with its promise
/// and completes the promises when released, and counts the reads that reach it.
final class SocketStandIn: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    private(set) var writes: [ByteBuffer] = []
    private var unwritten: [EventLoopPromise<Void>?] = []
    private(set) var reads = 0

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        writes.append(unwrapOutboundIn(data))
        unwritten.append(promise)
    }

    func flush(context: ChannelHandlerContext) {}

    func read(context: ChannelHandlerContext) {
        reads += 1
    }

    /// The peer takes the next `count` answers off the socket.
    func release(_ count: Int) {
        let taken = unwritten.prefix(count)
        unwritten.removeFirst(taken.count)
        for promise in taken { promise?.succeed() }
    }

    /// The answers written so far, parsed (each write is one frame).
    var answers: [JSONValue] {
        writes.map { buffer in (try? JSONValue.parse(Array(buffer.readableBytesView.dropFirst(4)))) ?? .null }
    }
}

/// Keeps every log record with its metadata rendered as text, as a stream handler would print it.
struct CapturingLogHandler: LogHandler {
    struct Line: Sendable {
        let message: String
        let metadata: [String: String]
    }
    final class Store: Sendable {
        private let box = NIOLockedValueBox<[Line]>([])
        func append(_ line: Line) { box.withLockedValue { $0.append(line) } }
        var lines: [Line] { box.withLockedValue { $0 } }
    }
    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String, file: String,
             function: String, line: UInt) {
        let merged = metadata.merging(explicit ?? [:]) { $1 }
        store.append(Line(message: message.description, metadata: merged.mapValues { "\($0)" }))
    }
}
