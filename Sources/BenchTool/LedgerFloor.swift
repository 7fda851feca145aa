import ArgumentParser
import CSQLite
import Crypto
import Foundation
import HDFDomain
import Ledger
import Provisioning

/// What the disk allows (issue 11): the rows one approved purchase writes in the project's schema, written by
/// raw SQLite C calls (prepared statements, no savepoint, no reads, no Swift wrapper), `--batch` purchases per
/// commit, in WAL with `synchronous=FULL`, on a copy of the environment's ledger on the same file system
/// (`VACUUM INTO`): the same tables, indexes, triggers and size as the ledger `ledger-only` writes to.
///
/// The rows, in the order the gateway writes them (Authorizer + LedgerTransaction.purchase):
///   the card's ATC; a transfer and its two account totals; the payment and the card's link to it (its chain);
///   the stan's compact record (migration 8: its digest, the request's id, the code, the balance after, its
///   payment); the audit line.
/// Anything the gateway does beyond these rows (parsing, the cryptogram, choosing the wallet, savepoints,
/// the checks) is the distance between `ledger_only/s` and this figure.
struct LedgerFloor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger-floor",
        abstract: "Write the rows of the bench's purchases with raw SQLite calls on a copy of the ledger -> ledger_floor/s.")

    @OptionGroup var ledgerRun: LedgerRunOptions
    @Option(help: "Purchases per commit.")
    var batch: Int = 64
    @Option(name: .customLong("drop-index"), help: ArgumentHelp(
        "An index of the copy dropped before the run (repeatable): what one index costs a purchase.", valueName: "name"))
    var dropIndex: [String] = []
    @Flag(name: .customLong("random-txn"), help: "Random txn keys (`TX` + 12 random characters, before issue 11) instead of time-ordered ones.")
    var randomTxn = false
    @Option(name: .customLong("max-amount"), help: "Purchases are of 1 to this many cents, at random.")
    var maxAmount: Int64 = 500

    func run() throws {
        let plan = try BenchPlan.load(ledgerRun.plan)
        let layout = EnvironmentLayout(directory: plan.dir)
        let copyPath = layout.path("ledger-floor.sqlite")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: copyPath + suffix) }
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: copyPath + suffix) } }

        let copyStarted = Clock.now()
        do {
            let source = try RawSQLite(path: layout.ledgerPath)
            try source.execute("VACUUM INTO '\(copyPath)'")
        }
        let db = try RawSQLite(path: copyPath)
        // The settings of every ledger connection (Ledger.openConnection); `ledger-only` checkpoints the same way.
        for pragma in ["journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "temp_store=MEMORY", "wal_autocheckpoint=1000"] {
            try db.execute("PRAGMA \(pragma)")
        }
        for name in dropIndex { try db.execute("DROP INDEX \(name)") }
        let indexes = try db.texts("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('payments', 'stans', 'audit', 'transfers', 'cards', 'accounts') ORDER BY name")
        say("ledger_floor: copy of the ledger in \(format(Double(Clock.now() - copyStarted) / 1e9)) s; indexes of the written tables: "
            + indexes.joined(separator: " "))

        // Each terminal's partner account; each card's id, last ATC, MANUELS wallet and its account.
        struct FloorCard { let id: Int64; var atc: Int64; let walletID: Int64; let walletAccount: Int64; let masked: String }
        struct FloorTerminal { let id: String; let partnerID: String; let partnerAccount: Int64; let label: String; var cards: [FloorCard] }
        var terminals: [FloorTerminal] = []
        for terminal in plan.terminals {
            let partner = try db.row("SELECT account_id, name FROM partners WHERE id = ?", [.text(terminal.partner)])
            let cards = try terminal.cards.map { card -> FloorCard in
                let row = try db.row("""
                    SELECT c.id, c.last_atc, w.id, w.account_id FROM cards c JOIN wallets w ON w.card_id = c.id AND w.code = 'MANUELS'
                    WHERE c.pan = ?
                    """, [.text(card.pan)])
                return FloorCard(id: row[0].int, atc: row[1].int, walletID: row[2].int, walletAccount: row[3].int,
                                 masked: PAN.mask(card.pan))
            }
            terminals.append(FloorTerminal(id: terminal.id, partnerID: terminal.partner, partnerAccount: partner[0].int,
                                           label: partner[1].text, cards: cards))
        }

        // The gateway's statements, as written in Ledger (Payments.swift, Transfers.swift, Vouchers.swift, Ledger.swift).
        let updateATC = try db.prepare("UPDATE cards SET last_atc = ? WHERE id = ? AND last_atc < ?")
        let insertTransfer = try db.prepare("""
            INSERT INTO transfers(debit_account_id, credit_account_id, amount_cents, phase, kind, reference, created_at_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        let debit = try db.prepare("UPDATE accounts SET debits_posted = debits_posted + ? WHERE id = ?")
        let credit = try db.prepare("UPDATE accounts SET credits_posted = credits_posted + ? WHERE id = ?")
        let insertPayment = try db.prepare("""
            INSERT INTO payments(txn, kind, card_id, wallet_id, partner_id, terminal_id, stan, amount_cents, auth_code, label,
                                 status, transfer_id, created_at_ms, business_day, previous_card_payment_txn)
            VALUES (?, 'purchase', ?, ?, ?, ?, ?, ?, ?, ?, 'approved', ?, ?, ?, (SELECT newest_payment_txn FROM cards WHERE id = ?))
            """)
        let linkNewest = try db.prepare("UPDATE cards SET newest_payment_txn = ? WHERE id = ?")
        let insertStan = try db.prepare("""
            INSERT INTO stans(terminal_id, stan, digest, request_id, code, request_type, message, balance_after_cents, response,
                              payment_txn, reversed, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
            ON CONFLICT(terminal_id, stan) DO UPDATE SET digest = excluded.digest, request_id = excluded.request_id,
                code = excluded.code, request_type = excluded.request_type, message = excluded.message,
                balance_after_cents = excluded.balance_after_cents, response = excluded.response, payment_txn = excluded.payment_txn
            WHERE stans.digest IS NULL
            """)
        let insertAudit = try db.prepare("INSERT INTO audit(at_ms, actor, action, subject, result, detail) VALUES (?, ?, ?, ?, ?, ?)")

        var newestTxn = try db.texts("SELECT max(txn) FROM payments").first.flatMap(TxnID.value(of:)) ?? 0
        var random = SplitMix64(seed: 0xF100)
        let stanPrefix = "Z" + PurchaseGenerator.runTag()
        var counter = 0
        var nextTerminal = 0
        var nextCard = Array(repeating: 0, count: terminals.count)

        let window = ledgerRun.window
        var measured = 0, measuredNanos: UInt64 = 0
        var latencies: [UInt64] = []
        while Clock.now() < window.measureEnd {
            // What the gateway has in hand when it writes (its values, not timed here).
            var rows: [PurchaseRows] = []
            rows.reserveCapacity(batch)
            let nowMillis = Int64(Date().timeIntervalSince1970 * 1000)
            let today = ParisCalendar.businessDay(of: Date()).iso
            for _ in 0..<batch {
                let t = nextTerminal
                nextTerminal = (nextTerminal + 1) % terminals.count
                let c = nextCard[t]
                nextCard[t] = (c + 1) % terminals[t].cards.count
                terminals[t].cards[c].atc += 1
                counter += 1
                let card = terminals[t].cards[c]
                let stan = stanPrefix + String(counter, radix: 36, uppercase: true)
                let amount = Int64.random(in: 1...max(1, maxAmount), using: &random)
                let txn: String
                if randomTxn {
                    txn = "TX" + String((0..<12).map { _ in "ABCDEFGHJKMNPQRSTUVWXYZ23456789".randomElement(using: &random)! })
                } else {
                    newestTxn = max(TxnID.firstValue(atMillis: nowMillis), newestTxn + 1)
                    txn = TxnID.text(newestTxn)
                }
                let authCode = String((0..<6).map { _ in "ABCDEFGHJKMNPQRSTUVWXYZ23456789".randomElement(using: &random)! })
                // The stan's compact record (migration 8): its digest's 32 bytes, the request's id, the code and the
                // balance after; the answer is re-derived from the payment.
                let digest = Array(SHA256.hash(data: Array("purchase \(stan) \(amount) \(card.atc)".utf8)))
                rows.append(PurchaseRows(terminal: terminals[t].id, partner: terminals[t].partnerID,
                                         partnerAccount: terminals[t].partnerAccount, label: terminals[t].label,
                                         cardID: card.id, atc: card.atc, walletID: card.walletID, walletAccount: card.walletAccount,
                                         masked: card.masked, stan: stan, amount: amount, txn: txn, authCode: authCode,
                                         digest: digest))
            }

            let started = Clock.now()
            try db.execute("BEGIN IMMEDIATE")
            for row in rows {
                try updateATC.run([.int(row.atc), .int(row.cardID), .int(row.atc)], expectChanges: 1)
                try insertTransfer.run([.int(row.walletAccount), .int(row.partnerAccount), .int(row.amount), .text("single"),
                                        .text("purchase"), .text(row.txn), .int(nowMillis)])
                let transferID = db.lastInsertRowID
                try debit.run([.int(row.amount), .int(row.walletAccount)], expectChanges: 1)
                try credit.run([.int(row.amount), .int(row.partnerAccount)], expectChanges: 1)
                try insertPayment.run([.text(row.txn), .int(row.cardID), .int(row.walletID), .text(row.partner), .text(row.terminal),
                                       .text(row.stan), .int(row.amount), .text(row.authCode), .text(row.label), .int(transferID),
                                       .int(nowMillis), .text(today), .int(row.cardID)])
                try linkNewest.run([.text(row.txn), .int(row.cardID)], expectChanges: 1)
                try insertStan.run([.text(row.terminal), .text(row.stan), .blob(row.digest), .text(row.stan), .text("00"), .null,
                                    .null, .int(99_999_999), .null, .text(row.txn), .int(nowMillis)])
                try insertAudit.run([.int(nowMillis), .text("terminal:" + row.terminal), .text("purchase"), .text(row.masked),
                                     .text("00"), .text("stan=" + row.stan)])
            }
            try db.execute("COMMIT")
            let finished = Clock.now()
            if started >= window.warmEnd {
                measured += rows.count
                measuredNanos += finished - started
                latencies.append(finished - started)
            }
        }
        let rate = measuredNanos > 0 ? Double(measured) / (Double(measuredNanos) / 1e9) : 0
        latencies.sort()
        let walBytes = (try? FileManager.default.attributesOfItem(atPath: copyPath + "-wal")[.size] as? Int) ?? 0
        say("ledger_floor: \(terminals.count) terminals, batches of \(batch), \(randomTxn ? "random" : "time-ordered") txn keys"
            + (dropIndex.isEmpty ? "" : ", without \(dropIndex.joined(separator: " "))")
            + ": \(measured) purchases in \(format(Double(measuredNanos) / 1e9)) s of writing: \(Int(rate.rounded()))/s, "
            + "\(format(rate > 0 ? 1e6 / rate : 0, decimals: 1)) µs per purchase; one commit p50 "
            + "\(format(percentileMilliseconds(latencies, 0.5))) ms p99 \(format(percentileMilliseconds(latencies, 0.99))) ms; "
            + "WAL \(walBytes / 1024) KiB at the end")
        say("result ledger_floor rate=\(Int(rate.rounded())) errors=0")
    }
}

/// One purchase's values, ready to bind.
private struct PurchaseRows {
    let terminal: String, partner: String, partnerAccount: Int64, label: String
    let cardID: Int64, atc: Int64, walletID: Int64, walletAccount: Int64, masked: String
    let stan: String, amount: Int64, txn: String, authCode: String, digest: [UInt8]
}

/// The SQLite C API and nothing else: the floor must not measure a wrapper.
final class RawSQLite {
    let handle: OpaquePointer

    init(path: String) throws {
        var handle: OpaquePointer?
        let status = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard status == SQLITE_OK, let handle else {
            if let handle { sqlite3_close_v2(handle) }
            throw ValidationError("cannot open \(path): SQLite \(status)")
        }
        self.handle = handle
        sqlite3_busy_timeout(handle, 5_000)
    }

    deinit { sqlite3_close_v2(handle) }

    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    func failure(_ what: String) -> ValidationError {
        ValidationError("\(what): \(String(cString: sqlite3_errmsg(handle)))")
    }

    func execute(_ sql: String) throws {
        guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else { throw failure(sql) }
    }

    func prepare(_ sql: String) throws -> RawStatement {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil) == SQLITE_OK,
              let statement else { throw failure(sql) }
        return RawStatement(db: self, statement: statement)
    }

    func row(_ sql: String, _ values: [RawValue]) throws -> [RawValue] {
        let statement = try prepare(sql)
        guard let row = try statement.firstRow(values) else { throw ValidationError("no row for \(sql) \(values)") }
        return row
    }

    func texts(_ sql: String) throws -> [String] {
        let statement = try prepare(sql)
        return try statement.allRows([]).compactMap { $0.first.flatMap { if case .text(let text) = $0 { text } else { nil } } }
    }
}

enum RawValue: CustomStringConvertible {
    case int(Int64), text(String), blob([UInt8]), null
    var int: Int64 { if case .int(let value) = self { value } else { 0 } }
    var text: String { if case .text(let value) = self { value } else { "" } }
    var description: String {
        switch self {
        case .int(let value): "\(value)"
        case .text(let value): value
        case .blob(let value): "\(value.count) bytes"
        case .null: "NULL"
        }
    }
}

private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

final class RawStatement {
    let db: RawSQLite
    let statement: OpaquePointer

    init(db: RawSQLite, statement: OpaquePointer) {
        self.db = db
        self.statement = statement
    }

    deinit { sqlite3_finalize(statement) }

    private func bind(_ values: [RawValue]) {
        sqlite3_reset(statement)
        for (index, value) in values.enumerated() {
            let position = Int32(index + 1)
            switch value {
            case .int(let number): sqlite3_bind_int64(statement, position, number)
            case .text(let text): sqlite3_bind_text(statement, position, text, -1, transient)
            case .blob(let bytes): bytes.withUnsafeBytes { _ = sqlite3_bind_blob(statement, position, $0.baseAddress, Int32(bytes.count), transient) }
            case .null: sqlite3_bind_null(statement, position)
            }
        }
    }

    /// Runs a statement that returns no row; with `expectChanges`, checks how many rows it changed.
    func run(_ values: [RawValue], expectChanges: Int32? = nil) throws {
        bind(values)
        guard sqlite3_step(statement) == SQLITE_DONE else { throw db.failure("a write of the floor failed") }
        if let expectChanges, sqlite3_changes(db.handle) != expectChanges {
            throw ValidationError("a write of the floor changed \(sqlite3_changes(db.handle)) rows, not \(expectChanges)")
        }
    }

    func allRows(_ values: [RawValue]) throws -> [[RawValue]] {
        bind(values)
        var rows: [[RawValue]] = []
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { return rows }
            guard status == SQLITE_ROW else { throw db.failure("a read of the floor failed") }
            rows.append((0..<sqlite3_column_count(statement)).map { column in
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: .int(sqlite3_column_int64(statement, column))
                case SQLITE_TEXT: .text(String(cString: sqlite3_column_text(statement, column)))
                case SQLITE_NULL: .null
                default: .blob([])
                }
            })
        }
    }

    func firstRow(_ values: [RawValue]) throws -> [RawValue]? { try allRows(values).first }
}
