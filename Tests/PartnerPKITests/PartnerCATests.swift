import Foundation
import PartnerPKI
import SwiftASN1
import Testing
import X509

@Suite("Partner CA")
struct PartnerCATests {
    @Test func createsAConstrainedSelfSignedCA() throws {
        let now = Date()
        let ca = try PartnerCA.create(now: now)
        let certificate = ca.certificate
        #expect(certificate.subject == certificate.issuer)
        #expect("\(certificate.subject)".contains("CN=Génération #HDF partner CA"))
        #expect("\(certificate.subject)".contains("O=Région Hauts-de-France"))
        #expect(try certificate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        let basic = try #require(certificate.extensions[oid: .X509ExtensionID.basicConstraints])
        #expect(basic.critical)
        let usage = try #require(try certificate.extensions.keyUsage)
        #expect(usage.keyCertSign && usage.cRLSign && !usage.digitalSignature)
        let years = certificate.notValidAfter.timeIntervalSince(now) / (365.25 * 86_400)
        #expect(years > 9.9 && years < 10.1)
        #expect(certificate.publicKey.isValidSignature(certificate.signature, for: certificate))
        #expect(ca.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(ca.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(ca.fingerprint.count == 64)
        // Random serials: two CAs never share one.
        #expect(try PartnerCA.create().certificate.serialNumber != certificate.serialNumber)
    }

    @Test func issuesATerminalCertificate() throws {
        let ca = try PartnerCA.create()
        let now = Date()
        let terminal = try ca.issueTerminalCertificate(terminalID: "T001", partnerID: "P001", now: now)
        let certificate = terminal.certificate
        #expect("\(certificate.subject)" == "O=P001,CN=T001")
        #expect(certificate.issuer == ca.certificate.subject)
        #expect(try certificate.extensions.extendedKeyUsage == ExtendedKeyUsage([.clientAuth]))
        #expect(try certificate.extensions.basicConstraints == .notCertificateAuthority)
        #expect(try certificate.extensions.keyUsage?.digitalSignature == true)
        let years = certificate.notValidAfter.timeIntervalSince(now) / (365.25 * 86_400)
        #expect(years > 1.9 && years < 2.1)
        #expect(terminal.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(terminal.privateKeyPEM.hasSuffix("-----END PRIVATE KEY-----\n"))
        #expect(terminal.certificatePEM.hasSuffix("-----END CERTIFICATE-----\n"))
        #expect(terminal.fingerprint == Fingerprint.sha256(ofDER: try PEMDocument(pemString: terminal.certificatePEM).derBytes))
        let again = try ca.issueTerminalCertificate(terminalID: "T001", partnerID: "P001")
        #expect(again.certificate.serialNumber != certificate.serialNumber)
        #expect(again.fingerprint != terminal.fingerprint)
    }

