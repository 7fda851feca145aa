import CardApplication
import Foundation
import Ledger
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import PartnerPKI
import Prometheus
import ServiceLifecycle

/// The files the gateway reads: its ledger, the partner CA that signs terminal certificates, its own
/// certificate and key. Handed in whole (GatewayEnvironment builds them from an environment directory).
public struct GatewayFiles: Sendable {
    public var ledgerPath: String
    public var caCertificatePath: String
    public var serverCertificatePath: String
    public var serverKeyPath: String

    public init(ledgerPath: String, caCertificatePath: String, serverCertificatePath: String, serverKeyPath: String) {
        self.ledgerPath = ledgerPath
        self.caCertificatePath = caCertificatePath
        self.serverCertificatePath = serverCertificatePath
        self.serverKeyPath = serverKeyPath
    }
}

/// Everything the server needs, built by its caller: no directory layout and no key file are read here.
public struct GatewayConfiguration: Sendable {
    public var files: GatewayFiles
    /// Derives each card's key (the master key stays inside the provider).
    public var cardKeys: any CardKeyProvider
    public var host: String
    public var port: Int
    /// Prometheus text on http://127.0.0.1:metricsPort/metrics; 0: any free port (see `boundMetricsPort`);
    /// nil: no metrics endpoint.
    public var metricsPort: Int?
    public var limits: ServerLimits
    public var eventLoopThreads: Int

    public init(files: GatewayFiles, cardKeys: any CardKeyProvider, host: String = "127.0.0.1", port: Int = 8583,
                metricsPort: Int? = nil, limits: ServerLimits = ServerLimits(), eventLoopThreads: Int = System.coreCount) {
        self.files = files
        self.cardKeys = cardKeys
        self.host = host
        self.port = port
        self.metricsPort = metricsPort
        self.limits = limits
        self.eventLoopThreads = eventLoopThreads
    }
}

/// The mutual-TLS gateway as an explicit state machine: idle → starting → serving → draining → stopped
/// (a start that fails goes from starting to stopped, having stopped whatever it had started).
/// `run()` serves until graceful shutdown (SIGTERM/SIGINT through swift-service-lifecycle), then stops
/// accepting, answers what is in flight, commits, closes every connection and the ledger.
/// Why the server could not start: it says which address, and nothing is left running.
public struct GatewayStartError: Error, CustomStringConvertible {
    public let description: String
}

public final class GatewayServer: Service, @unchecked Sendable {
    enum State {
        /// Configured (files read, ledger open), nothing started.
        case idle
        /// Binding the listener and the metrics endpoint; the writer thread and the event loops are up.
        case starting
        case serving(listener: Channel, metrics: Channel?)
        /// No new connection; answering what is in flight.
        case draining
        case stopped
    }

    public let configuration: GatewayConfiguration
    private let logger: Logger
    private let state = NIOLockedValueBox(State.idle)
    private let group: MultiThreadedEventLoopGroup
    private let queue: AuthorizationQueue
    private let directory: TerminalDirectory
    private let registry: ConnectionRegistry
    private let standingCheck: TerminalStandingCheck
    private var memoryTrimmer: RepeatedTask?
    private let checkpointer: Checkpointer?
    private let channels = NIOLockedValueBox<[ObjectIdentifier: Channel]>([:])
    private let sslContext: NIOSSLContext
    private let prometheus: PrometheusCollectorRegistry?
    private let latency = Metrics.Timer(label: "gateway_request_duration")
    private let openGauge = Gauge(label: "gateway_open_connections")

    /// The address the listener is bound to (a port of 0 is resolved here once running).
    public private(set) var boundPort: Int?
    public private(set) var boundMetricsPort: Int?

