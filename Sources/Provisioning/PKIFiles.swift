import Foundation
import PartnerPKI

/// The partner PKI's files in an environment directory (certs/README.md).
enum PKIFiles {
    static func createCA(layout: EnvironmentLayout) throws -> PartnerCA {
        let ca = try PartnerCA.create()
        try ca.write(certificatePath: layout.path(EnvironmentLayout.caCertificateFile),
                     keyPath: layout.path(EnvironmentLayout.caKeyFile), replaceExisting: false)
        return ca
    }

    static func loadCA(layout: EnvironmentLayout) throws -> PartnerCA {
        try PartnerCA.load(certificatePath: layout.path(EnvironmentLayout.caCertificateFile),
                           keyPath: layout.path(EnvironmentLayout.caKeyFile))
    }

    static func issueServer(ca: PartnerCA, layout: EnvironmentLayout, names: [String] = []) throws {
        let credential = try ca.issueServerCertificate(commonName: "gateway.generation-hdf.local", names: names)
        try credential.write(certificatePath: layout.path(EnvironmentLayout.serverCertificateFile),
                             keyPath: layout.path(EnvironmentLayout.serverKeyFile), replaceExisting: false)
    }

    /// Issues and writes a terminal's certificate and key (never over existing files). Returns the
    /// credential, whose fingerprint the ledger records at enrollment.
    static func issueTerminal(ca: PartnerCA, terminalID: String, partnerID: String, layout: EnvironmentLayout) throws -> IssuedCredential {
        let credential = try ca.issueTerminalCertificate(terminalID: terminalID, partnerID: partnerID)
        try credential.write(certificatePath: layout.path(EnvironmentLayout.terminalCertificateFile(terminalID)),
                             keyPath: layout.path(EnvironmentLayout.terminalKeyFile(terminalID)), replaceExisting: false)
        return credential
    }
}
