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

    func key(for pan: PAN) -> [UInt8] {
        if let key = lock.withLock({ cache[pan.digits] }) { return key }
        let key = provider.cardKey(for: pan)
        lock.withLock {
            if cache.count >= CardKeys.maximumCachedKeys { cache.removeAll(keepingCapacity: true) }
            cache[pan.digits] = key
        }
        return key
    }
}
