import CSQLite
import Foundation
import HDFDomain

/// Checkpoints off the writer (issue 11): the gateway's writer connection does no automatic checkpoint
/// (`Ledger.disableAutomaticCheckpoints`), and this thread, on a connection of its own, copies the WAL's
/// pages into the database file in the background.
///
/// Why: with SQLite's automatic checkpoint, the commit that takes the WAL past 1,000 pages runs the
/// checkpoint itself, on the authorisation thread: it copies the pages and syncs the database file before
/// the commit returns. While readers (the web space, every page a transaction) keep old snapshots, the WAL
/// cannot be reset, stays above the threshold, and every later commit tries again. Here the checkpoint is
/// PASSIVE (it never waits for a lock, never blocks a writer or a reader) and runs between the writer's
/// commits; SQLite restarts the WAL from its beginning at the next write once every frame is checkpointed.
///
/// The WAL is kept bounded: past `maximumWALBytes` the checkpointer asks for a TRUNCATE checkpoint, which
/// waits at most `truncateBusyTimeout` for readers to move on (and blocks new writers only that long).
public final class Checkpointer: @unchecked Sendable {
    /// How often a PASSIVE checkpoint runs. 250 ms rather than 1 s (issue 11): the same work in four smaller
    /// stalls of the writer; the purchases' p99 went from 36–70 ms to 31–43 ms (docs/bench.md).
    public static let defaultInterval: Duration = .milliseconds(250)
    /// The WAL file's size past which the log is truncated (the named limit of issue 11).
    public static let defaultMaximumWALBytes: Int64 = 64 * 1024 * 1024
    /// How long a TRUNCATE checkpoint may wait for readers, and hold new writers back.
    public static let truncateBusyTimeout: Duration = .milliseconds(100)

    public struct Statistics: Sendable, Equatable {
        public var passiveRuns = 0
        public var truncateRuns = 0
        public var framesCheckpointed = 0
        public var largestWALBytes: Int64 = 0
        public var failures = 0
    }

    private let path: String
    private let interval: Duration
    private let maximumWALBytes: Int64
    private let condition = NSCondition()
    private var stopping = false
    private var thread: Thread?
    private var connection: SQLiteConnection?
    private var statistics = Statistics()
    private let onProblem: @Sendable (String) -> Void

    public init(ledgerPath: String, interval: Duration = defaultInterval, maximumWALBytes: Int64 = defaultMaximumWALBytes,
                onProblem: @escaping @Sendable (String) -> Void = { _ in }) {
        precondition(maximumWALBytes > 0, "the WAL's limit must be positive")
        self.path = ledgerPath
        self.interval = interval
        self.maximumWALBytes = maximumWALBytes
        self.onProblem = onProblem
    }

    public var currentStatistics: Statistics {
        condition.lock()
        defer { condition.unlock() }
        return statistics
    }

    /// Opens its connection (an error here is the caller's: the ledger cannot be opened) and starts the thread.
    public func start() throws {
        // Handed to the thread through the (unchecked Sendable) instance: only that thread uses it.
        connection = try Ledger.openConnection(path: path, busyTimeout: Self.truncateBusyTimeout, automaticCheckpoints: false)
        let thread = Thread { [self] in if let connection { run(connection) } }
        thread.name = "checkpointer"
        self.thread = thread
        thread.start()
    }

    /// Stops the thread after one last PASSIVE checkpoint; returns when it has.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        while let thread, !thread.isFinished { usleep(1_000) }
    }

    private func run(_ connection: SQLiteConnection) {
        defer { connection.close() }
        while true {
            condition.lock()
            if !stopping { _ = condition.wait(until: Date().addingTimeInterval(interval.timeInterval)) }
            let stop = stopping
            condition.unlock()
            checkpointOnce(connection)
            if stop { return }
        }
    }

    /// One PASSIVE checkpoint, then a TRUNCATE one when the WAL has grown past its limit.
    func checkpointOnce(_ connection: SQLiteConnection) {
        let walBytes = Self.fileSize(path + "-wal")
        var frames = 0, failed = false, truncated = false
        do {
            frames = try Self.checkpoint(connection, mode: SQLITE_CHECKPOINT_PASSIVE)
            if walBytes > maximumWALBytes {
                truncated = true
                frames += try Self.checkpoint(connection, mode: SQLITE_CHECKPOINT_TRUNCATE)
            }
        } catch {
            failed = true
            // Busy (a reader held on past the time-out) is expected now and then: the next run tries again.
            if walBytes > maximumWALBytes { onProblem("the WAL is \(walBytes) bytes, above its limit of \(maximumWALBytes): \(error)") }
        }
        condition.lock()
        statistics.passiveRuns += 1
        if truncated { statistics.truncateRuns += 1 }
        statistics.framesCheckpointed += frames
        statistics.largestWALBytes = max(statistics.largestWALBytes, walBytes)
        if failed { statistics.failures += 1 }
        condition.unlock()
    }

    /// Runs `sqlite3_wal_checkpoint_v2`; returns the frames copied into the database file.
    static func checkpoint(_ connection: SQLiteConnection, mode: Int32) throws -> Int {
        var logFrames: Int32 = 0, checkpointed: Int32 = 0
        let code = sqlite3_wal_checkpoint_v2(connection.handle, nil, mode, &logFrames, &checkpointed)
        guard code == SQLITE_OK else {
            throw SQLiteError(resultCode: code, message: String(cString: sqlite3_errmsg(connection.handle)), sql: "wal_checkpoint(\(mode))")
        }
        return Int(max(0, checkpointed))
    }

    static func fileSize(_ path: String) -> Int64 {
        var status = stat()
        return stat(path, &status) == 0 ? Int64(status.st_size) : 0
    }
}

extension Ledger {
    /// The gateway's writer: no automatic checkpoint on its commits (the `Checkpointer` does them).
    /// A PASSIVE checkpoint on this connection (never waits for a lock); returns the frames copied.
    @discardableResult
    public func checkpointPassive() throws -> Int {
        try ensureNoOpenTransaction()
        return try Checkpointer.checkpoint(connection, mode: SQLITE_CHECKPOINT_PASSIVE)
    }

    public func disableAutomaticCheckpoints() throws {
        automaticCheckpoints = false
        try connection.execute("PRAGMA wal_autocheckpoint=0")
    }
}
