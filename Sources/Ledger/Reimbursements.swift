import Foundation
import HDFDomain

/// A bank account as the reimbursement side needs it: who, IBAN, BIC.
public struct BankAccountRecord: Sendable, Equatable {
    public let name: String
    public let iban: IBAN
    public let bic: BIC
    public init(name: String, iban: IBAN, bic: BIC) {
        self.name = name
        self.iban = iban
        self.bic = bic
    }
}

/// One operation in a batch: money a partner received (> 0) or gave back (< 0).
public struct ReimbursementLine: Sendable, Equatable {
    public let operation: String
    public let txn: String
    public let kind: String
    public let amountCents: Int64
    public let occurredAtMillis: Int64
    public let cardMasked: String
}

/// What one partner gets in one batch.
public struct ReimbursementPartner: Sendable, Equatable {
    public let partnerID: String
    public let name: String
    public let amountCents: Int64
    /// Set when `amountCents > 0`: the transfer's details in the bank file.
    public let endToEndID: String?
    public let iban: IBAN?
    public let bic: BIC?
    public let lines: [ReimbursementLine]
}

/// A reimbursement batch as stored: enough to write its files again, byte for byte.
public struct ReimbursementBatch: Sendable, Equatable {
    public let id: String
    public let cutoff: LocalDate
    public let executionDate: LocalDate
    public let createdAtMillis: Int64
    public let coversUntilMillis: Int64
    public let totalCents: Int64
    public let debtor: BankAccountRecord
    public let partners: [ReimbursementPartner]
    /// Partners paid (amount > 0), the ones with a transfer in the file.
    public var paidPartners: [ReimbursementPartner] { partners.filter { $0.amountCents > 0 } }
}

/// The outcome of `makeReimbursementBatch`.
public struct ReimbursementOutcome: Sendable, Equatable {
    public let batch: ReimbursementBatch
    /// False when the cutoff had been made already and this is that same batch.
    public let isNew: Bool
    /// Partners owed more than zero who have no bank account yet: nothing settled, all carried forward.
    public let withoutBankAccount: [String]
    /// Partners whose net is negative (they owe): nothing settled, their operations wait for the next batch.
    public let carriedForward: [(partnerID: String, netCents: Int64)]

    public static func == (a: ReimbursementOutcome, b: ReimbursementOutcome) -> Bool {
        a.batch == b.batch && a.isNew == b.isNew && a.withoutBankAccount == b.withoutBankAccount
            && a.carriedForward.map(\.partnerID) == b.carriedForward.map(\.partnerID)
            && a.carriedForward.map(\.netCents) == b.carriedForward.map(\.netCents)
    }
}

public enum ReimbursementLimits {
    /// Characters of a partner's or the Région's name kept in the bank file (pain.001 `Nm`: 70).
    public static let maximumNameLength = 70
    /// How far ahead an execution date may be asked for, in days.
    public static let maximumExecutionDelayDays = 365
}

extension LedgerTransaction {
    static let settlementAccountName = "settlement"

    func settlementAccountID() throws -> Int64 {
        guard let id = try db.scalarInt("SELECT id FROM accounts WHERE kind = 'settlement' AND name = ?", Self.settlementAccountName) else {
            throw LedgerError.storage("the settlement account is missing")
        }
        return id
    }

    // MARK: bank details

    /// Sets (or changes) a partner's bank account, with an audit row. IBAN and BIC come already checked
    /// (`IBAN`, `BIC` cannot hold a malformed value).
    public func setPartnerBankAccount(partnerID: String, iban: IBAN, bic: BIC) throws {
        _ = try partner(id: partnerID)
        let previous = try db.scalarText("SELECT iban FROM partner_bank_accounts WHERE partner_id = ?", partnerID)
        try db.run("""
            INSERT INTO partner_bank_accounts(partner_id, iban, bic, updated_at_ms) VALUES (?, ?, ?, ?)
            ON CONFLICT(partner_id) DO UPDATE SET iban = excluded.iban, bic = excluded.bic, updated_at_ms = excluded.updated_at_ms
            """, partnerID, iban.electronic, bic.code, nowMillis)
        // The audit row keeps IBANs masked: enough to tell which account, not enough to use it.
        let detail = previous.map { "\((try? IBAN($0))?.masked ?? "?") -> \(iban.masked) \(bic.code)" } ?? "\(iban.masked) \(bic.code)"
        try audit(action: "partner.bank", subject: partnerID, result: "ok", detail: detail)
    }

