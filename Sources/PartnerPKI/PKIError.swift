/// Why a PKI operation failed, modelled on swift-certificates' `CertificateError`: a stable code to match on
/// and a reason for a person.
///
/// Reasons name files, fields and identifiers; they never carry key material or a key file's contents.
public struct PKIError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        /// A PEM text is not a certificate or not a P-256 private key.
        case invalidPEM
        /// The private key is not the one whose public half the certificate holds.
        case keyDoesNotMatchCertificate
        /// The certificate meant as the partner CA does not say CA:true.
        case notACertificateAuthority
        /// An identifier or name cannot go into a certificate.
        case invalidName
        /// A subject alternative name IP address does not parse.
        case invalidIPAddress
        /// swift-certificates refused to build or sign the certificate.
        case certificateCreation
        /// The certificate's subject lacks, or repeats, the CN or O that identifies a terminal.
        case missingSubjectAttribute
        /// Reading, writing, syncing or renaming a file failed.
        case fileSystem
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }
}
