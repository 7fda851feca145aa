/// The audit trail's retention. Every decision but `echo` writes one row, so without a bound the trail
/// grows with the traffic for ever.
extension LedgerTransaction {
    /// How long audit rows are kept: 13 months, so a full year can be audited with a month's margin.
    public static let auditRetention: Duration = .seconds(396 * 86_400)
    /// How many audit rows one housekeeping run removes at most: a run stays one short transaction.
    public static let auditPurgeLimitPerRun = 5_000

    /// Removes audit rows older than the retention among the `limit` first written (lowest rowids), so a run
    /// reads at most `limit` rows. Rows are appended in time order, so those are the oldest; the audit has no
    /// index by age (issue 11: one B-tree fewer for every decision). A row written under a clock set back
    /// waits until the rows before it are purged.
    @discardableResult
    public func purgeAudit(limit: Int = auditPurgeLimitPerRun) throws -> Int {
        try db.run("""
            DELETE FROM audit WHERE id IN (SELECT id FROM (SELECT id, at_ms FROM audit ORDER BY id LIMIT ?) WHERE at_ms < ?)
            """, limit, nowMillis - Self.auditRetention.components.seconds * 1000)
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
