import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small SMTP client (RFC 5321) for a relay the operator runs next to the web space (`--smtp HOST:PORT`):
/// greeting, EHLO (HELO when EHLO is refused), MAIL FROM, RCPT TO, DATA with dot-stuffing, QUIT. Plain TCP
/// on POSIX sockets: the relay is local; TLS to the outside world is the relay's business. Each step
/// waits at most a named time-out; any answer other than the expected one ends the session with an error
/// that says which step and what the relay said. The blocking socket work runs off the caller's executor.
public struct SMTPClient: Sendable {
    public let relay: SMTPRelay
    public let localHostName: String
    public let connectTimeoutSeconds: Double
    public let replyTimeoutSeconds: Double

    public init(relay: SMTPRelay, localHostName: String,
                connectTimeoutSeconds: Double = MailLimits.connectTimeoutSeconds,
                replyTimeoutSeconds: Double = MailLimits.replyTimeoutSeconds) {
        self.relay = relay
        self.localHostName = localHostName
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.replyTimeoutSeconds = replyTimeoutSeconds
    }

    /// Sends one rendered RFC 5322 message (CRLF lines) to every recipient.
    public func send(from: String, to recipients: [String], data: String) async throws {
        try MailMessage.checkAddress(from)
        for recipient in recipients { try MailMessage.checkAddress(recipient) }
        guard data.utf8.count <= MailLimits.maximumMessageBytes else { throw MailerError.messageTooLarge(bytes: data.utf8.count) }
        let client = self
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            Thread.detachNewThread {
                do {
                    try client.sendBlocking(from: from, to: recipients, data: data)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// The dialogue, on the calling thread.
    func sendBlocking(from: String, to recipients: [String], data: String) throws(MailerError) {
        let connection = try SMTPConnection.open(relay: relay, timeoutSeconds: connectTimeoutSeconds, replyTimeoutSeconds: replyTimeoutSeconds)
        defer { connection.close() }
        try connection.expect([220], stage: "greeting")
        let ehlo = try connection.command("EHLO \(localHostName)", stage: "EHLO")
        if !(200..<300).contains(ehlo.code) {
            try connection.command("HELO \(localHostName)", expecting: [250], stage: "HELO")
        }
        try connection.command("MAIL FROM:<\(from)>", expecting: [250], stage: "MAIL FROM")
        for recipient in recipients {
            try connection.command("RCPT TO:<\(recipient)>", expecting: [250, 251], stage: "RCPT TO <\(recipient)>")
        }
        try connection.command("DATA", expecting: [354], stage: "DATA")
        try connection.write(SMTPClient.dotStuffed(data) + ".\r\n", stage: "message")
        try connection.expect([250], stage: "end of message")
        // The message is accepted; a relay that hangs up without answering QUIT changes nothing.
        _ = try? connection.command("QUIT", stage: "QUIT")
    }

    /// RFC 5321 §4.5.2: a line that starts with "." gets one more; the text ends with CRLF.
    public static func dotStuffed(_ data: String) -> String {
        var text = data.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        if text.hasSuffix("\n") { text.removeLast() }
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") ? "." + $0 : String($0) }
            .joined(separator: "\r\n") + "\r\n"
    }
}

/// "10 s", "0.3 s": a time-out as an error message states it.
func seconds(_ value: Double) -> String {
    value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
}

struct SMTPReply: Equatable {
    let code: Int
    let lines: [String]
    var text: String { lines.joined(separator: " / ") }
}

/// One TCP connection to the relay, non-blocking with `poll` for every time-out.
final class SMTPConnection {
    let descriptor: Int32
    let relay: String
    let replyTimeoutSeconds: Double
    private var buffer: [UInt8] = []

    private init(descriptor: Int32, relay: String, replyTimeoutSeconds: Double) {
        self.descriptor = descriptor
        self.relay = relay
        self.replyTimeoutSeconds = replyTimeoutSeconds
    }

    static func open(relay: SMTPRelay, timeoutSeconds: Double, replyTimeoutSeconds: Double) throws(MailerError) -> SMTPConnection {
        let name = relay.description
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(relay.host, String(relay.port), &hints, &list)
        guard status == 0, let first = list else {
            throw .connectFailed(relay: name, reason: "cannot resolve \(relay.host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastReason = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            entry = address.pointee.ai_next
            let descriptor = socket(address.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard descriptor >= 0 else { lastReason = String(cString: strerror(errno)); continue }
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            if connect(descriptor, address.pointee.ai_addr, address.pointee.ai_addrlen) != 0 {
                guard errno == EINPROGRESS else {
                    lastReason = String(cString: strerror(errno))
                    Glibc.close(descriptor)
                    continue
                }
                guard wait(descriptor, events: Int16(POLLOUT), seconds: timeoutSeconds) else {
                    Glibc.close(descriptor)
                    throw .timedOut(relay: name, stage: "connect, \(seconds(timeoutSeconds))")
                }
                var socketError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &socketError, &length)
                guard socketError == 0 else {
                    lastReason = String(cString: strerror(socketError))
                    Glibc.close(descriptor)
                    continue
                }
            }
            return SMTPConnection(descriptor: descriptor, relay: name, replyTimeoutSeconds: replyTimeoutSeconds)
        }
        throw .connectFailed(relay: name, reason: lastReason)
    }

    /// True when `events` happened before the time-out.
    static func wait(_ descriptor: Int32, events: Int16, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return false }
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let result = poll(&entry, 1, Int32(min(remaining * 1000, Double(Int32.max)).rounded(.up)))
            if result > 0 { return true }
            if result < 0 && errno != EINTR { return true }   // the next read or write reports the error
        }
    }

    func close() { Glibc.close(descriptor) }

    func write(_ text: String, stage: String) throws(MailerError) {
        let bytes = Array(text.utf8)
        var sent = 0
        let deadline = Date().addingTimeInterval(MailLimits.sendTimeoutSeconds)
        while sent < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                Glibc.send(descriptor, buffer.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
            }
            if result > 0 { sent += result; continue }
            if result < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                guard SMTPConnection.wait(descriptor, events: Int16(POLLOUT), seconds: deadline.timeIntervalSinceNow) else {
                    throw .timedOut(relay: relay, stage: stage)
                }
                continue
            }
            throw .connectionClosed(relay: relay, stage: stage)
        }
    }

