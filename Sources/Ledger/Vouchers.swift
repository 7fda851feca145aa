import HDFDomain

/// Prepayment vouchers: a two-phase transfer from the wallet to the partner. Issuing holds the money
/// (pending); redeeming posts it to the partner; the beneficiary's cancellation or the voucher's expiry
/// voids it, and the money is back in the wallet it came from.
extension LedgerTransaction {
    static let voucherColumns = """
        v.code, v.card_id, w.code, v.partner_id, v.amount_cents, v.status, v.expires_on, v.created_at_ms, v.hold_transfer_id
        """

    static func voucherRecord(_ row: SQLRow) throws -> VoucherRecord {
        guard let code = try? VoucherCode(parsing: row.text(0)), let wallet = WalletCode(rawValue: row.text(2)),
              let status = VoucherStatus(rawValue: row.text(5)), let expires = LocalDate(iso: row.text(6)) else {
            throw LedgerError.storage("a voucher row is unreadable")
        }
        return VoucherRecord(code: code, cardID: row.int(1), wallet: wallet, partnerID: row.text(3), amountCents: row.int(4),
                             status: status, expiresOn: expires, createdAtMillis: row.int(7))
    }

    /// Reads a voucher. One still `issued` past its expiry is released first (the hold is voided and the
    /// money goes back to its wallet) and comes back `expired`.
    public func voucher(code: VoucherCode) throws -> VoucherRecord {
        guard let (record, hold) = try db.row("""
            SELECT \(Self.voucherColumns) FROM vouchers v JOIN wallets w ON w.id = v.wallet_id WHERE v.code = ?
            """, code.canonical, map: { (try Self.voucherRecord($0), $0.int(8)) }) else { throw LedgerError.unknownVoucher }
        guard record.status == .issued, today > record.expiresOn else { return record }
        try resolvePending(hold, post: false, kind: "voucher.expiry", reference: code.canonical)
        try db.run("UPDATE vouchers SET status = 'expired', resolved_at_ms = ? WHERE code = ?", nowMillis, code.canonical)
        try audit(action: "voucher.expire", subject: code.canonical, result: "released", detail: "\(record.amountCents)")
        return try voucher(code: code)
    }

    /// Releases every voucher still `issued` past its expiry (their money goes back to their wallets).
    /// The gateway runs it regularly so that money does not wait for someone to look the voucher up.
    /// How many expired vouchers one housekeeping run releases at most.
    public static let voucherReleaseLimitPerRun = 1_000

    @discardableResult
    public func releaseExpiredVouchers(limit: Int = voucherReleaseLimitPerRun) throws -> Int {
        // `vouchers_issued_by_expiry` (a partial index on issued vouchers) makes this a range scan.
        let due = try db.rows("""
            SELECT code FROM vouchers WHERE status = 'issued' AND expires_on < ? ORDER BY expires_on LIMIT ?
            """, today.iso, limit) {
            $0.text(0)
        }
        for text in due {
            guard let code = try? VoucherCode(parsing: text) else { continue }
            _ = try voucher(code: code)
        }
        return due.count
    }

    /// The beneficiary creates a voucher for a partner that accepts prepayments; the money leaves the
    /// wallet at once. Valid until the wallet expires.
    public func prepay(pan: PAN, partnerID: String, wallet code: WalletCode, amountCents: Int64) throws -> VoucherRecord {
        try Money.validate(amountCentsOrThrow: amountCents)
        let card = try card(pan: pan)
        let (partner, partnerAccount) = try partnerWithAccount(id: partnerID)
        guard partner.acceptsPrepayment else { throw LedgerError.partnerRefuses(partner: partnerID, what: "prepayment vouchers") }
        let (wallet, _) = try chooseWallet(card: card, partner: partner, requested: code, amountCents: amountCents, allowPartial: false)
        var voucherCode = VoucherCode.generate()
        while try db.scalarInt("SELECT 1 FROM vouchers WHERE code = ?", voucherCode.canonical) != nil { voucherCode = .generate() }
        let hold = try transfer(debit: wallet.accountID, credit: partnerAccount, amountCents: amountCents,
                                phase: .pending, kind: "voucher.hold", reference: voucherCode.canonical)
        try db.run("""
            INSERT INTO vouchers(code, card_id, wallet_id, partner_id, amount_cents, status, expires_on, hold_transfer_id, created_at_ms)
            VALUES (?, ?, ?, ?, ?, 'issued', ?, ?, ?)
            """, voucherCode.canonical, card.id, wallet.id, partnerID, amountCents, wallet.expiresOn.iso, hold, nowMillis)
        try audit(action: "voucher.issue", subject: pan.masked, result: "ok", detail: "\(partnerID) \(amountCents)")
        return try voucher(code: voucherCode)
    }

