/// The voucher-guessing budget of each partner, kept in the ledger: it survives a restart, and every
/// terminal of a partner draws on the same budget. The rule itself (how many, how long) is the caller's.
public struct VoucherGuessingRule: Sendable, Equatable {
    /// Unknown or mistyped codes allowed in one window before the partner is locked out.
    public let maximumFailures: Int
    /// The window starts at the first failure counted in it.
    public let windowMillis: Int64
    /// How long every voucher request of the partner is refused once the budget is spent.
    public let lockoutMillis: Int64

    public init(maximumFailures: Int, windowMillis: Int64, lockoutMillis: Int64) {
        precondition(maximumFailures > 0 && windowMillis > 0 && lockoutMillis > 0)
        self.maximumFailures = maximumFailures
        self.windowMillis = windowMillis
        self.lockoutMillis = lockoutMillis
    }
}

extension LedgerTransaction {
    /// True while the partner's voucher requests are refused.
    public func isVoucherGuessingLockedOut(partnerID: String) throws -> Bool {
        let until = try db.scalarInt("SELECT locked_until_ms FROM voucher_guessing WHERE partner_id = ?", partnerID) ?? 0
        return nowMillis < until
    }

    /// Counts one unknown or mistyped code against the partner. Returns true when this failure spent the
    /// budget (the partner is locked out from now on).
    @discardableResult
    public func recordVoucherGuessFailure(partnerID: String, rule: VoucherGuessingRule) throws -> Bool {
        let current = try db.row("SELECT window_started_ms, failures FROM voucher_guessing WHERE partner_id = ?", partnerID) {
            (started: $0.int(0), failures: $0.int(1))
        }
        var started = nowMillis
        var failures: Int64 = 1
        if let current, nowMillis - current.started < rule.windowMillis {
            started = current.started
            failures = current.failures + 1
        }
        var lockedUntil: Int64 = 0
        let spent = failures >= Int64(rule.maximumFailures)
        if spent {
            lockedUntil = nowMillis + rule.lockoutMillis
            failures = 0
            started = nowMillis
        }
        try db.run("""
            INSERT INTO voucher_guessing(partner_id, window_started_ms, failures, locked_until_ms) VALUES (?, ?, ?, ?)
            ON CONFLICT(partner_id) DO UPDATE SET window_started_ms = excluded.window_started_ms,
                failures = excluded.failures,
                locked_until_ms = MAX(voucher_guessing.locked_until_ms, excluded.locked_until_ms)
            """, partnerID, started, failures, lockedUntil)
        return spent
    }
}
