import Foundation
import Glibc
import HDFDomain
@testable import Ledger
import Provisioning
import Testing
import WireProtocol

/// Issue 8, the ledger and authoriser items: each as a terminal or the operator would see it.
@Suite("ledger and authoriser hardening (issue 8)")
struct LedgerHardeningTests {
    static let day: TimeInterval = 86_400

    // MARK: exact reversals

    @Test("a stan reused after the retention, then reversed, reverses the new payment; the old one stays as it was")
    func exactReversalAfterRetention() throws {
        let gateway = try Decider("exact-reversal")
        let pan = gateway.manifest.manuelsCards[0].pan
        let before = try gateway.available(pan)
        let old = try gateway.purchase(pan, 300, stan: "000777")
        #expect(old.code == "00")
        let oldTxn = try #require(old.string("txn"))

        // Eight days later the stan is forgotten, and the terminal's counter comes round to it again.
        gateway.now = gateway.now.addingTimeInterval(8 * Self.day)
        let purged = try gateway.ledger.write(now: gateway.now) { try $0.purgeStans() }
        #expect(purged >= 1)
        let new = try gateway.purchase(pan, 500, stan: "000777")
        #expect(new.code == "00", "past the retention the stan is simply new")
        let newTxn = try #require(new.string("txn"))
        #expect(newTxn != oldTxn)

        #expect(try gateway.reverse("000777").code == "00")
        let payments = try gateway.ledger.read { tx in (try tx.payment(txn: oldTxn), try tx.payment(txn: newTxn)) }
        #expect(payments.0.status == .approved, "the old payment stays as it was")
        #expect(payments.1.status == .reversed, "the new payment is the one reversed")
        #expect(try gateway.available(pan) == before - 300)

        // `status` answers about exactly that request too.
        let status = try gateway.status("000777")
        #expect(status["original"]?.string("txn") == newTxn)
        #expect(try gateway.violations().isEmpty)
    }

    @Test("gateway check sees a reversed stan whose payment is still approved")
    func checkSeesAWrongReversal() throws {
        let gateway = try Decider("check-reversal")
        let pan = gateway.manifest.manuelsCards[1].pan
        #expect(try gateway.purchase(pan, 200, stan: "S1").code == "00")
        #expect(try gateway.violations().isEmpty)
        // What the old code did: the stan marked reversed, its own payment left approved.
        try gateway.otherConnection("UPDATE stans SET reversed = 1 WHERE stan = 'S1'")
        let violations = try gateway.violations()
        #expect(violations.map(\.invariant) == ["stan-names-its-payment"], "\(violations)")
    }

