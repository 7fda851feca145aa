import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The outbox folders of an environment: DIR/outbox/mail/*.eml and DIR/outbox/sms/*.txt.
///
/// Names sort in the order the files were written (UTC time to the millisecond, then a per-process
/// sequence, then the process id and a random part so two processes never collide). Each file is written
/// whole under a hidden temporary name and then renamed: a reader never sees half a message. Files are
/// 0600 and the folders 0700: they hold personal data (addresses, phone numbers, links that log in).
public enum Outbox {
    public enum Kind: String, Sendable {
        case mail, sms
        var fileExtension: String { self == .mail ? "eml" : "txt" }
    }

    public static func directory(_ kind: Kind, environmentDirectory: URL) -> URL {
        environmentDirectory.appendingPathComponent("outbox").appendingPathComponent(kind.rawValue)
    }

    nonisolated(unsafe) private static var sequence: UInt64 = 0
    private static let sequenceLock = NSLock()

    static func nextSequence() -> UInt64 {
        sequenceLock.lock()
        defer { sequenceLock.unlock() }
        sequence += 1
        return sequence
    }

    /// "20261201T230501123Z-000001-4242-9f3a1c07".
    static func fileName(now: Date, kind: Kind) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmssSSS'Z'"
        let sequenceText = String(nextSequence())
        let padded = String(repeating: "0", count: max(0, 6 - sequenceText.count)) + sequenceText
        var random = SystemRandomNumberGenerator()
        let suffix = String(random.next() as UInt32, radix: 16)
        return "\(formatter.string(from: now))-\(padded)-\(getpid())-\(suffix).\(kind.fileExtension)"
    }

    /// Writes one file and returns its path.
    static func write(_ bytes: [UInt8], kind: Kind, environmentDirectory: URL, now: Date) throws(MailerError) -> String {
        let folder = directory(kind, environmentDirectory: environmentDirectory)
        try makePrivateDirectory(folder.deletingLastPathComponent())
        try makePrivateDirectory(folder)
        let name = fileName(now: now, kind: kind)
        let final = folder.appendingPathComponent(name).path
        let temporary = folder.appendingPathComponent(".tmp-" + name).path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .outboxWrite(path: temporary, reason: String(cString: strerror(errno))) }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                Glibc.write(descriptor, buffer.baseAddress! + written, bytes.count - written)
            }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                unlink(temporary)
                throw .outboxWrite(path: temporary, reason: reason)
            }
            written += result
        }
        // On disk before it is visible under its final name.
        guard fsync(descriptor) == 0, close(descriptor) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw .outboxWrite(path: temporary, reason: reason)
        }
        guard rename(temporary, final) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw .outboxWrite(path: final, reason: reason)
        }
        return final
    }

    static func makePrivateDirectory(_ url: URL) throws(MailerError) {
        if mkdir(url.path, 0o700) != 0 && errno != EEXIST {
            throw .outboxWrite(path: url.path, reason: String(cString: strerror(errno)))
        }
        // An existing folder (made by another tool) is tightened too.
        _ = chmod(url.path, 0o700)
    }

    /// The newest file of an outbox folder (by name, which is by time), or nil when there is none.
    public static func newest(_ kind: Kind, environmentDirectory: URL) -> URL? {
        let folder = directory(kind, environmentDirectory: environmentDirectory)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return nil }
        let candidates = names.prefix(MailLimits.maximumOutboxFilesScanned)
            .filter { !$0.hasPrefix(".") && $0.hasSuffix("." + kind.fileExtension) }
        return candidates.max().map { folder.appendingPathComponent($0) }
    }

    public static func newestMail(in environmentDirectory: URL) -> URL? { newest(.mail, environmentDirectory: environmentDirectory) }
    public static func newestSMS(in environmentDirectory: URL) -> URL? { newest(.sms, environmentDirectory: environmentDirectory) }
}
