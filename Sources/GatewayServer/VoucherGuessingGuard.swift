/// Stops a terminal from guessing voucher codes: after `maximumFailures` unknown or mistyped codes within
/// `window`, its voucher requests are refused (`05`, "Trop d'essais") for `lockout`.
/// With 31^11 possible codes and this rate, guessing one is out of reach. In memory, per process: a
/// restart forgets the counts, which only matters to an attacker who can restart the gateway.
struct VoucherGuessingGuard {
    static let maximumFailures = 10
    static let window: Duration = .seconds(600)
    static let lockout: Duration = .seconds(900)
    /// Bounded memory: at most this many terminals tracked (more are forgotten, oldest first).
    static let maximumTrackedTerminals = 10_000

    private var failures: [String: [Int64]] = [:]
    private var lockedUntil: [String: Int64] = [:]

    static func millis(_ duration: Duration) -> Int64 { duration.components.seconds * 1000 }

    func isLockedOut(_ terminal: String, nowMillis: Int64) -> Bool {
        guard let until = lockedUntil[terminal] else { return false }
        return nowMillis < until
    }

    mutating func recordFailure(_ terminal: String, nowMillis: Int64) {
        if failures.count >= Self.maximumTrackedTerminals && failures[terminal] == nil { failures.removeAll() }
        var recent = (failures[terminal] ?? []).filter { nowMillis - $0 < Self.millis(Self.window) }
        recent.append(nowMillis)
        if recent.count >= Self.maximumFailures {
            lockedUntil[terminal] = nowMillis + Self.millis(Self.lockout)
            recent.removeAll()
        }
        failures[terminal] = recent
        if lockedUntil.count > Self.maximumTrackedTerminals { lockedUntil = lockedUntil.filter { $0.value > nowMillis } }
    }
}