    public func partnerBankAccount(partnerID: String) throws -> (iban: IBAN, bic: BIC)? {
        guard let row = try db.row("SELECT iban, bic FROM partner_bank_accounts WHERE partner_id = ?", partnerID,
                                   map: { ($0.text(0), $0.text(1)) }) else { return nil }
        return (try IBAN(row.0), try BIC(row.1))
    }

    /// Sets the Région's own account (the debtor of every reimbursement), with an audit row.
    public func setRegionAccount(_ account: BankAccountRecord) throws {
        try Self.validateText(account.name, what: "account holder's name", maximumLength: ReimbursementLimits.maximumNameLength)
        try db.run("""
            INSERT INTO region_account(id, name, iban, bic, updated_at_ms) VALUES (1, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET name = excluded.name, iban = excluded.iban, bic = excluded.bic, updated_at_ms = excluded.updated_at_ms
            """, account.name, account.iban.electronic, account.bic.code, nowMillis)
        try audit(action: "region.account", subject: "region", result: "ok", detail: "\(account.iban.masked) \(account.bic.code)")
    }

    public func regionAccount() throws -> BankAccountRecord? {
        guard let row = try db.row("SELECT name, iban, bic FROM region_account WHERE id = 1", map: { ($0.text(0), $0.text(1), $0.text(2)) })
        else { return nil }
        return BankAccountRecord(name: row.0, iban: try IBAN(row.1), bic: try BIC(row.2))
    }

    // MARK: batches

    public static func batchID(cutoff: LocalDate) -> String {
        "R" + cutoff.iso.replacingOccurrences(of: "-", with: "")
    }

    /// The next weekday after `day` (what a bank can execute; public holidays are the bank's to shift).
    public static func nextWeekday(after day: LocalDate) -> LocalDate {
        var next = day.adding(days: 1)
        while [0, 6].contains(weekday(next)) { next = next.adding(days: 1) }
        return next
    }

    /// 0 for Sunday ... 6 for Saturday (1970-01-01 was a Thursday).
    public static func weekday(_ day: LocalDate) -> Int {
        let noonMillis = ParisCalendar.startMillis(of: day) + 12 * 3_600_000
        let daysSinceEpoch = Int(noonMillis / 86_400_000)
        return (daysSinceEpoch + 4) % 7
    }

