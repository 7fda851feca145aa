import Foundation
import HDFDomain

/// The operator's changes. They take effect at once for every process on the ledger: the gateway reads
/// partners, terminals, cards and wallets from the ledger on each request.
extension LedgerTransaction {
    static let maximumIdentifierLength = 32

    static func validateIdentifier(_ text: String, what: String) throws {
        guard !text.isEmpty, text.count <= maximumIdentifierLength,
              text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw LedgerError.invalid("\(what) '\(text)' must be 1 to \(maximumIdentifierLength) letters, digits, '-' or '_'")
        }
    }

    static func validateText(_ text: String, what: String, maximumLength: Int = 200) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, text.count <= maximumLength, !text.contains(where: { $0.isNewline }) else {
            throw LedgerError.invalid("\(what) must be 1 to \(maximumLength) characters on one line")
        }
    }

    public func addPartner(_ partner: PartnerRecord) throws {
        ledger.cache.clear()
        try Self.validateIdentifier(partner.id, what: "partner id")
        try Self.validateText(partner.name, what: "partner name")
        try Self.validateText(partner.city, what: "partner city")
        guard !partner.wallets.isEmpty else { throw LedgerError.invalid("a partner accepts at least one wallet") }
        guard try db.scalarInt("SELECT 1 FROM partners WHERE id = ?", partner.id) == nil else {
            throw LedgerError.duplicate("partner '\(partner.id)'")
        }
        let account = try createAccount(kind: "partner", name: "partner:\(partner.id)")
        try db.run("""
            INSERT INTO partners(id, name, category, address, city, phone, email, website, accepts_prepayment, accepts_online, account_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, partner.id, partner.name, partner.category.rawValue, partner.address, partner.city, partner.phone,
                   partner.email, partner.website, partner.acceptsPrepayment, partner.acceptsOnline, account)
        for code in Set(partner.wallets) {
            try db.run("INSERT INTO partner_wallets(partner_id, code) VALUES (?, ?)", partner.id, code.rawValue)
        }
        try audit(action: "partner.add", subject: partner.id, result: "ok", detail: partner.name)
    }

    public func enrollTerminal(id: String, partnerID: String, certificateSHA256: String) throws {
        ledger.cache.clear()
        try Self.validateIdentifier(id, what: "terminal id")
        _ = try partner(id: partnerID)
        guard try db.scalarInt("SELECT 1 FROM terminals WHERE id = ?", id) == nil else {
            throw LedgerError.duplicate("terminal '\(id)'")
        }
        try db.run("INSERT INTO terminals(id, partner_id, cert_sha256, status, enrolled_at_ms) VALUES (?, ?, ?, 'active', ?)",
                   id, partnerID, certificateSHA256, nowMillis)
        try audit(action: "terminal.enroll", subject: id, result: "ok", detail: "partner \(partnerID)")
    }

    public func revokeTerminal(id: String) throws {
        ledger.cache.clear()
        let terminal = try terminal(id: id)
        guard terminal.status == .active else { throw LedgerError.invalid("terminal '\(id)' is already revoked") }
        try db.run("UPDATE terminals SET status = 'revoked', revoked_at_ms = ? WHERE id = ?", nowMillis, id)
        ledger.cache.clear() // the lookup above cached the terminal as active
        try audit(action: "terminal.revoke", subject: id, result: "ok")
    }

    /// Issues a new card to a beneficiary (created on first sight of the dossier). The PAN is
    /// `9250` + 11 random digits + the Luhn digit, unique in the ledger.
    public func issueCard(beneficiary: BeneficiaryRecord, pan requested: PAN? = nil) throws -> CardRecord {
        try Self.validateIdentifier(beneficiary.dossier, what: "dossier")
        try Self.validateText(beneficiary.firstName, what: "first name", maximumLength: 80)
        try Self.validateText(beneficiary.lastName, what: "last name", maximumLength: 80)
        let beneficiaryID: Int64
        if let existing = try db.row("SELECT id, first_name, last_name FROM beneficiaries WHERE dossier = ?", beneficiary.dossier,
                                     map: { (id: $0.int(0), first: $0.text(1), last: $0.text(2)) }) {
            guard existing.first == beneficiary.firstName, existing.last == beneficiary.lastName else {
                throw LedgerError.invalid("dossier '\(beneficiary.dossier)' belongs to another beneficiary")
            }
            beneficiaryID = existing.id
        } else {
            try db.run("""
                INSERT INTO beneficiaries(dossier, first_name, last_name, birth_date, situation, boursier) VALUES (?, ?, ?, ?, ?, ?)
                """, beneficiary.dossier, beneficiary.firstName, beneficiary.lastName, beneficiary.birthDate?.iso,
                       beneficiary.situation?.rawValue, beneficiary.boursier)
            beneficiaryID = db.lastInsertRowID
        }
        var pan = requested ?? Self.randomPAN()
        if requested == nil {
            while try db.scalarInt("SELECT 1 FROM cards WHERE pan = ?", pan.digits) != nil { pan = Self.randomPAN() }
        } else if try db.scalarInt("SELECT 1 FROM cards WHERE pan = ?", pan.digits) != nil {
            throw LedgerError.duplicate("card \(pan.masked)")
        }
        try db.run("INSERT INTO cards(pan, beneficiary_id, status, issued_at_ms) VALUES (?, ?, 'active', ?)",
                   pan.digits, beneficiaryID, nowMillis)
        try audit(action: "card.issue", subject: pan.masked, result: "ok", detail: "dossier \(beneficiary.dossier)")
        return try card(pan: pan)
    }

    static func randomPAN() -> PAN {
        var generator = SystemRandomNumberGenerator()
        let body = "9250" + String((0..<11).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
        return PAN(appendingCheckDigitTo: body)
    }

    /// Blocks (lost, stolen, damaged) or unblocks a card. A blocked card is declined on its very next
    /// card-present request, whatever process asks.
    public func setCardStatus(pan: PAN, status: CardStatus, actor: String? = nil) throws {
        let card = try card(pan: pan)
        if status == .active && card.status == .active {
            throw LedgerError.invalid("card \(pan.masked) is not blocked")
        }
        try db.run("UPDATE cards SET status = ? WHERE id = ?", status.rawValue, card.id)
        try audit(actor: actor, action: status == .active ? "card.unblock" : "card.block", subject: pan.masked,
                  result: "ok", detail: status.rawValue)
    }

    /// Loads a wallet from the region's funding account. The wallet is created on its first load; a
    /// later load pushes its expiry to the later of the old one and this load's.
    public func loadWallet(pan: PAN, code: WalletCode, amountCents: Int64, validMonths: Int? = nil) throws -> WalletRecord {
        do { try Money.validate(amountCents: amountCents) } catch { throw LedgerError.invalid(error.description) }
        let months = validMonths ?? code.defaultValidityMonths
        guard (1...60).contains(months) else { throw LedgerError.invalid("validity must be 1 to 60 months (got \(months))") }
        let card = try card(pan: pan)
        let walletID = try openWallet(card: card, code: code, expires: today.adding(months: months))
        let wallet = try wallet(id: walletID)
        guard wallet.availableCents + amountCents <= Money.maximumAmountCents else {
            throw LedgerError.invalid("a wallet holds at most \(Money.maximumAmountCents) cents")
        }
        let transfer = try transfer(debit: fundingAccountID(), credit: wallet.accountID, amountCents: amountCents,
                                    phase: .single, kind: "load", reference: nil)
        try db.run("INSERT INTO loads(wallet_id, amount_cents, expires_on, transfer_id, created_at_ms) VALUES (?, ?, ?, ?, ?)",
                   walletID, amountCents, today.adding(months: months).iso, transfer, nowMillis)
        try audit(action: "wallet.load", subject: pan.masked, result: "ok", detail: "\(code.rawValue) \(amountCents)")
        return try self.wallet(id: walletID)
    }

    /// Creates the card's wallet on first use; a wallet that exists gets the later of its expiry and `expires`.
    @discardableResult
    public func openWallet(card: CardRecord, code: WalletCode, expires: LocalDate) throws -> Int64 {
        if let existing = try wallets(cardID: card.id).first(where: { $0.code == code }) {
            try db.run("UPDATE wallets SET loaded_on = ?, expires_on = ? WHERE id = ?",
                       today.iso, max(existing.expiresOn, expires).iso, existing.id)
            return existing.id
        }
        let account = try createAccount(kind: "wallet", name: "wallet:\(card.id):\(code.rawValue)")
        try db.run("INSERT INTO wallets(card_id, code, account_id, loaded_on, expires_on) VALUES (?, ?, ?, ?, ?)",
                   card.id, code.rawValue, account, today.iso, expires.iso)
        return db.lastInsertRowID
    }

    /// Test and demo hook: sets a wallet's expiry (the demo's "expired wallet" card).
    public func setWalletExpiry(pan: PAN, code: WalletCode, expiresOn: LocalDate) throws {
        let card = try card(pan: pan)
        let changed = try db.run("UPDATE wallets SET expires_on = ? WHERE card_id = ? AND code = ?", expiresOn.iso, card.id, code.rawValue)
        guard changed == 1 else { throw LedgerError.unknownWallet(card: pan.masked, wallet: code) }
    }
}
