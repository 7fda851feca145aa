import BeneficiaryOperations
import Foundation
import HDFDomain
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ledger
import Provisioning
import Testing
import WebSpace

/// A fresh demo environment (its own temporary directory) and the web space's router over it, driven by
/// Hummingbird's test client (no sockets). Mail is kept in `mailbox` (the Mailer module's own tests cover
/// the outbox and SMTP).
final class WebFixture: Sendable {
    let directory: String
    let manifest: DemoManifest
    let mailbox = Mailbox()

    init(_ name: String) throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("web-\(name)-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))").path
        try DemoEnvironment.create(directory: directory, force: false)
        self.directory = directory
        self.manifest = try DemoManifest.load(layout: EnvironmentLayout(directory: directory))
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    static let antiRobotBits = 10

    /// The SMS written to the outbox, oldest first: (phone, text).
    func smsOutbox() throws -> [(phone: String, text: String)] {
        let folder = directory + "/outbox/sms"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        return try names.map { name in
            let lines = try String(contentsOfFile: folder + "/" + name, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            return (String(lines[0]), String(lines.count > 1 ? lines[1] : ""))
        }
    }

    func configuration(publicURL: String? = nil) -> WebConfiguration {
        let mailbox = self.mailbox
        var configuration = WebConfiguration(directory: directory, host: "127.0.0.1", port: 0, publicURL: publicURL,
                                             sendMail: { to, subject, text in await mailbox.add(to: to, subject: subject, text: text) })
        // The proof of work's rules do not depend on its difficulty; the browser tests use the default.
        configuration.antiRobotBits = Self.antiRobotBits
        return configuration
    }

    func application(publicURL: String? = nil) throws -> some ApplicationProtocol {
        try WebSpace.buildApplication(configuration: configuration(publicURL: publicURL))
    }

    /// Active cards with money in every wallet still valid, in the manifest's order.
    var fundedCards: [DemoManifest.Card] {
        let today = ParisCalendar.today().iso
        return manifest.cards.filter { card in
            card.status == "active" && card.wallets.contains { $0.balance > 0 } && card.wallets.allSatisfy { $0.expires >= today }
        }
    }

    func ledger() throws -> Ledger { try Ledger.open(directory: directory, actor: "test") }

    func available(_ pan: String, _ code: WalletCode) throws -> Int64 {
        try CardOperations(ledger: ledger()).wallets(pan: PAN(validating: pan)).first { $0.code == code }?.balanceCents ?? -1
    }

    /// Counts that a refused operation must leave unchanged.
    func counts() throws -> [Int64] {
        try ledger().read { tx in
            try ["vouchers", "payments", "transfers", "audit WHERE action NOT LIKE 'web.login%'"].map {
                try tx.ledger.connection.scalarInt("SELECT COUNT(*) FROM \($0)") ?? -1
            } + [try tx.ledger.connection.scalarInt("SELECT COUNT(*) FROM cards WHERE status <> 'active'") ?? -1]
        }
    }
}

actor Mailbox {
    struct Mail: Sendable { let to: String; let subject: String; let text: String }
    private(set) var mails: [Mail] = []
    func add(to: String, subject: String, text: String) { mails.append(Mail(to: to, subject: subject, text: text)) }
}

/// One browser: its session cookie, and each page's form token read from the page.
struct Visitor {
    let client: any TestClientProtocol
    var cookie: String?
    var formToken: String?

    init(_ client: any TestClientProtocol) { self.client = client }

    struct Page {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: String
        var location: String? { headers[.location] }
        /// The body with Mustache's HTML escapes undone, to look for a sentence as the reader sees it.
        var text: String {
            body.replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&quot;", with: "\"")
                .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&amp;", with: "&")
        }
    }

    mutating func get(_ uri: String) async throws -> Page {
        var headers: HTTPFields = [:]
        if let cookie { headers[.cookie] = cookie }
        let response = try await client.executeRequest(uri: uri, method: .get, headers: headers, body: nil)
        return remember(response)
    }

    /// POSTs a form; `token: true` adds the form token of the last page read.
    mutating func post(_ uri: String, _ fields: [(String, String)], token: Bool = true) async throws -> Page {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let cookie { headers[.cookie] = cookie }
        var all = fields
        if token, let formToken { all.append(("jeton", formToken)) }
        let body = all.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        let response = try await client.executeRequest(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
        return remember(response)
    }

    /// POSTs a multipart form (the forms with a file): text fields, then files as (field, file name, bytes).
    mutating func postMultipart(_ uri: String, _ fields: [(String, String)], files: [(String, String, [UInt8])],
                                token: Bool = true) async throws -> Page {
        let boundary = "----hdf-test-\(UInt32.random(in: 0...UInt32.max))"
        var headers: HTTPFields = [.contentType: "multipart/form-data; boundary=\(boundary)"]
        if let cookie { headers[.cookie] = cookie }
        var all = fields
        if token, let formToken { all.append(("jeton", formToken)) }
        var body = ByteBuffer()
        for (name, value) in all {
            body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n")
        }
        for (name, file, bytes) in files {
            body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(file)\"\r\nContent-Type: application/octet-stream\r\n\r\n")
            body.writeBytes(bytes)
            body.writeString("\r\n")
        }
        body.writeString("--\(boundary)--\r\n")
        let response = try await client.executeRequest(uri: uri, method: .post, headers: headers, body: body)
        return remember(response)
    }

    /// A Set-Cookie whose Expires is now or past: the server dropped the session.
    static func expiresNow(_ setCookie: String) -> Bool {
        guard let range = setCookie.range(of: "Expires=") else { return false }
        let text = setCookie[range.upperBound...].split(separator: ";")[0]
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: String(text)) else { return false }
        return date.timeIntervalSinceNow < 5
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    mutating func remember(_ response: TestResponse) -> Page {
        for value in response.headers[values: .setCookie] where value.hasPrefix("hdf_session=") {
            let pair = String(value.split(separator: ";")[0])
            cookie = Self.expiresNow(value) ? nil : pair
        }
        let body = String(buffer: response.body)
        if let range = body.range(of: #"name="jeton" value="([0-9a-f]+)""#, options: .regularExpression) {
            formToken = String(body[range].dropFirst(#"name="jeton" value=""#.count).dropLast())
        }
        return Page(status: response.status, headers: response.headers, body: body)
    }

    /// Logs in through the connection page; returns the answer to the POST.
    @discardableResult
    mutating func login(_ identifier: String, _ password: String) async throws -> Page {
        _ = try await get("/connexion")
        return try await post("/connexion", [("identifiant", identifier), ("mot_de_passe", password)])
    }
}
