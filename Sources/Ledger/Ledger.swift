import CSQLite
import Foundation
import Glibc
import HDFDomain

/// The wallet ledger: one SQLite file in WAL mode, shared by the gateway, the beneficiary side and the
/// operator's CLI, each in its own process. This type is the only way in.
///
/// Durability: `synchronous=FULL`, so a committed approval survives a power cut.
/// Concurrency: every write is one `BEGIN IMMEDIATE` transaction, kept short; a writer in another
/// process waits for the lock with `SQLiteConnection`'s polling busy handler (bounded by its time-out).
/// Correctness does not depend on the lock alone: balances are bounded by CHECK constraints too.
///
/// Files: the ledger holds full PANs and names, so it is created 0600 and an existing one is set to 0600
/// when opened; SQLite creates `-wal` and `-shm` with the database file's mode, whichever process does.
public final class Ledger {
    /// Replaced by a fresh connection when a ROLLBACK fails (the old one is closed, which rolls back).
    public private(set) var connection: SQLiteConnection
    /// Who acts through this handle, for the audit trail (`gateway`, `beneficiary`, `operator`).
    public let actor: String
    /// Told (for the log) when the connection had to be reopened. Default: one line on stderr.
    public var onConnectionReopened: (String) -> Void = { reason in
        FileHandle.standardError.write(Data("ledger: connection reopened: \(reason)\n".utf8))
    }
    /// False on the gateway's writer, whose checkpoints a `Checkpointer` runs (kept across a reopen).
    var automaticCheckpoints = true
    /// The largest txn value this connection handed out in the open write transaction (`TxnID`); nil at the
    /// start of each one, when the ledger is read again (another process may have written meanwhile).
    var lastTxnValue: UInt64?
    /// Who waits for whom among the ledger's writers (WriterTurnstile): nil if the file could not be opened
    /// (then SQLite's lock alone orders the writers).
    let turnstile: WriterTurnstile?
    /// True on the gateway's writer, which gives way to the others between its batches; false on every
    /// other handle, which announces its writes.
    public private(set) var givesWayToOtherWriters = false
    /// Tests only: the next ROLLBACK of a write transaction fails as if SQLite had refused it.
    var failNextRollbackForTesting = false

    /// The ledger file and its `-wal`/`-shm`: owner read and write only.
    public static let fileMode: mode_t = 0o600

    public static let fileName = "ledger.sqlite"

    /// Partners and terminals read often and change rarely. Cached per connection, and dropped whenever
    /// another connection (another process, the operator) has committed anything since: SQLite's
    /// `PRAGMA data_version` tells, at the start of each transaction. Also dropped on any rollback and on
    /// this connection's own changes to them.
    final class Cache {
        var dataVersion: Int64 = -1
        var partners: [String: (PartnerRecord, accountID: Int64)] = [:]
        var terminals: [String: TerminalRecord] = [:]

        func clear() {
            partners.removeAll(keepingCapacity: true)
            terminals.removeAll(keepingCapacity: true)
        }
    }
    let cache = Cache()

    func revalidateCache() throws {
        let version = try connection.scalarInt("PRAGMA data_version") ?? -1
        if version != cache.dataVersion {
            cache.clear()
            cache.dataVersion = version
        }
    }

    public init(path: String, actor: String) throws {
        self.actor = actor
        try Ledger.restrictFileModes(path: path)
        self.connection = try Ledger.openConnection(path: path)
        try Ledger.restrictFileModes(path: path)
        self.turnstile = WriterTurnstile(ledgerPath: path)
        try migrate()
    }

    /// Creates the file 0600 if it does not exist yet (SQLite would use 0644 less the umask), and sets an
    /// existing ledger and its `-wal`/`-shm` to 0600 (moves an older environment forward).
    ///
    /// An existing ledger file is never opened here: closing any descriptor of a file drops every POSIX
    /// lock this process holds on it, SQLite's included (another connection of this process would then
    /// write without its lock: "disk I/O error" and worse). So the file is created with `O_EXCL` only when
    /// it is missing, and modes are changed by path.
    static func restrictFileModes(path: String) throws {
        let descriptor = Glibc.open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, fileMode)
        if descriptor >= 0 {
            Glibc.close(descriptor)
        } else if errno != EEXIST {
            throw LedgerError.storage("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        for suffix in ["", "-wal", "-shm", "-writers"] {
            var status = stat()
            guard stat(path + suffix, &status) == 0, status.st_mode & 0o777 != fileMode else { continue }
            guard chmod(path + suffix, fileMode) == 0 else {
                throw LedgerError.storage("cannot set \(path + suffix) to 0600: \(String(cString: strerror(errno)))")
            }
        }
    }

