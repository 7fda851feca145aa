import Foundation

/// Where the web space's mail goes. TEMPORARY until the Mailer module (branch web-parts) is merged:
/// every send is refused with a clear error.
struct MailWiring: Sendable {
    struct NotWired: Error, CustomStringConvertible {
        var description: String { "mail is not wired yet (the Mailer module is not merged)" }
    }
    init(directory: String, smtp: String?) throws {}
    func send(to: String, subject: String, text: String) async throws { throw NotWired() }
}
