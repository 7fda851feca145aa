import Crypto
import Foundation
import GatewayClient

/// Everything a `pos` run needs besides the verb: the gateway, the terminal's identity, the reader, the
/// time-outs, and where the stan counter lives.
public struct TerminalConfiguration: Sendable {
    public var credentials: TerminalCredentials
    /// The name the gateway's certificate is checked against: the host, or `localhost` when the host is an
    /// IP address (TLS's SNI takes no address; the demo's server certificate names `localhost` and its IPs).
    public var serverHostname: String
    /// nil: the first reader holding a card.
    public var reader: String?
    /// How long to wait for a card.
    public var cardTimeout: Duration
    /// How long to wait for the gateway's answer to a request.
    public var responseTimeout: Duration
    /// TCP connection and TLS handshake.
    public var connectTimeout: Duration
    /// Attempts at a reversal (each on a new connection) before it is left pending on disk.
    public var reversalAttempts: Int
    public var state: TerminalState

    public static let defaultCardTimeout: Duration = .seconds(30)
    public static let defaultResponseTimeout: Duration = .seconds(10)
    public static let defaultConnectTimeout: Duration = .seconds(5)

    public init(credentials: TerminalCredentials, reader: String? = nil,
                cardTimeout: Duration = defaultCardTimeout, responseTimeout: Duration = defaultResponseTimeout,
                connectTimeout: Duration = defaultConnectTimeout, reversalAttempts: Int = 3, state: TerminalState) {
        self.credentials = credentials
        self.serverHostname = TerminalConfiguration.isIPAddress(credentials.host) ? "localhost" : credentials.host
        self.reader = reader
        self.cardTimeout = cardTimeout
        self.responseTimeout = responseTimeout
        self.connectTimeout = connectTimeout
        self.reversalAttempts = max(1, reversalAttempts)
        self.state = state
    }

    public var endpoint: String { "\(credentials.host):\(credentials.port)" }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    struct Manifest: Decodable {
        struct Gateway: Decodable { let host: String; let port: Int; let ca: String }
        let gateway: Gateway
    }

    /// `--dir DIR --terminal T`: the gateway's address and CA from `DIR/demo.json`, T's certificate and key at
    /// `DIR/certs/T.pem` and `.key`; any of `--host --port --ca --cert --key` given overrides. Without `--dir`,
    /// `--ca --cert --key` are needed (host 127.0.0.1 and port 8583 by default).
    ///
    /// The state directory: `--state-dir`, else `DIR/pos` with `--dir`, else `~/.local/state/hdf/pos`; the
    /// state is named after the terminal (`T`), or after the certificate's SHA-256 without `--terminal`.
    public static func resolve(dir: String?, terminal: String?, host: String?, port: Int?, ca: String?,
                               cert: String?, key: String?, stateDir: String?) throws(PosError) -> (TerminalCredentials, TerminalState) {
        var resolvedHost = host
        var resolvedPort = port
        var resolvedCA = ca
        var resolvedCert = cert
        var resolvedKey = key
        if let dir {
            let manifestPath = dir + "/demo.json"
            guard let data = FileManager.default.contents(atPath: manifestPath) else {
                throw .usage(code: "no_manifest", "Pas de manifeste \(manifestPath) : --dir doit être un environnement créé par « gateway demo »")
            }
            let manifest: Manifest
            do { manifest = try JSONDecoder().decode(Manifest.self, from: data) } catch {
                throw .usage(code: "no_manifest", "Manifeste \(manifestPath) illisible : \(error)")
            }
            resolvedHost = resolvedHost ?? manifest.gateway.host
            resolvedPort = resolvedPort ?? manifest.gateway.port
            resolvedCA = resolvedCA ?? (dir + "/" + manifest.gateway.ca)
            if let terminal {
                resolvedCert = resolvedCert ?? (dir + "/certs/\(terminal).pem")
                resolvedKey = resolvedKey ?? (dir + "/certs/\(terminal).key")
            }
        }
        guard let caPath = resolvedCA, let certPath = resolvedCert, let keyPath = resolvedKey else {
            throw .usage(code: "usage", "Donnez --dir DIR --terminal T, ou --ca --cert --key (avec --host --port)")
        }
        for (what, path) in [("certificat du terminal", certPath), ("clé du terminal", keyPath), ("CA des partenaires", caPath)] {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw .usage(code: "no_credentials", "Fichier introuvable (\(what)) : \(path)")
            }
        }
        let credentials = TerminalCredentials(host: resolvedHost ?? "127.0.0.1", port: resolvedPort ?? 8583,
                                              caPath: caPath, certificatePath: certPath, keyPath: keyPath)
        let directory: String
        if let stateDir {
            directory = stateDir
        } else if let dir {
            directory = dir + "/pos"
        } else {
            directory = (ProcessInfo.processInfo.environment["HOME"] ?? ".") + "/.local/state/hdf/pos"
        }
        let name: String
        if let terminal, !terminal.isEmpty, terminal.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) {
            name = terminal
        } else {
            let pem = FileManager.default.contents(atPath: certPath) ?? Data()
            name = "cert-" + SHA256.hash(data: pem).prefix(8).map { String(format: "%02x", $0) }.joined()
        }
        return (credentials, TerminalState(directory: directory, name: name))
    }
}
