import Dispatch
import HDFDomain
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import NIOTLS
import WireProtocol

/// First in every connection's pipeline: refuses connections over `maximumConnections`.
final class ConnectionGateHandler: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    private let registry: ConnectionRegistry
    private let openGauge: Gauge
    private var counted = false

    init(registry: ConnectionRegistry, openGauge: Gauge) {
        self.registry = registry
        self.openGauge = openGauge
    }

    func channelActive(context: ChannelHandlerContext) {
        guard registry.openConnection() else {
            context.close(promise: nil)
            return
        }
        counted = true
        openGauge.record(registry.openConnections)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if counted {
            counted = false
            registry.closeConnection()
            openGauge.record(registry.openConnections)
        }
        context.fireChannelInactive()
    }
}

/// Right after the TLS handler (it must see the handshake's completion, which the TLS handler fires
/// towards the tail): closes a connection whose handshake has not completed within `handshakeTimeout`.
final class HandshakeDeadlineHandler: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    private let handshakeTimeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(handshakeTimeout: Duration) {
        self.handshakeTimeout = .nanoseconds(handshakeTimeout.nanoseconds)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    private func arm(_ context: ChannelHandlerContext) {
        guard deadline == nil else { return }
        let loopBoundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: handshakeTimeout) {
            loopBoundContext.value.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
        if case TLSUserEvent.handshakeCompleted = event {
            deadline?.cancel()
            deadline = nil
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }
}

/// Where a connection's verified terminal identity is put by the TLS verification callback.
final class VerifiedTerminal: Sendable {
    private let box = NIOLockedValueBox<TerminalContext?>(nil)
    func set(_ terminal: TerminalContext) { box.withLockedValue { $0 = terminal } }
    var value: TerminalContext? { box.withLockedValue { $0 } }
}

/// One request's place in a connection's answers: responses go out in request order.
private struct Slot {
    var response: ByteBuffer?
    var closeAfter = false
}

/// Turns frames into requests and decisions into frames, for one connection of one terminal:
/// parse (format errors answered at once), queue for the authorisation thread, answer in request order,
/// bound the requests in flight (back-pressure by not reading), log one line per request, close on
/// idleness, on a bad frame header, or after answering a revoked terminal.
final class RequestHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let queue: AuthorizationQueue
    private let verified: VerifiedTerminal
    private let registry: ConnectionRegistry
    private let maximumInFlight: Int
    private let logger: Logger
    private let latency: Metrics.Timer

    private var terminal: TerminalContext?
    private var slots: [Int: Slot] = [:]
    private var nextSequence = 0
    private var nextToWrite = 0
    private var readHeld = false
    private var closing = false

    init(queue: AuthorizationQueue, verified: VerifiedTerminal, registry: ConnectionRegistry, limits: ServerLimits,
         logger: Logger, latency: Metrics.Timer) {
        self.queue = queue
        self.verified = verified
        self.registry = registry
        self.maximumInFlight = limits.maximumRequestsInFlightPerConnection
        self.logger = logger
        self.latency = latency
    }

    private var inFlight: Int { nextSequence - nextToWrite }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case TLSUserEvent.handshakeCompleted:
            guard let identity = verified.value, registry.attach(terminal: identity.terminalID) else {
                logger.warning("connection refused after handshake", metadata: [
                    "terminal": "\(verified.value?.terminalID ?? "?")", "reason": "too many connections or no identity"])
                context.close(promise: nil)
                return
            }
            terminal = identity
        case let idle as IdleStateHandler.IdleStateEvent where idle == .all:
            logger.info("idle connection closed", metadata: ["terminal": "\(terminal?.terminalID ?? "?")"])
            context.close(promise: nil)
            return
        default:
            break
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let terminal { registry.detach(terminal: terminal.terminalID) }
        terminal = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let frame = unwrapInboundIn(data)
        let receivedAt = DispatchTime.now().uptimeNanoseconds
        let sequence = nextSequence
        nextSequence += 1
        slots[sequence] = Slot()

        guard let terminal else {
            // Unreachable with the TLS handler in front (no frame before the handshake), kept as a guard.
            context.close(promise: nil)
            return
        }
        switch RequestParser.parse(frame: frame) {
        case .reject(let type, let id, let code):
            let response = Response.rejection(type: type, id: id, code: code)
            log(terminal: terminal, type: type ?? "error", stan: nil, maskedPAN: nil, code: code, since: receivedAt)
            complete(context: context, sequence: sequence, bytes: response.encode(), closeAfter: false)
        case .request(let request):
            let promise = context.eventLoop.makePromise(of: Decision.self)
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            promise.futureResult.whenComplete { result in
                let (handler, context) = loopBound.value
                let decision: Decision
                switch result {
                case .success(let decided): decision = decided
                case .failure:
                    decision = Decision(response: Response(to: request, code: .systemError).encode(), code: .systemError,
                                        closeConnection: false, maskedPAN: nil)
                }
                handler.log(terminal: terminal, type: request.type.rawValue, stan: request.stan, maskedPAN: decision.maskedPAN,
                            code: decision.code, since: receivedAt)
                handler.complete(context: context, sequence: sequence, bytes: decision.response, closeAfter: decision.closeConnection)
            }
            if !queue.submit(.init(request: request, terminal: terminal, promise: promise)) {
                promise.succeed(Decision(response: Response(to: request, code: .systemError, message: "Serveur occupé").encode(),
                                         code: .systemError, closeConnection: false, maskedPAN: nil))
            }
        }
    }

    private func complete(context: ChannelHandlerContext, sequence: Int, bytes: [UInt8], closeAfter: Bool) {
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        slots[sequence] = Slot(response: buffer, closeAfter: closeAfter)
        var wrote = false
        while let slot = slots[nextToWrite], let response = slot.response {
            slots[nextToWrite] = nil
            nextToWrite += 1
            if slot.closeAfter {
                // The last answer (a revoked terminal's 58) goes out, then the connection closes.
                closing = true
                let written = context.eventLoop.makePromise(of: Void.self)
                context.writeAndFlush(wrapOutboundOut(response), promise: written)
                let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
                written.futureResult.whenComplete { _ in loopBound.value.close(promise: nil) }
                return
            }
            context.write(wrapOutboundOut(response), promise: nil)
            wrote = true
        }
        if wrote { context.flush() }
        if readHeld && inFlight < maximumInFlight {
            readHeld = false
            context.read()
        }
    }

    func read(context: ChannelHandlerContext) {
        if inFlight >= maximumInFlight {
            readHeld = true
            return
        }
        context.read()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let frameError = error as? FrameError {
            logger.warning("bad frame header, connection closed", metadata: [
                "terminal": "\(terminal?.terminalID ?? "?")", "error": "\(frameError)"])
        } else {
            logger.debug("connection error", metadata: ["terminal": "\(terminal?.terminalID ?? "?")", "error": "\(error)"])
        }
        context.close(promise: nil)
    }

    private func log(terminal: TerminalContext, type: String, stan: String?, maskedPAN: String?, code: ResponseCode, since: UInt64) {
        let elapsed = DispatchTime.now().uptimeNanoseconds - since
        latency.recordNanoseconds(Int64(elapsed))
        logger.info("request", metadata: [
            "terminal": "\(terminal.terminalID)", "type": "\(type)", "stan": "\(stan ?? "-")",
            "pan": "\(maskedPAN ?? "-")", "code": "\(code.rawValue)",
            "latency_ms": "\(Double(elapsed / 1000) / 1000)",
        ])
    }
}