    /// The beneficiary cancels a voucher the partner has not redeemed: the money goes back to the wallet.
    public func cancelPrepayment(pan: PAN, code: VoucherCode) throws -> VoucherRecord {
        let card = try card(pan: pan)
        let record = try voucher(code: code)
        guard record.cardID == card.id else { throw LedgerError.voucherOfAnotherCard }
        switch record.status {
        case .redeemed: throw LedgerError.voucherAlreadyRedeemed
        case .cancelled: throw LedgerError.voucherCancelled
        case .expired: throw LedgerError.voucherExpired(on: record.expiresOn)
        case .issued: break
        }
        guard let hold = try db.scalarInt("SELECT hold_transfer_id FROM vouchers WHERE code = ?", code.canonical) else {
            throw LedgerError.unknownVoucher
        }
        try resolvePending(hold, post: false, kind: "voucher.cancel", reference: code.canonical)
        try db.run("UPDATE vouchers SET status = 'cancelled', resolved_at_ms = ? WHERE code = ?", nowMillis, code.canonical)
        try audit(action: "voucher.cancel", subject: pan.masked, result: "ok", detail: code.canonical)
        return try voucher(code: code)
    }

    /// Checks that a voucher can be redeemed by this partner; returns it as it stands.
    public func checkVoucher(code: VoucherCode, partnerID: String) throws -> VoucherRecord {
        let record = try voucher(code: code)
        guard record.partnerID == partnerID else { throw LedgerError.voucherOfAnotherPartner }
        return record
    }

    /// The partner redeems a voucher: the held money is posted to it. Once.
    public func redeemVoucher(code: VoucherCode, partnerID: String, terminalID: String, stan: String) throws -> RedemptionResult {
        let record = try checkVoucher(code: code, partnerID: partnerID)
        switch record.status {
        case .redeemed: throw LedgerError.voucherAlreadyRedeemed
        case .cancelled: throw LedgerError.voucherCancelled
        case .expired: throw LedgerError.voucherExpired(on: record.expiresOn)
        case .issued: break
        }
        guard let (hold, walletID) = try db.row("SELECT hold_transfer_id, wallet_id FROM vouchers WHERE code = ?", code.canonical,
                                                map: { ($0.int(0), $0.int(1)) }) else { throw LedgerError.unknownVoucher }
        let post = try resolvePending(hold, post: true, kind: "voucher.redeem", reference: code.canonical)
        let partner = try partner(id: partnerID)
        let txn = try newTxnID()
        try db.run("""
            INSERT INTO payments(txn, kind, card_id, wallet_id, partner_id, terminal_id, stan, amount_cents, auth_code, label,
                                 status, voucher_code, transfer_id, created_at_ms, business_day, previous_card_payment_txn)
            VALUES (?, 'voucher', ?, ?, ?, ?, ?, ?, NULL, ?, 'approved', ?, ?, ?, ?, \(Self.previousCardPaymentSQL))
            """, txn, record.cardID, walletID, partnerID, terminalID, stan, record.amountCents,
                   "Bon de prépaiement – \(partner.name)", code.canonical, post, nowMillis, today.iso, record.cardID)
        try linkNewestPayment(cardID: record.cardID, txn: txn)
        try db.run("UPDATE vouchers SET status = 'redeemed', resolved_at_ms = ? WHERE code = ?", nowMillis, code.canonical)
        return RedemptionResult(txn: txn, amountCents: record.amountCents)
    }
}

