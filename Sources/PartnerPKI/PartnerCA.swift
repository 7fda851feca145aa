import Crypto
import Foundation
import SwiftASN1
import X509

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A certificate and its private key as PEM, fresh from the CA.
///
/// `privateKeyPEM` is a secret: `description`, `debugDescription` and mirrors leave it out, so printing or
/// logging a credential shows its subject and fingerprint only.
public struct IssuedCredential: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let certificate: Certificate
    public let certificatePEM: String
    /// PKCS#8 (`-----BEGIN PRIVATE KEY-----`), which swift-nio-ssl, BoringSSL and Python's `ssl` all load.
    public let privateKeyPEM: String
    /// SHA-256 of the certificate's DER, lowercase hex: what enrollment records.
    public let fingerprint: String

    public var description: String { "credential \(certificate.subject) sha256:\(fingerprint)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["subject": "\(certificate.subject)", "fingerprint": fingerprint])
    }

    /// Certificate first (0644), then key (0600), each atomically.
    public func write(certificatePath: String, keyPath: String, replaceExisting: Bool = true) throws(PKIError) {
        try PublicFile.write(path: certificatePath, contents: certificatePEM, replaceExisting: replaceExisting)
        try SecretFile.write(path: keyPath, contents: privateKeyPEM, replaceExisting: replaceExisting)
    }
}

/// The gateway's partner CA: it signs the server's certificate and one client certificate per terminal.
/// ECDSA P-256 throughout.
public struct PartnerCA: Sendable, CustomStringConvertible {
    public static let commonName = "Génération #HDF partner CA"
    public static let organization = "Région Hauts-de-France"
    public static let caValidityDays = 3652
    public static let leafValidityDays = 730
    /// Leaves start an hour back, so a peer whose clock is a little behind still accepts them.
    public static let backdating: TimeInterval = 3600

    public let certificate: Certificate
    private let privateKey: P256.Signing.PrivateKey

    public var description: String { "partner CA \(certificate.subject) sha256:\(fingerprint)" }

    public var certificatePEM: String {
        // Serialising a certificate that parsed or was just built cannot fail.
        PEMText.terminated((try? certificate.serializeAsPEM().pemString) ?? "")
    }

    /// PKCS#8 PEM of the CA key, for `ca.key` (mode 0600). Never log it.
    public var privateKeyPEM: String { PEMText.terminated(privateKey.pemRepresentation) }

    public var fingerprint: String { Fingerprint.sha256(of: certificate) }