    /// Makes the batch of `cutoff` in this transaction (contract §10). For each partner: every operation
    /// up to the end of the cutoff day (Europe/Paris; a cutoff of today: up to now) not yet in a batch,
    /// payments positive and their reversals or cancellations negative. A partner whose net is > 0 and
    /// who has a bank account is paid: one transfer partner → settlement, its lines recorded; a net of
    /// exactly 0 is recorded without transfer; a negative net (or no bank account) records nothing, so its
    /// operations stay owed and come back in the next batch.
    ///
    /// A cutoff already made answers that batch again (`isNew == false`), unchanged. A cutoff after today,
    /// or before the latest batch's, is refused.
    public func makeReimbursementBatch(cutoff: LocalDate, executionDate requested: LocalDate?) throws -> ReimbursementOutcome {
        let id = Self.batchID(cutoff: cutoff)
        if try db.scalarInt("SELECT 1 FROM reimbursement_batches WHERE cutoff = ?", cutoff.iso) != nil {
            return ReimbursementOutcome(batch: try reimbursementBatch(id: id), isNew: false, withoutBankAccount: [], carriedForward: [])
        }
        guard cutoff <= today else {
            throw LedgerError.invalid("cutoff \(cutoff.iso) is after today (\(today.iso)): only days that have begun can be reimbursed")
        }
        if let last = try db.scalarText("SELECT MAX(cutoff) FROM reimbursement_batches"), let lastDay = LocalDate(iso: last), cutoff < lastDay {
            throw LedgerError.invalid("cutoff \(cutoff.iso) is before the last batch's (\(lastDay.iso)): a later cutoff covers only what is new")
        }
        let execution = requested ?? Self.nextWeekday(after: today)
        guard execution >= today, execution <= today.adding(days: ReimbursementLimits.maximumExecutionDelayDays) else {
            throw LedgerError.invalid("execution date \(execution.iso) must be between today (\(today.iso)) and \(ReimbursementLimits.maximumExecutionDelayDays) days from now")
        }
        guard let debtor = try regionAccount() else {
            throw LedgerError.invalid("the Région's bank account is not set (gateway region set --name N --iban IBAN --bic BIC)")
        }
        let endOfCutoffDay = ParisCalendar.startMillis(of: cutoff.adding(days: 1))
        let coversUntil = min(endOfCutoffDay, nowMillis + 1)

        // Every operation not yet settled, up to the cutoff, by partner.
        var lines: [String: [ReimbursementLine]] = [:]
        try db.forEach("""
            SELECT p.partner_id, 'payment:' || p.txn, p.txn, p.kind, p.amount_cents, p.created_at_ms, c.pan FROM payments p
            JOIN cards c ON c.id = p.card_id
            WHERE p.created_at_ms < ?1
              AND NOT EXISTS (SELECT 1 FROM reimbursement_lines r WHERE r.operation = 'payment:' || p.txn)
            UNION ALL
            SELECT p.partner_id, 'undo:' || p.txn, COALESCE(x.txn, p.txn), u.kind, -p.amount_cents, u.created_at_ms, c.pan
            FROM payments p
            JOIN transfers u ON u.id = p.undo_transfer_id
            JOIN cards c ON c.id = p.card_id
            LEFT JOIN cancellations x ON x.original_txn = p.txn
            WHERE p.undo_transfer_id IS NOT NULL AND u.created_at_ms < ?1
              AND NOT EXISTS (SELECT 1 FROM reimbursement_lines r WHERE r.operation = 'undo:' || p.txn)
            """, [coversUntil]) { row in
            let line = ReimbursementLine(operation: row.text(1), txn: row.text(2), kind: row.text(3), amountCents: row.int(4),
                                         occurredAtMillis: row.int(5), cardMasked: PAN.mask(row.text(6)))
            lines[row.text(0), default: []].append(line)
        }

        let settlement = try settlementAccountID()
        var withoutBank: [String] = []
        var carried: [(String, Int64)] = []
        var total: Int64 = 0
        var sequence = 0
        try db.run("""
            INSERT INTO reimbursement_batches(id, cutoff, execution_date, created_at_ms, covers_until_ms, total_cents, debtor_name, debtor_iban, debtor_bic)
            VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)
            """, id, cutoff.iso, execution.iso, nowMillis, coversUntil, debtor.name, debtor.iban.electronic, debtor.bic.code)
        for partnerID in lines.keys.sorted() {
            let partnerLines = lines[partnerID]!
            let net = partnerLines.reduce(Int64(0)) { $0 + $1.amountCents }
            if net < 0 { carried.append((partnerID, net)); continue }
            let (partner, account) = try partnerWithAccount(id: partnerID)
            let bank = try partnerBankAccount(partnerID: partnerID)
            if net > 0 && bank == nil { withoutBank.append(partnerID); continue }
            guard net <= Money.maximumAmountCents else {
                throw LedgerError.invalid("partner \(partnerID) is owed \(net) cents in this batch, more than one transfer may move (\(Money.maximumAmountCents)): make batches more often")
            }
            var transferID: Int64?
            var endToEnd: String?
            if net > 0 {
                sequence += 1
                endToEnd = "\(id)-\(String(format: "%05d", sequence))"
                transferID = try transfer(debit: account, credit: settlement, amountCents: net, phase: .single,
                                          kind: "reimbursement", reference: id)
                try db.run("UPDATE accounts SET settled_posted = settled_posted + ? WHERE id = ?", net, account)
                total += net
            }
            try db.run("""
                INSERT INTO reimbursement_partners(batch_id, partner_id, amount_cents, operation_count, transfer_id, end_to_end_id,
                                                   creditor_name, creditor_iban, creditor_bic)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, id, partnerID, net, Int64(partnerLines.count), transferID, endToEnd, partner.name,
                       net > 0 ? bank!.iban.electronic : nil, net > 0 ? bank!.bic.code : nil)
            for line in partnerLines {
                try db.run("""
                    INSERT INTO reimbursement_lines(operation, batch_id, partner_id, txn, kind, amount_cents, occurred_at_ms, card_masked)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, line.operation, id, partnerID, line.txn, line.kind, line.amountCents, line.occurredAtMillis, line.cardMasked)
            }
        }
        try db.run("UPDATE reimbursement_batches SET total_cents = ? WHERE id = ?", total, id)
        try audit(action: "reimburse", subject: id, result: "ok",
                  detail: "cutoff \(cutoff.iso) total \(total) carried \(carried.count) without-bank \(withoutBank.count)")
        return ReimbursementOutcome(batch: try reimbursementBatch(id: id), isNew: true, withoutBankAccount: withoutBank,
                                    carriedForward: carried.map { (partnerID: $0.0, netCents: $0.1) })
    }
}

