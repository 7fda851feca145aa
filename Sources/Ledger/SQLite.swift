import CSQLite
import Foundation

/// What went wrong talking to SQLite, with SQLite's own words.
public struct SQLiteError: Error, CustomStringConvertible {
    public let resultCode: Int32
    public let message: String
    public let sql: String?

    public var isBusy: Bool {
        let primary = resultCode & 0xFF
        return primary == SQLITE_BUSY || primary == SQLITE_LOCKED
    }
    public var isConstraintViolation: Bool { resultCode & 0xFF == SQLITE_CONSTRAINT }

    public var description: String {
        if let sql { return "SQLite error \(resultCode): \(message) (in: \(sql.prefix(80)))" }
        return "SQLite error \(resultCode): \(message)"
    }
}

/// A value bound to or read from a statement.
public enum SQLValue: Sendable, Equatable {
    case int(Int64)
    case text(String)
    case blob([UInt8])
    case null
}

public protocol SQLBindable { var sqlValue: SQLValue { get } }
extension Int64: SQLBindable { public var sqlValue: SQLValue { .int(self) } }
extension Int: SQLBindable { public var sqlValue: SQLValue { .int(Int64(self)) } }
extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Bool: SQLBindable { public var sqlValue: SQLValue { .int(self ? 1 : 0) } }
extension Array: SQLBindable where Element == UInt8 { public var sqlValue: SQLValue { .blob(self) } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

private let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One row of a result, read by column index.
public struct SQLRow {
    let statement: OpaquePointer

    public func int(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }
    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }
    public func isText(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_TEXT }
    public func text(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(statement, column) else { return "" }
        return String(cString: pointer)
    }
    public func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }
    public func optionalInt(_ column: Int32) -> Int64? { isNull(column) ? nil : int(column) }
    public func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let pointer = sqlite3_column_blob(statement, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}