    @Test("the migration moves an existing ledger forward: each answered stan names the newest payment made under it since")
    func migrationLinksStansToPayments() throws {
        let directory = NSTemporaryDirectory() + "hdf-hardening-migration-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/ledger.sqlite"
        // A ledger as the first schema left it: two payments under one stan (8 days apart), the stan's record
        // from the second use, and a stan whose request was declined (no payment).
        let old = try SQLiteConnection(path: path)
        try old.execute("PRAGMA journal_mode=WAL")
        try old.execute(Schema.migrations[0])
        try old.execute("PRAGMA user_version = 1")
        try old.execute("""
            INSERT INTO accounts(id, kind, name, credits_posted, debits_posted) VALUES (2, 'wallet', 'w', 1000, 0), (3, 'partner', 'p', 0, 0);
            INSERT INTO transfers(id, debit_account_id, credit_account_id, amount_cents, phase, kind, created_at_ms) VALUES
                (1, 1, 2, 1000, 'single', 'load', 0), (2, 2, 3, 100, 'single', 'purchase', 1000), (3, 2, 3, 200, 'single', 'purchase', 700000000);
            UPDATE accounts SET debits_posted = 1000 WHERE id = 1;
            UPDATE accounts SET debits_posted = 300 WHERE id = 2;
            UPDATE accounts SET credits_posted = 300 WHERE id = 3;
            INSERT INTO beneficiaries(id, dossier, first_name, last_name) VALUES (1, 'D1', 'Léa', 'Martin');
            INSERT INTO cards(id, pan, beneficiary_id, status, issued_at_ms) VALUES (1, '9250000000000008', 1, 'active', 0);
            INSERT INTO wallets(id, card_id, code, account_id, loaded_on, expires_on) VALUES (1, 1, 'MANUELS', 2, '2026-01-01', '2099-01-01');
            INSERT INTO loads(wallet_id, amount_cents, expires_on, transfer_id, created_at_ms) VALUES (1, 1000, '2099-01-01', 1, 0);
            INSERT INTO partners(id, name, category, city, accepts_prepayment, accepts_online, account_id) VALUES ('P1', 'P', 'librairie', 'Amiens', 0, 0, 3);
            INSERT INTO terminals(id, partner_id, cert_sha256, status, enrolled_at_ms) VALUES ('T1', 'P1', 'x', 'active', 0);
            INSERT INTO payments(txn, kind, card_id, wallet_id, partner_id, terminal_id, stan, amount_cents, label, status, transfer_id, created_at_ms, business_day)
                VALUES ('OLD', 'purchase', 1, 1, 'P1', 'T1', '42', 100, 'P', 'approved', 2, 1000, '2026-01-01'),
                       ('NEW', 'purchase', 1, 1, 'P1', 'T1', '42', 200, 'P', 'approved', 3, 700000000, '2026-01-09');
            INSERT INTO stans(terminal_id, stan, fingerprint, response, reversed, created_at_ms) VALUES
                ('T1', '42', 'f', x'7b7d', 0, 700000000), ('T1', '43', 'g', x'7b7d', 0, 700000500);
            """)
        let ledger = try Ledger(path: path, actor: "operator")
        let (named, declined) = try ledger.read { tx in
            (try tx.stan(terminalID: "T1", stan: "42")?.paymentTxn, try tx.stan(terminalID: "T1", stan: "43")?.paymentTxn)
        }
        #expect(named == "NEW")
        #expect(declined == nil)
        let undone = try ledger.write { try $0.reversePayment(terminalID: "T1", stan: "42") }
        #expect(undone?.txn == "NEW")
        #expect(try ledger.read { try $0.payment(txn: "OLD") }.status == .approved)
        #expect(try ledger.read { try $0.checkInvariants() }.isEmpty)
    }

    // MARK: file modes

    static func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test("the environment directory is 0700; the ledger and its -wal/-shm are 0600, whichever process creates them")
    func fileModes() throws {
        let (directory, _) = try makeEnvironment("modes")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = EnvironmentLayout(directory: directory).ledgerPath
        #expect(Self.mode(directory) == 0o700)
        #expect(Self.mode(path) == 0o600)
        // Every handle closed: SQLite removed -wal and -shm. The beneficiary side opens first and writes,
        // so it creates them (the process umask is the usual 022: SQLite alone would make them 0644).
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        do {
            let beneficiary = try Ledger(path: path, actor: "beneficiary")
            let gateway = try Ledger(path: path, actor: "gateway")
            try beneficiary.write { try $0.audit(action: "test.write", result: "ok") }
            try gateway.write { try $0.audit(action: "test.write", result: "ok") }
            #expect(FileManager.default.fileExists(atPath: path + "-wal"))
            for suffix in ["", "-wal", "-shm"] {
                #expect(Self.mode(path + suffix) == 0o600, "\(suffix): \(String(Self.mode(path + suffix), radix: 8))")
            }
        }
        // An older environment with a 0644 ledger is set to 0600 when opened.
        #expect(chmod(path, 0o644) == 0)
        _ = try Ledger(path: path, actor: "operator")
        #expect(Self.mode(path) == 0o600)
    }

    // MARK: lock wait and rollback