    public init(configuration: GatewayConfiguration, logger: Logger, prometheus: PrometheusCollectorRegistry?) throws {
        self.configuration = configuration
        self.logger = logger
        self.prometheus = prometheus
        let files = configuration.files
        guard FileManager.default.fileExists(atPath: files.ledgerPath) else {
            throw LedgerError.storage("no ledger at \(files.ledgerPath)")
        }
        let ledger = try Ledger(path: files.ledgerPath, actor: "gateway")
        ledger.giveWayToOtherWriters()
        // With checkpoints off the writer, the writer never checkpoints on a commit: the checkpointer thread does,
        // on its own connection.
        if configuration.limits.checkpointMode != .automatic { try ledger.disableAutomaticCheckpoints() }
        if configuration.limits.checkpointMode == .thread {
            checkpointer = Checkpointer(ledgerPath: files.ledgerPath, interval: configuration.limits.checkpointInterval,
                                        maximumWALBytes: configuration.limits.maximumWALBytes) { [logger] problem in
                logger.warning("checkpoint", metadata: ["problem": "\(problem)"])
            }
        } else {
            checkpointer = nil
        }
        queue = AuthorizationQueue(ledger: ledger, authorizer: Authorizer(cardKeys: configuration.cardKeys),
                                   limits: configuration.limits, logger: logger)
        directory = try TerminalDirectory(ledgerPath: files.ledgerPath, caCertificatePath: files.caCertificatePath)
        registry = ConnectionRegistry(limits: configuration.limits)
        standingCheck = try TerminalStandingCheck(ledgerPath: files.ledgerPath)

        let certificate = try NIOSSLCertificate(file: files.serverCertificatePath, format: .pem)
        let key = try NIOSSLPrivateKey(file: files.serverKeyPath, format: .pem)
        let ca = try NIOSSLCertificate(file: files.caCertificatePath, format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv13
        tls.certificateVerification = .noHostnameVerification // a client certificate is required
        tls.trustRoots = .certificates([ca])
        // A client that does not answer our close_notify must not hold a shutdown for NIOSSL's default 5 s.
        tls.shutdownTimeout = .seconds(1)
        sslContext = try NIOSSLContext(configuration: tls)
        group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoopThreads)
    }

