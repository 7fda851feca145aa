import Dispatch
import HDFDomain
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import NIOTLS
import WireProtocol

/// Right after the TLS handler (it must see the handshake's completion, which the TLS handler fires
/// towards the tail): admits a new connection against the handshake caps (per source address, and in all,
/// where the oldest handshake makes room) and closes it if its handshake has not completed within
/// `handshakeTimeout`. Once the handshake is done the connection no longer counts here; `RequestHandler`
/// then counts it against the main cap.
final class HandshakeGateHandler: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    private enum State {
        case new
        case handshaking(ticket: Int, deadline: Scheduled<Void>)
        case finished
    }

    private let registry: ConnectionRegistry
    private let handshakeTimeout: TimeAmount
    private let logger: Logger
    private var state = State.new

    init(registry: ConnectionRegistry, handshakeTimeout: Duration, logger: Logger) {
        self.registry = registry
        self.handshakeTimeout = .nanoseconds(handshakeTimeout.nanoseconds)
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        admit(context)
        if case .handshaking = state { context.fireChannelActive() }
    }

    private func admit(_ context: ChannelHandlerContext) {
        guard case .new = state else { return }
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        switch registry.beginHandshake(of: context.channel, from: address) {
        case .refused(let refusal):
            state = .finished
            logger.warning("connection refused before its handshake", metadata: [
                "address": "\(address)", "reason": "\(refusal.rawValue)"])
            context.close(promise: nil)
        case .admitted(let ticket, let evicted):
            if let evicted {
                logger.warning("too many connections in their TLS handshake: the oldest closed", metadata: [
                    "address": "\(evicted.remoteAddress?.ipAddress ?? "unknown")"])
                evicted.close(promise: nil)
            }
            let loopBoundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
            let deadline = context.eventLoop.scheduleTask(in: handshakeTimeout) {
                loopBoundContext.value.close(promise: nil)
            }
            state = .handshaking(ticket: ticket, deadline: deadline)
        }
    }

    private func finishHandshake() {
        if case .handshaking(let ticket, let deadline) = state {
            deadline.cancel()
            registry.endHandshake(ticket: ticket)
        }
        state = .finished
    }

    func channelInactive(context: ChannelHandlerContext) {
        finishHandshake()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            finishHandshake()
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finishHandshake()
    }
}

/// Just before the frame decoder: once the first byte of a frame has arrived, the whole frame must be in
/// within `frameCompletionTimeout`, else the connection is closed (a slow-loris trickling one byte at a
/// time resets the idle timer but not this one). It follows frame boundaries from the 4-byte headers
/// only. While the server itself is not reading (back-pressure), the clock is stopped: the time counts
/// against the peer only when the server wants its bytes.
final class FrameDeadlineHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = NIOAny

    private let timeout: TimeAmount
    private let logger: Logger
    /// Header bytes seen of the current frame (0 to 4) and its length once they are all in.
    private var headerBytesSeen = 0
    private var announcedLength: UInt32 = 0
    private var payloadBytesLeft = 0
    private var deadline: Scheduled<Void>?
    private var serverReading = true

    init(frameCompletionTimeout: Duration, logger: Logger) {
        self.timeout = .nanoseconds(frameCompletionTimeout.nanoseconds)
        self.logger = logger
    }

    /// True between a frame's first byte and its last.
    private var insideFrame: Bool { headerBytesSeen > 0 || payloadBytesLeft > 0 }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let completedAFrame = follow(buffer.readableBytesView)
        // A frame that ended in this read takes its clock with it; one begun in the same read starts its own.
        if completedAFrame || !insideFrame { disarm() }
        if insideFrame { arm(context) }
        context.fireChannelRead(data)
    }

    /// Follows the frame boundaries through `bytes`; true when at least one frame ended in them.
    private func follow(_ bytes: ByteBufferView) -> Bool {
        var completedAFrame = false
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if payloadBytesLeft > 0 {
                let take = min(payloadBytesLeft, bytes.endIndex - index)
                payloadBytesLeft -= take
                index += take
                if payloadBytesLeft == 0 { completedAFrame = true }
                continue
            }
            announcedLength = announcedLength << 8 | UInt32(bytes[index])
            headerBytesSeen += 1
            index += 1
            if headerBytesSeen == FrameLimits.headerBytes {
                // A length out of bounds is the decoder's to refuse (it closes the connection).
                payloadBytesLeft = Int(min(announcedLength, UInt32(FrameLimits.maximumFrameBytes)))
                if payloadBytesLeft == 0 { completedAFrame = true }
                headerBytesSeen = 0
                announcedLength = 0
            }
        }
        return completedAFrame
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // If the next `read()` does not come through here, someone behind holds it (back-pressure).
        serverReading = false
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        serverReading = true
        if insideFrame { arm(context) }
        context.read()
    }

    private func arm(_ context: ChannelHandlerContext) {
        guard deadline == nil else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = loopBound.value
            handler.deadline = nil
            // Not the peer's fault while the server is not reading: `read()` arms it again.
            guard handler.serverReading, handler.insideFrame else { return }
            handler.logger.info("frame not completed in time, connection closed", metadata: [
                "timeout_ms": "\(handler.timeout.nanoseconds / 1_000_000)"])
            context.close(promise: nil)
        }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }
}

