import Foundation
import HDFDomain
import Ledger
import Provisioning
import Testing

/// The ledger shared by OS processes: two writers on one wallet, and a writer killed mid-stream.
@Suite(.serialized)
struct LedgerProcessTests {
    /// A demo environment with one card whose MANUELS wallet holds `cents`.
    func environment(_ name: String, cents: Int64) throws -> (dir: String, pan: PAN) {
        let dir = try Tools.temporaryDirectory(name)
        let demo = try Tools.run("gateway", ["demo", "--dir", dir])
        #expect(demo.status == 0, "\(demo.stderr)")
        let ledger = try Ledger.open(directory: dir, actor: "test")
        let card = try ledger.write { tx in
            try tx.issueCard(beneficiary: BeneficiaryRecord(dossier: "TEST-\(name)", firstName: "Test", lastName: "Concurrent"))
        }
        _ = try ledger.write { try $0.loadWallet(pan: card.pan, code: .manuels, amountCents: cents, validMonths: nil) }
        return (dir, card.pan)
    }

    @Test("two processes debit one wallet at once: never below zero, each success recorded once")
    func twoProcessesDebitOneWallet() throws {
        let start: Int64 = 30_000 // less than 2 × 500 × average 50: the wallet runs dry during the race
        let (dir, pan) = try environment("two-writers", cents: start)
        let common = ["debit", "--dir", dir, "--card", pan.digits, "--wallet", "MANUELS", "--partner", "P002",
                      "--count", "500", "--max-amount", "100"]
        let first = try Tools.start("ledger-load", common + ["--terminal", "T002", "--seed", "11", "--stan-prefix", "A"])
        let second = try Tools.start("ledger-load", common + ["--terminal", "T003", "--seed", "22", "--stan-prefix", "B"])
        let outcomes = [Tools.finish(first), Tools.finish(second)]
        var approvedCents: Int64 = 0
        var approvedCount = 0
        var txns = Set<String>()
        for outcome in outcomes {
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let summary = try #require(outcome.json?["debit"] as? [String: Any])
            #expect((summary["otherErrors"] as? [Any])?.isEmpty == true, "\(summary["otherErrors"] ?? "")")
            approvedCents += Int64(summary["approvedCents"] as? Int ?? -1)
            approvedCount += summary["approved"] as? Int ?? -1
            for txn in summary["txns"] as? [String] ?? [] { txns.insert(txn) }
            #expect((summary["approved"] as? Int ?? 0) + (summary["declined"] as? Int ?? 0) == 500)
        }
        #expect(txns.count == approvedCount, "every approved txn is distinct")
        #expect(approvedCount > 0)

        let ledger = try Ledger.open(directory: dir, actor: "test")
        try ledger.read { tx in
            let card = try tx.card(pan: pan)
            let wallet = try #require(try tx.wallets(cardID: card.id).first { $0.code == .manuels })
            #expect(wallet.availableCents >= 0)
            #expect(wallet.availableCents == start - approvedCents, "balance = start − approved")
            let recorded = try tx.ledger.connection.scalarInt(
                "SELECT COUNT(*) FROM payments WHERE card_id = ? AND status = 'approved'", card.id)
            #expect(recorded == Int64(approvedCount), "each success recorded exactly once")
            #expect(try tx.checkInvariants().isEmpty)
        }
        let check = try Tools.run("gateway", ["check", "--dir", dir])
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
    }

    @Test("a writer killed with SIGKILL mid-stream leaves a ledger that opens and passes check")
    func sigkillMidStream() throws {
        let (dir, pan) = try environment("sigkill", cents: 1_000)
        for round in 0..<3 {
            let started = try Tools.start("ledger-load", ["stream", "--dir", dir, "--card", pan.digits,
                                                        "--terminal", "T001", "--partner", "P001"])
            let (process, out, _) = started
            // Wait until it has committed a few times, then kill it without warning.
            var seen = Data()
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                seen.append(out.fileHandleForReading.availableData)
                if String(decoding: seen, as: UTF8.self).components(separatedBy: "committed").count > 20 + round * 7 { break }
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)
            let check = try Tools.run("gateway", ["check", "--dir", dir])
            #expect(check.status == 0, "round \(round): \(check.stdout) \(check.stderr)")
        }
        let ledger = try Ledger.open(directory: dir, actor: "test")
        let committed = try ledger.read { try $0.ledger.connection.scalarInt("SELECT COUNT(*) FROM payments") } ?? 0
        #expect(committed >= 20, "the streams committed before they were killed")
    }
}
