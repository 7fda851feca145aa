import Foundation

/// Where things live in an environment directory (`DIR`), all paths relative to it in manifests.
public struct EnvironmentLayout: Sendable {
    public let directory: String
    /// The environment directory's mode: owner only (it holds the ledger and the keys).
    public static let directoryMode: Int = 0o700

    public init(directory: String) {
        // Keep DIR as given (relative or absolute); only strip a trailing slash.
        var path = directory
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        self.directory = path
    }

    public static let ledgerFile = "ledger.sqlite"
    public static let manifestFile = "demo.json"
    public static let masterKeyFile = "keys/issuer-master.key"
    public static let caCertificateFile = "certs/ca.pem"
    public static let caKeyFile = "certs/ca.key"
    public static let serverCertificateFile = "certs/server.pem"
    public static let serverKeyFile = "certs/server.key"

    public static func terminalCertificateFile(_ id: String) -> String { "certs/\(id).pem" }
    public static func terminalKeyFile(_ id: String) -> String { "certs/\(id).key" }

    public func path(_ relative: String) -> String { directory + "/" + relative }

    public var ledgerPath: String { path(Self.ledgerFile) }
    public var manifestPath: String { path(Self.manifestFile) }

    public var hasLedger: Bool { FileManager.default.fileExists(atPath: ledgerPath) }
}
