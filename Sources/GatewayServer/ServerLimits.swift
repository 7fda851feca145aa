/// Every limit of the server, with its unit. README "Limits" lists them for operators.
public struct ServerLimits: Sendable {
    /// Open connections in all; one more is closed at once.
    public var maximumConnections = 4_096
    /// Open connections of one terminal (a terminal may pipeline on a few connections, not hog the server).
    public var maximumConnectionsPerTerminal = 256
    /// A connection that has not finished its TLS handshake by then is closed.
    public var handshakeTimeout: Duration = .seconds(10)
    /// A connection with nothing read or written for that long is closed (contract: at least 60 s).
    public var idleTimeout: Duration = .seconds(120)
    /// Requests of one connection read but not answered yet. At the limit the server stops reading from
    /// that connection (TCP back-pressure) until answers go out: no unbounded queue.
    public var maximumRequestsInFlightPerConnection = 32
    /// Requests waiting for the authorisation thread, all connections together. Past it, `96` at once.
    public var maximumQueuedRequests = 16_384
    /// Requests committed together in one SQLite transaction (group commit).
    public var maximumBatchSize = 512
    /// After a commit under continuous load, the writer pauses this long so that another process's
    /// writer (the beneficiary side) gets the lock; the requests arriving meanwhile join the next batch.
    public var interBatchPause: Duration = .microseconds(300)
    /// How long a graceful shutdown waits for in-flight requests to be answered.
    public var shutdownGracePeriod: Duration = .seconds(10)

    public init() {}
}