/// Online payments from the beneficiary's web space ("Extranet Bénéficiaire"). Only the partner can
/// cancel one (through the gateway's `cancel`).
extension LedgerTransaction {
    public static let onlinePaymentLabel = "Extranet Bénéficiaire"
    public static let onlineListMaximumCount = 500
    public static let onlineListWindowDays = 30

    public func payOnline(pan: PAN, partnerID: String, wallet code: WalletCode, amountCents: Int64) throws -> PaymentRecord {
        try Money.validate(amountCentsOrThrow: amountCents)
        let card = try card(pan: pan)
        let (partner, partnerAccount) = try partnerWithAccount(id: partnerID)
        guard partner.acceptsOnline else { throw LedgerError.partnerRefuses(partner: partnerID, what: "online payments") }
        let (wallet, _) = try chooseWallet(card: card, partner: partner, requested: code, amountCents: amountCents, allowPartial: false)
        let txn = try newTxnID()
        let transfer = try transfer(debit: wallet.accountID, credit: partnerAccount, amountCents: amountCents,
                                    phase: .single, kind: "online", reference: txn)
        try db.run("""
            INSERT INTO payments(txn, kind, card_id, wallet_id, partner_id, terminal_id, stan, amount_cents, auth_code, label,
                                 status, transfer_id, created_at_ms, business_day, previous_card_payment_txn)
            VALUES (?, 'online', ?, ?, ?, NULL, NULL, ?, NULL, ?, 'approved', ?, ?, ?, \(Self.previousCardPaymentSQL))
            """, txn, card.id, wallet.id, partnerID, amountCents, Self.onlinePaymentLabel, transfer, nowMillis, today.iso, card.id)
        try linkNewestPayment(cardID: card.id, txn: txn)
        try audit(action: "online.pay", subject: pan.masked, result: "ok", detail: "\(partnerID) \(amountCents)")
        return try payment(txn: txn)
    }

    /// A partner's online payments, newest first, at most 500: a card's (any age), or all of the last 30 days.
    public func onlinePayments(partnerID: String, cardID: Int64?) throws -> [PaymentRecord] {
        if let cardID {
            return try db.rows("""
                WITH RECURSIVE \(Self.cardPaymentsChain)
                SELECT \(Self.paymentColumns) FROM card_payments cp JOIN payments p ON p.txn = cp.txn JOIN wallets w ON w.id = p.wallet_id
                WHERE p.partner_id = ?2 AND p.kind = 'online' ORDER BY p.created_at_ms DESC, p.rowid DESC LIMIT ?3
                """, cardID, partnerID, Self.onlineListMaximumCount, map: Self.paymentRecord)
        }
        let since = nowMillis - Int64(Self.onlineListWindowDays) * 86_400_000
        return try db.rows("""
            SELECT \(Self.paymentColumns) FROM payments p JOIN wallets w ON w.id = p.wallet_id
            WHERE p.partner_id = ? AND p.kind = 'online' AND p.created_at_ms >= ? ORDER BY p.created_at_ms DESC, p.rowid DESC LIMIT ?
            """, partnerID, since, Self.onlineListMaximumCount, map: Self.paymentRecord)
    }
}

/// Idempotency: what each (terminal, stan) got, kept at least 48 hours (we keep 7 days). Past the
/// retention a stan is simply new: its record, and so what `reverse` and `status` act on, is the new one.
extension LedgerTransaction {
    public static let stanRetention: Duration = .seconds(7 * 86_400)

