import Foundation

/// How `beneficiary serve` runs the web space.
public struct WebConfiguration: Sendable {
    /// The environment directory (its `ledger.sqlite`, its outbox).
    public var directory: String
    public var host: String
    public var port: Int
    /// The address people reach the site at (mail links are absolute). `https://...` makes cookies `Secure`.
    public var publicURL: String
    /// Sends one mail: (to, subject, text with absolute links). `beneficiary serve` wires the Mailer module.
    public var sendMail: @Sendable (_ to: String, _ subject: String, _ text: String) async throws -> Void
    /// The anti-robot proof of work's difficulty, in leading zero bits (`AntiRobot.defaultDifficultyBits`).
    public var antiRobotBits: Int = AntiRobot.defaultDifficultyBits

    public static let defaultHost = "127.0.0.1"
    public static let defaultPort = 8080

    public init(directory: String, host: String = defaultHost, port: Int = defaultPort, publicURL: String? = nil,
                sendMail: @escaping @Sendable (_ to: String, _ subject: String, _ text: String) async throws -> Void) {
        self.directory = directory
        self.host = host
        self.port = port
        self.publicURL = (publicURL ?? "http://\(host):\(port)").trimmingSuffix("/")
        self.sendMail = sendMail
    }

    /// Cookies get `Secure` when the public address is HTTPS (behind a TLS reverse proxy).
    public var secureCookies: Bool { publicURL.lowercased().hasPrefix("https://") }
}

/// Every limit of the web space, with its unit.
public enum WebLimits {
    /// A form's body, in bytes; a larger one is refused (413) unread.
    public static let maximumFormBytes = 16 * 1024
    /// A form that carries one file (multipart): the file's 5 MB and the form's fields. A larger body is
    /// refused (413) with a page saying the file is too heavy.
    public static let maximumUploadRequestBytes = 5 * 1024 * 1024 + 64 * 1024
    /// Multipart bodies read at once, in all (5 MB each at most): 32 MB of uploads in memory at most.
    public static let maximumConcurrentUploads = 6
    /// The only forms that may carry a file.
    public static let uploadPaths: Set<String> = ["/demande-de-carte/etablissement", "/demande-de-carte/photo", "/demande-de-thr"]
    /// Uploads of drafts never sent are deleted after this long (a draft lives in a session: 1 hour at most).
    public static let abandonedUploadAge: Duration = .seconds(24 * 60 * 60)
    /// How often abandoned uploads are looked for.
    public static let uploadSweepInterval: Duration = .seconds(60 * 60)
    /// A session lives this long after login (then the beneficiary logs in again).
    public static let sessionLifetime: Duration = .seconds(60 * 60)
    /// A visitor's session before login (it only carries the login form's token).
    public static let anonymousSessionLifetime: Duration = .seconds(30 * 60)
    /// Ledger connections the server keeps open (each a SQLite handle; a request takes one at a time).
    public static let maximumLedgerConnections = 8
    /// Partners listed by one search.
    public static let maximumListedPartners = 200
    /// Transactions listed on "Mes transactions".
    public static let maximumListedTransactions = 200
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        var text = self
        while text.hasSuffix(suffix) { text.removeLast(suffix.count) }
        return text
    }
}
