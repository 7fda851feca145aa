import Foundation
import Mailer
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Mail and SMS as section 8 writes them, read back by an independent parser (Python's `email` module), and
/// SMTP against a real relay on loopback (Debian's aiosmtpd, its Maildir handler keeping what it receives).
@Suite("Mailer: outbox files and SMTP to a real relay")
struct MailerTests {
    static let from = "no-reply@generation.hautsdefrance.fr"
    static let link = "http://127.0.0.1:8080/mot-de-passe/nouveau?jeton=4f1c2a9be07d4c21a3f0"

    /// A text with everything that a careless encoder breaks: accents, €, a long line, a line that is a
    /// single dot, lines starting with a dot and with "From ", trailing spaces, and an absolute link.
    static let awkwardText = """
        Bonjour Léa,

        Tu as demandé à changer ton mot de passe. Clique sur ce lien pour en choisir un nouveau (valable 1 heure) : \(link)
        .
        .caché
        From the Région
        Solde : 12,50 € \u{20}
        Ça marche aussi avec des œufs, « guillemets » et des emoji 🎓.
        """

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mailer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("without a relay: one RFC 5322 .eml per mail, 0600 in 0700 folders, read back by Python's email module")
    func outboxMail() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mailer = Mailer(environmentDirectory: dir, smtp: nil, from: Self.from)
        let subject = "Génération #HDF : réinitialise ton mot de passe — c'est facile et ça prend très peu de temps, promis"
        let message = try MailMessage(to: "lea.martin@example.fr", subject: subject, text: Self.awkwardText)
        let delivery = try await mailer.send(message)
        guard case .outbox(let path) = delivery else { Issue.record("expected the outbox, got \(delivery)"); return }
        #expect(path.hasPrefix(dir.appendingPathComponent("outbox/mail").path) && path.hasSuffix(".eml"))
        #expect(try permissions(path) == 0o600)
        #expect(try permissions(dir.appendingPathComponent("outbox").path) == 0o700)
        #expect(try permissions(dir.appendingPathComponent("outbox/mail").path) == 0o700)

        let raw = try String(contentsOfFile: path, encoding: .utf8)
        #expect(raw.allSatisfy { $0.isASCII }, "7-bit clean: quoted-printable body, RFC 2047 subject")
        #expect(raw.contains("\r\n") && !raw.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        for line in raw.components(separatedBy: "\r\n") { #expect(line.count <= 78, "\(line)") }
        #expect(raw.contains("Subject: =?UTF-8?B?"))

        let parsed = try PythonEmail.parse(path)
        #expect(parsed["subject"] as? String == subject)
        #expect(parsed["to"] as? String == "lea.martin@example.fr")
        #expect(parsed["from_address"] as? String == Self.from)
        #expect(parsed["from_name"] as? String == "Génération #HDF")
        #expect(parsed["content_type"] as? String == "text/plain")
        #expect(parsed["charset"] as? String == "utf-8")
        #expect(parsed["cte"] as? String == "quoted-printable")
        #expect(parsed["mime_version"] as? String == "1.0")
        #expect((parsed["message_id"] as? String)?.hasPrefix("<") == true)
        #expect(parsed["date_ok"] as? Bool == true)
        #expect(parsed["defects"] as? Int == 0)
        #expect((parsed["text"] as? String)?.replacingOccurrences(of: "\r\n", with: "\n") == Self.awkwardText + "\n")
    }

    @Test("with --smtp: the same message through a real SMTP relay (aiosmtpd), dot-stuffing and HTML alternative intact")
    func relayedMail() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let relay = try await AiosmtpdRelay.start(maildir: dir.appendingPathComponent("maildir"))
        defer { relay.stop() }
        let mailer = Mailer(environmentDirectory: dir, smtp: try SMTPRelay(parsing: "127.0.0.1:\(relay.port)"), from: Self.from)
        let html = "<p>Bonjour Léa,</p>\n.\n<p><a href=\"\(Self.link)\">Choisir un nouveau mot de passe</a></p>"
        let message = try MailMessage(to: "lea.martin@example.fr", subject: "Ton identifiant Génération #HDF",
                                      text: Self.awkwardText, html: html)
        #expect(try await mailer.send(message) == .relayed(host: "127.0.0.1", port: relay.port))
        // Nothing went to the outbox.
        #expect(Outbox.newestMail(in: dir) == nil)

        let received = try await relay.waitForMessages(count: 1)
        let parsed = try PythonEmail.parse(received[0].path)
        #expect(parsed["subject"] as? String == "Ton identifiant Génération #HDF")
        #expect(parsed["to"] as? String == "lea.martin@example.fr")
        #expect(parsed["content_type"] as? String == "multipart/alternative")
        // In a multipart body the line break before a boundary belongs to the boundary (RFC 2046 §5.1.1).
        #expect((parsed["text"] as? String)?.replacingOccurrences(of: "\r\n", with: "\n") == Self.awkwardText)
        #expect((parsed["html"] as? String)?.replacingOccurrences(of: "\r\n", with: "\n") == html)
        #expect(parsed["defects"] as? Int == 0)
    }

    @Test("the dot-stuffing of the DATA phase itself (RFC 5321 §4.5.2)")
    func dotStuffing() {
        #expect(SMTPClient.dotStuffed("a\r\n.\r\n..b\r\nc") == "a\r\n..\r\n...b\r\nc\r\n")
        #expect(SMTPClient.dotStuffed(".\n") == "..\r\n")
    }

    @Test("relay errors say what failed: nobody listening, a relay that never answers, a relay that refuses")
    func relayErrors() async throws {
        // A port that was free a moment ago: nobody listens there.
        let closedPort = try FreePort.pick()
        let client = SMTPClient(relay: try SMTPRelay(host: "127.0.0.1", port: closedPort), localHostName: "test.localhost")
        await #expect {
            try await client.send(from: Self.from, to: ["a@example.fr"], data: "Subject: x\r\n\r\nx\r\n")
        } throws: { error in
            guard case MailerError.connectFailed(let relay, let reason)? = error as? MailerError else { return false }
            return relay == "127.0.0.1:\(closedPort)" && reason.contains("refused")
        }

        // A listener that accepts (the kernel does, backlog) and never says a word.
        let silent = try SilentListener()
        defer { silent.close() }
        let impatient = SMTPClient(relay: try SMTPRelay(host: "127.0.0.1", port: silent.port), localHostName: "test.localhost",
                                   replyTimeoutSeconds: 0.3)
        // The error names the greeting's 0.3 s reply time-out (not the 10 s connect or the whole-send one). No
        // wall-clock bound here: in the shared `swift test` run, the awaiting task can wait tens of seconds for
        // a cooperative thread while other suites hold them, whatever the client does.
        await #expect(throws: MailerError.timedOut(relay: "127.0.0.1:\(silent.port)", stage: "greeting, 0.3 s")) {
            try await impatient.send(from: Self.from, to: ["a@example.fr"], data: "Subject: x\r\n\r\nx\r\n")
        }

        // A real relay limited to 200 bytes: it refuses the message at the end of DATA, and says so.
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let small = try await AiosmtpdRelay.start(maildir: dir.appendingPathComponent("maildir"), sizeLimitBytes: 200)
        defer { small.stop() }
        let mailer = Mailer(environmentDirectory: dir, smtp: try SMTPRelay(host: "127.0.0.1", port: small.port), from: Self.from)
        await #expect {
            try await mailer.send(try MailMessage(to: "a@example.fr", subject: "Trop long", text: String(repeating: "texte ", count: 100)))
        } throws: { error in
            guard case MailerError.rejected(_, let stage, let code, _)? = error as? MailerError else { return false }
            return stage == "end of message" && code == 552
        }
        #expect(Outbox.newestMail(in: dir) == nil)
    }

    @Test("bad input is refused before anything is written or sent")
    func refusals() async throws {
        #expect(throws: MailerError.invalidAddress("pas une adresse")) { try MailMessage(to: "pas une adresse", subject: "s", text: "t") }
        #expect(throws: MailerError.invalidAddress("a@b.fr\r\nBcc: x@y.fr")) { try MailMessage(to: "a@b.fr\r\nBcc: x@y.fr", subject: "s", text: "t") }
        #expect(throws: MailerError.invalidHeader(field: "subject")) { try MailMessage(to: "a@b.fr", subject: "s\r\nBcc: x@y.fr", text: "t") }
        #expect(throws: MailerError.invalidHeader(field: "HTML body (a link is not absolute)")) {
            try MailMessage(to: "a@b.fr", subject: "s", text: "t", html: "<a href=\"/compte\">x</a>")
        }
        #expect(throws: MailerError.invalidRelay("localhost")) { try SMTPRelay(parsing: "localhost") }
        #expect(throws: MailerError.invalidRelay("localhost:0")) { try SMTPRelay(parsing: "localhost:0") }
        #expect(throws: MailerError.invalidPhone("06 12 ab")) { try SMSMessage(phone: "06 12 ab", text: "x") }
        #expect(throws: MailerError.invalidSMS("the text must be one line")) { try SMSMessage(phone: "0612345678", text: "a\nb") }
        #expect(try SMTPRelay(parsing: "[::1]:2525") == SMTPRelay(host: "::1", port: 2525))

        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mailer = Mailer(environmentDirectory: dir, smtp: nil, from: Self.from)
        let huge = try MailMessage(to: "a@b.fr", subject: "gros", text: String(repeating: "é", count: MailLimits.maximumMessageBytes))
        await #expect {
            try await mailer.send(huge)
        } throws: { error in
            if case MailerError.messageTooLarge? = error as? MailerError { return true }
            return false
        }
        #expect(Outbox.newestMail(in: dir) == nil)
    }

    @Test("SMS: first line the number, second the text; the newest file is the last written")
    func smsOutbox() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mailer = Mailer(environmentDirectory: dir, smtp: nil, from: Self.from)
        #expect(Outbox.newestSMS(in: dir) == nil)
        var paths: [String] = []
        for index in 1...3 {
            paths.append(try mailer.send(try SMSMessage(phone: "06 12 34 56 7\(index)", text: "Génération #HDF : ton code est 00\(index).")))
        }
        #expect(Outbox.newestSMS(in: dir)?.path == paths[2])
        let lines = try String(contentsOfFile: paths[2], encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines == ["06 12 34 56 73", "Génération #HDF : ton code est 003.", ""])
        #expect(try permissions(paths[2]) == 0o600)
        #expect(try permissions(dir.appendingPathComponent("outbox/sms").path) == 0o700)

        // Mails too: the newest by name is the newest written, even within one millisecond.
        let now = Date()
        var mailPaths: [String] = []
        for index in 1...3 {
            let delivery = try await mailer.send(try MailMessage(to: "a@b.fr", subject: "n\(index)", text: "t"), now: now)
            if case .outbox(let path) = delivery { mailPaths.append(path) }
        }
        #expect(Outbox.newestMail(in: dir)?.path == mailPaths.last)
    }

    func permissions(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? Int ?? -1) & 0o777
    }
}

