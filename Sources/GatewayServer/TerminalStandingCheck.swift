import Foundation
import Glibc
import Ledger
import NIOConcurrencyHelpers
import NIOCore

/// The ledger's word on a terminal for answers the event loops give without the authorisation thread
/// (a malformed frame's rejection): revocation is checked before any answer. Its own read connection,
/// under a lock; the ledger's cache keeps a look-up to a few microseconds while nothing changed.
final class TerminalStandingCheck: @unchecked Sendable {
    private let lock = NIOLock()
    private let ledger: Ledger

    init(ledgerPath: String) throws {
        ledger = try Ledger(path: ledgerPath, actor: "gateway")
    }

    func standing(of terminal: TerminalContext) -> TerminalStanding {
        lock.withLock {
            do {
                let record = try ledger.read { tx -> TerminalRecord? in
                    do { return try tx.terminal(id: terminal.terminalID) } catch LedgerError.unknownTerminal(_) { return nil }
                }
                guard let record, record.status == .active, record.partnerID == terminal.partnerID else { return .revoked }
                return .active
            } catch {
                return .unknownBecauseStorageFailed
            }
        }
    }
}

/// Gives freed memory back to the system after a burst. glibc's allocator keeps freed pages of its arenas
/// (RSS stayed at 7.3 GB after a flood had gone); `malloc_trim(0)` returns them. Runs every
/// `interval` on one event loop, and trims only when the resident size is over `thresholdBytes`.
enum MemoryTrimmer {
    /// How often the resident size is looked at.
    static let interval: TimeAmount = .seconds(5)
    /// Below this resident size (bytes) nothing is trimmed: a normal gateway stays under it.
    static let thresholdBytes = 96 * 1024 * 1024

    static func start(on eventLoop: EventLoop) -> RepeatedTask {
        eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            if let resident = residentBytes(), resident > thresholdBytes { _ = mallocTrim?(0) }
        }
    }

    /// glibc's `malloc_trim`, looked up at run time: Swift's Glibc module does not import `<malloc.h>`.
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()

    /// The process's resident set size in bytes, from /proc/self/statm (nil where there is none).
    static func residentBytes() -> Int? {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count >= 2, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
