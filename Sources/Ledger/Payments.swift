import Foundation
import HDFDomain

/// Card-present purchases, reversals and partner-side cancellations.
extension LedgerTransaction {
    /// Refuses a card that is not active: lost `41`, stolen `43`, damaged `62`.
    public func requireActive(_ card: CardRecord) throws {
        guard card.status == .active else { throw LedgerError.cardBlocked(masked: card.pan.masked, status: card.status) }
    }

    /// Records the ATC of a card request whose cryptogram was verified. Only ever goes up.
    public func acceptATC(cardID: Int64, atc: UInt16) throws {
        let changed = try db.run("UPDATE cards SET last_atc = ? WHERE id = ? AND last_atc < ?", Int64(atc), cardID, Int64(atc))
        guard changed == 1 else { throw LedgerError.invalid("ATC \(atc) is not above the last one accepted") }
    }

    /// Picks the wallet a purchase is paid from (contract §3): the chosen one if given; otherwise, among
    /// the wallets usable at this partner, not expired and holding enough, the one that expires first
    /// (ties: the code first in alphabetical order). With `allowPartial` and no wallet holding enough,
    /// the usable wallet holding the most (ties: expires first, then code) pays what it holds.
    func chooseWallet(card: CardRecord, partner: PartnerRecord, requested: WalletCode?, amountCents: Int64,
                      allowPartial: Bool) throws -> (WalletRecord, approvedCents: Int64) {
        let all = try wallets(cardID: card.id)
        if let requested {
            guard let wallet = all.first(where: { $0.code == requested }) else {
                throw LedgerError.unknownWallet(card: card.pan.masked, wallet: requested)
            }
            guard partner.wallets.contains(requested) else {
                throw LedgerError.walletNotUsableHere(wallet: requested, partner: partner.id)
            }
            guard !wallet.isExpired(on: today) else { throw LedgerError.walletExpired(wallet: requested, expiredOn: wallet.expiresOn) }
            if wallet.availableCents >= amountCents { return (wallet, amountCents) }
            if allowPartial && wallet.availableCents > 0 { return (wallet, wallet.availableCents) }
            throw LedgerError.insufficientFunds(wallet: requested, availableCents: wallet.availableCents, requestedCents: amountCents)
        }
        let usableHere = all.filter { partner.wallets.contains($0.code) }
        guard !usableHere.isEmpty else { throw LedgerError.noWalletUsableHere(partner: partner.id) }
        let live = usableHere.filter { !$0.isExpired(on: today) }
        guard !live.isEmpty else {
            let latest = usableHere.max { $0.expiresOn < $1.expiresOn }!
            throw LedgerError.walletExpired(wallet: latest.code, expiredOn: latest.expiresOn)
        }
        let enough = live.filter { $0.availableCents >= amountCents }
        if let best = enough.min(by: { ($0.expiresOn, $0.code) < ($1.expiresOn, $1.code) }) {
            return (best, amountCents)
        }
        let holding = live.filter { $0.availableCents > 0 }
        if allowPartial, let best = holding.min(by: {
            ($1.availableCents, $0.expiresOn, $0.code) < ($0.availableCents, $1.expiresOn, $1.code)
        }) {
            return (best, best.availableCents)
        }
        let richest = live.max { $0.availableCents < $1.availableCents }!
        throw LedgerError.insufficientFunds(wallet: richest.code, availableCents: richest.availableCents, requestedCents: amountCents)
    }

    /// (issue 11) A card's payments form a chain, newest first: `cards.newest_payment_txn`, then each payment's
    /// `previous_card_payment_txn`. It replaces an index on `payments(card_id)`: every card-present payment
    /// already writes the card's row (its ATC), so the chain adds no page to a commit, where the index added
    /// one random leaf per payment (docs/bench.md "What a purchase writes"). Each INSERT INTO payments takes its
    /// previous link from `previousCardPaymentSQL` and is followed by `linkNewestPayment`.
    static let previousCardPaymentSQL = "(SELECT newest_payment_txn FROM cards WHERE id = ?)"

    func linkNewestPayment(cardID: Int64, txn: String) throws {
        let changed = try db.run("UPDATE cards SET newest_payment_txn = ? WHERE id = ?", txn, cardID)
        guard changed == 1 else { throw LedgerError.storage("card \(cardID) of payment \(txn) is missing") }
    }

