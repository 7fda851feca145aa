import CardApplication
import Foundation
import HDFDomain
import PartnerPKI

/// The issuer master key: 32 random bytes in `DIR/keys/issuer-master.key`, mode 0600. Every card's key
/// K derives from it and the PAN (protocol/card.md). It is read, never printed or logged.
public struct IssuerMasterKey: CardKeyProvider {
    private let bytes: [UInt8]

    public enum Failure: Error, CustomStringConvertible {
        case missing(String)
        case wrongSize(String, Int)
        case tooOpen(String, mode: UInt16)
        public var description: String {
            switch self {
            case .missing(let path): return "no issuer master key at \(path)"
            case .wrongSize(let path, let count): return "the issuer master key at \(path) has \(count) bytes, expected 32"
            case .tooOpen(let path, let mode): return "the issuer master key at \(path) has mode \(String(mode, radix: 8)); it must be 600"
            }
        }
    }

    public static func create(layout: EnvironmentLayout) throws -> IssuerMasterKey {
        let key = CardKeyDerivation.generateMasterKey()
        try FileManager.default.createDirectory(atPath: layout.path("keys"), withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try SecretFile.write(path: layout.path(EnvironmentLayout.masterKeyFile), bytes: key, replaceExisting: false)
        return IssuerMasterKey(bytes: key)
    }

    public static func load(layout: EnvironmentLayout) throws -> IssuerMasterKey {
        let path = layout.path(EnvironmentLayout.masterKeyFile)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let data = FileManager.default.contents(atPath: path) else { throw Failure.missing(path) }
        let mode = (attributes[.posixPermissions] as? NSNumber)?.uint16Value ?? 0
        guard mode & 0o077 == 0 else { throw Failure.tooOpen(path, mode: mode) }
        guard data.count == CardKeyDerivation.masterKeyByteCount else { throw Failure.wrongSize(path, data.count) }
        return IssuerMasterKey(bytes: [UInt8](data))
    }

    public func cardKey(for pan: PAN) -> [UInt8] {
        // The size is checked on load, so derivation cannot fail here.
        try! CardKeyDerivation.deriveCardKey(masterKey: bytes, pan: pan)
    }
}
