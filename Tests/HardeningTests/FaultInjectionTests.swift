import Foundation
import GatewayClient
import Glibc
import HDFDomain
import Ledger
import NIOConcurrencyHelpers
import Provisioning
import Testing
import WireProtocol

/// The gateway as its own OS process, hurt from outside: killed under load, its disk filled, its ledger's
/// write lock taken by another process. Money must hold every time.
@Suite("fault injection against the gateway process (issue 8)", .serialized)
struct FaultInjectionTests {
    /// At least 20 kills, as issue 8 asks.
    static let kills = 20
    /// How long each round's load runs before the kill, at most (the kill lands at a random moment in it).
    static let loadWindowMillis = 150...400
    static let terminals = ["T001", "T002", "T003", "T006"]

    /// What one terminal sent and what it was told, across all rounds.
    struct TerminalLog {
        var card: SoftwareCard
        /// stan → txn of every purchase answered `00`.
        var approved: [String: String] = [:]
        /// The request sent when the connection died, unanswered: retransmitted after the restart.
        var inDoubt: (stan: String, text: String)?
        var sent = 0
    }

    @Test("SIGKILL under load, 20 times: no approved purchase lost, none applied twice, gateway check clean after each restart")
    func killUnderLoad() async throws {
        let (directory, manifest) = try makeEnvironment("kill")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cards = manifest.manuelsCards
        let logs = NIOLockedValueBox<[String: TerminalLog]>([:])
        var startBalances: [String: Int64] = [:]
        for (index, terminal) in Self.terminals.enumerated() {
            logs.withLockedValue { $0[terminal] = TerminalLog(card: cards[index].softwareCard) }
            startBalances[terminal] = cards[index].wallets.first { $0.code == "MANUELS" }!.balance
        }
        var killsSurvived = 0
        for round in 0..<Self.kills {
            let gateway = try GatewayProcess.start(directory: directory)
            // First, what was in doubt when the last one died: the same bytes again, answered for real.
            for terminal in Self.terminals {
                guard let doubt = logs.withLockedValue({ $0[terminal]?.inDoubt }) else { continue }
                let connection = try await gateway.connect(terminal, manifest: manifest)
                let answer = try await connection.send(try JSONValue.parse(Array(doubt.text.utf8)))
                await connection.close()
                #expect(answer.code == "00", "retransmission of \(terminal)/\(doubt.stan) after a kill: \(answer)")
                logs.withLockedValue { logs in
                    if answer.code == "00", let txn = answer.string("txn") { logs[terminal]!.approved[doubt.stan] = txn }
                    logs[terminal]!.inDoubt = nil
                }
            }
            if round > 0 {
                expectGatewayCheckClean(directory, "after restart \(round)")
            }
            // Load from every terminal, each purchase a new stan; the kill lands in the middle of it.
            await withTaskGroup(of: Void.self) { group in
                for terminal in Self.terminals {
                    group.addTask {
                        guard let connection = try? await gateway.connect(terminal, manifest: manifest) else { return }
                        while true {
                            let (stan, text) = logs.withLockedValue { logs -> (String, String) in
                                var log = logs[terminal]!
                                log.sent += 1
                                let stan = "K\(round)-\(log.sent)"
                                let text = purchaseText(stan: stan, amount: 1, card: log.card.cardObject(amountCents: 1))
                                log.inDoubt = (stan, text)
                                logs[terminal] = log
                                return (stan, text)
                            }
                            guard let answer = try? await connection.send(try! JSONValue.parse(Array(text.utf8)), timeout: .seconds(5)) else {
                                return // the gateway died: this one stays in doubt
                            }
                            logs.withLockedValue { logs in
                                if answer.code == "00", let txn = answer.string("txn") { logs[terminal]!.approved[stan] = txn }
                                if answer.code != "00" { Issue.record("\(terminal)/\(stan) answered \(answer)") }
                                logs[terminal]!.inDoubt = nil
                            }
                        }
                    }
                }
                group.addTask {
                    try? await Task.sleep(for: .milliseconds(Int.random(in: Self.loadWindowMillis)))
                    gateway.kill()
                }
            }
            killsSurvived += 1
            try? FileManager.default.removeItem(atPath: gateway.logPath)
        }
        // One last start: answer what was in doubt, then the ledger is compared with what terminals were told.
        let last = try GatewayProcess.start(directory: directory)
        for terminal in Self.terminals {
            guard let doubt = logs.withLockedValue({ $0[terminal]?.inDoubt }) else { continue }
            let connection = try await last.connect(terminal, manifest: manifest)
            let answer = try await connection.send(try JSONValue.parse(Array(doubt.text.utf8)))
            await connection.close()
            #expect(answer.code == "00", "\(answer)")
            logs.withLockedValue { logs in
                if let txn = answer.string("txn") { logs[terminal]!.approved[doubt.stan] = txn }
                logs[terminal]!.inDoubt = nil
            }
        }
        last.stop()
        expectGatewayCheckClean(directory, "at the end")

        let ledger = try Ledger.open(directory: directory, actor: "test")
        var approvedInAll = 0
        for (index, terminal) in Self.terminals.enumerated() {
            let log = logs.withLockedValue { $0[terminal]! }
            approvedInAll += log.approved.count
            try ledger.read { tx in
                // Every approval a terminal was told of is in the ledger, approved, under its stan.
                for (stan, txn) in log.approved {
                    let payment = try tx.payment(txn: txn)
                    #expect(payment.status == .approved && payment.stan == stan && payment.terminalID == terminal)
                }
                // None applied twice: one payment per stan, and the wallet moved by exactly the approvals.
                let payments = try tx.ledger.connection.scalarInt("SELECT COUNT(*) FROM payments WHERE terminal_id = ?", terminal) ?? -1
                let distinct = try tx.ledger.connection.scalarInt("SELECT COUNT(DISTINCT stan) FROM payments WHERE terminal_id = ?", terminal) ?? -1
                #expect(payments == distinct, "\(terminal): \(payments) payments for \(distinct) stans")
                #expect(payments == Int64(log.approved.count), "\(terminal): the ledger holds \(payments), terminals were told \(log.approved.count)")
                let card = try tx.card(pan: cards[index].panValue)
                let available = try tx.wallets(cardID: card.id).first { $0.code == .manuels }!.availableCents
                #expect(available == startBalances[terminal]! - Int64(log.approved.count))
            }
        }
        #expect(killsSurvived == Self.kills)
        #expect(approvedInAll > Self.kills, "the load was real: \(approvedInAll) approvals")
        print("fault injection: \(killsSurvived) SIGKILLs survived, \(approvedInAll) approved purchases all accounted for")
    }

