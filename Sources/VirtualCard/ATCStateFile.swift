import Foundation
import HDFDomain
#if canImport(Glibc)
import Glibc
#endif

/// Where a virtual card keeps its application transaction counter between runs, so that a restarted card
/// never produces an ATC it already used (the gateway refuses any ATC not above the last one it accepted).
///
/// The file is `{"pan": "<16 digits>", "atc": N}`. It is replaced atomically (written beside, `fsync`ed,
/// renamed, directory `fsync`ed) after every GENERATE CRYPTOGRAM and before the card's answer leaves it.
/// A lock on `FILE.lock` (held for the process's life) keeps two processes from being the same card.
public final class ATCStateFile: @unchecked Sendable {
    public let path: String
    private var lockDescriptor: Int32 = -1

    public enum Failure: Error, CustomStringConvertible {
        case inUse(path: String)
        case otherCard(path: String, pan: String)
        case unreadable(path: String, why: String)
        case io(path: String, operation: String, errno: Int32)

        public var description: String {
            switch self {
            case .inUse(let path):
                return "another virtual-card process is already this card (state file \(path) is locked)"
            case .otherCard(let path, let pan):
                return "state file \(path) belongs to card \(PAN.mask(pan)), not this one"
            case .unreadable(let path, let why): return "state file \(path) is unreadable: \(why)"
            case .io(let path, let operation, let code):
                return "state file \(path): \(operation) failed: \(String(cString: strerror(code)))"
            }
        }
    }

    struct Contents: Codable {
        let pan: String
        let atc: Int
    }

    /// Creates the directory if needed and takes the lock; `Failure.inUse` when another process holds it.
    public init(path: String) throws(Failure) {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let fd = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: path + ".lock", operation: "open", errno: errno) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK { throw .inUse(path: path) }
            throw .io(path: path + ".lock", operation: "flock", errno: code)
        }
        lockDescriptor = fd
    }

    deinit {
        if lockDescriptor >= 0 { close(lockDescriptor) }
    }

    /// The saved ATC of `pan`, or nil when there is no state file yet.
    public func load(pan: PAN) throws(Failure) -> UInt16? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let contents: Contents
        do { contents = try JSONDecoder().decode(Contents.self, from: data) } catch {
            throw .unreadable(path: path, why: "\(error)")
        }
        guard contents.pan == pan.digits else { throw .otherCard(path: path, pan: contents.pan) }
        guard let atc = UInt16(exactly: contents.atc) else {
            throw .unreadable(path: path, why: "atc \(contents.atc) is not 0 to 65535")
        }
        return atc
    }

    /// Durably replaces the file with this ATC.
    public func save(pan: PAN, atc: UInt16) throws(Failure) {
        let text = "{\"pan\": \"\(pan.digits)\", \"atc\": \(atc)}\n"
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(path: temporary, operation: "open", errno: errno) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            let code = errno
            close(fd)
            throw .io(path: temporary, operation: "write", errno: code)
        }
        guard fsync(fd) == 0 else {
            let code = errno
            close(fd)
            throw .io(path: temporary, operation: "fsync", errno: code)
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw .io(path: path, operation: "rename", errno: errno) }
        let directory = (path as NSString).deletingLastPathComponent
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }
}