    /// A recursive CTE, `card_payments(txn)`: the txns of the card `?1`, newest first, by its chain.
    static let cardPaymentsChain = """
        card_payments(txn) AS (
            SELECT newest_payment_txn FROM cards WHERE id = ?1 AND newest_payment_txn IS NOT NULL
            UNION ALL
            SELECT p.previous_card_payment_txn FROM card_payments c JOIN payments p ON p.txn = c.txn
            WHERE p.previous_card_payment_txn IS NOT NULL)
        """

    /// A card-present purchase, paid from one wallet to the partner at once.
    public func purchase(card: CardRecord, partnerID: String, terminalID: String, stan: String, amountCents: Int64,
                         wallet requested: WalletCode?, allowPartial: Bool) throws -> PurchaseApproval {
        try Money.validate(amountCentsOrThrow: amountCents)
        try requireActive(card)
        let (partner, partnerAccount) = try partnerWithAccount(id: partnerID)
        let (wallet, approved) = try chooseWallet(card: card, partner: partner, requested: requested,
                                                  amountCents: amountCents, allowPartial: allowPartial)
        assert(approved > 0 && approved <= amountCents && approved <= wallet.availableCents)
        let txn = try newTxnID()
        let authCode = Self.newAuthCode()
        let transfer = try transfer(debit: wallet.accountID, credit: partnerAccount, amountCents: approved,
                                    phase: .single, kind: "purchase", reference: txn)
        try db.run("""
            INSERT INTO payments(txn, kind, card_id, wallet_id, partner_id, terminal_id, stan, amount_cents, auth_code, label,
                                 status, transfer_id, created_at_ms, business_day, previous_card_payment_txn)
            VALUES (?, 'purchase', ?, ?, ?, ?, ?, ?, ?, ?, 'approved', ?, ?, ?, \(Self.previousCardPaymentSQL))
            """, txn, card.id, wallet.id, partnerID, terminalID, stan, approved, authCode, partner.name,
                   transfer, nowMillis, today.iso, card.id)
        try linkNewestPayment(cardID: card.id, txn: txn)
        return PurchaseApproval(txn: txn, authCode: authCode, approvedCents: approved, wallet: wallet.code,
                                balanceAfterCents: wallet.availableCents - approved, isPartial: approved < amountCents)
    }

    /// Undoes the approved purchase or voucher redemption a terminal reverses: exactly the payment its
    /// stan's record names (never another payment that once had the same stan, before the retention).
    /// Returns the payment undone, or nil when it is no longer approved (nothing to undo).
    @discardableResult
    public func reversePayment(txn: String, terminalID: String) throws -> PaymentRecord? {
        let payment = try payment(txn: txn)
        guard payment.terminalID == terminalID, payment.kind == .purchase || payment.kind == .voucher else {
            throw LedgerError.storage("the stan record of terminal \(terminalID) names payment \(txn), which is not its own")
        }
        guard payment.status == .approved else { return nil }
        _ = try undo(payment, status: .reversed, kind: "reversal")
        return payment
    }

    /// Undoes what a terminal's stan produced. The stan's record names its payment when there is one (the
    /// gateway always records it); without a record, the newest payment of that terminal under that stan
    /// within the stan retention (an older one belongs to an earlier use of the stan). Nil: nothing to undo.
    @discardableResult
    public func reversePayment(terminalID: String, stan: String) throws -> PaymentRecord? {
        if let record = try self.stan(terminalID: terminalID, stan: stan) {
            guard let txn = record.paymentTxn else { return nil }
            return try reversePayment(txn: txn, terminalID: terminalID)
        }
        let since = nowMillis - Self.stanRetention.components.seconds * 1000
        let sinceDay = ParisCalendar.businessDay(of: Date(timeIntervalSince1970: Double(since) / 1000))
        guard let txn = try db.scalarText("""
            SELECT txn FROM payments
            WHERE terminal_id = ? AND business_day >= ? AND stan = ? AND kind IN ('purchase', 'voucher') AND created_at_ms >= ?
            ORDER BY created_at_ms DESC, rowid DESC LIMIT 1
            """, terminalID, sinceDay.iso, stan, since) else { return nil }
        return try reversePayment(txn: txn, terminalID: terminalID)
    }