extension LedgerTransaction {
    /// A stored batch, its partners in id order and each one's lines in time order.
    public func reimbursementBatch(id: String) throws -> ReimbursementBatch {
        guard let head = try db.row("""
            SELECT cutoff, execution_date, created_at_ms, covers_until_ms, total_cents, debtor_name, debtor_iban, debtor_bic
            FROM reimbursement_batches WHERE id = ?
            """, id, map: { ($0.text(0), $0.text(1), $0.int(2), $0.int(3), $0.int(4), $0.text(5), $0.text(6), $0.text(7)) }) else {
            throw LedgerError.invalid("no reimbursement batch '\(id)'")
        }
        var linesByPartner: [String: [ReimbursementLine]] = [:]
        try db.forEach("""
            SELECT partner_id, operation, txn, kind, amount_cents, occurred_at_ms, card_masked FROM reimbursement_lines
            WHERE batch_id = ? ORDER BY partner_id, occurred_at_ms, operation
            """, [id]) { row in
            linesByPartner[row.text(0), default: []].append(ReimbursementLine(
                operation: row.text(1), txn: row.text(2), kind: row.text(3), amountCents: row.int(4),
                occurredAtMillis: row.int(5), cardMasked: row.text(6)))
        }
        let partners = try db.rows("""
            SELECT partner_id, creditor_name, amount_cents, end_to_end_id, creditor_iban, creditor_bic FROM reimbursement_partners
            WHERE batch_id = ? ORDER BY partner_id
            """, id) { row in
            ReimbursementPartner(partnerID: row.text(0), name: row.text(1), amountCents: row.int(2), endToEndID: row.optionalText(3),
                                 iban: try row.optionalText(4).map { try IBAN($0) }, bic: try row.optionalText(5).map { try BIC($0) },
                                 lines: linesByPartner[row.text(0)] ?? [])
        }
        guard let cutoff = LocalDate(iso: head.0), let execution = LocalDate(iso: head.1) else {
            throw LedgerError.storage("batch \(id) has a malformed date")
        }
        return ReimbursementBatch(id: id, cutoff: cutoff, executionDate: execution, createdAtMillis: head.2, coversUntilMillis: head.3,
                                  totalCents: head.4, debtor: BankAccountRecord(name: head.5, iban: try IBAN(head.6), bic: try BIC(head.7)),
                                  partners: partners)
    }

    /// The cutoffs made so far, oldest first.
    public func reimbursementCutoffs() throws -> [LocalDate] {
        try db.rows("SELECT cutoff FROM reimbursement_batches ORDER BY cutoff") { LocalDate(iso: $0.text(0))! }
    }

    /// Per partner: what it received, what it refunded, what was reimbursed and what is still owed (cents).
    public struct PartnerPosition: Sendable, Equatable {
        public let partnerID: String
        public let receivedCents: Int64
        public let refundedCents: Int64
        public let reimbursedCents: Int64
        public let owedCents: Int64
    }

    public func partnerPositions() throws -> [PartnerPosition] {
        try db.rows("""
            WITH received AS (SELECT partner_id, SUM(amount_cents) AS n FROM payments GROUP BY partner_id),
                 refunded AS (SELECT partner_id, SUM(amount_cents) AS n FROM payments WHERE status <> 'approved' GROUP BY partner_id),
                 reimbursed AS (SELECT partner_id, SUM(amount_cents) AS n FROM reimbursement_partners GROUP BY partner_id)
            SELECT pa.id, COALESCE(r.n, 0), COALESCE(f.n, 0), COALESCE(m.n, 0), a.credits_posted - a.debits_posted
            FROM partners pa JOIN accounts a ON a.id = pa.account_id
            LEFT JOIN received r ON r.partner_id = pa.id LEFT JOIN refunded f ON f.partner_id = pa.id
            LEFT JOIN reimbursed m ON m.partner_id = pa.id
            ORDER BY pa.id
            """) { PartnerPosition(partnerID: $0.text(0), receivedCents: $0.int(1), refundedCents: $0.int(2),
                                   reimbursedCents: $0.int(3), owedCents: $0.int(4)) }
    }

