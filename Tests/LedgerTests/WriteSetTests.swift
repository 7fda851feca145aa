import Foundation
import HDFDomain
@testable import Ledger
import Testing

/// Issue 11: what a purchase writes is designed for appending: time-ordered txns, a card's payments as a chain
/// from its row (no index on payments(card_id)), the fewest indexes; and the queries still find their rows
/// through an index, never by reading the whole payments table.
@Suite("The write set: time-ordered txns, the card's payment chain, the indexes the queries use")
struct WriteSetTests {
    @Test("a txn is TY + 12 characters whose text order is the order of their values")
    func txnText() {
        var previous = ""
        for value: UInt64 in [0, 1, 31, 32, 1 << 18, TxnID.firstValue(atMillis: 1_780_000_000_000), (1 << 60) - 1] {
            let text = TxnID.text(value)
            #expect(text.count == 14 && text.hasPrefix("TY"))
            #expect(TxnID.value(of: text) == value)
            #expect(text > previous)
            previous = text
        }
        #expect(TxnID.value(of: "TX9G7VZ3H8BKJW") == nil)
        #expect(TxnID.value(of: "TY0000000000I0") == nil)
        #expect(TxnID.value(of: "TY000") == nil)
    }

    @Test("txns grow with every payment, within a batch, across transactions and across two processes' handles, even when a clock goes back")
    func txnsGrow() throws {
        let env = try RulesEnvironment()
        let pan = try env.card([(.manuels, 1_000_000, nil)])
        var txns: [String] = []
        // One batch: one millisecond for all, a sequence inside it.
        let batch = try env.ledger.writeBatch(now: env.now, count: 5) { _, tx in
            try tx.purchase(card: try tx.card(pan: pan), partnerID: "PLIB", terminalID: "TLIB1", stan: env.nextStan(),
                            amountCents: 10, wallet: nil, allowPartial: false).txn
        }
        txns += try batch.map { try $0.get() }
        // A second handle on the same file (another process would open one) whose clock is an hour behind.
        let other = try Ledger(path: env.temp.path, actor: "beneficiary")
        let online = try other.write(now: env.now.addingTimeInterval(-3_600)) {
            try $0.payOnline(pan: pan, partnerID: "PLIB", wallet: .manuels, amountCents: 10).txn
        }
        txns.append(online)
        txns.append(try env.purchase(pan, terminal: "TLIB2", amount: 10).txn)
        let cancellation = try env.ledger.write(now: env.now) {
            try $0.cancelPayment(txn: txns[0], partnerID: "PLIB", terminalID: "TLIB1", stan: env.nextStan()).txn
        }
        txns.append(cancellation)
        #expect(txns.allSatisfy { TxnID.value(of: $0) != nil }, "\(txns)")
        #expect(txns == txns.sorted() && Set(txns).count == txns.count, "\(txns)")
        #expect(try env.violations().isEmpty)
    }

    @Test("a card's history comes from its chain: purchases, redemptions, online payments, reversals and refunds, of that card only")
    func chainHistory() throws {
        let env = try RulesEnvironment()
        let pan = try env.card([(.manuels, 100_000, nil)])
        let otherPan = try env.card([(.manuels, 100_000, nil)])
        let first = try env.purchase(pan, terminal: "TLIB1", amount: 100)
        try env.purchase(otherPan, terminal: "TLIB1", amount: 7)
        let reversedStan = env.nextStan()
        try env.purchase(pan, terminal: "TLIB2", amount: 200, stan: reversedStan)
        try env.ledger.write(now: env.now) { _ = try $0.reversePayment(terminalID: "TLIB2", stan: reversedStan) }
        let voucher = try env.ledger.write(now: env.now) { try $0.prepay(pan: pan, partnerID: "PLIB", wallet: .manuels, amountCents: 300) }
        try env.ledger.write(now: env.now) {
            _ = try $0.redeemVoucher(code: voucher.code, partnerID: "PLIB", terminalID: "TLIB1", stan: env.nextStan())
        }
        let online = try env.ledger.write(now: env.now) { try $0.payOnline(pan: pan, partnerID: "PLIB", wallet: .manuels, amountCents: 400) }
        try env.ledger.write(now: env.now) {
            _ = try $0.cancelPayment(txn: first.txn, partnerID: "PLIB", terminalID: "TLIB1", stan: env.nextStan())
        }
        let history = try env.read { tx in try tx.history(cardID: try tx.card(pan: pan).id) }
        let kinds = history.map(\.kind).sorted()
        #expect(kinds == ["load", "online", "purchase", "purchase", "refund", "reversal", "voucher"], "\(history)")
        #expect(!history.contains { $0.amountCents == -7 })
        #expect(history.map(\.amountCents).reduce(0, +) == (try env.available(pan, .manuels)))
        let listed = try env.read { tx in try tx.onlinePayments(partnerID: "PLIB", cardID: try tx.card(pan: pan).id) }
        #expect(listed.map(\.txn) == [online.txn])
        #expect(try env.violations().isEmpty)
    }

