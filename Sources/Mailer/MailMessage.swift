import Foundation

/// One mail to one person: plain text, optionally an HTML alternative. Links in it must be absolute
/// (the caller builds them from `--public-url`): `init` refuses a relative `href`.
public struct MailMessage: Sendable, Equatable {
    public let to: String
    public let subject: String
    public let text: String
    public let html: String?

    public init(to: String, subject: String, text: String, html: String? = nil) throws(MailerError) {
        try MailMessage.checkAddress(to)
        guard !subject.contains(where: { $0.isNewline }), subject.count <= MailLimits.maximumSubjectCharacters else {
            throw .invalidHeader(field: "subject")
        }
        if let html, html.contains("href=\"/") || html.contains("href='/") {
            throw .invalidHeader(field: "HTML body (a link is not absolute)")
        }
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
    }

    /// A plain addr-spec: local@domain, printable ASCII without spaces, brackets, quotes or commas.
    static func checkAddress(_ address: String) throws(MailerError) {
        let forbidden = Set("<>()[]\\,;:\"' ")
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard address.utf8.count <= MailLimits.maximumAddressBytes, parts.count == 2, !parts[0].isEmpty,
              parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
              address.allSatisfy({ $0.isASCII && !$0.isWhitespace && !$0.isNewline && ($0.asciiValue ?? 0) >= 0x21 && !forbidden.contains($0) })
        else { throw .invalidAddress(address) }
    }

    static func newMessageID(host: String) -> String {
        var random = SystemRandomNumberGenerator()
        let token = (0..<4).map { _ in String(random.next() as UInt32, radix: 16) }.joined(separator: ".")
        return "<\(token)@\(host)>"
    }

    /// The message as RFC 5322 text with CRLF line ends: headers, then a quoted-printable UTF-8 body
    /// (multipart/alternative when there is HTML). Every line is at most 78 characters.
    public func rfc5322(from: String, fromName: String, date: Date, messageID: String) throws(MailerError) -> String {
        try MailMessage.checkAddress(from)
        var lines: [String] = []
        lines.append("Date: \(MailMessage.rfc5322Date(date))")
        lines.append(HeaderEncoding.folded(field: "From", value: HeaderEncoding.encodedWords(fromName) + " <\(from)>"))
        lines.append("To: <\(to)>")
        lines.append(HeaderEncoding.folded(field: "Subject", value: HeaderEncoding.encodedWords(subject)))
        lines.append("Message-ID: \(messageID)")
        lines.append("MIME-Version: 1.0")
        if let html {
            let boundary = "=_hdf_" + messageID.filter { $0.isLetter || $0.isNumber }
            lines.append("Content-Type: multipart/alternative; boundary=\"\(boundary)\"")
            lines.append("")
            lines.append("--\(boundary)")
            lines += MailMessage.part(type: "text/plain", body: text)
            lines.append("--\(boundary)")
            lines += MailMessage.part(type: "text/html", body: html)
            lines.append("--\(boundary)--")
        } else {
            lines += MailMessage.part(type: "text/plain", body: text)
        }
        let rendered = lines.joined(separator: "\r\n") + "\r\n"
        guard rendered.utf8.count <= MailLimits.maximumMessageBytes else { throw .messageTooLarge(bytes: rendered.utf8.count) }
        return rendered
    }

    static func part(type: String, body: String) -> [String] {
        ["Content-Type: \(type); charset=UTF-8", "Content-Transfer-Encoding: quoted-printable", "",
         QuotedPrintable.encode(body)]
    }

    /// "Tue, 01 Dec 2026 23:05:01 +0000" (RFC 5322 §3.3), always in UTC: no zone data needed.
    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}

/// RFC 2047 encoded-words for header text that is not plain ASCII, and header folding (RFC 5322 §2.2.3).
enum HeaderEncoding {
    /// A line holding an encoded-word is at most 76 characters (RFC 2047 §2): 39 bytes of UTF-8 make 52 of base64,
    /// 64 with "=?UTF-8?B?" and "?=", which leaves room for "Subject: " (whole characters only: never split).
    static let maximumBytesPerEncodedWord = 39

    static func encodedWords(_ text: String) -> String {
        let plain = text.allSatisfy { $0.isASCII && ($0.asciiValue! >= 0x20 && $0.asciiValue! < 0x7F) }
        // Plain ASCII stays readable unless it could itself be mistaken for an encoded-word.
        if plain && !text.contains("=?") { return text }
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > maximumBytesPerEncodedWord {
                words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=") }
        return words.joined(separator: " ")
    }

    /// "Field: value", folded at spaces so that no line is longer than 78 characters where it can be.
    static func folded(field: String, value: String) -> String {
        var lines: [String] = []
        var current = field + ":"
        for word in value.split(separator: " ", omittingEmptySubsequences: false) {
            if current.count + 1 + word.count > 78 && current != field + ":" {
                lines.append(current)
                current = ""
            }
            current += " " + word
        }
        lines.append(current)
        return lines.joined(separator: "\r\n")
    }
}

/// Quoted-printable (RFC 2045 §6.7) of UTF-8 text: CRLF line ends, lines at most 76 characters with soft
/// breaks, "=" and non-ASCII bytes as =XX, a space or tab at a line end encoded, and a line starting with
/// "." or "From " encoded too so that no relay or mailbox format touches it.
enum QuotedPrintable {
    static func encode(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF")
        let normalised = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var out: [String] = []
        for line in normalised.split(separator: "\n", omittingEmptySubsequences: false) {
            var tokens: [String] = []
            let bytes = Array(line.utf8)
            for (index, byte) in bytes.enumerated() {
                let isLast = index == bytes.count - 1
                let mustEncode = byte == UInt8(ascii: "=") || byte >= 0x7F || (byte < 0x20 && byte != 0x09)
                    || ((byte == 0x20 || byte == 0x09) && isLast)
                    || (index == 0 && byte == UInt8(ascii: "."))
                    || (index == 0 && byte == UInt8(ascii: "F") && bytes.starts(with: Array("From ".utf8)))
                if mustEncode {
                    tokens.append("=" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0xF)]))
                } else {
                    tokens.append(String(UnicodeScalar(byte)))
                }
            }
            // Soft breaks: at most 75 characters then "=".
            var current = ""
            for token in tokens {
                if current.count + token.count > MailLimits.quotedPrintableLineLength - 1 {
                    out.append(current + "=")
                    current = ""
                }
                current += token
            }
            out.append(current)
        }
        return out.joined(separator: "\r\n")
    }
}

/// One SMS: the number as given (digits, spaces, a leading +) and one line of text.
public struct SMSMessage: Sendable, Equatable {
    public let phone: String
    public let text: String

    public init(phone: String, text: String) throws(MailerError) {
        let digits = phone.filter { $0.isASCII && $0.isNumber }
        let allowed = phone.enumerated().allSatisfy { index, c in (c.isASCII && c.isNumber) || c == " " || (c == "+" && index == 0) }
        guard allowed, (6...15).contains(digits.count), phone.count <= 20 else { throw .invalidPhone(phone) }
        guard !text.isEmpty else { throw .invalidSMS("the text is empty") }
        guard !text.contains(where: { $0.isNewline }) else { throw .invalidSMS("the text must be one line") }
        guard text.count <= MailLimits.maximumSMSCharacters else {
            throw .invalidSMS("the text has \(text.count) characters, above \(MailLimits.maximumSMSCharacters)")
        }
        self.phone = phone
        self.text = text
    }

    var fileContent: String { phone + "\n" + text + "\n" }
}