    @Test("the ledger's write lock held by another process: 96 within the documented bound, nothing changed, then recovery")
    func lockHeldByAnotherProcess() async throws {
        let (directory, manifest) = try makeEnvironment("lock")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let gateway = try GatewayProcess.start(directory: directory)
        defer { gateway.stop() }
        var card = manifest.manuelsCards[0].softwareCard
        let connection = try await gateway.connect("T001", manifest: manifest)
        defer { Task { await connection.close() } }
        let first = try await connection.send(try JSONValue.parse(Array(purchaseText(stan: "L1", amount: 100, card: card.cardObject(amountCents: 100)).utf8)))
        #expect(first.code == "00")
        let before = try availableManuels(directory, manifest.manuelsCards[0].pan)

        // Another process (Python's sqlite3) takes the write lock and keeps it longer than the bound.
        let holdSeconds = SQLiteConnection.busyTimeout.components.seconds + 3
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = ["python3", "-c", """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute('BEGIN IMMEDIATE')
            print('locked', flush=True)
            time.sleep(float(sys.argv[2]))
            c.execute('ROLLBACK')
            """, EnvironmentLayout(directory: directory).ledgerPath, "\(holdSeconds)"]
        let pipe = Pipe()
        holder.standardOutput = pipe
        try holder.run()
        let line = pipe.fileHandleForReading.availableData
        #expect(String(decoding: line, as: UTF8.self).hasPrefix("locked"))

        let text = purchaseText(stan: "L2", amount: 250, card: card.cardObject(amountCents: 250))
        let started = ContinuousClock.now
        let refused = try await connection.send(try JSONValue.parse(Array(text.utf8)), timeout: .seconds(30))
        let waited = ContinuousClock.now - started
        #expect(refused.code == "96", "\(refused)")
        #expect(waited >= SQLiteConnection.busyTimeout - .milliseconds(100), "answered after \(waited)")
        #expect(waited <= SQLiteConnection.busyTimeout + .seconds(2), "one bound (\(SQLiteConnection.busyTimeout)), answered after \(waited)")
        print("fault injection: write lock held by another process, answered 96 after \(waited)")

        holder.waitUntilExit()
        #expect(try availableManuels(directory, manifest.manuelsCards[0].pan) == before, "nothing changed")
        // Recovery: the same request again gets a real answer (the 96 was not stored for its stan).
        let again = try await connection.send(try JSONValue.parse(Array(text.utf8)))
        #expect(again.code == "00", "\(again)")
        #expect(try availableManuels(directory, manifest.manuelsCards[0].pan) == before - 250)
        expectGatewayCheckClean(directory, "after the lock was released")
    }