    /// One reply line without its CRLF.
    func readLine(stage: String, deadline: Date) throws(MailerError) -> String {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                var line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                if line.last == 0x0D { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard buffer.count <= MailLimits.maximumReplyLineBytes else {
                throw .protocolError(relay: relay, stage: stage, detail: "a reply line longer than \(MailLimits.maximumReplyLineBytes) bytes")
            }
            guard SMTPConnection.wait(descriptor, events: Int16(POLLIN), seconds: deadline.timeIntervalSinceNow) else {
                throw .timedOut(relay: relay, stage: "\(stage), \(seconds(replyTimeoutSeconds))")
            }
            var chunk = [UInt8](repeating: 0, count: 1024)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress!, 1024, 0) }
            if count > 0 {
                buffer += chunk[..<count]
            } else if count == 0 || !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                throw .connectionClosed(relay: relay, stage: stage)
            }
        }
    }

    /// A whole reply: "250-first", "250-more", "250 last".
    func readReply(stage: String) throws(MailerError) -> SMTPReply {
        let deadline = Date().addingTimeInterval(replyTimeoutSeconds)
        var lines: [String] = []
        var code: Int?
        while lines.count < MailLimits.maximumReplyLines {
            let line = try readLine(stage: stage, deadline: deadline)
            let bytes = Array(line.utf8)
            guard bytes.count >= 3, let lineCode = Int(String(decoding: bytes[0..<3], as: UTF8.self)), (200...599).contains(lineCode),
                  bytes.count == 3 || bytes[3] == UInt8(ascii: " ") || bytes[3] == UInt8(ascii: "-") else {
                throw .protocolError(relay: relay, stage: stage, detail: "not a reply line: \(line.prefix(80))")
            }
            if let code, code != lineCode {
                throw .protocolError(relay: relay, stage: stage, detail: "reply codes \(code) and \(lineCode) mixed")
            }
            code = lineCode
            lines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
            if bytes.count == 3 || bytes[3] == UInt8(ascii: " ") { return SMTPReply(code: lineCode, lines: lines) }
        }
        throw .protocolError(relay: relay, stage: stage, detail: "more than \(MailLimits.maximumReplyLines) reply lines")
    }

    @discardableResult
    func expect(_ codes: [Int], stage: String) throws(MailerError) -> SMTPReply {
        let reply = try readReply(stage: stage)
        guard codes.contains(reply.code) else { throw .rejected(relay: relay, stage: stage, code: reply.code, text: reply.text) }
        return reply
    }

    @discardableResult
    func command(_ line: String, stage: String) throws(MailerError) -> SMTPReply {
        try write(line + "\r\n", stage: stage)
        return try readReply(stage: stage)
    }

    @discardableResult
    func command(_ line: String, expecting codes: [Int], stage: String) throws(MailerError) -> SMTPReply {
        try write(line + "\r\n", stage: stage)
        return try expect(codes, stage: stage)
    }
}