    /// Gives a payment's money back to its wallet. A redeemed voucher goes back to `issued`, its money
    /// held again, as if the redemption had never happened.
    func undo(_ payment: PaymentRecord, status: PaymentStatus, kind: String) throws -> Int64 {
        let (_, partnerAccount) = try partnerWithAccount(id: payment.partnerID)
        guard let walletAccount = try db.scalarInt("SELECT account_id FROM wallets WHERE card_id = ? AND code = ?",
                                                   payment.cardID, payment.wallet.rawValue) else {
            throw LedgerError.storage("wallet of \(payment.txn) is missing")
        }
        let refund = try transfer(debit: partnerAccount, credit: walletAccount, amountCents: payment.amountCents,
                                  phase: .single, kind: kind, reference: payment.txn)
        try db.run("UPDATE payments SET status = ?, undo_transfer_id = ? WHERE txn = ?", status.rawValue, refund, payment.txn)
        if payment.kind == .voucher && status == .reversed {
            guard let code = try db.scalarText("SELECT voucher_code FROM payments WHERE txn = ?", payment.txn) else {
                throw LedgerError.storage("redemption \(payment.txn) has no voucher")
            }
            let hold = try transfer(debit: walletAccount, credit: partnerAccount, amountCents: payment.amountCents,
                                    phase: .pending, kind: "voucher.hold", reference: code)
            try db.run("UPDATE vouchers SET status = 'issued', hold_transfer_id = ?, resolved_at_ms = NULL WHERE code = ?", hold, code)
        }
        return refund
    }

    /// A partner cancels a payment it received (any of its terminals), once; the money goes back to the
    /// wallet it came from.
    public func cancelPayment(txn: String, partnerID: String, terminalID: String, stan: String) throws -> CancellationResult {
        let payment = try payment(txn: txn)
        guard payment.partnerID == partnerID else { throw LedgerError.paymentOfAnotherPartner(txn) }
        switch payment.status {
        case .cancelled: throw LedgerError.alreadyCancelled(txn)
        case .reversed: throw LedgerError.notCancellable("transaction \(txn) was reversed: nothing to cancel")
        case .approved: break
        }
        let refund = try undo(payment, status: .cancelled, kind: "cancellation")
        let cancellationTxn = try newTxnID()
        try db.run("""
            INSERT INTO cancellations(txn, original_txn, partner_id, terminal_id, stan, amount_cents, transfer_id, created_at_ms, business_day)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, cancellationTxn, txn, partnerID, terminalID, stan, payment.amountCents, refund, nowMillis, today.iso)
        return CancellationResult(txn: cancellationTxn, originalTxn: txn, amountCents: payment.amountCents)
    }

    /// What a terminal did on a business day (contract §3 `totals`).
    public func totals(terminalID: String, partnerID: String, day: LocalDate) throws -> TerminalTotals {
        func sum(_ sql: String, _ arguments: SQLBindable...) throws -> CountAndAmount {
            var result = CountAndAmount()
            try db.forEach(sql, arguments) { result = CountAndAmount(count: Int($0.int(0)), amountCents: $0.int(1)) }
            return result
        }
        let purchases = try sum("""
            SELECT COUNT(*), COALESCE(SUM(amount_cents), 0) FROM payments
            WHERE terminal_id = ? AND business_day = ? AND kind = 'purchase' AND status <> 'reversed'
            """, terminalID, day.iso)
        let cancellations = try sum("""
            SELECT COUNT(*), COALESCE(SUM(amount_cents), 0) FROM cancellations WHERE terminal_id = ? AND business_day = ?
            """, terminalID, day.iso)
        let vouchers = try sum("""
            SELECT COUNT(*), COALESCE(SUM(amount_cents), 0) FROM payments
            WHERE terminal_id = ? AND business_day = ? AND kind = 'voucher' AND status <> 'reversed'
            """, terminalID, day.iso)
        // The day's bounds let the partial index `payments_online_by_partner` answer (business_day is the
        // Paris day of created_at_ms: both come from the same clock reading).
        let online = try sum("""
            SELECT COUNT(*), COALESCE(SUM(amount_cents), 0) FROM payments
            WHERE partner_id = ? AND kind = 'online' AND created_at_ms >= ? AND created_at_ms < ? AND business_day = ?
            """, partnerID, ParisCalendar.startMillis(of: day), ParisCalendar.startMillis(of: day.adding(days: 1)), day.iso)
        return TerminalTotals(purchases: purchases, cancellations: cancellations, vouchers: vouchers, online: online)
    }
}

extension Money {
    static func validate(amountCentsOrThrow amountCents: Int64) throws {
        do { try validate(amountCents: amountCents) } catch { throw LedgerError.invalid(error.description) }
    }
}
