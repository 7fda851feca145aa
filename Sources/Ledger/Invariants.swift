import HDFDomain

/// One broken invariant, named.
public struct InvariantViolation: Sendable, Equatable, CustomStringConvertible {
    public let invariant: String
    public let detail: String
    public var description: String { "\(invariant): \(detail)" }
}

/// `gateway check`: recomputes everything from the transfers and compares. Read-only.
extension LedgerTransaction {
    public func checkInvariants(limitPerInvariant: Int = 20) throws -> [InvariantViolation] {
        var violations: [InvariantViolation] = []
        func collect(_ invariant: String, _ sql: String, _ detail: (SQLRow) -> String) throws {
            var count = 0
            try db.forEach(sql, []) { row in
                count += 1
                if count <= limitPerInvariant { violations.append(InvariantViolation(invariant: invariant, detail: detail(row))) }
            }
        }

        try collect("double-entry-balanced", """
            SELECT SUM(debits_posted), SUM(credits_posted), SUM(debits_pending), SUM(credits_pending) FROM accounts
            HAVING SUM(debits_posted) <> SUM(credits_posted) OR SUM(debits_pending) <> SUM(credits_pending)
            """) { "posted debits \($0.int(0)) vs credits \($0.int(1)); pending debits \($0.int(2)) vs credits \($0.int(3))" }

        // Each account's totals are exactly the sums of its transfers.
        try collect("account-totals-match-transfers", """
            WITH moves AS (
                SELECT debit_account_id AS account, amount_cents AS d_posted, 0 AS c_posted, 0 AS d_pending, 0 AS c_pending
                  FROM transfers WHERE phase IN ('single', 'post')
                UNION ALL SELECT credit_account_id, 0, amount_cents, 0, 0 FROM transfers WHERE phase IN ('single', 'post')
                UNION ALL SELECT debit_account_id, 0, 0, amount_cents, 0 FROM transfers WHERE phase = 'pending' AND resolved_by IS NULL
                UNION ALL SELECT credit_account_id, 0, 0, 0, amount_cents FROM transfers WHERE phase = 'pending' AND resolved_by IS NULL
            ), sums AS (
                SELECT account, SUM(d_posted) dp, SUM(c_posted) cp, SUM(d_pending) dq, SUM(c_pending) cq FROM moves GROUP BY account
            )
            SELECT a.name, a.debits_posted, COALESCE(s.dp, 0), a.credits_posted, COALESCE(s.cp, 0),
                   a.debits_pending, COALESCE(s.dq, 0), a.credits_pending, COALESCE(s.cq, 0)
            FROM accounts a LEFT JOIN sums s ON s.account = a.id
            WHERE a.debits_posted <> COALESCE(s.dp, 0) OR a.credits_posted <> COALESCE(s.cp, 0)
               OR a.debits_pending <> COALESCE(s.dq, 0) OR a.credits_pending <> COALESCE(s.cq, 0)
            """) { "account \($0.text(0)): debits posted \($0.int(1)) vs transfers \($0.int(2)), credits posted \($0.int(3)) vs \($0.int(4)), debits pending \($0.int(5)) vs \($0.int(6)), credits pending \($0.int(7)) vs \($0.int(8))" }

        try collect("no-wallet-below-zero", """
            SELECT name, credits_posted - debits_posted - debits_pending FROM accounts
            WHERE kind = 'wallet' AND credits_posted - debits_posted - debits_pending < 0
            """) { "account \($0.text(0)) holds \($0.int(1)) cents" }

        // (issue 12) A partner's account may go below zero once its money was paid out and a payment is then
        // cancelled (a debt carried to the next batch); it is never refunded more than it received.
        try collect("no-partner-refunded-more-than-received", """
            SELECT name, credits_posted - (debits_posted - settled_posted) FROM accounts
            WHERE kind = 'partner' AND credits_posted < debits_posted - settled_posted
            """) { "account \($0.text(0)) refunded \(-$0.int(1)) cents more than it received" }

        try collect("pending-resolved-once", """
            SELECT p.id, p.resolved_by, r.pending_id, r.phase FROM transfers p LEFT JOIN transfers r ON r.id = p.resolved_by
            WHERE p.phase = 'pending' AND p.resolved_by IS NOT NULL
              AND (r.id IS NULL OR r.pending_id <> p.id OR r.phase NOT IN ('post', 'void')
                   OR r.amount_cents <> p.amount_cents OR r.debit_account_id <> p.debit_account_id OR r.credit_account_id <> p.credit_account_id)
            UNION ALL
            SELECT r.pending_id, r.id, NULL, r.phase FROM transfers r LEFT JOIN transfers p ON p.id = r.pending_id
            WHERE r.phase IN ('post', 'void') AND (p.id IS NULL OR p.resolved_by IS NOT r.id)
            """) { "transfer \($0.int(0)) and its resolution \($0.int(1)) do not match" }

        // Voucher money is where the voucher's status says: held while issued, with the partner once
        // redeemed, back in the wallet once cancelled or expired.
        try collect("voucher-money-matches-status", """
            SELECT v.code, v.status, t.phase, t.resolved_by, r.phase, t.amount_cents, v.amount_cents
            FROM vouchers v JOIN wallets w ON w.id = v.wallet_id JOIN partners pa ON pa.id = v.partner_id
            JOIN transfers t ON t.id = v.hold_transfer_id LEFT JOIN transfers r ON r.id = t.resolved_by
            WHERE t.phase <> 'pending' OR t.amount_cents <> v.amount_cents
               OR t.debit_account_id <> w.account_id OR t.credit_account_id <> pa.account_id
               OR (v.status = 'issued' AND t.resolved_by IS NOT NULL)
               OR (v.status = 'redeemed' AND (r.phase IS NOT 'post'))
               OR (v.status IN ('cancelled', 'expired') AND (r.phase IS NOT 'void'))
            """) { "voucher \(PAN.mask($0.text(0))) is \($0.text(1)) but its hold is \($0.text(2))/\($0.optionalText(4) ?? "unresolved")" }

        // Set operations rather than correlated subqueries: `gateway check` stays O(n log n) on a ledger of
        // millions of rows without extra indexes on the hot write path.
        try collect("redeemed-voucher-has-one-live-redemption", """
            WITH live AS (
                SELECT voucher_code, COUNT(*) AS n FROM payments
                WHERE kind = 'voucher' AND status <> 'reversed' GROUP BY voucher_code
            )
            SELECT v.code, COALESCE(l.n, 0) FROM vouchers v LEFT JOIN live l ON l.voucher_code = v.code
            WHERE (v.status = 'redeemed' AND COALESCE(l.n, 0) <> 1) OR (v.status <> 'redeemed' AND COALESCE(l.n, 0) <> 0)
            """) { "voucher \(PAN.mask($0.text(0))) has \($0.int(1)) redemptions not reversed" }

        // A payment's money is where its status says: with the partner while approved, back in the
        // wallet (by an equal and opposite transfer) once reversed or cancelled.
        try collect("payment-money-matches-status", """
            SELECT p.txn, p.status FROM payments p
            JOIN wallets w ON w.id = p.wallet_id JOIN partners pa ON pa.id = p.partner_id
            JOIN transfers t ON t.id = p.transfer_id LEFT JOIN transfers u ON u.id = p.undo_transfer_id
            WHERE t.amount_cents <> p.amount_cents OR t.debit_account_id <> w.account_id OR t.credit_account_id <> pa.account_id
               OR t.phase NOT IN ('single', 'post')
               OR (p.status = 'approved' AND p.undo_transfer_id IS NOT NULL)
               OR (p.status <> 'approved' AND (u.id IS NULL OR u.amount_cents <> p.amount_cents
                   OR u.debit_account_id <> pa.account_id OR u.credit_account_id <> w.account_id OR u.phase <> 'single'))
            """) { "payment \($0.text(0)) is \($0.text(1)) but its transfers disagree" }

        try collect("cancellation-matches-payment", """
            SELECT p.txn, p.status, c.txn FROM payments p LEFT JOIN cancellations c ON c.original_txn = p.txn
            WHERE (p.status = 'cancelled') <> (c.txn IS NOT NULL)
               OR (c.txn IS NOT NULL AND (c.amount_cents <> p.amount_cents OR c.transfer_id IS NOT p.undo_transfer_id))
            """) { "payment \($0.text(0)) is \($0.text(1)) and its cancellation record is \($0.optionalText(2) ?? "missing")" }

        try collect("load-from-funding", """
            SELECT l.id FROM loads l JOIN wallets w ON w.id = l.wallet_id JOIN transfers t ON t.id = l.transfer_id
            JOIN accounts f ON f.id = t.debit_account_id
            WHERE t.amount_cents <> l.amount_cents OR t.credit_account_id <> w.account_id OR f.kind <> 'funding' OR t.phase <> 'single'
            """) { "load \($0.int(0)) does not match its transfer" }

        try collect("every-transfer-accounted-for", """
            WITH owned AS (
                SELECT transfer_id AS id FROM loads
                UNION SELECT transfer_id FROM payments
                UNION SELECT undo_transfer_id FROM payments WHERE undo_transfer_id IS NOT NULL
                UNION SELECT hold_transfer_id FROM vouchers
                UNION SELECT transfer_id FROM reimbursement_partners WHERE transfer_id IS NOT NULL
            ), orphans AS (
                SELECT id FROM transfers WHERE phase IN ('single', 'pending')
                  AND NOT (kind = 'voucher.hold' AND resolved_by IS NOT NULL)
                EXCEPT SELECT id FROM owned
            )
            SELECT t.id, t.kind FROM transfers t JOIN orphans o ON o.id = t.id
            """) { "transfer \($0.int(0)) (\($0.text(1))) belongs to no load, payment or voucher" }

        // A stan names the payment it produced, made by that terminal under that stan; a reversed stan's
        // payment is no longer approved (a reversal that undid another payment, e.g. an older use of the
        // stan, shows here).
        try collect("stan-names-its-payment", """
            SELECT s.terminal_id, s.stan, s.payment_txn, COALESCE(p.status, 'missing') FROM stans s
            LEFT JOIN payments p ON p.txn = s.payment_txn
            WHERE s.payment_txn IS NOT NULL
              AND (p.txn IS NULL OR p.terminal_id IS NOT s.terminal_id OR p.stan IS NOT s.stan
                   OR (s.reversed = 1 AND p.status = 'approved'))
            """) { "stan \($0.text(1)) of terminal \($0.text(0)) names payment \($0.text(2)), which is \($0.text(3))" }
        // (issue 11) A stan's answer can be given back: kept whole, or re-derivable from what its compact record
        // keeps (a purchase's balance after it, or the type of an answer that names no payment).
        try collect("stan-answer-kept", """
            SELECT s.terminal_id, s.stan FROM stans s LEFT JOIN payments p ON p.txn = s.payment_txn
            WHERE s.digest IS NOT NULL AND s.response IS NULL
              AND (s.code IS NULL OR s.request_id IS NULL
                   OR (s.payment_txn IS NULL AND s.request_type IS NULL)
                   OR (p.kind = 'purchase' AND (s.balance_after_cents IS NULL OR p.auth_code IS NULL))
                   OR p.kind = 'online')
            """) { "stan \($0.text(1)) of terminal \($0.text(0)) keeps an answer that cannot be given back" }
        // (issue 11) Each card's payments form one chain from the card's row, newest first, through every one
        // of them: each link goes to an older payment of the same card, no payment is linked twice, each card
        // has one oldest payment and its row names its newest.
        try collect("card-payment-chain-links", """
            SELECT p.txn, p.previous_card_payment_txn FROM payments p
            LEFT JOIN payments q ON q.txn = p.previous_card_payment_txn
            WHERE p.previous_card_payment_txn IS NOT NULL AND (q.txn IS NULL OR q.card_id <> p.card_id OR q.rowid >= p.rowid)
            """) { "payment \($0.text(0)) links to \($0.text(1)), which is not an older payment of its card" }
        try collect("card-payment-chain-once", """
            SELECT previous_card_payment_txn, COUNT(*) FROM payments WHERE previous_card_payment_txn IS NOT NULL
            GROUP BY previous_card_payment_txn HAVING COUNT(*) > 1
            """) { "payment \($0.text(0)) is linked from \($0.int(1)) payments" }
        try collect("card-payment-chain-ends", """
            WITH ends AS (SELECT card_id, MAX(rowid) AS newest, SUM(previous_card_payment_txn IS NULL) AS oldest FROM payments GROUP BY card_id)
            SELECT c.pan, COALESCE(c.newest_payment_txn, 'none'), COALESCE(p.txn, 'none'), COALESCE(e.oldest, 0) FROM cards c
            LEFT JOIN ends e ON e.card_id = c.id LEFT JOIN payments p ON p.rowid = e.newest
            WHERE c.newest_payment_txn IS NOT p.txn OR (e.card_id IS NOT NULL AND e.oldest <> 1)
            """) { "card \(PAN.mask($0.text(0))) names \($0.text(1)) as its newest payment (it is \($0.text(2))) and has \($0.int(3)) oldest ones" }
        try checkReimbursementInvariants(collect)

        let integrity = try db.scalarText("PRAGMA quick_check") ?? "no answer"
        if integrity != "ok" { violations.append(InvariantViolation(invariant: "sqlite-integrity", detail: integrity)) }
        return violations
    }
}