    @Test func issuesAServerCertificate() throws {
        let ca = try PartnerCA.create()
        let server = try ca.issueServerCertificate(
            commonName: "gateway.hdf.test", extraDNSNames: ["gateway.hdf.test", "localhost"], extraIPAddresses: ["::1", "10.0.0.5"])
        let names = try #require(try server.certificate.extensions.subjectAlternativeNames)
        #expect(names.contains(.dnsName("localhost")))
        #expect(names.contains(.dnsName("gateway.hdf.test")))
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))))
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: [10, 0, 0, 5]))))
        #expect(names.contains(.ipAddress(ASN1OctetString(contentBytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]))))
        #expect(names.count == 5) // no duplicate localhost
        #expect(try server.certificate.extensions.extendedKeyUsage == ExtendedKeyUsage([.serverAuth]))
        #expect("\(server.certificate.subject)".contains("CN=gateway.hdf.test"))
    }

    @Test func refusesBadNames() throws {
        let ca = try PartnerCA.create()
        for bad in ["", "T 001", "../T001", ".hidden", "T/1", String(repeating: "A", count: 65), "Tö01"] {
            #expect(throws: PKIError.self) { try ca.issueTerminalCertificate(terminalID: bad, partnerID: "P001") }
            #expect(throws: PKIError.self) { try ca.issueTerminalCertificate(terminalID: "T001", partnerID: bad) }
        }
        #expect(throws: PKIError.self) { try ca.issueServerCertificate(commonName: "x", extraIPAddresses: ["300.1.1.1"]) }
        do {
            _ = try ca.issueServerCertificate(commonName: "x", extraIPAddresses: ["not-an-ip"])
        } catch {
            #expect(error.code == .invalidIPAddress)
        }
    }

    @Test func credentialsNeverPrintTheirKey() throws {
        let ca = try PartnerCA.create()
        let terminal = try ca.issueTerminalCertificate(terminalID: "T001", partnerID: "P001")
        let keyBody = terminal.privateKeyPEM.split(separator: "\n")[1]
        for text in ["\(terminal)", String(reflecting: terminal), { var s = ""; dump(terminal, to: &s); return s }()] {
            #expect(!text.contains(keyBody))
            #expect(!text.contains("PRIVATE KEY"))
        }
        #expect(!"\(ca)".contains(ca.privateKeyPEM.split(separator: "\n")[1]))
    }

    @Test func savesAndLoadsTheCA() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let ca = try PartnerCA.create()
        try ca.write(certificatePath: dir.file("ca.pem"), keyPath: dir.file("ca.key"))
        #expect(try permissions(dir.file("ca.key")) == 0o600)
        #expect(try permissions(dir.file("ca.pem")) == 0o644)
        let loaded = try PartnerCA.load(certificatePath: dir.file("ca.pem"), keyPath: dir.file("ca.key"))
        #expect(loaded.certificate == ca.certificate)
        #expect(loaded.fingerprint == ca.fingerprint)
        #expect(loaded.certificatePEM == ca.certificatePEM)
        let issued = try loaded.issueTerminalCertificate(terminalID: "T002", partnerID: "P002")
        #expect(ca.certificate.publicKey.isValidSignature(issued.certificate.signature, for: issued.certificate))
    }

    @Test func loadRefusesMismatchedOrWrongFiles() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let ca = try PartnerCA.create()
        let other = try PartnerCA.create()
        let terminal = try ca.issueTerminalCertificate(terminalID: "T001", partnerID: "P001")

        do {
            _ = try PartnerCA(certificatePEM: ca.certificatePEM, privateKeyPEM: other.privateKeyPEM)
            Issue.record("a mismatched key must be refused")
        } catch {
            #expect(error.code == .keyDoesNotMatchCertificate)
            #expect(!error.reason.contains(other.privateKeyPEM.split(separator: "\n")[1]))
        }
        do {
            _ = try PartnerCA(certificatePEM: terminal.certificatePEM, privateKeyPEM: terminal.privateKeyPEM)
            Issue.record("a leaf must not load as the CA")
        } catch {
            #expect(error.code == .notACertificateAuthority)
        }
        let garbage = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0IHNlY3JldCBzZWNyZXQ=\n-----END PRIVATE KEY-----\n"
        do {
            _ = try PartnerCA(certificatePEM: ca.certificatePEM, privateKeyPEM: garbage)
            Issue.record("garbage must not load")
        } catch {
            #expect(error.code == .invalidPEM)
            #expect(!error.reason.contains("c2VjcmV0"))
        }
        do {
            _ = try PartnerCA.load(certificatePath: dir.file("missing.pem"), keyPath: dir.file("missing.key"))
            Issue.record("missing files must not load")
        } catch {
            #expect(error.code == .fileSystem)
            #expect(error.reason.contains("missing.pem"))
        }
    }
}

@Suite("Chain verification")
struct ChainVerificationTests {
    @Test func terminalOfThePartnerCAIsTrusted() async throws {
        let ca = try PartnerCA.create()
        let terminal = try ca.issueTerminalCertificate(terminalID: "T001", partnerID: "P001")
        let verifier = PartnerChainVerifier(caCertificate: ca.certificate)
        let der = try PEMDocument(pemString: terminal.certificatePEM).derBytes
        guard case .trusted(let chain) = await verifier.verify(leafDER: der, purpose: .terminalClient) else {
            Issue.record("expected trusted")
            return
        }
        #expect(chain.count == 2)
        #expect(chain.first == terminal.certificate)
        #expect(chain.last == ca.certificate)

        let identity = try await verifier.verifyTerminal(certificateDER: der).get()
        #expect(identity == TerminalIdentity(terminalID: "T001", partnerID: "P001", fingerprint: terminal.fingerprint))
    }

