import Foundation
import Mailer

/// Where the web space's mail goes: to the relay given by `--smtp HOST:PORT`, else one `.eml` per mail in
/// `DIR/outbox/mail/` (contract §8), through the Mailer module.
struct MailWiring: Sendable {
    let mailer: Mailer

    init(directory: String, smtp: String?) throws {
        let relay = try smtp.map { text throws(MailerError) in try SMTPRelay(parsing: text) }
        mailer = Mailer(environmentDirectory: directory, smtp: relay, from: Mailer.programmeSender)
    }

    func send(to: String, subject: String, text: String) async throws {
        try await mailer.send(MailMessage(to: to, subject: subject, text: text))
    }
}
