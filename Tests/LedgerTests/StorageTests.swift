import Foundation
import HDFDomain
import Ledger
import Testing

@Suite("storage: durability, constraints, invariant checks")
struct StorageTests {
    @Test("after opening: synchronous=FULL (2), journal_mode=wal, foreign keys on; reopening keeps the data")
    func durabilityConfiguration() throws {
        let temp = try TempLedger()
        let db = temp.ledger.connection
        #expect(try db.scalarInt("PRAGMA synchronous") == 2)
        #expect(try db.scalarText("PRAGMA journal_mode")?.lowercased() == "wal")
        #expect(try db.scalarInt("PRAGMA foreign_keys") == 1)
        let version = try db.scalarInt("PRAGMA user_version")
        #expect((version ?? 0) >= 1)

        let pan = try temp.ledger.write { tx in
            try tx.addStandardPartners()
            let card = try tx.issueTestCard(1)
            _ = try tx.loadWallet(pan: card.pan, code: .manuels, amountCents: 1_234, validMonths: nil)
            return card.pan
        }
        // A second handle on the same file (another process would do the same): same settings, same data,
        // migrations not run twice.
        let second = try Ledger(path: temp.path, actor: "other")
        #expect(try second.connection.scalarInt("PRAGMA synchronous") == 2)
        #expect(try second.connection.scalarText("PRAGMA journal_mode")?.lowercased() == "wal")
        #expect(try second.connection.scalarInt("PRAGMA user_version") == version)
        #expect(try second.read { try $0.availableCents(pan: pan, .manuels) } == 1_234)
        #expect(try second.connection.scalarInt("SELECT COUNT(*) FROM accounts WHERE kind = 'funding'") == 1)
        #expect(try second.read { try $0.checkInvariants() }.isEmpty)
    }

    @Test("Ledger.open refuses a directory without a ledger")
    func openMissing() throws {
        let temp = try TempLedger()
        let empty = temp.directory.appendingPathComponent("empty").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect(throws: LedgerError.self) { try Ledger.open(directory: empty, actor: "test") }
        #expect(!FileManager.default.fileExists(atPath: empty + "/ledger.sqlite"), "nothing created")
    }

    /// A ledger with a card whose MANUELS wallet holds 5,000 cents and a purchase of 1,000 at PLIB.
    func funded() throws -> (TempLedger, PAN) {
        let temp = try TempLedger()
        let pan = try temp.ledger.write { tx in
            try tx.addStandardPartners()
            let card = try tx.issueTestCard(1)
            _ = try tx.loadWallet(pan: card.pan, code: .manuels, amountCents: 6_000, validMonths: nil)
            _ = try tx.purchase(card: card, partnerID: "PLIB", terminalID: "TLIB1", stan: "1", amountCents: 1_000,
                                wallet: nil, allowPartial: false)
            return card.pan
        }
        return (temp, pan)
    }

