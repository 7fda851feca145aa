import Ledger

/// Every limit of the server, with its unit. README "Limits" lists them for operators.
public struct ServerLimits: Sendable {
    /// Authenticated connections (TLS handshake done, terminal known) in all; one more is closed at once.
    /// Connections still in their handshake do not count here: a stranger cannot use them up.
    public var maximumConnections = 4_096
    /// Who copies the WAL into the database (docs/bench.md, "Checkpoints"): `.automatic` (SQLite's, on the
    /// commit that passes 1,000 pages, and on every later commit while readers keep the WAL from being reset),
    /// `.paced` (the writer, between two batches, at most once per `checkpointInterval`), `.thread` (a
    /// checkpointer thread beside the writer).
    public var checkpointMode: CheckpointMode = .paced
    /// How often the checkpointer copies the WAL into the database (off the writer: `Checkpointer`).
    public var checkpointInterval: Duration = Checkpointer.defaultInterval
    /// The WAL file's size past which the checkpointer truncates it.
    public var maximumWALBytes: Int64 = Checkpointer.defaultMaximumWALBytes
    /// Open connections of one terminal (a terminal may pipeline on a few connections, not hog the server).
    public var maximumConnectionsPerTerminal = 256
    /// Connections still in their TLS handshake, all sources together; one more is closed at once.
    /// Small on purpose: a handshake takes about 0.5 ms of CPU here, so a few hundred cover any real burst.
    public var maximumHandshakingConnections = 512
    /// Connections still in their TLS handshake from one source IP address; one more is closed at once.
    public var maximumHandshakingConnectionsPerAddress = 64
    /// A connection that has not finished its TLS handshake by then is closed.
    public var handshakeTimeout: Duration = .seconds(3)
    /// A connection with nothing read or written for that long is closed (contract: at least 60 s).
    public var idleTimeout: Duration = .seconds(120)
    /// Once the first byte of a frame has arrived, the whole frame must be in within that long, or the
    /// connection is closed: trickling bytes keeps a connection busy but never forever (slow-loris).
    public var frameCompletionTimeout: Duration = .seconds(10)
    /// Requests of one connection read but not answered yet, counted until the answer is written to the
    /// socket. At the limit the server stops reading from that connection (TCP back-pressure).
    public var maximumRequestsInFlightPerConnection = 32
    /// Bytes of answers waiting in a connection's outbound buffer above which the connection counts as
    /// not writable, and the server stops reading from it until the buffer is back under the low mark.
    public var writeBufferHighWaterMarkBytes = 64 * 1024
    /// See `writeBufferHighWaterMarkBytes`.
    public var writeBufferLowWaterMarkBytes = 16 * 1024
    /// Socket reads per connection each time it is ready, and the most bytes one read takes. Their product
    /// (64 KiB) bounds what a connection hands over in one go, hence the frames that wait, unparsed, for
    /// their turn when the connection is at its in-flight limit.
    public var maximumReadsPerWakeup = 4
    /// See `maximumReadsPerWakeup`.
    public var maximumBytesPerRead = 16 * 1024
    /// Requests waiting for the authorisation thread, all connections together. Past it, `96` at once.
    public var maximumQueuedRequests = 16_384
    /// Requests of one terminal waiting for the authorisation thread (its fair share of the queue). Past
    /// it, that terminal's next request gets `96` at once; no other terminal is affected.
    public var maximumQueuedRequestsPerTerminal = 1_024
    /// Requests committed together in one SQLite transaction (group commit).
    public var maximumBatchSize = 512
    /// After a commit under continuous load, the writer pauses this long so that another process's
    /// writer (the beneficiary side) gets the lock; the requests arriving meanwhile join the next batch.
    public var interBatchPause: Duration = .microseconds(300)
    /// How long a graceful shutdown waits for in-flight requests to be answered and written before it
    /// closes the remaining connections anyway.
    public var shutdownGracePeriod: Duration = .seconds(10)

    public init() {}
}

/// Who checkpoints the WAL (ServerLimits.checkpointMode).
public enum CheckpointMode: String, Sendable, CaseIterable {
    case automatic
    case paced
    case thread
}
