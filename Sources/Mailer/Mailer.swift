import Foundation

/// Mail and SMS for the web space (contract section 8). API:
///   let mailer = Mailer(environmentDirectory: dir, smtp: try SMTPRelay(parsing: "127.0.0.1:2525") /* or nil */, from: "no-reply@generation.hautsdefrance.fr")
///   let where = try await mailer.send(MailMessage(to: "lea@example.fr", subject: "Ton identifiant", text: "…https://…", html: nil))
///     -> .outbox(path) (DIR/outbox/mail/<time-ordered>.eml, 0600 in a 0700 folder) or .relayed(host:port:) over SMTP
///   let path = try mailer.send(SMSMessage(phone: "0612345678", text: "Ton code : 123456"))   // DIR/outbox/sms/<time-ordered>.txt
///   Outbox.newestMail(in: dir) / Outbox.newestSMS(in: dir) read back the latest file; errors are `MailerError` (say what failed).
public struct Mailer: Sendable {
    /// The programme's sender, for the web space's mail and the decisions' notices alike.
    public static let programmeSender = "no-reply@generation.hautsdefrance.fr"

    public let environmentDirectory: URL
    public let smtp: SMTPRelay?
    public let from: String
    public let fromName: String
    /// The host name this side gives in EHLO and in Message-IDs.
    public let localHostName: String

    public init(environmentDirectory: URL, smtp: SMTPRelay?, from: String,
                fromName: String = "Génération #HDF", localHostName: String = "hdf-beneficiary.localhost") {
        self.environmentDirectory = environmentDirectory
        self.smtp = smtp
        self.from = from
        self.fromName = fromName
        self.localHostName = localHostName
    }

    public init(environmentDirectory: String, smtp: SMTPRelay?, from: String) {
        self.init(environmentDirectory: URL(fileURLWithPath: environmentDirectory), smtp: smtp, from: from)
    }

    public enum Delivery: Sendable, Equatable {
        case outbox(path: String)
        case relayed(host: String, port: Int)
    }

    /// Renders the message once (Date and Message-ID fixed here) and delivers it: to the relay when one is
    /// set, else to the outbox folder. Nothing is written when the message is refused.
    @discardableResult
    public func send(_ message: MailMessage, now: Date = Date()) async throws -> Delivery {
        let rendered = try message.rfc5322(from: from, fromName: fromName, date: now,
                                           messageID: MailMessage.newMessageID(host: localHostName))
        if let smtp {
            try await SMTPClient(relay: smtp, localHostName: localHostName)
                .send(from: from, to: [message.to], data: rendered)
            return .relayed(host: smtp.host, port: smtp.port)
        }
        let path = try Outbox.write(Array(rendered.utf8), kind: .mail, environmentDirectory: environmentDirectory, now: now)
        return .outbox(path: path)
    }

    /// SMS have no relay here: each goes to DIR/outbox/sms/, first line the number, second the text.
    @discardableResult
    public func send(_ sms: SMSMessage, now: Date = Date()) throws -> String {
        try Outbox.write(Array(sms.fileContent.utf8), kind: .sms, environmentDirectory: environmentDirectory, now: now)
    }
}

/// `--smtp HOST:PORT`.
public struct SMTPRelay: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) throws(MailerError) {
        guard !host.isEmpty, host.count <= MailLimits.maximumHostNameLength,
              host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":") }) else {
            throw .invalidRelay("\(host):\(port)")
        }
        guard (1...65_535).contains(port) else { throw .invalidRelay("\(host):\(port)") }
        self.host = host
        self.port = port
    }

    /// "HOST:PORT" ("[::1]:25" for an IPv6 address).
    public init(parsing text: String) throws(MailerError) {
        var hostPart: Substring
        var portPart: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .invalidRelay(text) }
            portPart = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .invalidRelay(text) }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard let port = Int(portPart) else { throw .invalidRelay(text) }
        try self.init(host: String(hostPart), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Every limit of the mail side, each with its unit.
public enum MailLimits {
    /// A rendered message larger than this is refused before anything is sent or written (bytes).
    public static let maximumMessageBytes = 1_048_576
    /// One reply line from the relay (bytes); a longer one ends the session as a protocol error.
    public static let maximumReplyLineBytes = 4_096
    /// Lines in one (multi-line) reply.
    public static let maximumReplyLines = 64
    /// Connecting to the relay (seconds).
    public static let connectTimeoutSeconds = 10.0
    /// Waiting for any one reply of the relay (seconds); RFC 5321 §4.5.3.2 allows more, a local relay needs less.
    public static let replyTimeoutSeconds = 30.0
    /// Writing the message to the relay (seconds).
    public static let sendTimeoutSeconds = 30.0
    /// Subject characters; mail clients cut long subjects anyway.
    public static let maximumSubjectCharacters = 200
    /// An e-mail address (RFC 5321 §4.5.3.1.3: a path of 256 octets including the angle brackets).
    public static let maximumAddressBytes = 254
    public static let maximumHostNameLength = 253
    /// The text of one SMS (characters): a few concatenated SMS at most.
    public static let maximumSMSCharacters = 480
    /// Lines of a text body quoted-printable allows (76 characters, soft break included).
    static let quotedPrintableLineLength = 76
    /// Files in an outbox folder that `Outbox.newest` looks at before giving up (a runaway folder).
    public static let maximumOutboxFilesScanned = 100_000
}

public enum MailerError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidRelay(String)
    case invalidAddress(String)
    case invalidHeader(field: String)
    case invalidPhone(String)
    case invalidSMS(String)
    case messageTooLarge(bytes: Int)
    case outboxWrite(path: String, reason: String)
    case connectFailed(relay: String, reason: String)
    case timedOut(relay: String, stage: String)
    case connectionClosed(relay: String, stage: String)
    case protocolError(relay: String, stage: String, detail: String)
    case rejected(relay: String, stage: String, code: Int, text: String)

    public var description: String {
        switch self {
        case .invalidRelay(let text): return "the SMTP relay '\(text)' is not HOST:PORT"
        case .invalidAddress(let text): return "'\(text)' is not an e-mail address this mailer accepts"
        case .invalidHeader(let field): return "the \(field) holds a line break or is too long"
        case .invalidPhone(let text): return "'\(text)' is not a phone number (digits, spaces and a leading + only)"
        case .invalidSMS(let reason): return "SMS refused: \(reason)"
        case .messageTooLarge(let bytes): return "the message is \(bytes) bytes, above the limit of \(MailLimits.maximumMessageBytes)"
        case .outboxWrite(let path, let reason): return "could not write \(path): \(reason)"
        case .connectFailed(let relay, let reason): return "could not connect to the SMTP relay \(relay): \(reason)"
        case .timedOut(let relay, let stage): return "the SMTP relay \(relay) did not answer in time (\(stage))"
        case .connectionClosed(let relay, let stage): return "the SMTP relay \(relay) closed the connection (\(stage))"
        case .protocolError(let relay, let stage, let detail): return "the SMTP relay \(relay) broke the protocol (\(stage)): \(detail)"
        case .rejected(let relay, let stage, let code, let text): return "the SMTP relay \(relay) refused \(stage): \(code) \(text)"
        }
    }
}