    /// Binds and starts serving; returns once the listener is up. A failed bind throws an error naming the
    /// address, after stopping everything started (writer thread, event loops): the server is `.stopped`.
    public func start() async throws {
        try state.withLockedValue { state in
            guard case .idle = state else { throw LedgerError.invalid("the server was already started") }
            state = .starting
        }
        try checkpointer?.start()
        queue.start()
        let limits = configuration.limits
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: UInt(limits.maximumReadsPerWakeup))
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(
                minimum: 64, initial: 2_048, maximum: limits.maximumBytesPerRead))
            .childChannelOption(.writeBufferWaterMark, value: .init(low: limits.writeBufferLowWaterMarkBytes,
                                                                   high: limits.writeBufferHighWaterMarkBytes))
            .childChannelInitializer { [self] channel in
                self.configure(channel, limits: limits)
            }
        var listener: Channel?
        var metricsChannel: Channel?
        do {
            listener = try await Self.bind(what: nil, host: configuration.host, port: configuration.port) {
                try await bootstrap.bind(host: self.configuration.host, port: self.configuration.port).get()
            }
            if let metricsPort = configuration.metricsPort, let prometheus {
                metricsChannel = try await Self.bind(what: "metrics", host: MetricsEndpoint.host, port: metricsPort) {
                    try await MetricsEndpoint.bind(group: self.group, port: metricsPort, registry: prometheus)
                }
            }
        } catch {
            try? await listener?.close()
            queue.stopAndDrain()
            checkpointer?.stop()
            try? await group.shutdownGracefully()
            state.withLockedValue { $0 = .stopped }
            logger.error("gateway not started", metadata: ["error": "\(error)"])
            throw error
        }
        boundPort = listener!.localAddress?.port
        boundMetricsPort = metricsChannel?.localAddress?.port
        memoryTrimmer = MemoryTrimmer.start(on: group.next())
        state.withLockedValue { $0 = .serving(listener: listener!, metrics: metricsChannel) }
        logger.info("gateway serving", metadata: [
            "address": "\(configuration.host):\(boundPort ?? 0)", "metrics_port": "\(boundMetricsPort.map(String.init) ?? "off")",
            "ledger": "\(configuration.files.ledgerPath)"])
    }

    /// Runs `bind`, turning its failure into one line that names the address:
    /// `cannot listen on H:P: why` (`cannot listen on H:P (metrics): why` for the metrics endpoint).
    private static func bind(what: String?, host: String, port: Int, _ bind: () async throws -> Channel) async throws -> Channel {
        let address = "\(host):\(port)" + (what.map { " (\($0))" } ?? "")
        do {
            return try await bind()
        } catch let error as IOError {
            throw GatewayStartError(description: "cannot listen on \(address): \(String(cString: strerror(error.errnoCode)))")
        } catch {
            throw GatewayStartError(description: "cannot listen on \(address): \(error)")
        }
    }

    private func configure(_ channel: Channel, limits: ServerLimits) -> EventLoopFuture<Void> {
        let verified = VerifiedTerminal()
        let directory = self.directory
        let logger = self.logger
        let id = ObjectIdentifier(channel)
        channels.withLockedValue { $0[id] = channel }
        channel.closeFuture.whenComplete { [channels] _ in channels.withLockedValue { _ = $0.removeValue(forKey: id) } }
        // Until its first byte, a connection has only the handshake gate (admission, deadline) and the
        // installer: a stranger who connects and sends nothing costs no TLS state and no handlers, so that a
        // flood of such connections, reopened as the gate closes them, stays cheap for the event loops.
        return channel.eventLoop.makeCompletedFuture {
            let gate = HandshakeGateHandler(registry: registry, handshakeTimeout: limits.handshakeTimeout, logger: logger)
            let installer = PipelineInstaller { [self] sync, installer in
                // TLS right after the installer, before the gate (the gate must see the handshake complete).
                let tls = NIOSSLServerHandler(context: sslContext) { certificates, promise in
                    // Runs instead of BoringSSL's own check: the chain (swift-certificates) and the ledger's word.
                    // (A resumed session skips it: `RequestHandler` then checks the session's certificate.)
                    guard let leaf = certificates.first, let der = try? leaf.toDERBytes() else {
                        promise.succeed(.failed)
                        return
                    }
                    Task {
                        switch await directory.authenticate(leafDER: der) {
                        case .success(let terminal):
                            verified.set(terminal)
                            promise.succeed(.certificateVerified)
                        case .failure(let refusal):
                            logger.warning("handshake refused", metadata: ["reason": "\(LogText.escaped(refusal.description))"])
                            promise.succeed(.failed)
                        }
                    }
                }
                try sync.addHandler(tls, position: .after(installer))
                try sync.addHandler(IdleTimeoutHandler(timeout: limits.idleTimeout))
                try sync.addHandler(FrameDeadlineHandler(frameCompletionTimeout: limits.frameCompletionTimeout, logger: logger))
                try sync.addHandler(FrameDecoder.handler())
                try sync.addHandler(MessageToByteHandler(FrameEncoder()))
                let standingCheck = self.standingCheck
                try sync.addHandler(RequestHandler(
                    queue: queue, verified: verified, registry: registry, limits: limits, logger: logger, latency: latency,
                    openGauge: openGauge, standing: { standingCheck.standing(of: $0) },
                    authenticate: { der in await directory.authenticate(leafDER: der) }))
            }
            let sync = channel.pipeline.syncOperations
            try sync.addHandler(installer)
            try sync.addHandler(gate)
        }
    }

    /// Serves until a graceful shutdown is asked for, then drains and stops.
    public func run() async throws {
        if case .idle = state.withLockedValue({ $0 }) { try await start() }
        try? await gracefulShutdown()
        try await shutdown()
    }

    /// Stops accepting, answers what is queued, closes the connections, the ledger and the threads.
    public func shutdown() async throws {
        let current = state.withLockedValue { state -> State in
            let previous = state
            if case .serving = state { state = .draining }
            return previous
        }
        guard case .serving(let listener, let metrics) = current else { return }
        logger.info("shutting down: no new connections, answering what is in flight")
        try? await listener.close()
        try? await metrics?.close()
        memoryTrimmer?.cancel()
        queue.stopAndDrain()
        checkpointer?.stop()
        // Answers are written by the event loops: wait until every connection has written the answers of
        // the requests it took up, at most `shutdownGracePeriod`, then close everything.
        let open = channels.withLockedValue { Array($0.values) }
        let written = open.map { channel in
            channel.eventLoop.flatSubmit {
                guard let handler = try? channel.pipeline.syncOperations.handler(type: RequestHandler.self) else {
                    return channel.eventLoop.makeSucceededVoidFuture()
                }
                return handler.answersWritten(eventLoop: channel.eventLoop)
            }
        }
        let grace = configuration.limits.shutdownGracePeriod
        let loop = group.next()
        let outcome = loop.makePromise(of: Bool.self)
        let decided = NIOLockedValueBox(false)
        let decide: @Sendable (Bool) -> Void = { allWritten in
            if decided.withLockedValue({ already in defer { already = true }; return !already }) { outcome.succeed(allWritten) }
        }
        let timer = loop.scheduleTask(in: .nanoseconds(grace.nanoseconds)) { decide(false) }
        EventLoopFuture.andAllComplete(written, on: loop).whenComplete { _ in
            timer.cancel()
            decide(true)
        }
        let allWritten = (try? await outcome.futureResult.get()) ?? false
        if !allWritten {
            logger.warning("shutdown grace period over, closing connections with answers still unwritten", metadata: [
                "grace_period_s": "\(grace)"])
        }
        let closed = open.map { channel in channel.eventLoop.flatSubmit { channel.close() } }
        for future in closed { _ = try? await future.get() }
        try await group.shutdownGracefully()
        state.withLockedValue { $0 = .stopped }
        logger.info("gateway stopped")
    }
}

import WireProtocol