    @Test("gateway check finds a broken chain: a card naming another newest payment, a link to another card's payment, a payment linked twice")
    func chainChecked() throws {
        let env = try RulesEnvironment()
        let pan = try env.card([(.manuels, 100_000, nil)])
        let otherPan = try env.card([(.manuels, 100_000, nil)])
        let a = try env.purchase(pan, terminal: "TLIB1", amount: 1).txn
        let b = try env.purchase(pan, terminal: "TLIB1", amount: 1).txn
        let c = try env.purchase(otherPan, terminal: "TLIB1", amount: 1).txn
        let d = try env.purchase(pan, terminal: "TLIB1", amount: 1).txn
        #expect(try env.violations().isEmpty)
        /// Breaks the chain with `sql`, checks, then puts it back with `restore`.
        func broken(_ sql: String, restore: String) throws -> Set<String> {
            try env.ledger.connection.execute(sql)
            defer { try? env.ledger.connection.execute(restore) }
            return Set(try env.violations().map(\.invariant))
        }
        #expect(try broken("UPDATE cards SET newest_payment_txn = '\(b)' WHERE pan = '\(pan.digits)'",
                           restore: "UPDATE cards SET newest_payment_txn = '\(d)' WHERE pan = '\(pan.digits)'") == ["card-payment-chain-ends"])
        #expect(try broken("UPDATE payments SET previous_card_payment_txn = '\(c)' WHERE txn = '\(d)'",
                           restore: "UPDATE payments SET previous_card_payment_txn = '\(b)' WHERE txn = '\(d)'").contains("card-payment-chain-links"))
        #expect(try broken("UPDATE payments SET previous_card_payment_txn = '\(a)' WHERE txn = '\(d)'",
                           restore: "UPDATE payments SET previous_card_payment_txn = '\(b)' WHERE txn = '\(d)'").contains("card-payment-chain-once"))
        #expect(try env.violations().isEmpty)
    }

    @Test("an older ledger moves forward: its payments (random TX txns) chained per card in the order written, indexes replaced, new txns above")
    func migration() throws {
        let directory = NSTemporaryDirectory() + "hdf-writeset-migration-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/ledger.sqlite"
        let now = parisInstant(2026, 3, 10)
        // Payments written as before issue 11 (random txns, no chain), through the ledger's own transfers...
        let oldTxns = ["TXZZZZZZZZZZZ1", "TXAAAAAAAAAAA2", "TXMMMMMMMMMMM3"]
        let pan: PAN
        do {
            let ledger = try Ledger(path: path, actor: "test")
            defer { ledger.connection.close() }
            let (card, other) = try ledger.write(now: now) { tx in
                try tx.addStandardPartners()
                let card = try tx.issueTestCard(1), other = try tx.issueTestCard(2)
                _ = try tx.loadWallet(pan: card.pan, code: .manuels, amountCents: 10_000, validMonths: nil)
                _ = try tx.loadWallet(pan: other.pan, code: .manuels, amountCents: 10_000, validMonths: nil)
                return (card.pan, other.pan)
            }
            pan = card
            try ledger.write(now: now) { tx in
                for (index, txn) in oldTxns.enumerated() {
                    let card = try tx.card(pan: index == 1 ? other : card)
                    let wallet = try tx.wallets(cardID: card.id)[0]
                    let (_, partnerAccount) = try tx.partnerWithAccount(id: "PLIB")
                    let transfer = try tx.transfer(debit: wallet.accountID, credit: partnerAccount, amountCents: 100, phase: .single,
                                                   kind: "purchase", reference: txn)
                    _ = try tx.db.run("""
                        INSERT INTO payments(txn, kind, card_id, wallet_id, partner_id, terminal_id, stan, amount_cents, auth_code, label,
                                             status, transfer_id, created_at_ms, business_day)
                        VALUES (?, 'purchase', ?, ?, 'PLIB', 'TLIB1', ?, 100, 'AUTH01', 'P', 'approved', ?, ?, ?)
                        """, txn, card.id, wallet.id, "S\(index)", transfer, tx.nowMillis, tx.today.iso)
                }
            }
        }
        // ...and the file taken back to the schema before issue 11's migrations (7 and 8), with a stan recorded as
        // then: its digest in hex, its response whole.
        do {
            let old = try SQLiteConnection(path: path)
            defer { old.close() }
            try old.execute("""
                DROP INDEX payments_online_by_partner;
                CREATE INDEX payments_by_terminal_stan ON payments(terminal_id, stan) WHERE stan IS NOT NULL;
                CREATE INDEX payments_by_partner_kind ON payments(partner_id, kind, created_at_ms);
                CREATE INDEX payments_by_card ON payments(card_id, created_at_ms);
                ALTER TABLE cards DROP COLUMN newest_payment_txn;
                ALTER TABLE payments DROP COLUMN previous_card_payment_txn;
                DROP TABLE stans;
                CREATE TABLE stans (
                    terminal_id TEXT NOT NULL, stan TEXT NOT NULL, fingerprint TEXT, response BLOB,
                    reversed INTEGER NOT NULL DEFAULT 0, created_at_ms INTEGER NOT NULL, payment_txn TEXT REFERENCES payments(txn),
                    PRIMARY KEY (terminal_id, stan)
                ) WITHOUT ROWID;
                CREATE INDEX stans_by_age ON stans(created_at_ms);
                CREATE INDEX audit_by_age ON audit(at_ms);
                INSERT INTO stans VALUES ('TLIB1', 'S0', '\(String(repeating: "0f", count: 32))', CAST('{"code":"00"}' AS BLOB), 0, 5,
                                          '\(oldTxns[0])');
                PRAGMA user_version = \(Schema.migrations.count - 2);
                """)
        }

        let migrated = try Ledger(path: path, actor: "test")
        #expect(try migrated.connection.scalarInt("PRAGMA user_version") == Int64(Schema.migrations.count))
        let indexes = try migrated.connection.rows("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'payments' ORDER BY name") { $0.text(0) }
        #expect(indexes == ["payments_by_terminal_day", "payments_online_by_partner", "sqlite_autoindex_payments_1"])
        let auditIndexes = try migrated.connection.rows("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit'") { $0.text(0) }
        #expect(auditIndexes.isEmpty, "the audit is purged by rowid, with no index by age")
        let stan = try migrated.read { try $0.stan(terminalID: "TLIB1", stan: "S0") }
        #expect(stan == StanRecord(digest: [UInt8](repeating: 0x0F, count: 32),
                                   answer: StanAnswer(requestID: nil, code: nil, response: Array(#"{"code":"00"}"#.utf8)),
                                   reversed: false, paymentTxn: oldTxns[0],
                                   payment: StanPayment(kind: .purchase, authCode: "AUTH01", amountCents: 100, wallet: .manuels)))
        #expect(try migrated.read { try $0.checkInvariants() }.isEmpty)
        let history = try migrated.read(now: now) { tx in try tx.history(cardID: try tx.card(pan: pan).id) }
        #expect(Set(history.filter { $0.kind == "purchase" }.map(\.reference)) == [oldTxns[0], oldTxns[2]])
        let fresh = try migrated.write(now: now) { tx in
            try tx.purchase(card: try tx.card(pan: pan), partnerID: "PLIB", terminalID: "TLIB1", stan: "NEW", amountCents: 5,
                            wallet: nil, allowPartial: false).txn
        }
        #expect(fresh > oldTxns.max()!)
        let after = try migrated.read(now: now) { tx in try tx.history(cardID: try tx.card(pan: pan).id) }
        #expect(after.filter { $0.kind == "purchase" }.count == 3)
        #expect(try migrated.read { try $0.checkInvariants() }.isEmpty)
    }

    /// The plan SQLite chooses for each query that reads payments by something other than its txn.
    static func plan(_ ledger: Ledger, _ sql: String, _ arguments: SQLBindable...) throws -> String {
        var lines: [String] = []
        try ledger.connection.forEach("EXPLAIN QUERY PLAN " + sql, arguments) { lines.append($0.text(3)) }
        return lines.joined(separator: " | ")
    }

    @Test("each query on payments by something other than its txn goes through an index (EXPLAIN QUERY PLAN), never a scan of payments")
    func queriesUseIndexes() throws {
        let env = try RulesEnvironment()
        let pan = try env.card([(.manuels, 1_000, nil)])
        try env.purchase(pan, terminal: "TLIB1", amount: 1)
        try env.ledger.connection.execute("ANALYZE")
        let totals = try Self.plan(env.ledger, """
            SELECT COUNT(*), COALESCE(SUM(amount_cents), 0) FROM payments
            WHERE terminal_id = ? AND business_day = ? AND kind = 'purchase' AND status <> 'reversed'
            """, "TLIB1", "2026-03-10")
        #expect(totals.contains("payments_by_terminal_day"), "\(totals)")
        let onlineTotals = try Self.plan(env.ledger, """
            SELECT COUNT(*), COALESCE(SUM(amount_cents), 0) FROM payments
            WHERE partner_id = ? AND kind = 'online' AND created_at_ms >= ? AND created_at_ms < ? AND business_day = ?
            """, "PLIB", 0, 1, "2026-03-10")
        #expect(onlineTotals.contains("payments_online_by_partner"), "\(onlineTotals)")
        let onlineList = try Self.plan(env.ledger, """
            SELECT txn FROM payments p
            WHERE p.partner_id = ? AND p.kind = 'online' AND p.created_at_ms >= ? ORDER BY p.created_at_ms DESC, p.rowid DESC LIMIT ?
            """, "PLIB", 0, 500)
        #expect(onlineList.contains("payments_online_by_partner"), "\(onlineList)")
        let reversal = try Self.plan(env.ledger, """
            SELECT txn FROM payments
            WHERE terminal_id = ? AND business_day >= ? AND stan = ? AND kind IN ('purchase', 'voucher') AND created_at_ms >= ?
            ORDER BY created_at_ms DESC, rowid DESC LIMIT 1
            """, "TLIB1", "2026-03-03", "R1", 0)
        #expect(reversal.contains("payments_by_terminal_day"), "\(reversal)")
        let history = try Self.plan(env.ledger, "WITH RECURSIVE \(LedgerTransaction.cardPaymentsChain) SELECT p.amount_cents FROM card_payments cp JOIN payments p ON p.txn = cp.txn", 1)
        for plan in [totals, onlineTotals, onlineList, reversal, history] {
            #expect(!plan.contains("SCAN payments") && !plan.contains("SCAN p "), "\(plan)")
        }
    }

    @Test("a ledger moved forward by a newer program is refused, not written by an older one")
    func newerSchemaRefused() throws {
        let temp = try TempLedger()
        try temp.ledger.connection.execute("PRAGMA user_version = \(Schema.migrations.count + 1)")
        #expect(throws: LedgerError.self) { _ = try Ledger(path: temp.path, actor: "test") }
    }

    @Test("a row's business day is the day of its created_at_ms, even in the last half-millisecond before midnight")
    func dayOfTheMillisecond() throws {
        let env = try RulesEnvironment()
        let pan = try env.card([(.manuels, 1_000, nil)])
        let midnight = Double(ParisCalendar.startMillis(of: LocalDate(year: 2026, month: 3, day: 11)!)) / 1000
        let approval = try env.purchase(pan, terminal: "TLIB1", amount: 1, at: Date(timeIntervalSince1970: midnight - 0.0004))
        let payment = try env.read { try $0.payment(txn: approval.txn) }
        let row = try env.ledger.connection.rows("SELECT created_at_ms, business_day FROM payments WHERE txn = ?", payment.txn) {
            ($0.int(0), $0.text(1))
        }
        #expect(row.first?.0 == Int64(midnight * 1000))
        #expect(row.first?.1 == "2026-03-11")
    }
}
