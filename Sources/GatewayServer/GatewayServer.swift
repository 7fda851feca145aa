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
import Provisioning
import ServiceLifecycle

public struct GatewayConfiguration: Sendable {
    public var directory: String
    public var host: String
    public var port: Int
    /// Prometheus text on http://127.0.0.1:metricsPort/metrics; nil: no metrics endpoint.
    public var metricsPort: Int?
    public var limits: ServerLimits
    public var eventLoopThreads: Int

    public init(directory: String, host: String = "127.0.0.1", port: Int = 8583, metricsPort: Int? = nil,
                limits: ServerLimits = ServerLimits(), eventLoopThreads: Int = System.coreCount) {
        self.directory = directory
        self.host = host
        self.port = port
        self.metricsPort = metricsPort
        self.limits = limits
        self.eventLoopThreads = eventLoopThreads
    }
}

/// The mutual-TLS gateway as an explicit state machine: idle → running → draining → stopped.
/// `run()` serves until graceful shutdown (SIGTERM/SIGINT through swift-service-lifecycle), then stops
/// accepting, answers what is in flight, commits, closes every connection and the ledger.
public final class GatewayServer: Service, @unchecked Sendable {
    enum State {
        case idle
        case running(listener: Channel, metrics: Channel?)
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
        let layout = EnvironmentLayout(directory: configuration.directory)
        guard layout.hasLedger else {
            throw LedgerError.storage("no ledger in \(layout.directory) (run `gateway demo --dir \(layout.directory)` first)")
        }
        let masterKey = try IssuerMasterKey.load(layout: layout)
        let ledger = try Ledger(path: layout.ledgerPath, actor: "gateway")
        queue = AuthorizationQueue(ledger: ledger, authorizer: Authorizer(masterKey: masterKey), limits: configuration.limits,
                                   logger: logger)
        directory = try TerminalDirectory(ledgerPath: layout.ledgerPath,
                                          caCertificatePath: layout.path(EnvironmentLayout.caCertificateFile))
        registry = ConnectionRegistry(limits: configuration.limits)

        let certificate = try NIOSSLCertificate(file: layout.path(EnvironmentLayout.serverCertificateFile), format: .pem)
        let key = try NIOSSLPrivateKey(file: layout.path(EnvironmentLayout.serverKeyFile), format: .pem)
        let ca = try NIOSSLCertificate(file: layout.path(EnvironmentLayout.caCertificateFile), format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv13
        tls.certificateVerification = .noHostnameVerification // a client certificate is required
        tls.trustRoots = .certificates([ca])
        // A client that does not answer our close_notify must not hold a shutdown for NIOSSL's default 5 s.
        tls.shutdownTimeout = .seconds(1)
        sslContext = try NIOSSLContext(configuration: tls)
        group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoopThreads)
    }

    /// Binds and starts serving; returns once the listener is up.
    public func start() async throws {
        try state.withLockedValue { state in
            guard case .idle = state else { throw LedgerError.invalid("the server was already started") }
            state = .draining // placeholder while binding; replaced below
        }
        queue.start()
        let limits = configuration.limits
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [self] channel in
                self.configure(channel, limits: limits)
            }
        let listener = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        boundPort = listener.localAddress?.port
        var metricsChannel: Channel?
        if let metricsPort = configuration.metricsPort, let prometheus {
            metricsChannel = try await MetricsEndpoint.bind(group: group, port: metricsPort, registry: prometheus)
            boundMetricsPort = metricsChannel?.localAddress?.port
        }
        state.withLockedValue { $0 = .running(listener: listener, metrics: metricsChannel) }
        logger.info("gateway serving", metadata: [
            "address": "\(configuration.host):\(boundPort ?? 0)", "metrics_port": "\(boundMetricsPort.map(String.init) ?? "off")",
            "directory": "\(configuration.directory)"])
    }

    private func configure(_ channel: Channel, limits: ServerLimits) -> EventLoopFuture<Void> {
        let verified = VerifiedTerminal()
        let directory = self.directory
        let logger = self.logger
        let id = ObjectIdentifier(channel)
        channels.withLockedValue { $0[id] = channel }
        channel.closeFuture.whenComplete { [channels] _ in channels.withLockedValue { _ = $0.removeValue(forKey: id) } }
        return channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            try sync.addHandler(ConnectionGateHandler(registry: registry, openGauge: openGauge))
            try sync.addHandler(NIOSSLServerHandler(context: sslContext) { certificates, promise in
                // Runs instead of BoringSSL's own check: the chain (swift-certificates) and the ledger's word.
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
                        logger.warning("handshake refused", metadata: ["reason": "\(refusal)"])
                        promise.succeed(.failed)
                    }
                }
            })
            try sync.addHandler(HandshakeDeadlineHandler(handshakeTimeout: limits.handshakeTimeout))
            try sync.addHandler(IdleStateHandler(allTimeout: .nanoseconds(limits.idleTimeout.nanoseconds)))
            try sync.addHandler(FrameDecoder.handler())
            try sync.addHandler(MessageToByteHandler(FrameEncoder()))
            try sync.addHandler(RequestHandler(queue: queue, verified: verified, registry: registry, limits: limits,
                                               logger: logger, latency: latency))
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
            if case .running = state { state = .draining }
            return previous
        }
        guard case .running(let listener, let metrics) = current else { return }
        logger.info("shutting down: no new connections, answering what is in flight")
        try? await listener.close()
        try? await metrics?.close()
        queue.stopAndDrain()
        // Answers are written by the event loops: give them a moment to flush, then close everything.
        let open = channels.withLockedValue { Array($0.values) }
        let closed = open.map { channel in channel.eventLoop.flatSubmit { channel.close() } }
        for future in closed { _ = try? await future.get() }
        try await group.shutdownGracefully()
        state.withLockedValue { $0 = .stopped }
        logger.info("gateway stopped")
    }
}

import WireProtocol
