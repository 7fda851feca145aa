import Foundation
import SwiftASN1
import X509

/// What a leaf certificate is for; the verifier checks its extended key usage and that it is not a CA.
public enum CertificatePurpose: Sendable, Hashable {
    case terminalClient
    case server

    var usage: ExtendedKeyUsage.Usage {
        switch self {
        case .terminalClient: return .clientAuth
        case .server: return .serverAuth
        }
    }
}

/// Why a certificate was not accepted.
public struct ChainVerificationFailure: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        /// The bytes are not a certificate.
        case unreadableCertificate
        /// No chain to the partner CA: another issuer, or a signature that does not verify.
        case notIssuedByPartnerCA
        /// It chains to the partner CA but a policy refused it: expired, not yet valid, wrong usage, a CA.
        case policyFailed
        /// It chains and passes policy, but its subject does not name a terminal (CN, O).
        case noTerminalIdentity
    }

    public let code: Code
    public let reasons: [String]

    public init(_ code: Code, reasons: [String]) {
        self.code = code
        self.reasons = reasons
    }

    public var description: String {
        let head: String
        switch code {
        case .unreadableCertificate: head = "the certificate cannot be read"
        case .notIssuedByPartnerCA: head = "the certificate was not issued by the partner CA"
        case .policyFailed: head = "the certificate is not acceptable"
        case .noTerminalIdentity: head = "the certificate does not name a terminal"
        }
        return reasons.isEmpty ? head : "\(head): \(reasons.joined(separator: "; "))"
    }
}

public enum ChainVerificationResult: Sendable {
    /// Leaf first, the partner CA last.
    case trusted(chain: [Certificate])
    case rejected(ChainVerificationFailure)
}

/// Verifies that a leaf chains to the partner CA, with swift-certificates' `Verifier`: RFC 5280 checks
/// (validity now, basic constraints, name constraints) plus the leaf's purpose.
///
/// Holds the CA certificate only, never its key: the serving gateway has no use for the key.
public struct PartnerChainVerifier: Sendable {
    public let caCertificate: Certificate

    public init(caCertificate: Certificate) {
        self.caCertificate = caCertificate
    }

    public init(caCertificatePEM: String) throws(PKIError) {
        do { caCertificate = try Certificate(pemEncoded: caCertificatePEM) } catch {
            throw PKIError(.invalidPEM, "the partner CA certificate is not a PEM certificate: \(error)")
        }
    }

    public static func load(caCertificatePath: String) throws(PKIError) -> PartnerChainVerifier {
        let pem = try TextFile.read(path: caCertificatePath)
        do { return try PartnerChainVerifier(caCertificatePEM: pem) } catch {
            throw PKIError(error.code, "\(error.reason) (\(caCertificatePath))")
        }
    }

    /// - Parameter intermediates: what the peer sent after its leaf. The partner CA has pathLen 0, so a
    ///   valid chain never uses them; they are accepted only so a peer that sends the CA along is not refused.
    public func verify(
        leafDER: [UInt8], intermediatesDER: [[UInt8]] = [], purpose: CertificatePurpose
    ) async -> ChainVerificationResult {
        let leaf: Certificate
        do { leaf = try Certificate(derEncoded: leafDER) } catch {
            return .rejected(ChainVerificationFailure(.unreadableCertificate, reasons: ["\(error)"]))
        }
        let intermediates = intermediatesDER.compactMap { try? Certificate(derEncoded: $0) }
        return await verify(leaf: leaf, intermediates: intermediates, purpose: purpose)
    }

    public func verify(
        leaf: Certificate, intermediates: [Certificate] = [], purpose: CertificatePurpose
    ) async -> ChainVerificationResult {
        var verifier = Verifier(rootCertificates: CertificateStore([caCertificate])) {
            RFC5280Policy()
            LeafPurposePolicy(usage: purpose.usage)
        }
        switch await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates)) {
        case .validCertificate(let chain):
            return .trusted(chain: Array(chain))
        case .couldNotValidate(let failures):
            if failures.isEmpty {
                return .rejected(ChainVerificationFailure(.notIssuedByPartnerCA, reasons: [
                    "issuer \(leaf.issuer) is not the partner CA \(caCertificate.subject), or its signature does not verify",
                ]))
            }
            var reasons: [String] = []
            for failure in failures where !reasons.contains(failure.policyFailureReason.description) {
                reasons.append(failure.policyFailureReason.description)
            }
            return .rejected(ChainVerificationFailure(.policyFailed, reasons: reasons))
        }
    }

    /// The check a TLS server runs on a client: chains to the partner CA as a client certificate, and names
    /// a terminal. Whether that terminal is enrolled, active and has this fingerprint is the ledger's question.
    public func verifyTerminal(certificateDER: [UInt8]) async -> Result<TerminalIdentity, ChainVerificationFailure> {
        switch await verify(leafDER: certificateDER, purpose: .terminalClient) {
        case .rejected(let failure):
            return .failure(failure)
        case .trusted:
            do {
                return .success(try TerminalIdentity(certificateDER: certificateDER))
            } catch {
                return .failure(ChainVerificationFailure(.noTerminalIdentity, reasons: [error.reason]))
            }
        }
    }
}

/// The leaf must carry the purpose's extended key usage and must not be a CA: the CA certificate itself,
/// sitting in the trust store, would otherwise be accepted as a client.
struct LeafPurposePolicy: VerifierPolicy {
    let usage: ExtendedKeyUsage.Usage
    // Extended key usage is issued non-critical; nothing here claims to police a critical one.
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = []

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        let leaf = chain.leaf
        if case .isCertificateAuthority = (try? leaf.extensions.basicConstraints) ?? .notCertificateAuthority {
            return .failsToMeetPolicy(reason: "the leaf \(leaf.subject) is a CA certificate, not an end entity")
        }
        let usages: ExtendedKeyUsage?
        do { usages = try leaf.extensions.extendedKeyUsage } catch {
            return .failsToMeetPolicy(reason: "the leaf's extended key usage cannot be read: \(error)")
        }
        guard let usages, usages.contains(usage) else {
            return .failsToMeetPolicy(reason: "the leaf \(leaf.subject) lacks the extended key usage \(usage)")
        }
        return .meetsPolicy
    }
}
