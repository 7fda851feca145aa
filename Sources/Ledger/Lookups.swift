import HDFDomain

extension LedgerTransaction {
    static let cardColumns = "id, pan, beneficiary_id, status, last_atc"

    static func cardRecord(_ row: SQLRow) throws -> CardRecord {
        CardRecord(id: row.int(0), pan: try PAN(validating: row.text(1)), beneficiaryID: row.int(2),
                   status: CardStatus(rawValue: row.text(3)) ?? .damaged, lastATC: UInt16(truncatingIfNeeded: row.int(4)))
    }

    public func card(pan: PAN) throws -> CardRecord {
        guard let card = try db.row("SELECT \(Self.cardColumns) FROM cards WHERE pan = ?", pan.digits, map: Self.cardRecord) else {
            throw LedgerError.unknownCard(masked: pan.masked)
        }
        return card
    }

    public func card(id: Int64) throws -> CardRecord {
        guard let card = try db.row("SELECT \(Self.cardColumns) FROM cards WHERE id = ?", id, map: Self.cardRecord) else {
            throw LedgerError.storage("card \(id) is missing")
        }
        return card
    }

    public func beneficiary(id: Int64) throws -> BeneficiaryRecord {
        guard let record = try db.row("""
            SELECT dossier, first_name, last_name, birth_date, situation, boursier FROM beneficiaries WHERE id = ?
            """, id, map: { row in
                BeneficiaryRecord(dossier: row.text(0), firstName: row.text(1), lastName: row.text(2),
                                  birthDate: row.optionalText(3).flatMap(LocalDate.init(iso:)),
                                  situation: row.optionalText(4).flatMap(BeneficiarySituation.init(rawValue:)),
                                  boursier: row.int(5) != 0)
            }) else { throw LedgerError.storage("beneficiary \(id) is missing") }
        return record
    }

    static let walletColumns = """
        w.id, w.card_id, w.code, w.account_id, w.loaded_on, w.expires_on,
        a.credits_posted - a.debits_posted - a.debits_pending
        """

    static func walletRecord(_ row: SQLRow) throws -> WalletRecord {
        guard let code = WalletCode(rawValue: row.text(2)),
              let loaded = LocalDate(iso: row.text(4)), let expires = LocalDate(iso: row.text(5)) else {
            throw LedgerError.storage("wallet \(row.int(0)) has an unreadable code or date")
        }
        return WalletRecord(id: row.int(0), cardID: row.int(1), code: code, accountID: row.int(3),
                            loadedOn: loaded, expiresOn: expires, availableCents: row.int(6))
    }

    /// The card's wallets, in code order.
    public func wallets(cardID: Int64) throws -> [WalletRecord] {
        try db.rows("""
            SELECT \(Self.walletColumns) FROM wallets w JOIN accounts a ON a.id = w.account_id
            WHERE w.card_id = ? ORDER BY w.code
            """, cardID, map: Self.walletRecord)
    }

    public func wallet(id: Int64) throws -> WalletRecord {
        guard let wallet = try db.row("""
            SELECT \(Self.walletColumns) FROM wallets w JOIN accounts a ON a.id = w.account_id WHERE w.id = ?
            """, id, map: Self.walletRecord) else { throw LedgerError.storage("wallet \(id) is missing") }
        return wallet
    }

    static let partnerColumns = """
        id, name, category, address, city, phone, email, website, accepts_prepayment, accepts_online, account_id
        """

    func partnerRecord(_ row: SQLRow) throws -> (PartnerRecord, accountID: Int64) {
        let id = row.text(0)
        let codes = try db.rows("SELECT code FROM partner_wallets WHERE partner_id = ? ORDER BY code", id) {
            WalletCode(rawValue: $0.text(0))
        }.compactMap { $0 }
        let record = PartnerRecord(
            id: id, name: row.text(1), category: PartnerCategory(rawValue: row.text(2)) ?? .equipement,
            address: row.text(3), city: row.text(4), phone: row.text(5), email: row.text(6), website: row.text(7),
            acceptsPrepayment: row.int(8) != 0, acceptsOnline: row.int(9) != 0, wallets: codes)
        return (record, row.int(10))
    }

    public func partner(id: String) throws -> PartnerRecord {
        try partnerWithAccount(id: id).0
    }

    func partnerWithAccount(id: String) throws -> (PartnerRecord, accountID: Int64) {
        if let cached = ledger.cache.partners[id] { return cached }
        var result: (PartnerRecord, accountID: Int64)?
        try db.forEach("SELECT \(Self.partnerColumns) FROM partners WHERE id = ?", [id]) { result = try partnerRecord($0) }
        guard let result else { throw LedgerError.unknownPartner(id) }
        ledger.cache.partners[id] = result
        return result
    }

    public func allPartners() throws -> [PartnerRecord] {
        var rows: [(PartnerRecord, accountID: Int64)] = []
        try db.forEach("SELECT \(Self.partnerColumns) FROM partners ORDER BY id", []) { rows.append(try partnerRecord($0)) }
        return rows.map(\.0)
    }

    public func terminal(id: String) throws -> TerminalRecord {
        if let cached = ledger.cache.terminals[id] { return cached }
        guard let record = try db.row("SELECT id, partner_id, cert_sha256, status FROM terminals WHERE id = ?", id, map: {
            TerminalRecord(id: $0.text(0), partnerID: $0.text(1), certificateSHA256: $0.text(2),
                           status: TerminalStatus(rawValue: $0.text(3)) ?? .revoked)
        }) else { throw LedgerError.unknownTerminal(id) }
        ledger.cache.terminals[id] = record
        return record
    }

    public func terminals() throws -> [TerminalRecord] {
        try db.rows("SELECT id, partner_id, cert_sha256, status FROM terminals ORDER BY id") {
            TerminalRecord(id: $0.text(0), partnerID: $0.text(1), certificateSHA256: $0.text(2),
                           status: TerminalStatus(rawValue: $0.text(3)) ?? .revoked)
        }
    }

    static let paymentColumns = """
        p.txn, p.kind, p.card_id, w.code, p.partner_id, p.terminal_id, p.stan, p.amount_cents, p.auth_code,
        p.label, p.status, p.created_at_ms, p.business_day
        """

    static func paymentRecord(_ row: SQLRow) throws -> PaymentRecord {
        guard let kind = PaymentKind(rawValue: row.text(1)), let wallet = WalletCode(rawValue: row.text(3)),
              let status = PaymentStatus(rawValue: row.text(10)), let day = LocalDate(iso: row.text(12)) else {
            throw LedgerError.storage("payment \(row.text(0)) is unreadable")
        }
        return PaymentRecord(txn: row.text(0), kind: kind, cardID: row.int(2), wallet: wallet, partnerID: row.text(4),
                             terminalID: row.optionalText(5), stan: row.optionalText(6), amountCents: row.int(7),
                             authCode: row.optionalText(8), label: row.text(9), status: status,
                             createdAtMillis: row.int(11), businessDay: day)
    }

    public func payment(txn: String) throws -> PaymentRecord {
        guard let record = try db.row("""
            SELECT \(Self.paymentColumns) FROM payments p JOIN wallets w ON w.id = p.wallet_id WHERE p.txn = ?
            """, txn, map: Self.paymentRecord) else { throw LedgerError.unknownPayment(txn) }
        return record
    }
}