    @Test func terminalOfAnotherCAIsRejected() async throws {
        let ca = try PartnerCA.create()
        let impostorCA = try PartnerCA.create() // same subject name, another key
        let impostor = try impostorCA.issueTerminalCertificate(terminalID: "T001", partnerID: "P001")
        let verifier = PartnerChainVerifier(caCertificate: ca.certificate)
        guard case .rejected(let failure) = await verifier.verify(leaf: impostor.certificate, purpose: .terminalClient) else {
            Issue.record("expected rejected")
            return
        }
        #expect(failure.code == .notIssuedByPartnerCA)
        #expect("\(failure)".contains("not issued by the partner CA"))
        let result = await verifier.verifyTerminal(certificateDER: try PEMDocument(pemString: impostor.certificatePEM).derBytes)
        #expect(throws: ChainVerificationFailure.self) { try result.get() }
    }

    @Test func wrongPurposeIsRejected() async throws {
        let ca = try PartnerCA.create()
        let verifier = PartnerChainVerifier(caCertificate: ca.certificate)
        let server = try ca.issueServerCertificate(commonName: "gateway")
        guard case .rejected(let failure) = await verifier.verify(leaf: server.certificate, purpose: .terminalClient) else {
            Issue.record("a server certificate must not pass as a terminal")
            return
        }
        #expect(failure.code == .policyFailed)
        #expect("\(failure)".contains("clientAuth"))
        guard case .trusted = await verifier.verify(leaf: server.certificate, purpose: .server) else {
            Issue.record("the server certificate must verify as a server")
            return
        }
        let terminal = try ca.issueTerminalCertificate(terminalID: "T001", partnerID: "P001")
        guard case .rejected = await verifier.verify(leaf: terminal.certificate, purpose: .server) else {
            Issue.record("a terminal certificate must not pass as a server")
            return
        }
    }

    @Test func theCAItselfIsNotATerminal() async throws {
        let ca = try PartnerCA.create()
        let verifier = PartnerChainVerifier(caCertificate: ca.certificate)
        guard case .rejected(let failure) = await verifier.verify(leaf: ca.certificate, purpose: .terminalClient) else {
            Issue.record("the CA certificate must not pass as a terminal")
            return
        }
        #expect(failure.code == .policyFailed)
    }

    @Test func expiredAndNotYetValidAreRejected() async throws {
        let start = Date().addingTimeInterval(-3 * 365 * 86_400)
        let ca = try PartnerCA.create(now: start)
        let verifier = PartnerChainVerifier(caCertificate: ca.certificate)
        let expired = try ca.issueTerminalCertificate(terminalID: "T001", partnerID: "P001", now: start)
        guard case .rejected(let failure) = await verifier.verify(leaf: expired.certificate, purpose: .terminalClient) else {
            Issue.record("an expired certificate must be rejected")
            return
        }
        #expect(failure.code == .policyFailed)

        let future = try ca.issueTerminalCertificate(terminalID: "T002", partnerID: "P001", now: Date().addingTimeInterval(86_400))
        guard case .rejected = await verifier.verify(leaf: future.certificate, purpose: .terminalClient) else {
            Issue.record("a certificate not yet valid must be rejected")
            return
        }
    }

    @Test func garbageIsUnreadable() async throws {
        let ca = try PartnerCA.create()
        let verifier = PartnerChainVerifier(caCertificate: ca.certificate)
        guard case .rejected(let failure) = await verifier.verify(leafDER: [0x30, 0x03, 0x01, 0x01, 0xFF], purpose: .terminalClient) else {
            Issue.record("garbage must be rejected")
            return
        }
        #expect(failure.code == .unreadableCertificate)
    }

    @Test func loadsTheCAFromItsFile() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let ca = try PartnerCA.create()
        try PublicFile.write(path: dir.file("ca.pem"), contents: ca.certificatePEM)
        let verifier = try PartnerChainVerifier.load(caCertificatePath: dir.file("ca.pem"))
        #expect(verifier.caCertificate == ca.certificate)
    }
}

@Suite("Terminal identity")
struct TerminalIdentityTests {
    @Test func readsCNAndOAndFingerprint() throws {
        let ca = try PartnerCA.create()
        let terminal = try ca.issueTerminalCertificate(terminalID: "T042", partnerID: "P007")
        let der = try PEMDocument(pemString: terminal.certificatePEM).derBytes
        let identity = try TerminalIdentity(certificateDER: der)
        #expect(identity.terminalID == "T042")
        #expect(identity.partnerID == "P007")
        #expect(identity.fingerprint == terminal.fingerprint)
        #expect(try TerminalIdentity(certificate: terminal.certificate) == identity)
        #expect(try TerminalIdentity(certificatePEM: terminal.certificatePEM) == identity)
    }

