import Foundation
import Glibc
import HDFDomain

/// Fairness between the gateway and the other processes that write the ledger (issue 11).
///
/// The gateway's writer commits batch after batch; SQLite's write lock is free only for the instant between
/// a COMMIT and the next BEGIN, so another process (the web space's prepayment, an operator's verb) polling
/// for it could wait for hundreds of milliseconds. A turnstile file beside the ledger (`ledger.sqlite-writers`)
/// says that someone is waiting: every other writer holds an exclusive `flock` on it from before its BEGIN to
/// after its COMMIT; the gateway's writer, between two batches, gives way while that lock is held (at most
/// `maximumGiveWay`, and not again for `giveWayPause` after a wait that ran out, so that a stopped process
/// can slow the gateway but never stop it). `flock` locks are the kernel's: a process that dies releases its
/// own; they are apart from SQLite's POSIX locks (another file, another kind of lock).
final class WriterTurnstile {
    /// How long the gateway's writer waits at most, between two batches, for the others to pass.
    static let maximumGiveWay: Duration = .milliseconds(100)
    /// After a wait that ran out: how long the gateway does not wait again.
    static let giveWayPause: Duration = .seconds(1)
    static let pollMicroseconds: ClosedRange<UInt32> = 200...600
    /// How long another writer waits at most for the writer announced before it (a stopped process), before
    /// going on to SQLite's lock and its own bound (`SQLiteConnection.busyTimeout`).
    static let maximumEnterWait: Duration = .seconds(1)

    private let descriptor: Int32
    private var holding = false
    private var noWaitUntilNanos: UInt64 = 0

    init?(ledgerPath: String) {
        let descriptor = Glibc.open(ledgerPath + "-writers", O_CREAT | O_RDWR | O_CLOEXEC, Ledger.fileMode)
        guard descriptor >= 0 else { return nil }
        self.descriptor = descriptor
    }

    deinit { Glibc.close(descriptor) }

    /// A writer other than the gateway's: announce the write, waiting for another such writer at most `limit`
    /// (past it, the write goes on without the turnstile: SQLite's own lock still orders it).
    func enter(limit: Duration) {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, limit.nanoseconds))
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard DispatchTime.now().uptimeNanoseconds < deadline else { return }
            usleep(UInt32.random(in: Self.pollMicroseconds))
        }
        holding = true
    }

    func leave() {
        guard holding else { return }
        flock(descriptor, LOCK_UN)
        holding = false
    }

    /// The gateway's writer, before a batch: returns once nobody announces a write (or after `maximumGiveWay`).
    /// Returns how long it waited, in nanoseconds.
    @discardableResult
    func giveWay() -> UInt64 {
        let started = DispatchTime.now().uptimeNanoseconds
        guard started >= noWaitUntilNanos else { return 0 }
        let deadline = started + UInt64(Self.maximumGiveWay.nanoseconds)
        while flock(descriptor, LOCK_SH | LOCK_NB) != 0 {
            let now = DispatchTime.now().uptimeNanoseconds
            if now >= deadline {
                noWaitUntilNanos = now + UInt64(Self.giveWayPause.nanoseconds)
                return now - started
            }
            usleep(UInt32.random(in: Self.pollMicroseconds))
        }
        flock(descriptor, LOCK_UN)
        return DispatchTime.now().uptimeNanoseconds - started
    }
}
