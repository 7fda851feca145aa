import HDFDomain
import Provisioning

/// Card keys K derived from the issuer master key (protocol/card.md), cached since an HKDF costs more
/// than the rest of a purchase. Owned by the single authorisation thread: no lock.
final class CardKeys {
    /// Bounded: a full cache is simply emptied (keys are cheap to derive again).
    static let maximumCachedKeys = 100_000

    private let masterKey: IssuerMasterKey
    private var cache: [String: [UInt8]] = [:]

    init(masterKey: IssuerMasterKey) {
        self.masterKey = masterKey
    }

    func key(for pan: PAN) -> [UInt8] {
        if let key = cache[pan.digits] { return key }
        let key = masterKey.cardKey(for: pan)
        if cache.count >= CardKeys.maximumCachedKeys { cache.removeAll(keepingCapacity: true) }
        cache[pan.digits] = key
        return key
    }
}