    /// Fixtures made once with `openssl req -x509 -newkey ec ... -subj "/CN=T001"` (their keys were discarded):
    /// identity extraction only reads them.
    static let withoutOrganization = """
        -----BEGIN CERTIFICATE-----
        MIIBdTCCARugAwIBAgIUCfO7ZZc3leiWZsh9CRURpS255/swCgYIKoZIzj0EAwIw
        DzENMAsGA1UEAwwEVDAwMTAgFw0yNjExMjYyMTMwMjhaGA8yMTI2MTEwMjIxMzAy
        OFowDzENMAsGA1UEAwwEVDAwMTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJt7
        JNlaWcTWFv5WLG4cUw2yhneVPEHMLgFk0E4TnPd6mP21sSUF141+4GnB9S8FRFeX
        NgC46BC0pKMqtpVHgaCjUzBRMB0GA1UdDgQWBBSjQC/OvOzZJcuo0Tz5m5R8qzfv
        mTAfBgNVHSMEGDAWgBSjQC/OvOzZJcuo0Tz5m5R8qzfvmTAPBgNVHRMBAf8EBTAD
        AQH/MAoGCCqGSM49BAMCA0gAMEUCIQCLjG55GxFgEyGfRuYbLqfhrQCZFdWV3VPI
        imtVWouUZwIgT2Mfu2qGRkoxwrj+AFIQId+nxGnjfPW+0/GEPf2+xtc=
        -----END CERTIFICATE-----
        """

    /// `-subj "/CN=T001/CN=T002/O=P001"`
    static let twoCommonNames = """
        -----BEGIN CERTIFICATE-----
        MIIBsjCCAVegAwIBAgIURnYjBlKzyM0DJU49hVCBn8wB3uIwCgYIKoZIzj0EAwIw
        LTENMAsGA1UEAwwEVDAwMTENMAsGA1UEAwwEVDAwMjENMAsGA1UECgwEUDAwMTAg
        Fw0yNjExMjYyMTMwMjhaGA8yMTI2MTEwMjIxMzAyOFowLTENMAsGA1UEAwwEVDAw
        MTENMAsGA1UEAwwEVDAwMjENMAsGA1UECgwEUDAwMTBZMBMGByqGSM49AgEGCCqG
        SM49AwEHA0IABOAjveXJfLqDIEGTg7ipu01Z8oOevu0xZAyD78RoNYTgj+vjd/QI
        DDSILjFugXGx90YJPOPQcMsXvdN9J4M6eqCjUzBRMB0GA1UdDgQWBBSGXAunWCdd
        tqw69JWAwqjhPHPbUTAfBgNVHSMEGDAWgBSGXAunWCddtqw69JWAwqjhPHPbUTAP
        BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQD/LECInwJOSzq4/GUy
        TkcGEMAn7D4ExeMAQqAO4hJPWAIhAJHH/PuYvbOEiMDfRIBfrcIXjy1K4doCYPen
        GMI75YHk
        -----END CERTIFICATE-----
        """

    @Test func missingOrganizationIsAnError() throws {
        let certificate = try Certificate(pemEncoded: Self.withoutOrganization)
        do {
            _ = try TerminalIdentity(certificate: certificate)
            Issue.record("a certificate without O names no partner")
        } catch {
            #expect(error.code == .missingSubjectAttribute)
            #expect(error.reason.contains("O (partner id)"))
        }
    }

    @Test func twoCommonNamesAreAnError() throws {
        do {
            _ = try TerminalIdentity(certificatePEM: Self.twoCommonNames)
            Issue.record("two CNs are ambiguous")
        } catch {
            #expect(error.code == .missingSubjectAttribute)
            #expect(error.reason.contains("2 CN"))
        }
    }

    @Test func aCertificateOfAnotherCAStillHasAnIdentityButDoesNotVerify() async throws {
        let ca = try PartnerCA.create()
        let der = try PEMDocument(pemString: Self.twoCommonNames).derBytes
        let result = await PartnerChainVerifier(caCertificate: ca.certificate).verifyTerminal(certificateDER: der)
        #expect(throws: ChainVerificationFailure.self) { try result.get() }
    }

    @Test func garbageDERIsAnError() {
        #expect(throws: PKIError.self) { try TerminalIdentity(certificateDER: [1, 2, 3]) }
    }
}