/// One SQLite connection with a cache of prepared statements. Not thread-safe: it belongs to one
/// thread or one serial owner at a time (the gateway's single writer, one CLI process).
public final class SQLiteConnection {
    let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]
    public let path: String

    /// How long a writer waits for another process's write lock before it gives up (the request then
    /// fails with `96` and nothing is changed). The one bound on a lock wait: a write transaction asks for
    /// the lock once (`Ledger.withWriteLock`), so a request waits at most this long, not a multiple of it.
    public static let busyTimeout: Duration = .seconds(5)

    /// When the current wait for a lock began (monotonic), for the busy handler: its deadline is measured
    /// on the clock, not estimated from the number of tries (sleeps overrun, so tries undercount time).
    final class BusyWait {
        var startedNanos: UInt64 = 0
        let limitNanos: UInt64
        init(limit: Duration) {
            limitNanos = UInt64(limit.components.seconds) * 1_000_000_000 + UInt64(limit.components.attoseconds / 1_000_000_000)
        }
    }
    private let busyWait: BusyWait

    public init(path: String, busyTimeout: Duration = SQLiteConnection.busyTimeout) throws {
        self.busyWait = BusyWait(limit: busyTimeout)
        var pointer: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &pointer, flags, nil)
        guard rc == SQLITE_OK, let pointer else {
            let message = pointer.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let pointer { sqlite3_close_v2(pointer) }
            throw SQLiteError(resultCode: rc, message: "\(message): \(path)", sql: nil)
        }
        self.handle = pointer
        self.path = path
        sqlite3_extended_result_codes(handle, 1)
        installBusyHandler()
    }

    private var isClosed = false

    /// Closes the connection now: SQLite rolls back a transaction left open and releases its locks at
    /// once, whoever still holds a reference to this object. Nothing may use the connection afterwards.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        for statement in statements.values { sqlite3_finalize(statement) }
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    deinit { close() }

    /// SQLite's default busy handler sleeps longer and longer (up to 100 ms) between tries, so a
    /// process that waits loses every race against a writer that commits in a loop. Ours polls every
    /// 0.5 to 2 ms with jitter until the deadline: a waiting process gets in between two batches.
    private func installBusyHandler() {
        let context = Unmanaged.passUnretained(busyWait).toOpaque()
        sqlite3_busy_handler(handle, { context, attempt in
            let wait = Unmanaged<BusyWait>.fromOpaque(context!).takeUnretainedValue()
            let now = DispatchTime.now().uptimeNanoseconds
            if attempt == 0 { wait.startedNanos = now }
            if now - wait.startedNanos >= wait.limitNanos { return 0 }
            usleep(UInt32.random(in: 500...1_500))
            return 1
        }, context)
    }

    public func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &error)
        if rc != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(error)
            throw SQLiteError(resultCode: rc, message: message, sql: sql)
        }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw lastError(rc, sql: sql) }
        statements[sql] = statement
        return statement
    }

    func lastError(_ rc: Int32, sql: String?) -> SQLiteError {
        SQLiteError(resultCode: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }

    private func bind(_ statement: OpaquePointer, _ arguments: [SQLBindable]) throws {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
        for (offset, argument) in arguments.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch argument.sqlValue {
            case .int(let value): rc = sqlite3_bind_int64(statement, index, value)
            case .text(let value): rc = sqlite3_bind_text(statement, index, value, -1, SQLITE_TRANSIENT)
            case .blob(let bytes):
                rc = bytes.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), SQLITE_TRANSIENT) }
            case .null: rc = sqlite3_bind_null(statement, index)
            }
            guard rc == SQLITE_OK else { throw lastError(rc, sql: nil) }
        }
    }

    /// Runs a statement that returns no rows; returns the number of rows changed.
    @discardableResult
    public func run(_ sql: String, _ arguments: SQLBindable...) throws -> Int {
        let statement = try prepared(sql)
        try bind(statement, arguments)
        defer { sqlite3_reset(statement) }
        let rc = sqlite3_step(statement)
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else { throw lastError(rc, sql: sql) }
        return Int(sqlite3_changes(handle))
    }

    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    /// Rows inserted, updated or deleted on this connection since it was opened.
    public var totalChanges: Int64 { sqlite3_total_changes64(handle) }

    /// Calls `body` for each row.
    public func forEach(_ sql: String, _ arguments: [SQLBindable], _ body: (SQLRow) throws -> Void) throws {
        let statement = try prepared(sql)
        try bind(statement, arguments)
        defer { sqlite3_reset(statement) }
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw lastError(rc, sql: sql) }
            try body(SQLRow(statement: statement))
        }
    }

    public func rows<T>(_ sql: String, _ arguments: SQLBindable..., map: (SQLRow) throws -> T) throws -> [T] {
        var result: [T] = []
        try forEach(sql, arguments) { result.append(try map($0)) }
        return result
    }

    public func row<T>(_ sql: String, _ arguments: SQLBindable..., map: (SQLRow) throws -> T) throws -> T? {
        var result: T?
        let statement = try prepared(sql)
        try bind(statement, arguments)
        defer { sqlite3_reset(statement) }
        let rc = sqlite3_step(statement)
        if rc == SQLITE_ROW { result = try map(SQLRow(statement: statement)) }
        else if rc != SQLITE_DONE { throw lastError(rc, sql: sql) }
        return result
    }

    public func scalarInt(_ sql: String, _ arguments: SQLBindable...) throws -> Int64? {
        let statement = try prepared(sql)
        try bind(statement, arguments)
        defer { sqlite3_reset(statement) }
        let rc = sqlite3_step(statement)
        if rc == SQLITE_ROW { return SQLRow(statement: statement).optionalInt(0) }
        if rc == SQLITE_DONE { return nil }
        throw lastError(rc, sql: sql)
    }

    public func scalarText(_ sql: String, _ arguments: SQLBindable...) throws -> String? {
        let statement = try prepared(sql)
        try bind(statement, arguments)
        defer { sqlite3_reset(statement) }
        let rc = sqlite3_step(statement)
        if rc == SQLITE_ROW { return SQLRow(statement: statement).optionalText(0) }
        if rc == SQLITE_DONE { return nil }
        throw lastError(rc, sql: sql)
    }

    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }
}
