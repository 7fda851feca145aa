import Foundation
import HDFDomain
@testable import Ledger
import Testing

/// Issue 11: the gateway's writer gives way, between two batches, to another process announcing a write,
/// for a bounded time only.
@Suite("WriterTurnstile: other writers pass between the gateway's batches")
struct WriterTurnstileTests {
    @Test("the gateway's writer waits while another writer is announced, until it leaves; a wait that runs out is not repeated at once")
    func givesWay() throws {
        let temp = try TempLedger()
        let gateway = try #require(WriterTurnstile(ledgerPath: temp.path))
        let other = try #require(WriterTurnstile(ledgerPath: temp.path))
        #expect(gateway.giveWay() < 50_000_000, "nobody announced: no wait")

        other.enter(limit: .seconds(1))
        nonisolated(unsafe) let leaving = other // handed to the thread, not used here meanwhile
        let leaver = Thread { usleep(40_000); leaving.leave() }
        leaver.start()
        let waited = gateway.giveWay()
        #expect(waited >= 30_000_000 && waited < 95_000_000, "waited \(waited) ns for a writer that left after 40 ms")

        // A writer that never leaves (a stopped process): the wait ends at the bound, then pauses.
        other.enter(limit: .seconds(1))
        #expect(gateway.giveWay() >= UInt64(WriterTurnstile.maximumGiveWay.nanoseconds))
        #expect(gateway.giveWay() == 0, "no second wait within the pause")
        other.leave()
    }

    @Test("a write on another handle announces itself for its whole transaction, and only then")
    func writesAnnounce() throws {
        let temp = try TempLedger()
        let probe = try #require(WriterTurnstile(ledgerPath: temp.path))
        #expect(probe.giveWay() < 50_000_000)
        let seenDuringWrite: Bool = try temp.ledger.write { _ in
            // Announced: the gateway's writer would wait now.
            let started = DispatchTime.now().uptimeNanoseconds
            let fresh = try #require(WriterTurnstile(ledgerPath: temp.path))
            fresh.enter(limit: .milliseconds(30))
            defer { fresh.leave() }
            return DispatchTime.now().uptimeNanoseconds - started >= 25_000_000
        }
        #expect(seenDuringWrite, "another writer could enter while a write transaction was open")
        #expect(probe.giveWay() < 50_000_000, "the announcement ends with the transaction")
    }
}
