import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a terminal keeps on disk between runs, in its state directory:
///
/// - `NAME.stan`: the stan counter, `{"prefix": "K3F9", "next": 42}`. Every stan is reserved (the file
///   durably updated) before the request that carries it is built, so no stan is used twice, even across a
///   crash or a restart. A stan is `PREFIX-NNNNNNN` (12 characters of `[0-9A-Za-z-]`); the prefix is drawn at
///   random when the file is created and again every ten million stans, so a terminal whose state was lost
///   starts in another stan space instead of repeating stans the gateway still remembers.
/// - `NAME.pending`: the stans of purchases and redemptions whose reversal the gateway has not yet
///   acknowledged, one per line; sent again before the next operation until it answers.
/// - `NAME.lock`: taken (`flock`) around every read-modify-write, so two `pos` processes of one terminal
///   never draw the same stan.
public final class TerminalState: @unchecked Sendable {
    public let directory: String
    public let name: String

    static let counterDigits = 7
    static let counterLimit = 10_000_000
    static let prefixLength = 4
    static let prefixAlphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")

    struct Counter: Codable {
        var prefix: String
        var next: Int
    }

    public init(directory: String, name: String) {
        self.directory = directory
        self.name = name
    }

    var counterPath: String { directory + "/" + name + ".stan" }
    var pendingPath: String { directory + "/" + name + ".pending" }
    var lockPath: String { directory + "/" + name + ".lock" }

    /// Reserves the next stan: it is on disk as used before this returns.
    public func nextStan() throws(PosError) -> String {
        try locked { () throws(PosError) -> String in
            var counter: Counter
            if let data = FileManager.default.contents(atPath: counterPath) {
                do { counter = try JSONDecoder().decode(Counter.self, from: data) } catch {
                    throw .state("\(counterPath) is unreadable (\(error)); move it away to start a new stan series")
                }
                guard counter.prefix.count == TerminalState.prefixLength,
                      counter.prefix.allSatisfy({ TerminalState.prefixAlphabet.contains($0) }), counter.next >= 1 else {
                    throw .state("\(counterPath) holds an invalid counter; move it away to start a new stan series")
                }
            } else {
                counter = Counter(prefix: TerminalState.randomPrefix(), next: 1)
            }
            if counter.next >= TerminalState.counterLimit {
                counter = Counter(prefix: TerminalState.randomPrefix(excluding: counter.prefix), next: 1)
            }
            let stan = TerminalState.stan(prefix: counter.prefix, number: counter.next)
            counter.next += 1
            let data: Data
            do { data = try JSONEncoder().encode(counter) } catch { throw .state("\(error)") }
            try durablyReplace(counterPath, with: data + Data("\n".utf8))
            return stan
        }
    }

    static func stan(prefix: String, number: Int) -> String {
        let digits = String(number)
        return prefix + "-" + String(repeating: "0", count: max(0, counterDigits - digits.count)) + digits
    }

    static func randomPrefix(excluding old: String? = nil) -> String {
        while true {
            let prefix = String((0..<prefixLength).map { _ in prefixAlphabet.randomElement()! })
            if prefix != old { return prefix }
        }
    }

    // MARK: pending reversals

    public func pendingReversals() throws(PosError) -> [String] {
        try locked { () throws(PosError) -> [String] in readPending() }
    }

    public func addPendingReversal(_ stan: String) throws(PosError) {
        try locked { () throws(PosError) in
            var stans = readPending()
            guard !stans.contains(stan) else { return }
            stans.append(stan)
            try writePending(stans)
        }
    }

    public func removePendingReversal(_ stan: String) throws(PosError) {
        try locked { () throws(PosError) in
            let stans = readPending()
            guard stans.contains(stan) else { return }
            try writePending(stans.filter { $0 != stan })
        }
    }

    private func readPending() -> [String] {
        guard let data = FileManager.default.contents(atPath: pendingPath) else { return [] }
        return String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
    }

    private func writePending(_ stans: [String]) throws(PosError) {
        if stans.isEmpty {
            if unlink(pendingPath) != 0 && errno != ENOENT {
                throw .state("cannot remove \(pendingPath): \(String(cString: strerror(errno)))")
            }
            return
        }
        try durablyReplace(pendingPath, with: Data((stans.joined(separator: "\n") + "\n").utf8))
    }

    // MARK: files

    private func locked<T>(_ body: () throws(PosError) -> T) throws(PosError) -> T {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .state("cannot create \(directory): \(error.localizedDescription)")
        }
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .state("cannot open \(lockPath): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw .state("cannot lock \(lockPath): \(String(cString: strerror(errno)))") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// Written beside, `fsync`ed, renamed over, directory `fsync`ed: the file is the old one or the new one.
    private func durablyReplace(_ path: String, with data: Data) throws(PosError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .state("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let bytes = [UInt8](data)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let syncOK = written == bytes.count && fsync(fd) == 0
        let code = errno
        close(fd)
        guard syncOK else { throw .state("cannot write \(temporary): \(String(cString: strerror(code)))") }
        guard rename(temporary, path) == 0 else {
            throw .state("cannot replace \(path): \(String(cString: strerror(errno)))")
        }
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }
}
