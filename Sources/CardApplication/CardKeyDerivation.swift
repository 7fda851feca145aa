import Crypto
import HDFDomain

/// How the gateway gets a card's key K without storing it: K = HKDF-SHA256(master key, PAN).
///
/// One 32-byte issuer master key covers every card; the PAN as `info` makes each card's key independent,
/// so a key read out of one card says nothing about another's. The salt names the scheme and its version
/// so that a future scheme derives different keys from the same master key.
public enum CardKeyDerivation {
    public static let masterKeyByteCount = 32
    public static let cardKeyByteCount = 16
    /// ASCII "GenerationHDF card key v1".
    public static let salt: [UInt8] = Array("GenerationHDF card key v1".utf8)

    public enum Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        case masterKeyLength(Int)

        public var description: String {
            switch self {
            case .masterKeyLength(let count):
                return "the issuer master key must be \(CardKeyDerivation.masterKeyByteCount) bytes, got \(count)"
            }
        }
    }

    public static func deriveCardKey(masterKey: [UInt8], pan: PAN) throws(Invalid) -> [UInt8] {
        guard masterKey.count == masterKeyByteCount else { throw .masterKeyLength(masterKey.count) }
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: masterKey),
            salt: salt,
            info: pan.asciiBytes,
            outputByteCount: cardKeyByteCount)
        return derived.withUnsafeBytes { Array($0) }
    }

    /// A fresh random master key, for a new environment.
    public static func generateMasterKey() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }
}

/// Where a card's key K comes from, for whoever checks cryptograms (the gateway): the issuer master key
/// behind it stays in its owner (Provisioning's `IssuerMasterKey`), which derives K for one PAN at a time.
public protocol CardKeyProvider: Sendable {
    func cardKey(for pan: PAN) -> [UInt8]
}
