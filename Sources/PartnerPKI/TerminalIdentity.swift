import Foundation
import SwiftASN1
import X509

/// Who a client certificate names: the terminal (subject CN) of a partner (subject O), and the certificate's
/// fingerprint, which must be the one recorded when that terminal was enrolled.
public struct TerminalIdentity: Hashable, Sendable, CustomStringConvertible {
    public let terminalID: String
    public let partnerID: String
    /// SHA-256 of the certificate's DER, lowercase hex.
    public let fingerprint: String

    public init(terminalID: String, partnerID: String, fingerprint: String) {
        self.terminalID = terminalID
        self.partnerID = partnerID
        self.fingerprint = fingerprint
    }

    public init(certificateDER: [UInt8]) throws(PKIError) {
        let certificate: Certificate
        do { certificate = try Certificate(derEncoded: certificateDER) } catch {
            throw PKIError(.invalidPEM, "the client certificate is not a DER X.509 certificate: \(error)")
        }
        try self.init(certificate: certificate, fingerprint: Fingerprint.sha256(ofDER: certificateDER))
    }

    public init(certificatePEM: String) throws(PKIError) {
        let document: PEMDocument
        do { document = try PEMDocument(pemString: certificatePEM) } catch {
            throw PKIError(.invalidPEM, "not a PEM document: \(error)")
        }
        try self.init(certificateDER: document.derBytes)
    }

    public init(certificate: Certificate) throws(PKIError) {
        try self.init(certificate: certificate, fingerprint: Fingerprint.sha256(of: certificate))
    }

    private init(certificate: Certificate, fingerprint: String) throws(PKIError) {
        self.terminalID = try TerminalIdentity.single(.RDNAttributeType.commonName, "CN (terminal id)", in: certificate.subject)
        self.partnerID = try TerminalIdentity.single(.RDNAttributeType.organizationName, "O (partner id)", in: certificate.subject)
        self.fingerprint = fingerprint
    }

    public var description: String { "terminal \(terminalID) of partner \(partnerID) sha256:\(fingerprint)" }

    /// Exactly one: with two CNs, which one names the terminal would depend on the reader.
    static func single(_ type: ASN1ObjectIdentifier, _ label: String, in name: DistinguishedName) throws(PKIError) -> String {
        let values = name.flatMap { $0 }.filter { $0.type == type }.map { String($0.value) }
        guard values.count == 1, let value = values[0], !value.isEmpty else {
            if values.count > 1 {
                throw PKIError(.missingSubjectAttribute, "the certificate's subject has \(values.count) \(label) attributes, expected one")
            }
            throw PKIError(.missingSubjectAttribute, "the certificate's subject has no \(label) (subject: \(name))")
        }
        return value
    }
}
