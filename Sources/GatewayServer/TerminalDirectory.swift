import Foundation
import HDFDomain
import Ledger
import NIOConcurrencyHelpers
import PartnerPKI

/// Why a client certificate is refused at the handshake.
public enum TerminalRefusal: Error, CustomStringConvertible, Sendable {
    case chain(String)
    case unknownTerminal(String)
    case revoked(String)
    case partnerMismatch(terminal: String, certificatePartner: String)
    case notTheEnrolledCertificate(String)
    case storage(String)

    public var description: String {
        switch self {
        case .chain(let why): return "certificate does not chain to the partner CA: \(why)"
        case .unknownTerminal(let id): return "terminal \(id) is not enrolled"
        case .revoked(let id): return "terminal \(id) is revoked"
        case .partnerMismatch(let id, let partner): return "terminal \(id) is not enrolled for partner \(partner)"
        case .notTheEnrolledCertificate(let id): return "terminal \(id) presented a certificate other than the one enrolled"
        case .storage(let why): return "cannot read the terminal directory: \(why)"
        }
    }
}

/// Maps a verified client certificate to an enrolled, active terminal. Reads the ledger on every
/// handshake (through its own connection, under a lock), so an enrollment or a revocation by the
/// operator counts at the next handshake without a restart.
final class TerminalDirectory: @unchecked Sendable {
    private let lock = NIOLock()
    private let ledger: Ledger
    let verifier: PartnerChainVerifier

    init(ledgerPath: String, caCertificatePath: String) throws {
        ledger = try Ledger(path: ledgerPath, actor: "gateway")
        verifier = try PartnerChainVerifier.load(caCertificatePath: caCertificatePath)
    }

    /// The chain check (swift-certificates), then the ledger's word on the terminal.
    func authenticate(leafDER: [UInt8]) async -> Result<TerminalContext, TerminalRefusal> {
        let identity: TerminalIdentity
        switch await verifier.verifyTerminal(certificateDER: leafDER) {
        case .failure(let failure): return .failure(.chain(failure.description))
        case .success(let verified): identity = verified
        }
        return lookUp(identity)
    }

    func lookUp(_ identity: TerminalIdentity) -> Result<TerminalContext, TerminalRefusal> {
        lock.withLock {
            do {
                // Only `unknownTerminal` means "not enrolled"; a storage error is told as one (`.storage`).
                let record: TerminalRecord? = try ledger.read { tx in
                    do { return try tx.terminal(id: identity.terminalID) } catch LedgerError.unknownTerminal { return nil }
                }
                guard let record else { return .failure(.unknownTerminal(identity.terminalID)) }
                guard record.status == .active else { return .failure(.revoked(record.id)) }
                guard record.partnerID == identity.partnerID else {
                    return .failure(.partnerMismatch(terminal: record.id, certificatePartner: identity.partnerID))
                }
                guard record.certificateSHA256 == identity.fingerprint else { return .failure(.notTheEnrolledCertificate(record.id)) }
                return .success(TerminalContext(terminalID: record.id, partnerID: record.partnerID))
            } catch {
                return .failure(.storage("\(error)"))
            }
        }
    }
}
