import HDFDomain

/// The double-entry primitives. Every movement of money in the project goes through these three
/// functions, and each keeps the account totals equal to the sums of their transfers.
extension LedgerTransaction {
    public enum Phase: String { case single, pending }

    /// Moves `amountCents` from one account to another: posted at once (`single`) or reserved (`pending`).
    @discardableResult
    func transfer(debit debitAccount: Int64, credit creditAccount: Int64, amountCents: Int64,
                  phase: Phase, kind: String, reference: String?) throws -> Int64 {
        precondition(amountCents > 0 && amountCents <= Money.maximumAmountCents, "transfer amount out of bounds")
        precondition(debitAccount != creditAccount, "a transfer needs two accounts")
        try db.run("""
            INSERT INTO transfers(debit_account_id, credit_account_id, amount_cents, phase, kind, reference, created_at_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, debitAccount, creditAccount, amountCents, phase.rawValue, kind, reference, nowMillis)
        let id = db.lastInsertRowID
        switch phase {
        case .single:
            try db.run("UPDATE accounts SET debits_posted = debits_posted + ? WHERE id = ?", amountCents, debitAccount)
            try db.run("UPDATE accounts SET credits_posted = credits_posted + ? WHERE id = ?", amountCents, creditAccount)
        case .pending:
            try db.run("UPDATE accounts SET debits_pending = debits_pending + ? WHERE id = ?", amountCents, debitAccount)
            try db.run("UPDATE accounts SET credits_pending = credits_pending + ? WHERE id = ?", amountCents, creditAccount)
        }
        return id
    }

    /// Posts (`post: true`) or voids a pending transfer, once. Posting moves the reserved money for good;
    /// voiding gives it back to the debited account.
    @discardableResult
    func resolvePending(_ pendingID: Int64, post: Bool, kind: String, reference: String?) throws -> Int64 {
        guard let pending = try db.row("""
            SELECT debit_account_id, credit_account_id, amount_cents, phase, resolved_by FROM transfers WHERE id = ?
            """, pendingID, map: { (debit: $0.int(0), credit: $0.int(1), amount: $0.int(2), phase: $0.text(3), resolvedBy: $0.optionalInt(4)) })
        else { throw LedgerError.storage("pending transfer \(pendingID) does not exist") }
        guard pending.phase == "pending", pending.resolvedBy == nil else {
            throw LedgerError.storage("transfer \(pendingID) is not an unresolved pending transfer")
        }
        try db.run("""
            INSERT INTO transfers(debit_account_id, credit_account_id, amount_cents, phase, kind, pending_id, reference, created_at_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, pending.debit, pending.credit, pending.amount, post ? "post" : "void", kind, pendingID, reference, nowMillis)
        let id = db.lastInsertRowID
        try db.run("UPDATE transfers SET resolved_by = ? WHERE id = ?", id, pendingID)
        try db.run("UPDATE accounts SET debits_pending = debits_pending - ? WHERE id = ?", pending.amount, pending.debit)
        try db.run("UPDATE accounts SET credits_pending = credits_pending - ? WHERE id = ?", pending.amount, pending.credit)
        if post {
            try db.run("UPDATE accounts SET debits_posted = debits_posted + ? WHERE id = ?", pending.amount, pending.debit)
            try db.run("UPDATE accounts SET credits_posted = credits_posted + ? WHERE id = ?", pending.amount, pending.credit)
        }
        return id
    }

    func createAccount(kind: String, name: String) throws -> Int64 {
        try db.run("INSERT INTO accounts(kind, name) VALUES (?, ?)", kind, name)
        return db.lastInsertRowID
    }

    func fundingAccountID() throws -> Int64 {
        guard let id = try db.scalarInt("SELECT id FROM accounts WHERE kind = 'funding' AND name = 'region'") else {
            throw LedgerError.storage("the region's funding account is missing")
        }
        return id
    }

    /// `count` characters of the voucher alphabet (no look-alikes) from one draw of the system's CSPRNG:
    /// one `getrandom` call per id instead of one per character.
    static func randomCharacters(_ count: Int) -> String {
        precondition(count <= 12, "31^12 < 2^64: more characters would need a second draw")
        var generator = SystemRandomNumberGenerator()
        let alphabet = VoucherCode.alphabet
        var value = UInt64.random(in: 0...UInt64.max, using: &generator)
        var characters: [Character] = []
        characters.reserveCapacity(count)
        for _ in 0..<count {
            characters.append(alphabet[Int(value % UInt64(alphabet.count))])
            value /= UInt64(alphabet.count)
        }
        return String(characters)
    }

    static func newAuthCode() -> String { randomCharacters(6) }
}