    @Test("disk full (a small tmpfs this test mounts): 96, nothing lost, normal service when space returns")
    func diskFull() async throws {
        guard mayRunRootFaults("the disk-full test") else { return }
        let mountPoint = NSTemporaryDirectory() + "hdf-hardening-tmpfs-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mounted = try Executables.runSystem("/bin/mount", ["-t", "tmpfs", "-o", "size=32m,mode=0700", "tmpfs", mountPoint])
        try #require(mounted.status == 0, "mount: \(mounted.output)")
        defer {
            _ = try? Executables.runSystem("/bin/umount", ["-l", mountPoint])
            try? FileManager.default.removeItem(atPath: mountPoint)
        }
        let (directory, manifest) = try makeEnvironment("disk", under: mountPoint)
        let pan = manifest.manuelsCards[1].pan
        var card = manifest.manuelsCards[1].softwareCard
        let gateway = try GatewayProcess.start(directory: directory)
        defer { gateway.stop() }
        let connection = try await gateway.connect("T001", manifest: manifest)
        defer { Task { await connection.close() } }
        func ask(_ text: String) async throws -> JSONValue { try await connection.send(try JSONValue.parse(Array(text.utf8))) }

        let kept = try await ask(purchaseText(stan: "D1", amount: 100, card: card.cardObject(amountCents: 100)))
        #expect(kept.code == "00")
        let keptTxn = try #require(kept.string("txn"))
        let before = try availableManuels(directory, pan)

        // Empty the WAL (so no space is left in it to reuse), then fill the file system to the last page.
        let ledgerPath = EnvironmentLayout(directory: directory).ledgerPath
        try SQLiteConnection(path: ledgerPath).execute("PRAGMA wal_checkpoint(TRUNCATE)")
        let fillerPath = mountPoint + "/filler"
        FileManager.default.createFile(atPath: fillerPath, contents: nil)
        let filler = FileHandle(forWritingAtPath: fillerPath)!
        let chunk = Data(repeating: 0, count: 64 * 1024)
        let pageChunk = Data(repeating: 0, count: 4096)
        while (try? filler.write(contentsOf: chunk)) != nil {}
        while (try? filler.write(contentsOf: pageChunk)) != nil {}
        try? filler.close()

        var refusedTexts: [String] = []
        for index in 0..<3 {
            let text = purchaseText(stan: "DF\(index)", amount: 200, card: card.cardObject(amountCents: 200))
            let answer = try await ask(text)
            #expect(answer.code == "96", "disk full: \(answer)")
            refusedTexts.append(text)
        }
        #expect(try availableManuels(directory, pan) == before, "nothing taken while the disk is full")

        // Space returns: the same requests again get real answers, and service is normal.
        try FileManager.default.removeItem(atPath: fillerPath)
        for text in refusedTexts {
            let answer = try await ask(text)
            #expect(answer.code == "00", "after space returned: \(answer)")
        }
        let after = try await ask(purchaseText(stan: "D9", amount: 50, card: card.cardObject(amountCents: 50)))
        #expect(after.code == "00")
        #expect(try availableManuels(directory, pan) == before - 3 * 200 - 50)
        do {
            let ledger = try Ledger.open(directory: directory, actor: "test")
            #expect(try ledger.read { try $0.payment(txn: keptTxn) }.status == .approved, "nothing lost")
        }
        expectGatewayCheckClean(directory, "after the disk was full")
    }
}

func availableManuels(_ directory: String, _ pan: String) throws -> Int64 {
    let ledger = try Ledger.open(directory: directory, actor: "test")
    return try ledger.read { tx in
        let card = try tx.card(pan: try PAN(validating: pan))
        return try tx.wallets(cardID: card.id).first { $0.code == .manuels }?.availableCents ?? 0
    }
}

extension Executables {
    /// Runs a system program (mount, umount) to its end.
    static func runSystem(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