/// Python's own `email` parser, an implementation independent of ours.
enum PythonEmail {
    static let script = #"""
import email, email.policy, email.utils, json, sys
raw = open(sys.argv[1], 'rb').read()
msg = email.message_from_bytes(raw, policy=email.policy.default)
name, address = email.utils.parseaddr(str(msg['from']))
out = {
  'subject': str(msg['subject']), 'to': email.utils.parseaddr(str(msg['to']))[1],
  'from_name': name, 'from_address': address, 'content_type': msg.get_content_type(),
  'charset': msg.get_content_charset(), 'cte': msg.get('content-transfer-encoding'),
  'mime_version': msg.get('mime-version'), 'message_id': msg.get('message-id'),
  'date_ok': email.utils.parsedate_to_datetime(msg['date']) is not None,
  'defects': sum(len(part.defects) for part in msg.walk()),
}
plain = msg.get_body(preferencelist=('plain',))
html = msg.get_body(preferencelist=('html',))
out['text'] = plain.get_content() if plain is not None else None
out['html'] = html.get_content() if html is not None else None
print(json.dumps(out))
"""#

    static func parse(_ path: String) throws -> [String: Any] {
        let output = try ProcessRunner.run("/usr/bin/python3", ["-c", script, path])
        return try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] ?? [:]
    }
}

enum ProcessRunner {
    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failed(description: "\(executable) \(arguments.last ?? "") exited \(process.terminationStatus): \(String(decoding: errorData, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

enum FreePort {
    /// A port the kernel just gave us on 127.0.0.1 and that we released at once.
    static func pick() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        guard bound == 0 else { throw ProcessRunner.Failed(description: "bind: \(errno)") }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func isListening(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}

/// A TCP listener on a free loopback port that accepts nothing and says nothing.
final class SilentListener {
    let descriptor: Int32
    let port: Int

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        guard bound == 0, listen(listener, 4) == 0 else {
            Glibc.close(listener)
            throw ProcessRunner.Failed(description: "listen: \(errno)")
        }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        descriptor = listener
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { Glibc.close(descriptor) }
}

/// Debian's aiosmtpd as a separate process on a free loopback port, its Maildir handler keeping each
/// message it accepts.
final class AiosmtpdRelay {
    let process: Process
    let port: Int
    let maildir: URL

    static func start(maildir: URL, sizeLimitBytes: Int? = nil) async throws -> AiosmtpdRelay {
        var lastError = ""
        for _ in 0..<5 {
            let port = try FreePort.pick()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            var arguments = ["-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)"]
            if let sizeLimitBytes { arguments += ["-s", String(sizeLimitBytes)] }
            arguments += ["-c", "aiosmtpd.handlers.Mailbox", maildir.path]
            process.arguments = arguments
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            // Ready when it accepts a connection (an SMTP server only greets a connection: harmless).
            for _ in 0..<200 {
                if FreePort.isListening(port) { return AiosmtpdRelay(process: process, port: port, maildir: maildir) }
                if !process.isRunning { break }
                try await Task.sleep(for: .milliseconds(25))
            }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            lastError = String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self)
        }
        throw ProcessRunner.Failed(description: "aiosmtpd did not start (install python3-aiosmtpd): \(lastError)")
    }

    private init(process: Process, port: Int, maildir: URL) {
        self.process = process
        self.port = port
        self.maildir = maildir
    }

    func waitForMessages(count: Int) async throws -> [URL] {
        let folder = maildir.appendingPathComponent("new")
        for _ in 0..<200 {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            if names.count >= count { return names.sorted().map { folder.appendingPathComponent($0) } }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw ProcessRunner.Failed(description: "aiosmtpd kept fewer than \(count) messages in \(folder.path)")
    }

    /// SIGKILL: aiosmtpd's command line survives SIGTERM here, and waiting for it would hang the test.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