    static func openConnection(path: String, busyTimeout: Duration = SQLiteConnection.busyTimeout,
                               automaticCheckpoints: Bool = true) throws -> SQLiteConnection {
        let connection = try SQLiteConnection(path: path, busyTimeout: busyTimeout)
        try connection.execute("PRAGMA journal_mode=WAL")
        try connection.execute("PRAGMA synchronous=FULL")
        try connection.execute("PRAGMA foreign_keys=ON")
        // Savepoints' statement journals stay in memory instead of spilling to a temporary file
        // (measured: about 300 → 225 µs of writer CPU per purchase).
        try connection.execute("PRAGMA temp_store=MEMORY")
        // A checkpoint must not make a writer wait long: checkpoint often, in small steps. The gateway's
        // writer checkpoints not at all: its `Checkpointer` thread does (Checkpointer.swift).
        try connection.execute(automaticCheckpoints ? "PRAGMA wal_autocheckpoint=1000" : "PRAGMA wal_autocheckpoint=0")
        // (issue 11) When a checkpoint has copied the whole log and a writer starts it again from the top, the
        // file is cut back to this size: without it the WAL keeps its largest size ever (121 MiB after a cold
        // start on a 10-million-payment ledger, docs/bench.md "How cost grows").
        try connection.execute("PRAGMA journal_size_limit=\(Checkpointer.defaultMaximumWALBytes)")
        let synchronous = try connection.scalarInt("PRAGMA synchronous")
        guard synchronous == 2 else {
            throw LedgerError.storage("synchronous is \(synchronous ?? -1), expected FULL (2): approvals would not be durable")
        }
        let journal = try connection.scalarText("PRAGMA journal_mode")
        guard journal?.lowercased() == "wal" else {
            throw LedgerError.storage("journal_mode is \(journal ?? "?"), expected wal")
        }
        return connection
    }

    /// A connection that could not leave its transaction is closed (SQLite rolls back on close) and
    /// replaced, instead of stopping the process: the next request finds a clean connection.
    func reopenConnection(because reason: String) throws {
        cache.clear()
        cache.dataVersion = -1
        let stuck = connection
        connection = try Ledger.openConnection(path: stuck.path, automaticCheckpoints: automaticCheckpoints)
        // Closed explicitly, not left to deinit: a reference kept elsewhere would keep its write lock.
        stuck.close()
        onConnectionReopened(reason)
    }

    /// Makes sure no transaction is left open on the connection before a new one begins.
    func ensureNoOpenTransaction() throws {
        guard connection.isInTransaction else { return }
        do {
            try rollback()
        } catch {
            try reopenConnection(because: "a transaction was left open and its ROLLBACK failed: \(error)")
        }
    }

    private func rollback() throws {
        if failNextRollbackForTesting {
            failNextRollbackForTesting = false
            throw SQLiteError(resultCode: 1, message: "ROLLBACK refused (fault injected by a test)", sql: "ROLLBACK")
        }
        try connection.execute("ROLLBACK")
    }

    /// Opens the ledger of a directory made by `gateway demo` (or any DIR holding `ledger.sqlite`).
    public static func open(directory: String, actor: String, mustExist: Bool = true) throws -> Ledger {
        let path = directory + "/" + fileName
        if mustExist && !FileManager.default.fileExists(atPath: path) {
            throw LedgerError.storage("no ledger at \(path) (run `gateway demo --dir \(directory)` first)")
        }
        return try Ledger(path: path, actor: actor)
    }

    func migrate() throws {
        let current = Int(try connection.scalarInt("PRAGMA user_version") ?? 0)
        // A newer program moved this ledger forward (issue 11: e.g. the card's payment chain, which an older
        // program would not keep): writing with this one would break what the newer schema promises.
        guard current <= Schema.migrations.count else {
            throw LedgerError.storage("the ledger is at schema \(current), newer than this program's \(Schema.migrations.count): "
                                      + "use the program that moved it forward")
        }
        guard current < Schema.migrations.count else { return }
        try withWriteLock {
            // Read again under the lock: another process may have migrated meanwhile.
            let version = Int(try connection.scalarInt("PRAGMA user_version") ?? 0)
            for index in version..<Schema.migrations.count {
                try connection.execute(Schema.migrations[index])
                try connection.execute("PRAGMA user_version = \(index + 1)")
            }
        }
    }

