import Foundation
import HDFDomain
@testable import Ledger
import Testing

/// Checkpoints off the writer (issue 11): the writer's commits never checkpoint; the checkpointer's PASSIVE
/// runs copy the WAL into the database, and past its limit the WAL is truncated, unless a reader holds on
/// (then it is tried again, and the writer is never held longer than the time-out).
@Suite("Checkpointer")
struct CheckpointerTests {
    static func walBytes(_ path: String) -> Int64 { Checkpointer.fileSize(path + "-wal") }

    /// Writes `count` small transactions (card issues) on the writer.
    static func write(_ ledger: Ledger, count: Int, from first: Int) throws {
        for index in first..<(first + count) { _ = try ledger.write { try $0.issueTestCard(index) } }
    }

    @Test("the writer does not checkpoint; a checkpointer run copies the WAL and truncates it past its limit")
    func writerDoesNotCheckpoint() throws {
        let temp = try TempLedger()
        try temp.ledger.disableAutomaticCheckpoints()
        #expect(try temp.ledger.connection.scalarInt("PRAGMA wal_autocheckpoint") == 0)
        try Self.write(temp.ledger, count: 400, from: 0)
        let grown = Self.walBytes(temp.path)
        #expect(grown > 1_000 * 4_096, "past SQLite's automatic threshold (1,000 pages), nothing checkpointed it: \(grown)")

        let limit: Int64 = 256 * 1024
        let checkpointer = Checkpointer(ledgerPath: temp.path, maximumWALBytes: limit)
        let connection = try Ledger.openConnection(path: temp.path, automaticCheckpoints: false)
        defer { connection.close() }
        checkpointer.checkpointOnce(connection)
        let statistics = checkpointer.currentStatistics
        #expect(statistics.passiveRuns == 1 && statistics.truncateRuns == 1 && statistics.failures == 0)
        #expect(statistics.framesCheckpointed > 1_000 && statistics.largestWALBytes == grown)
        #expect(Self.walBytes(temp.path) == 0, "truncated")
        // Everything is in the database file, whole.
        let reopened = try Ledger(path: temp.path, actor: "check")
        #expect(try reopened.read { try $0.ledger.connection.scalarInt("SELECT COUNT(*) FROM cards") } == 400)
        #expect(try reopened.read { try $0.checkInvariants() }.isEmpty)
    }

    @Test("a reader holding a snapshot: the truncation waits at most its time-out, the writer goes on, the next run succeeds")
    func readerHoldsOn() throws {
        let temp = try TempLedger()
        try temp.ledger.disableAutomaticCheckpoints()
        try Self.write(temp.ledger, count: 100, from: 0)
        let reader = try Ledger.openConnection(path: temp.path)
        defer { reader.close() }
        try reader.execute("BEGIN DEFERRED")
        _ = try reader.scalarInt("SELECT COUNT(*) FROM cards")   // the snapshot is taken here
        try Self.write(temp.ledger, count: 50, from: 100)

        let checkpointer = Checkpointer(ledgerPath: temp.path, maximumWALBytes: 1)
        let connection = try Ledger.openConnection(path: temp.path, busyTimeout: Checkpointer.truncateBusyTimeout,
                                                   automaticCheckpoints: false)
        defer { connection.close() }
        let started = ContinuousClock.now
        checkpointer.checkpointOnce(connection)
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(checkpointer.currentStatistics.failures == 1, "the reader's snapshot kept the WAL")
        #expect(Self.walBytes(temp.path) > 0)
        try Self.write(temp.ledger, count: 10, from: 150)   // the writer is not held
        try reader.execute("COMMIT")
        checkpointer.checkpointOnce(connection)
        #expect(checkpointer.currentStatistics.failures == 1 && checkpointer.currentStatistics.truncateRuns == 2)
        #expect(Self.walBytes(temp.path) == 0)
    }

    @Test("the thread: started, checkpoints on its own, stops")
    func thread() throws {
        let temp = try TempLedger()
        try temp.ledger.disableAutomaticCheckpoints()
        let checkpointer = Checkpointer(ledgerPath: temp.path, interval: .milliseconds(20))
        try checkpointer.start()
        try Self.write(temp.ledger, count: 50, from: 0)
        let deadline = ContinuousClock.now + .seconds(10)
        while checkpointer.currentStatistics.framesCheckpointed == 0 && ContinuousClock.now < deadline { usleep(10_000) }
        checkpointer.stop()
        #expect(checkpointer.currentStatistics.framesCheckpointed > 0)
        #expect(checkpointer.currentStatistics.passiveRuns >= 1)
    }
}