    /// The reimbursement side's invariants (part of `checkInvariants`).
    func checkReimbursementInvariants(_ collect: (String, String, (SQLRow) -> String) throws -> Void) throws {
        // For every partner: reimbursed + still owed = received − refunded, each side from its own tables
        // (payments and their undo on one side; batches and the account's balance on the other).
        try collect("partner-reimbursed-plus-owed", """
            WITH received AS (SELECT partner_id, SUM(amount_cents) AS n FROM payments GROUP BY partner_id),
                 refunded AS (SELECT partner_id, SUM(amount_cents) AS n FROM payments WHERE status <> 'approved' GROUP BY partner_id),
                 reimbursed AS (SELECT partner_id, SUM(amount_cents) AS n FROM reimbursement_partners GROUP BY partner_id)
            SELECT pa.id, COALESCE(m.n, 0), a.credits_posted - a.debits_posted, COALESCE(r.n, 0), COALESCE(f.n, 0)
            FROM partners pa JOIN accounts a ON a.id = pa.account_id
            LEFT JOIN received r ON r.partner_id = pa.id LEFT JOIN refunded f ON f.partner_id = pa.id
            LEFT JOIN reimbursed m ON m.partner_id = pa.id
            WHERE COALESCE(m.n, 0) + (a.credits_posted - a.debits_posted) <> COALESCE(r.n, 0) - COALESCE(f.n, 0)
               OR COALESCE(m.n, 0) <> a.settled_posted
            """) { "partner \($0.text(0)): reimbursed \($0.int(1)) + owed \($0.int(2)) <> received \($0.int(3)) - refunded \($0.int(4))" }

        // Each batch's partner amount is the sum of its lines, never negative, with a transfer partner →
        // settlement of exactly that amount when > 0; each batch's total is the sum of its partners.
        try collect("batch-lines-add-up", """
            WITH sums AS (SELECT batch_id, partner_id, SUM(amount_cents) AS n, COUNT(*) AS c FROM reimbursement_lines GROUP BY batch_id, partner_id)
            SELECT rp.batch_id, rp.partner_id, rp.amount_cents, COALESCE(s.n, 0) FROM reimbursement_partners rp
            JOIN partners pa ON pa.id = rp.partner_id
            LEFT JOIN sums s ON s.batch_id = rp.batch_id AND s.partner_id = rp.partner_id
            LEFT JOIN transfers t ON t.id = rp.transfer_id
            LEFT JOIN accounts st ON st.id = t.credit_account_id
            WHERE COALESCE(s.n, 0) <> rp.amount_cents OR COALESCE(s.c, 0) <> rp.operation_count OR rp.amount_cents < 0
               OR (rp.amount_cents > 0 AND (t.id IS NULL OR t.amount_cents <> rp.amount_cents OR t.debit_account_id <> pa.account_id
                   OR st.kind IS NOT 'settlement' OR t.phase <> 'single' OR t.kind <> 'reimbursement'))
            UNION ALL
            SELECT b.id, '*', b.total_cents, COALESCE(SUM(rp.amount_cents), 0) FROM reimbursement_batches b
            LEFT JOIN reimbursement_partners rp ON rp.batch_id = b.id GROUP BY b.id HAVING b.total_cents <> COALESCE(SUM(rp.amount_cents), 0)
            """) { "batch \($0.text(0)) partner \($0.text(1)): amount \($0.int(2)) but its lines add up to \($0.int(3))" }

        // Every line is an operation that happened, with its amount and partner: a payment (positive) or
        // that payment's reversal or cancellation (negative). Its primary key makes it settled once.
        try collect("reimbursed-operations-match-payments", """
            SELECT r.operation, r.amount_cents FROM reimbursement_lines r
            LEFT JOIN payments p ON p.txn = substr(r.operation, instr(r.operation, ':') + 1)
            WHERE p.txn IS NULL OR p.partner_id <> r.partner_id
               OR (r.operation LIKE 'payment:%' AND r.amount_cents <> p.amount_cents)
               OR (r.operation LIKE 'undo:%' AND (r.amount_cents <> -p.amount_cents OR p.status = 'approved'))
               OR (r.operation NOT LIKE 'payment:%' AND r.operation NOT LIKE 'undo:%')
            """) { "line \($0.text(0)) (\($0.int(1)) cents) matches no operation" }

        // The settlement account holds exactly what was moved to it, and only reimbursements reach it.
        try collect("settlement-holds-reimbursements", """
            SELECT a.name, a.credits_posted - a.debits_posted, (SELECT COALESCE(SUM(amount_cents), 0) FROM reimbursement_partners)
            FROM accounts a WHERE a.kind = 'settlement'
              AND (a.credits_posted - a.debits_posted <> (SELECT COALESCE(SUM(amount_cents), 0) FROM reimbursement_partners)
                   OR a.debits_pending <> 0 OR a.credits_pending <> 0)
            """) { "account \($0.text(0)) holds \($0.int(1)) but the batches paid \($0.int(2))" }
    }
}