    public func stan(terminalID: String, stan: String) throws -> StanRecord? {
        try db.row("""
            SELECT s.digest, s.request_id, s.code, s.request_type, s.message, s.balance_after_cents, s.response, s.reversed,
                   s.payment_txn, p.kind, p.auth_code, p.amount_cents, w.code
            FROM stans s LEFT JOIN payments p ON p.txn = s.payment_txn LEFT JOIN wallets w ON w.id = p.wallet_id
            WHERE s.terminal_id = ? AND s.stan = ?
            """, terminalID, stan) { row in
            let answered = !row.isNull(0)
            let payment: StanPayment?
            if !row.isNull(9), let kind = PaymentKind(rawValue: row.text(9)), let wallet = WalletCode(rawValue: row.text(12)) {
                payment = StanPayment(kind: kind, authCode: row.optionalText(10), amountCents: row.int(11), wallet: wallet)
            } else {
                payment = nil
            }
            return StanRecord(
                digest: answered ? Self.digestBytes(row, 0) : nil,
                answer: answered ? StanAnswer(requestID: row.optionalText(1), code: row.optionalText(2), requestType: row.optionalText(3),
                                              message: row.optionalText(4), balanceAfterCents: row.optionalInt(5),
                                              response: row.isNull(6) ? nil : row.blob(6)) : nil,
                reversed: row.int(7) != 0, paymentTxn: row.optionalText(8), payment: payment)
        }
    }

    /// A digest as stored: 32 bytes, or (records written before migration 8, gone after the retention) 64
    /// lowercase hex digits, read back as their bytes so either compares with a request's digest.
    static func digestBytes(_ row: SQLRow, _ column: Int32) -> [UInt8] {
        guard row.isText(column) else { return row.blob(column) }
        let hex = Array(row.text(column).utf8)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            default: return nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var index = 0
        while index + 1 < hex.count {
            guard let high = nibble(hex[index]), let low = nibble(hex[index + 1]) else { return [] }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    /// Remembers what a request got, and the payment it produced (if any): `reverse` and `status` act on
    /// exactly that payment. A stan that only a reversal named so far gets its request's digest and answer
    /// now, and stays marked reversed; its retention counts from now, the request's arrival (its rowid stays the
    /// reversal's: the purge passes over it while it is young).
    public func recordStan(terminalID: String, stan: String, digest: [UInt8], answer: StanAnswer,
                           paymentTxn: String? = nil) throws {
        precondition(digest.count == 32, "a stan's digest is a SHA-256")
        precondition(answer.requestID != nil && answer.code != nil, "a new stan record names its request and code")
        try db.run("""
            INSERT INTO stans(terminal_id, stan, digest, request_id, code, request_type, message, balance_after_cents, response,
                              payment_txn, reversed, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
            ON CONFLICT(terminal_id, stan) DO UPDATE SET digest = excluded.digest, request_id = excluded.request_id,
                code = excluded.code, request_type = excluded.request_type, message = excluded.message,
                balance_after_cents = excluded.balance_after_cents, response = excluded.response, payment_txn = excluded.payment_txn,
                created_at_ms = excluded.created_at_ms
            WHERE stans.digest IS NULL
            """, terminalID, stan, digest, answer.requestID, answer.code, answer.requestType, answer.message,
                   answer.balanceAfterCents, answer.response, paymentTxn, nowMillis)
    }

    public func markStanReversed(terminalID: String, stan: String) throws {
        try db.run("""
            INSERT INTO stans(terminal_id, stan, reversed, created_at_ms) VALUES (?, ?, 1, ?)
            ON CONFLICT(terminal_id, stan) DO UPDATE SET reversed = 1
            """, terminalID, stan, nowMillis)
    }

    /// How many old stans one housekeeping run forgets at most: a run stays one short transaction.
    public static let stanPurgeLimitPerRun = 5_000

    /// Forgets stans older than the retention among the `limit` first recorded (lowest rowids, appended in time
    /// order), so a run reads at most `limit` rows and needs no index by age. Returns how many. It never
    /// forgets a young stan; `limit` young ones at the lowest rowids (written under a clock set far ahead, or
    /// late originals of old reversals) hold the purge back until they age.
    @discardableResult
    public func purgeStans(limit: Int = stanPurgeLimitPerRun) throws -> Int {
        try db.run("""
            DELETE FROM stans WHERE id IN (SELECT id FROM (SELECT id, created_at_ms FROM stans ORDER BY id LIMIT ?) WHERE created_at_ms < ?)
            """, limit, nowMillis - Self.stanRetention.components.seconds * 1000)
    }
}
