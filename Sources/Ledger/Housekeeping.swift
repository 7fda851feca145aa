/// The audit trail's retention. Every decision but `echo` writes one row, so without a bound the trail
/// grows with the traffic for ever.
extension LedgerTransaction {
    /// How long audit rows are kept: 13 months, so a full year can be audited with a month's margin.
    public static let auditRetention: Duration = .seconds(396 * 86_400)
    /// How many audit rows one housekeeping run removes at most: a run stays one short transaction.
    public static let auditPurgeLimitPerRun = 5_000

    /// Removes audit rows older than the retention, oldest first, at most `limit` (indexed by `at_ms`).
    @discardableResult
    public func purgeAudit(limit: Int = auditPurgeLimitPerRun) throws -> Int {
        try db.run("""
            DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at_ms < ? ORDER BY at_ms LIMIT ?)
            """, nowMillis - Self.auditRetention.components.seconds * 1000, limit)
    }
}

/// What one housekeeping run did.
public struct HousekeepingReport: Sendable, Equatable {
    public let releasedVouchers: Int
    public let purgedStans: Int
    public let purgedAuditRows: Int

    /// True when a run stopped at one of its limits: more is due, the next run comes sooner.
    public let reachedALimit: Bool
}

extension LedgerTransaction {
    /// One bounded housekeeping run: expired vouchers released (their money back in their wallets), stans
    /// past their retention forgotten, audit rows past theirs removed. Each step is indexed and limited.
    public func housekeeping() throws -> HousekeepingReport {
        let released = try releaseExpiredVouchers()
        let stans = try purgeStans()
        let audit = try purgeAudit()
        return HousekeepingReport(releasedVouchers: released, purgedStans: stans, purgedAuditRows: audit,
                                  reachedALimit: released >= Self.voucherReleaseLimitPerRun
                                      || stans >= Self.stanPurgeLimitPerRun || audit >= Self.auditPurgeLimitPerRun)
    }
}