    @Test("a failed ROLLBACK reopens the connection (and says so) instead of stopping the process")
    func failedRollbackReopens() throws {
        let gateway = try Decider("rollback")
        var reasons: [String] = []
        gateway.ledger.onConnectionReopened = { reasons.append($0) }
        let first = gateway.ledger.connection
        gateway.ledger.failNextRollbackForTesting = true
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try gateway.ledger.write { tx in
                try tx.audit(action: "test.half-done", result: "ok")
                throw Refused()
            }
        }
        #expect(reasons.count == 1 && reasons[0].contains("ROLLBACK failed"), "\(reasons)")
        #expect(gateway.ledger.connection !== first)
        // Nothing of the half-done write was kept, and the next request is served.
        #expect(try gateway.ledger.read { try $0.db.scalarInt("SELECT COUNT(*) FROM audit WHERE action = 'test.half-done'") } == 0)
        let after = try gateway.purchase(gateway.manifest.manuelsCards[2].pan, 100, stan: "AFTER")
        #expect(after.code == "00", "\(after)")
    }

    @Test("a transaction left open on the connection is rolled back before the next, not a precondition failure")
    func leftOpenTransactionRecovers() throws {
        let gateway = try Decider("left-open")
        try gateway.ledger.connection.execute("BEGIN")
        try gateway.ledger.connection.execute("INSERT INTO audit(at_ms, actor, action, result) VALUES (0, 'x', 'test.left-open', 'ok')")
        #expect(try gateway.purchase(gateway.manifest.manuelsCards[2].pan, 100, stan: "NEXT").code == "00")
        #expect(try gateway.ledger.read { try $0.db.scalarInt("SELECT COUNT(*) FROM audit WHERE action = 'test.left-open'") } == 0)
    }

    @Test("another connection holding the write lock: the write fails busy within the one bound, nothing changed")
    func lockWaitIsOneBound() throws {
        let gateway = try Decider("lock-wait")
        let pan = gateway.manifest.manuelsCards[3].pan
        let before = try gateway.available(pan)
        let holder = try SQLiteConnection(path: EnvironmentLayout(directory: gateway.directory).ledgerPath)
        try holder.execute("BEGIN IMMEDIATE")
        let started = ContinuousClock.now
        let answer = try gateway.purchase(pan, 100, stan: "LOCKED")
        let waited = ContinuousClock.now - started
        #expect(answer.code == "96")
        #expect(waited >= SQLiteConnection.busyTimeout - .milliseconds(50), "\(waited)")
        #expect(waited < SQLiteConnection.busyTimeout + .seconds(2), "one bound, not several: \(waited)")
        try holder.execute("ROLLBACK")
        #expect(try gateway.available(pan) == before)
        #expect(try gateway.ledger.read { try $0.stan(terminalID: "T001", stan: "LOCKED") } == nil, "a 96 is never stored")
        #expect(try gateway.purchase(pan, 100, stan: "LOCKED").code == "00", "then recovery")
    }

    // MARK: storage errors

    @Test("a storage error during a lookup is 96, never 14 or 58, and is not stored for the stan")
    func storageErrorIsNotStored() throws {
        let gateway = try Decider("storage-error")
        let pan = gateway.manifest.manuelsCards[4].pan
        let card = gateway.tap(pan, 400)
        let text = purchaseText(id: "first", stan: "ST1", amount: 400, card: card)
        // The cards table is unreadable for a while (another process renames it away).
        try gateway.otherConnection("ALTER TABLE cards RENAME TO cards_away")
        let failed = try gateway.send(text)
        #expect(failed.code == "96", "\(failed)")
        let online = try gateway.send(#"{"type":"online.list","id":"o","stan":"OL1","pan":"\#(pan)"}"#)
        #expect(online.code == "96", "\(online)")
        try gateway.otherConnection("ALTER TABLE cards_away RENAME TO cards")
        #expect(try gateway.ledger.read { try $0.stan(terminalID: "T001", stan: "ST1") } == nil)
        // The retransmission gets a real answer.
        let again = try gateway.send(text)
        #expect(again.code == "00", "\(again)")

        // The terminals table unreadable: 96, and the connection is not closed as if revoked.
        try gateway.otherConnection("ALTER TABLE terminals RENAME TO terminals_away")
        let echo = try gateway.send(#"{"type":"echo","id":"e"}"#)
        #expect(echo.code == "96", "\(echo)")
        try gateway.otherConnection("ALTER TABLE terminals_away RENAME TO terminals")
        #expect(try gateway.send(#"{"type":"echo","id":"e"}"#).code == "00")
        #expect(try gateway.violations().isEmpty)
    }

    // MARK: voucher guessing

    @Test("voucher guessing: one budget per partner over all its terminals, kept across a restart")
    func guessingPerPartnerAndPersisted() throws {
        let gateway = try Decider("guessing")
        func check(_ code: String, at terminal: String) throws -> String? {
            try gateway.send(#"{"type":"voucher.check","id":"g","code":"\#(code)"}"#, from: terminal).code
        }
        // A well-formed unknown code (valid check character) and a mistyped one.
        let unknown = VoucherCode.generate().grouped
        var mistyped = unknown
        for replacement in "ABCDEFGHJKLMNPQRSTUVWXYZ23456789" {
            mistyped = String(unknown.dropLast()) + String(replacement)
            if (try? VoucherCode(parsing: mistyped)) == nil { break }
        }
        // P002 has two terminals: 5 failures on each spend the budget of 10 together.
        for index in 0..<5 {
            #expect(try check(unknown, at: "T002") == "25", "\(index)")
            #expect(try check(mistyped, at: "T003") == "30", "\(index)")
        }
        #expect(try check(unknown, at: "T002") == "05")
        #expect(try check(unknown, at: "T003") == "05")
        #expect(try check(unknown, at: "T001") == "25", "another partner has its own budget")
        // A restart forgets nothing.
        try gateway.restart()
        #expect(try check(unknown, at: "T003") == "05")
        // The lockout ends after 15 minutes.
        gateway.now = gateway.now.addingTimeInterval(15 * 60 + 1)
        #expect(try check(unknown, at: "T002") == "25")
    }

    // MARK: audit and housekeeping

    @Test("an echo writes no audit row; other requests do")
    func noAuditForEcho() throws {
        let gateway = try Decider("echo-audit")
        func count() throws -> Int64 { try gateway.ledger.read { try $0.db.scalarInt("SELECT COUNT(*) FROM audit") } ?? -1 }
        let before = try count()
        for _ in 0..<5 { #expect(try gateway.send(#"{"type":"echo","id":"e"}"#).code == "00") }
        #expect(try count() == before)
        #expect(try gateway.purchase(gateway.manifest.manuelsCards[5].pan, 100, stan: "A1").code == "00")
        #expect(try count() == before + 1)
    }

    @Test("housekeeping steps are bounded per run and use their indexes")
    func housekeepingBoundedAndIndexed() throws {
        let gateway = try Decider("housekeeping-bounds")
        let old = gateway.now.addingTimeInterval(-400 * Self.day)
        // The audit is purged from its first rows by rowid (written in time order): the demo's own rows, written
        // now, would come first here, so they go; a row written now after the old ones must stay.
        try gateway.otherConnection("DELETE FROM audit")
        try gateway.ledger.write(now: old) { tx in
            for index in 0..<12 {
                try tx.recordStan(terminalID: "T001", stan: "OLD\(index)", digest: [UInt8](repeating: 1, count: 32),
                                  answer: StanAnswer(requestID: "o", code: "00", requestType: "purchase"))
                try tx.audit(action: "test.old", result: "ok")
            }
        }
        try gateway.ledger.write(now: gateway.now) { tx in
            try tx.audit(action: "test.young", result: "ok")
            try tx.recordStan(terminalID: "T001", stan: "YOUNG", digest: [UInt8](repeating: 1, count: 32),
                              answer: StanAnswer(requestID: "y", code: "00", requestType: "purchase"))
        }
        #expect(try gateway.ledger.write(now: gateway.now) { try $0.purgeStans(limit: 5) } == 5)
        #expect(try gateway.ledger.write(now: gateway.now) { try $0.purgeAudit(limit: 5) } == 5)
        let report = try gateway.ledger.write(now: gateway.now) { try $0.housekeeping() }
        #expect(report.purgedStans == 7 && report.purgedAuditRows == 7 && !report.reachedALimit, "\(report)")
        #expect(try gateway.ledger.read { try $0.db.scalarInt("SELECT COUNT(*) FROM audit") } == 1, "the young row stays")
        #expect(try gateway.ledger.read { try $0.db.scalarText("SELECT group_concat(stan) FROM stans") } == "YOUNG")

        func plan(_ sql: String) throws -> String {
            try gateway.ledger.connection.rows("EXPLAIN QUERY PLAN " + sql) { $0.text(3) }.joined(separator: "; ")
        }
        let stanPlan = try plan("SELECT id FROM (SELECT id, created_at_ms FROM stans ORDER BY id LIMIT 10) WHERE created_at_ms < 5")
        #expect(stanPlan.contains("SCAN stans") && !stanPlan.contains("TEMP B-TREE"), "\(stanPlan)")
        // The audit has no index by age (issue 11): its purge reads the first rows by rowid, never the whole table.
        let auditPlan = try plan("SELECT id FROM (SELECT id, at_ms FROM audit ORDER BY id LIMIT 10) WHERE at_ms < 5")
        #expect(auditPlan.contains("SCAN audit") && !auditPlan.contains("TEMP B-TREE"), "\(auditPlan)")
        #expect(try plan("SELECT code FROM vouchers WHERE status = 'issued' AND expires_on < '2026-01-01' ORDER BY expires_on LIMIT 10")
            .contains("vouchers_issued_by_expiry"))
    }
}
