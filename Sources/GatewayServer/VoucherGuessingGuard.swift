import Ledger

/// Stops a partner from guessing voucher codes: after `maximumFailures` unknown or mistyped codes within
/// `window`, counted over all its terminals, its voucher requests are refused (`05`, "Trop d'essais") for
/// `lockout`. With 31^11 possible codes and this rate, guessing one is out of reach. The counts live in
/// the ledger (`voucher_guessing`, one row per partner): a restart does not reset them, and N terminals of
/// one partner share one budget instead of getting N of them.
enum VoucherGuessingGuard {
    static let maximumFailures = 10
    static let window: Duration = .seconds(600)
    static let lockout: Duration = .seconds(900)

    static let rule = VoucherGuessingRule(maximumFailures: maximumFailures,
                                          windowMillis: window.components.seconds * 1000,
                                          lockoutMillis: lockout.components.seconds * 1000)

    static func isLockedOut(_ partnerID: String, tx: LedgerTransaction) throws -> Bool {
        try tx.isVoucherGuessingLockedOut(partnerID: partnerID)
    }

    static func recordFailure(_ partnerID: String, tx: LedgerTransaction) throws {
        try tx.recordVoucherGuessFailure(partnerID: partnerID, rule: rule)
    }
}