    func expectConstraintViolation(_ db: SQLiteConnection, _ sql: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try db.execute(sql)
            Issue.record("accepted: \(sql)", sourceLocation: sourceLocation)
        } catch let error as SQLiteError {
            #expect(error.isConstraintViolation, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("raw SQL cannot take a wallet below zero: the CHECK constraint backs the code")
    func walletBoundInTheDatabase() throws {
        let (temp, pan) = try funded()
        let db = temp.ledger.connection
        let before = try LedgerSnapshot(db)
        let wallet = "(SELECT account_id FROM wallets LIMIT 1)"
        // Posted, pending, and a mix; one cent too many is enough.
        expectConstraintViolation(db, "UPDATE accounts SET debits_posted = debits_posted + 5001 WHERE id = \(wallet)")
        expectConstraintViolation(db, "UPDATE accounts SET debits_pending = debits_pending + 5001 WHERE id = \(wallet)")
        expectConstraintViolation(db, "UPDATE accounts SET debits_posted = debits_posted + 2500, debits_pending = debits_pending + 2501 WHERE id = \(wallet)")
        expectConstraintViolation(db, "UPDATE accounts SET credits_posted = 0 WHERE id = \(wallet)")
        // Inside a transaction the same way the ledger writes: refused, and nothing kept after ROLLBACK.
        try db.execute("BEGIN IMMEDIATE")
        expectConstraintViolation(db, "UPDATE accounts SET debits_posted = debits_posted + 999999 WHERE kind = 'wallet'")
        try db.execute("ROLLBACK")
        // A partner refunds only what it received; totals are never negative; transfers move a positive amount.
        expectConstraintViolation(db, "UPDATE accounts SET debits_posted = debits_posted + 1001 WHERE name = 'partner:PLIB'")
        expectConstraintViolation(db, "UPDATE accounts SET debits_pending = -1 WHERE name = 'partner:PRESTO'")
        expectConstraintViolation(db, """
            INSERT INTO transfers(debit_account_id, credit_account_id, amount_cents, phase, kind, created_at_ms)
            VALUES (1, \(wallet), 0, 'single', 'load', 0)
            """)
        expectConstraintViolation(db, """
            INSERT INTO transfers(debit_account_id, credit_account_id, amount_cents, phase, kind, created_at_ms)
            VALUES (1, 1, 10, 'single', 'load', 0)
            """)
        expectConstraintViolation(db, "UPDATE payments SET status = 'cancelled'") // without its undo transfer
        #expect(try LedgerSnapshot(db) == before)
        #expect(try temp.ledger.read { try $0.availableCents(pan: pan, .manuels) } == 5_000)
        // Exactly to zero is allowed.
        try db.execute("UPDATE accounts SET debits_posted = debits_posted + 5000 WHERE id = \(wallet)")
        #expect(try temp.ledger.read { try $0.availableCents(pan: pan, .manuels) } == 0)
    }

    @Test("checkInvariants names what raw SQL broke", arguments: [
        ("UPDATE accounts SET credits_posted = credits_posted + 100 WHERE kind = 'wallet'",
         ["double-entry-balanced", "account-totals-match-transfers"]),
        ("UPDATE accounts SET credits_posted = credits_posted + 100, debits_posted = debits_posted + 100 WHERE kind = 'wallet'",
         ["account-totals-match-transfers"]),
        ("UPDATE transfers SET amount_cents = amount_cents + 1 WHERE kind = 'purchase'",
         ["account-totals-match-transfers", "payment-money-matches-status"]),
        ("UPDATE vouchers SET status = 'redeemed'", ["voucher-money-matches-status", "redeemed-voucher-has-one-live-redemption"]),
        ("UPDATE vouchers SET status = 'cancelled'", ["voucher-money-matches-status"]),
        ("UPDATE payments SET status = 'reversed', undo_transfer_id = transfer_id WHERE kind = 'purchase'", ["payment-money-matches-status"]),
        ("UPDATE payments SET amount_cents = amount_cents + 1 WHERE kind = 'purchase'", ["payment-money-matches-status"]),
        ("DELETE FROM loads WHERE id = (SELECT MIN(id) FROM loads)", ["every-transfer-accounted-for"]),
        ("UPDATE loads SET amount_cents = amount_cents + 1", ["load-from-funding"]),
        ("UPDATE transfers SET resolved_by = NULL WHERE phase = 'pending' AND resolved_by IS NOT NULL", ["pending-resolved-once"]),
    ])
    func invariantsCatchTampering(_ sql: String, _ expected: [String]) throws {
        let (temp, pan) = try funded()
        // A voucher issued and one cancelled, so that every table has rows to break.
        try temp.ledger.write { tx in
            _ = try tx.prepay(pan: pan, partnerID: "PLIB", wallet: .manuels, amountCents: 300)
            let cancelled = try tx.prepay(pan: pan, partnerID: "PRESTO", wallet: .manuels, amountCents: 200)
            _ = try tx.cancelPrepayment(pan: pan, code: cancelled.code)
        }
        #expect(try temp.ledger.read { try $0.checkInvariants() }.isEmpty)
        try temp.ledger.connection.execute("PRAGMA ignore_check_constraints = ON")
        try temp.ledger.connection.execute(sql)
        let broken = Set(try temp.ledger.read { try $0.checkInvariants() }.map(\.invariant))
        for invariant in expected { #expect(broken.contains(invariant), "\(broken)") }
        #expect(!broken.isEmpty)
    }

    @Test("a wallet below zero (only possible with the constraints off) is named")
    func walletBelowZeroIsNamed() throws {
        let (temp, _) = try funded()
        try temp.ledger.connection.execute("PRAGMA ignore_check_constraints = ON")
        try temp.ledger.connection.execute("UPDATE accounts SET debits_posted = debits_posted + 9000 WHERE kind = 'wallet'")
        let broken = try temp.ledger.read { try $0.checkInvariants() }
        #expect(broken.contains { $0.invariant == "no-wallet-below-zero" }, "\(broken)")
    }
}