/// Where a connection's verified terminal identity is put by the TLS verification callback.
final class VerifiedTerminal: Sendable {
    private let box = NIOLockedValueBox<TerminalContext?>(nil)
    func set(_ terminal: TerminalContext) { box.withLockedValue { $0 = terminal } }
    var value: TerminalContext? { box.withLockedValue { $0 } }
}

/// What the ledger says of a terminal right now, for answers decided without the authorisation thread.
enum TerminalStanding: Sendable {
    case active
    case revoked
    case unknownBecauseStorageFailed
}

/// One request's place in a connection's answers: responses go out in request order.
private struct Slot {
    var response: ByteBuffer?
    var closeAfter = false
}

/// Turns frames into requests and decisions into frames, for one connection of one terminal:
/// parse (format errors answered at once, after a revocation check), queue for the authorisation thread,
/// answer in request order, log one line per request, close on idleness, on a bad frame header, or after
/// answering a revoked terminal.
///
/// Back-pressure: a request counts against `maximumRequestsInFlightPerConnection` from the moment it is
/// taken up until its answer has been written to the socket (the write's promise), not merely queued.
/// Frames decoded beyond that wait here, unparsed, and the connection is not read again while any wait,
/// while it is at its limit, or while its channel is not writable (write-buffer water marks).
final class RequestHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    /// Checks a resumed TLS session's certificate as the handshake callback would have.
    typealias Authenticate = @Sendable ([UInt8]) async -> Result<TerminalContext, TerminalRefusal>

    private let queue: AuthorizationQueue
    private let verified: VerifiedTerminal
    private let registry: ConnectionRegistry
    private let maximumInFlight: Int
    private let logger: Logger
    private let latency: Metrics.Timer?
    private let openGauge: Gauge?
    private let standing: @Sendable (TerminalContext) -> TerminalStanding
    private let authenticate: Authenticate

    private var terminal: TerminalContext?
    private var attached = false
    /// Frames received and not yet taken up, with when they arrived (uptime, ns).
    private var waitingFrames = CircularBuffer<(frame: ByteBuffer, receivedAt: UInt64)>()
    private var slots: [Int: Slot] = [:]
    private var nextSequence = 0
    private var nextToWrite = 0
    /// Requests taken up whose answers are not yet written to the socket.
    private(set) var inFlight = 0
    private var readHeld = false
    private var closing = false
    private var drainedPromises: [EventLoopPromise<Void>] = []

    init(queue: AuthorizationQueue, verified: VerifiedTerminal, registry: ConnectionRegistry, limits: ServerLimits,
         logger: Logger, latency: Metrics.Timer? = nil, openGauge: Gauge? = nil,
         standing: @escaping @Sendable (TerminalContext) -> TerminalStanding, authenticate: @escaping Authenticate) {
        self.queue = queue
        self.verified = verified
        self.registry = registry
        self.maximumInFlight = limits.maximumRequestsInFlightPerConnection
        self.logger = logger
        self.latency = latency
        self.openGauge = openGauge
        self.standing = standing
        self.authenticate = authenticate
    }

    /// Frames received but not yet taken up (for tests and the shutdown).
    var waitingFrameCount: Int { waitingFrames.count }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case TLSUserEvent.handshakeCompleted:
            if let identity = verified.value {
                admit(context: context, identity: identity)
            } else {
                authenticateResumedSession(context: context)
            }
        case let idle as IdleStateHandler.IdleStateEvent where idle == .all:
            logger.info("idle connection closed", metadata: ["terminal": "\(terminal?.terminalID ?? "?")"])
            context.close(promise: nil)
            return
        default:
            break
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// A resumed TLS session skips the certificate callback: the certificate kept in the session is
    /// checked here the same way (chain and ledger: enrolled, active, same partner, same certificate).
    private func authenticateResumedSession(context: ChannelHandlerContext) {
        guard let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
              let certificate = tls.peerCertificate, let der = try? certificate.toDERBytes() else {
            logger.warning("connection refused after handshake", metadata: ["reason": "no client certificate in the session"])
            context.close(promise: nil)
            return
        }
        let authenticate = self.authenticate
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        Task {
            let result = await authenticate(der)
            eventLoop.execute {
                let (handler, context) = loopBound.value
                switch result {
                case .success(let identity):
                    handler.admit(context: context, identity: identity)
                case .failure(let refusal):
                    handler.logger.warning("resumed session refused", metadata: ["reason": "\(LogText.escaped(refusal.description))"])
                    context.close(promise: nil)
                }
            }
        }
    }

    private func admit(context: ChannelHandlerContext, identity: TerminalContext) {
        guard context.channel.isActive else { return }
        if let refusal = registry.attach(terminal: identity.terminalID) {
            logger.warning("connection refused after handshake", metadata: [
                "terminal": "\(identity.terminalID)", "reason": "\(refusal.rawValue)"])
            context.close(promise: nil)
            return
        }
        attached = true
        terminal = identity
        openGauge?.record(registry.openConnections)
        takeUpWaitingFrames(context: context)
        resumeReadingIfAllowed(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if attached, let terminal {
            registry.detach(terminal: terminal.terminalID)
            openGauge?.record(registry.openConnections)
        }
        attached = false
        waitingFrames.removeAll()
        let drained = drainedPromises
        drainedPromises = []
        drained.forEach { $0.succeed() }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        waitingFrames.append((unwrapInboundIn(data), DispatchTime.now().uptimeNanoseconds))
        takeUpWaitingFrames(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumeReadingIfAllowed(context: context)
        context.fireChannelWritabilityChanged()
    }

    /// Reads flow during the handshake (the TLS handler needs them); after it, frames received before the
    /// terminal is known (a resumed session being checked) wait, and so do reads.
    private var mayRead: Bool {
        !closing && waitingFrames.isEmpty && inFlight < maximumInFlight
    }

    func read(context: ChannelHandlerContext) {
        guard mayRead && context.channel.isWritable else {
            readHeld = true
            return
        }
        context.read()
    }

    private func resumeReadingIfAllowed(context: ChannelHandlerContext) {
        guard readHeld, mayRead, context.channel.isWritable else { return }
        readHeld = false
        context.read()
    }

    /// Takes up waiting frames while the connection is under its in-flight limit.
    private func takeUpWaitingFrames(context: ChannelHandlerContext) {
        while let terminal, !closing, inFlight < maximumInFlight, let next = waitingFrames.popFirst() {
            takeUp(context: context, terminal: terminal, frame: next.frame, receivedAt: next.receivedAt)
        }
    }

    private func takeUp(context: ChannelHandlerContext, terminal: TerminalContext, frame: ByteBuffer, receivedAt: UInt64) {
        let sequence = nextSequence
        nextSequence += 1
        inFlight += 1
        slots[sequence] = Slot()

        switch RequestParser.parse(frame: frame) {
        case .reject(let type, let id, let code):
            // Revocation comes before any answer: a revoked terminal's malformed frame gets 58, then close.
            let response: Response
            let closeAfter: Bool
            switch standing(terminal) {
            case .active:
                response = .rejection(type: type, id: id, code: code)
                closeAfter = false
            case .revoked:
                response = Response(type: type ?? "error", id: id, code: .notPermittedToTerminal, message: "Terminal révoqué")
                closeAfter = true
            case .unknownBecauseStorageFailed:
                response = Response(type: type ?? "error", id: id, code: .systemError, message: "Serveur indisponible")
                closeAfter = false
            }
            log(terminal: terminal, type: type ?? "error", stan: nil, maskedPAN: nil, code: response.code, since: receivedAt)
            complete(context: context, sequence: sequence, bytes: response.encode(), closeAfter: closeAfter)
        case .request(let request):
            let promise = context.eventLoop.makePromise(of: Decision.self)
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            promise.futureResult.whenComplete { result in
                let (handler, context) = loopBound.value
                let decision: Decision
                switch result {
                case .success(let decided): decision = decided
                case .failure:
                    decision = Decision(answer: Answer(to: request, code: .systemError))
                }
                handler.log(terminal: terminal, type: request.type.rawValue, stan: request.stan, maskedPAN: decision.maskedPAN,
                            code: decision.code, since: receivedAt)
                // Encoded here, on the connection's event loop: the writer thread only decided (issue 11).
                handler.complete(context: context, sequence: sequence, bytes: decision.answer.encode(), closeAfter: decision.closeConnection)
            }
            switch queue.submit(.init(prepared: queue.prepare(request), terminal: terminal, promise: promise)) {
            case .queued: break
            case .refused(let why):
                promise.succeed(Decision(answer: Answer(to: request, code: .systemError, message: why.frenchMessage)))
            }
        }
    }

    private func complete(context: ChannelHandlerContext, sequence: Int, bytes: [UInt8], closeAfter: Bool) {
        guard slots[sequence] != nil else { return } // the connection has gone meanwhile
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        slots[sequence] = Slot(response: buffer, closeAfter: closeAfter)
        var wrote = false
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        while let slot = slots[nextToWrite], let response = slot.response {
            slots[nextToWrite] = nil
            nextToWrite += 1
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenComplete { _ in
                let (handler, context) = loopBound.value
                handler.answerWritten(context: context)
            }
            if slot.closeAfter {
                // The last answer (a revoked terminal's 58) goes out, then the connection closes.
                closing = true
                waitingFrames.removeAll()
                context.writeAndFlush(wrapOutboundOut(response), promise: written)
                written.futureResult.whenComplete { _ in loopBound.value.1.close(promise: nil) }
                return
            }
            context.write(wrapOutboundOut(response), promise: written)
            wrote = true
        }
        if wrote { context.flush() }
    }

    /// An answer has reached the socket (or the connection failed): one request fewer in flight.
    private func answerWritten(context: ChannelHandlerContext) {
        inFlight -= 1
        assert(inFlight >= 0)
        takeUpWaitingFrames(context: context)
        resumeReadingIfAllowed(context: context)
        if inFlight == 0 && waitingFrames.isEmpty {
            let drained = drainedPromises
            drainedPromises = []
            drained.forEach { $0.succeed() }
        }
    }

    /// Completes once every request taken up on this connection has its answer written (for a graceful
    /// shutdown). Frames not yet taken up are not waited for.
    func answersWritten(eventLoop: EventLoop) -> EventLoopFuture<Void> {
        if inFlight == 0 { return eventLoop.makeSucceededVoidFuture() }
        let promise = eventLoop.makePromise(of: Void.self)
        drainedPromises.append(promise)
        return promise.futureResult
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let frameError = error as? FrameError {
            logger.warning("bad frame header, connection closed", metadata: [
                "terminal": "\(terminal?.terminalID ?? "?")", "error": "\(frameError)"])
        } else {
            logger.debug("connection error", metadata: [
                "terminal": "\(terminal?.terminalID ?? "?")", "error": "\(LogText.escaped(String(describing: error)))"])
        }
        context.close(promise: nil)
    }

    private func log(terminal: TerminalContext, type: String, stan: String?, maskedPAN: String?, code: ResponseCode, since: UInt64) {
        let elapsed = DispatchTime.now().uptimeNanoseconds - since
        latency?.recordNanoseconds(Int64(elapsed))
        // `type` and `stan` come from the peer as it sent them: escaped, so that they cannot forge a line.
        logger.info("request", metadata: [
            "terminal": "\(terminal.terminalID)", "type": "\(LogText.escaped(type))", "stan": "\(stan.map(LogText.escaped) ?? "-")",
            "pan": "\(maskedPAN ?? "-")", "code": "\(code.rawValue)",
            "latency_ms": "\(Double(elapsed / 1000) / 1000)",
        ])
    }
}

/// Text that came from a peer, made safe for a log line.
enum LogText {
    /// Control characters (C0, DEL, C1, and the Unicode line and paragraph separators) become visible
    /// escapes (`\n`, `\r`, `\t`, `\0`, `\u{7F}`), and a backslash becomes `\\`, so that a value can never
    /// end a log line or pass for an escape: one log line per event, whatever a peer sends.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\0": result += "\\0"
            case _ where needsEscape(scalar): result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\\" || scalar.value == 0x2028 || scalar.value == 0x2029
    }
}