    /// BEGIN IMMEDIATE … COMMIT around `body`, ROLLBACK if anything throws. The lock is asked for up
    /// front so a transaction never fails half-way on a lock upgrade.
    ///
    /// The lock is asked for once: the busy handler waits up to `SQLiteConnection.busyTimeout` (the one
    /// documented bound), then the write fails with `busy` (`96`) and nothing is changed.
    func withWriteLock<T>(_ body: () throws -> T) throws -> T {
        try ensureNoOpenTransaction()
        if givesWayToOtherWriters {
            turnstile?.giveWay()
        } else {
            turnstile?.enter(limit: WriterTurnstile.maximumEnterWait)
        }
        defer { turnstile?.leave() }
        do {
            try connection.execute("BEGIN IMMEDIATE")
        } catch let error as SQLiteError where error.isBusy {
            throw LedgerError.busy("the ledger stayed locked by another process for \(SQLiteConnection.busyTimeout): \(error.message)")
        }
        lastTxnValue = nil
        do {
            try revalidateCache()
            let result = try body()
            try connection.execute("COMMIT")
            return result
        } catch {
            cache.clear()
            if connection.isInTransaction {
                do {
                    try rollback()
                } catch let rollbackError {
                    try? reopenConnection(because: "ROLLBACK failed after \(error): \(rollbackError)")
                }
            }
            throw error
        }
    }

    /// Makes this handle the gateway's writer: it gives way, between its write transactions, to any other
    /// process announcing a write (WriterTurnstile).
    public func giveWayToOtherWriters() {
        givesWayToOtherWriters = true
    }

    /// One all-or-nothing write. `now` is injectable so tests can move the calendar.
    public func write<T>(now: Date = Date(), _ body: (LedgerTransaction) throws -> T) throws -> T {
        try withWriteLock {
            try body(LedgerTransaction(ledger: self, now: now))
        }
    }

    /// Several operations in one commit (group commit). Each runs in its own savepoint: one that throws
    /// is rolled back alone and its error returned in its slot; the others commit together. A failed
    /// COMMIT fails them all (and nothing of any of them is kept).
    public func writeBatch<T>(now: Date = Date(), count: Int,
                              _ body: (Int, LedgerTransaction) throws -> T) throws -> [Result<T, Error>] {
        try withWriteLock {
            let transaction = LedgerTransaction(ledger: self, now: now)
            var results: [Result<T, Error>] = []
            results.reserveCapacity(count)
            for index in 0..<count {
                results.append(Result { try transaction.savepoint { try body(index, transaction) } })
            }
            return results
        }
    }

    /// A consistent read (one snapshot of the WAL).
    public func read<T>(now: Date = Date(), _ body: (LedgerTransaction) throws -> T) throws -> T {
        try ensureNoOpenTransaction()
        try connection.execute("BEGIN DEFERRED")
        defer { try? connection.execute("COMMIT") }
        try revalidateCache()
        return try body(LedgerTransaction(ledger: self, now: now))
    }
}

/// The operations, available only inside a transaction.
public struct LedgerTransaction {
    public let ledger: Ledger
    public let nowMillis: Int64
    /// The Europe/Paris business day of `now`.
    public let today: LocalDate

    var db: SQLiteConnection { ledger.connection }

    init(ledger: Ledger, now: Date) {
        self.ledger = ledger
        self.nowMillis = Int64((now.timeIntervalSince1970 * 1000).rounded())
        // The business day of that same millisecond (not of `now`): a row's created_at_ms and business_day never
        // disagree, even in the last half-millisecond before midnight.
        self.today = ParisCalendar.businessDay(of: Date(timeIntervalSince1970: Double(nowMillis) / 1000))
    }

    /// Runs `body` so that it either all happens or none of it does, inside the open transaction.
    ///
    /// SAVEPOINT and RELEASE run as cached prepared statements (`run`), not parsed again each time: every
    /// request of a batch opens one, and no other (`Authorizer.attempt`).
    public func savepoint<T>(_ body: () throws -> T) throws -> T {
        _ = try db.run("SAVEPOINT op")
        do {
            let result = try body()
            _ = try db.run("RELEASE op")
            return result
        } catch {
            try? db.execute("ROLLBACK TO op")
            try? db.execute("RELEASE op")
            ledger.cache.clear()
            throw error
        }
    }

    /// Appends one line to the audit trail. `subject` must already be masked.
    public func audit(actor: String? = nil, action: String, subject: String = "", result: String, detail: String = "") throws {
        try db.run("INSERT INTO audit(at_ms, actor, action, subject, result, detail) VALUES (?, ?, ?, ?, ?, ?)",
                   nowMillis, actor ?? ledger.actor, action, subject, result, detail)
    }
}