    /// A new self-signed CA: CA:true with pathLen 0 (it signs leaves only), keyCertSign + cRLSign, ~10 years.
    public static func create(now: Date = Date()) throws(PKIError) -> PartnerCA {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let name = try distinguishedName(commonName: commonName, organization: organization)
        let certificate: Certificate
        do {
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(keyIdentifier: keyIdentifier(of: key.publicKey))
            }
            certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: publicKey,
                notValidBefore: now - backdating,
                notValidAfter: now + TimeInterval(caValidityDays) * 86_400,
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions,
                issuerPrivateKey: Certificate.PrivateKey(key))
        } catch {
            throw PKIError(.certificateCreation, "cannot create the partner CA certificate: \(error)")
        }
        return PartnerCA(certificate: certificate, privateKey: key)
    }

    private init(certificate: Certificate, privateKey: P256.Signing.PrivateKey) {
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// Checks that the key is the certificate's and that the certificate is a CA.
    public init(certificatePEM: String, privateKeyPEM: String) throws(PKIError) {
        let certificate: Certificate
        do { certificate = try Certificate(pemEncoded: certificatePEM) } catch {
            throw PKIError(.invalidPEM, "the partner CA certificate is not a PEM certificate: \(error)")
        }
        let key: P256.Signing.PrivateKey
        // The underlying error is left out on purpose: a parser's message could quote the key's bytes.
        do { key = try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM) } catch {
            throw PKIError(.invalidPEM, "the partner CA private key is not a PEM ECDSA P-256 private key")
        }
        guard Certificate.PublicKey(key.publicKey) == certificate.publicKey else {
            throw PKIError(.keyDoesNotMatchCertificate, "the partner CA private key does not match its certificate")
        }
        guard case .isCertificateAuthority = (try? certificate.extensions.basicConstraints) ?? .notCertificateAuthority else {
            throw PKIError(.notACertificateAuthority, "the partner CA certificate is not a CA certificate (basicConstraints)")
        }
        self.init(certificate: certificate, privateKey: key)
    }

    /// Loads `ca.pem` and `ca.key`. Errors name the file, never its contents.
    public static func load(certificatePath: String, keyPath: String) throws(PKIError) -> PartnerCA {
        let certificatePEM = try TextFile.read(path: certificatePath)
        let keyPEM = try TextFile.read(path: keyPath)
        do {
            return try PartnerCA(certificatePEM: certificatePEM, privateKeyPEM: keyPEM)
        } catch {
            throw PKIError(error.code, "\(error.reason) (\(certificatePath), \(keyPath))")
        }
    }

    /// Writes the certificate (0644) and the key (0600), each atomically.
    public func write(certificatePath: String, keyPath: String, replaceExisting: Bool = true) throws(PKIError) {
        try PublicFile.write(path: certificatePath, contents: certificatePEM, replaceExisting: replaceExisting)
        try SecretFile.write(path: keyPath, contents: privateKeyPEM, replaceExisting: replaceExisting)
    }

    /// The gateway's TLS server certificate: SANs DNS `localhost` and IP `127.0.0.1` always, plus the extras;
    /// EKU serverAuth; ~2 years.
    public func issueServerCertificate(
        commonName: String, extraDNSNames: [String] = [], extraIPAddresses: [String] = [], now: Date = Date()
    ) throws(PKIError) -> IssuedCredential {
        guard !commonName.isEmpty, commonName.utf8.count <= 64 else {
            throw PKIError(.invalidName, "a server certificate's common name is 1 to 64 bytes")
        }
        var names: [GeneralName] = []
        for dns in ["localhost"] + extraDNSNames where !names.contains(.dnsName(dns)) {
            guard !dns.isEmpty, dns.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw PKIError(.invalidName, "'\(dns)' is not a DNS name")
            }
            names.append(.dnsName(dns))
        }
        for ip in ["127.0.0.1"] + extraIPAddresses {
            let name = GeneralName.ipAddress(ASN1OctetString(contentBytes: try IPAddress.bytes(ip)[...]))
            if !names.contains(name) { names.append(name) }
        }
        let subject = try PartnerCA.distinguishedName(commonName: commonName, organization: PartnerCA.organization)
        return try issue(subject: subject, usage: .serverAuth, subjectAlternativeNames: names, now: now)
    }

    /// Refuses any of `names` that is neither an IP address (IPv4 or IPv6) nor a DNS host name (labels of
    /// 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen, 253 bytes at most).
    /// Callers check before writing anything, so that a bad name leaves nothing behind.
    public static func checkServerNames(_ names: [String]) throws(PKIError) {
        for name in names where (try? IPAddress.bytes(name)) == nil {
            let labels = name.split(separator: ".", omittingEmptySubsequences: false)
            let valid = !name.isEmpty && name.utf8.count <= 253 && labels.allSatisfy { label in
                (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                    && label.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
            }
            guard valid else {
                throw PKIError(.invalidName, "'\(name)' is neither an IP address nor a DNS host name (letters, digits, hyphens and dots)")
            }
        }
    }

    /// The same, with each of `names` taken as an IP address when it is one (IPv4 or IPv6), else as a DNS name.
    public func issueServerCertificate(commonName: String, names: [String], now: Date = Date()) throws(PKIError) -> IssuedCredential {
        try Self.checkServerNames(names)
        let addresses = names.filter { (try? IPAddress.bytes($0)) != nil }
        let dnsNames = names.filter { (try? IPAddress.bytes($0)) == nil }
        return try issueServerCertificate(commonName: commonName, extraDNSNames: dnsNames, extraIPAddresses: addresses, now: now)
    }

    /// A terminal's client certificate: CN = terminal id, O = partner id, EKU clientAuth, ~2 years.
    /// Ids are 1 to 64 characters from `[A-Za-z0-9._-]`, not starting with a dot, since they also name files.
    public func issueTerminalCertificate(terminalID: String, partnerID: String, now: Date = Date()) throws(PKIError) -> IssuedCredential {
        try PartnerCA.checkIdentifier(terminalID, what: "terminal id")
        try PartnerCA.checkIdentifier(partnerID, what: "partner id")
        let subject = try PartnerCA.distinguishedName(commonName: terminalID, organization: partnerID)
        return try issue(subject: subject, usage: .clientAuth, subjectAlternativeNames: nil, now: now)
    }

    private func issue(
        subject: DistinguishedName, usage: ExtendedKeyUsage.Usage, subjectAlternativeNames: [GeneralName]?, now: Date
    ) throws(PKIError) -> IssuedCredential {
        let key = P256.Signing.PrivateKey()
        let caKeyIdentifier = (try? certificate.extensions.subjectKeyIdentifier)?.keyIdentifier
            ?? PartnerCA.keyIdentifier(of: privateKey.publicKey)
        let leaf: Certificate
        do {
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([usage])
                SubjectKeyIdentifier(keyIdentifier: PartnerCA.keyIdentifier(of: key.publicKey))
                AuthorityKeyIdentifier(keyIdentifier: caKeyIdentifier)
                if let subjectAlternativeNames {
                    SubjectAlternativeNames(subjectAlternativeNames)
                }
            }
            let notAfter = min(now + TimeInterval(PartnerCA.leafValidityDays) * 86_400, certificate.notValidAfter)
            leaf = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: Certificate.PublicKey(key.publicKey),
                notValidBefore: now - PartnerCA.backdating,
                notValidAfter: notAfter,
                issuer: certificate.subject,
                subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions,
                issuerPrivateKey: Certificate.PrivateKey(privateKey))
        } catch {
            throw PKIError(.certificateCreation, "cannot create the certificate for \(subject): \(error)")
        }
        let pem: String
        do { pem = PEMText.terminated(try leaf.serializeAsPEM().pemString) } catch {
            throw PKIError(.certificateCreation, "cannot encode the certificate for \(subject): \(error)")
        }
        return IssuedCredential(certificate: leaf, certificatePEM: pem, privateKeyPEM: PEMText.terminated(key.pemRepresentation),
                                fingerprint: Fingerprint.sha256(of: leaf))
    }

    static func distinguishedName(commonName: String, organization: String) throws(PKIError) -> DistinguishedName {
        do {
            return try DistinguishedName {
                CommonName(commonName)
                OrganizationName(organization)
            }
        } catch {
            throw PKIError(.invalidName, "cannot build the name CN=\(commonName), O=\(organization): \(error)")
        }
    }

    static func checkIdentifier(_ id: String, what: String) throws(PKIError) {
        let bytes = Array(id.utf8)
        let allowed = bytes.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
        guard (1...64).contains(bytes.count), allowed, bytes.first != UInt8(ascii: ".") else {
            throw PKIError(.invalidName, "\(what) '\(id)' must be 1 to 64 characters from A-Z a-z 0-9 . _ - and not start with a dot")
        }
    }

    /// RFC 5280 §4.2.1.2 method 1: SHA-1 of the subject public key bits. OpenSSL uses it to pick issuers.
    static func keyIdentifier(of publicKey: P256.Signing.PublicKey) -> ArraySlice<UInt8> {
        Array(Insecure.SHA1.hash(data: publicKey.x963Representation))[...]
    }
}

public enum Fingerprint {
    /// SHA-256 of the DER, lowercase hex.
    public static func sha256(ofDER der: [UInt8]) -> String {
        SHA256.hash(data: der).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 0x10 ? "0" + hex : hex
        }.joined()
    }

    public static func sha256(of certificate: Certificate) -> String {
        var serializer = DER.Serializer()
        // Serialising a certificate that parsed or was just built cannot fail.
        try? serializer.serialize(certificate)
        return sha256(ofDER: serializer.serializedBytes)
    }
}

enum PEMText {
    /// Files end with a newline, so `cat ca.pem T001.pem` gives a valid bundle.
    static func terminated(_ pem: String) -> String { pem.hasSuffix("\n") ? pem : pem + "\n" }
}

enum IPAddress {
    static func bytes(_ text: String) throws(PKIError) -> [UInt8] {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        throw PKIError(.invalidIPAddress, "'\(text)' is not an IPv4 or IPv6 address")
    }
}
