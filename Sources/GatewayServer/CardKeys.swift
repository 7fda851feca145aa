import CardApplication
import HDFDomain

import NIOConcurrencyHelpers

/// Card keys K derived from the issuer master key (protocol/card.md), cached since an HKDF costs more
/// than the rest of a purchase. Used from every event loop (requests are prepared where they arrive): the
/// cache has a lock, held for a dictionary lookup only; a key is derived outside it.
final class CardKeys: @unchecked Sendable {
    /// Bounded: a full cache is simply emptied (keys are cheap to derive again).
    static let maximumCachedKeys = 100_000

    private let provider: any CardKeyProvider
    private let lock = NIOLock()
    private var cache: [String: [UInt8]] = [:]

    init(provider: any CardKeyProvider) {
        self.provider = provider
    }

    /// The card's key, and whether it was derived now (not cached yet): a key is cached only once the ledger
    /// has found the card (`remember`), so that PANs nobody issued cannot push real cards' keys out.
    func key(for pan: PAN) -> (key: [UInt8], derived: Bool) {
        if let key = lock.withLock({ cache[pan.digits] }) { return (key, false) }
        return (provider.cardKey(for: pan), true)
    }

    func remember(_ key: [UInt8], for pan: PAN) {
        lock.withLock {
            if cache.count >= CardKeys.maximumCachedKeys { cache.removeAll(keepingCapacity: true) }
            cache[pan.digits] = key
        }
    }
}
