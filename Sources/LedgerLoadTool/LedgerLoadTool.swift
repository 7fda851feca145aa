import ArgumentParser
import CommandSupport
import Foundation
import HDFDomain
import Ledger

/// `ledger-load`: drives the ledger straight, without the network. Used by the tests that run two
/// processes on one ledger file, the SIGKILL test, and the bench's `ledger_only/s`.
@main
struct LedgerLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger-load", abstract: "Drive the ledger directly (tests and bench).",
        subcommands: [Debit.self, Stream.self, ReimbursementLoad.self])

    static func main() { CommandOutput.main(LedgerLoadCommand.self) }
}

/// A small deterministic generator so a run can be replayed from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct Debit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Debit one wallet COUNT times with random amounts, one transaction each; print a JSON summary.")
    @Option var dir: String
    @Option var card: String
    @Option var wallet: String
    @Option var terminal: String
    @Option var partner: String
    @Option var count: Int = 500
    @Option var seed: UInt64 = 1
    @Option(name: .customLong("max-amount")) var maxAmount: Int64 = 100
    @Option(name: .customLong("stan-prefix")) var stanPrefix: String = "L"

    struct Summary: Encodable {
        let approved: Int
        let declined: Int
        let approvedCents: Int64
        let txns: [String]
        let otherErrors: [String]
    }

    func run() throws {
        let pan = try PAN(validating: card)
        let code = try WalletCode(parsing: wallet)
        let ledger = try Ledger.open(directory: dir, actor: "ledger-load")
        var random = SplitMix64(state: seed)
        var summary = (approved: 0, declined: 0, cents: Int64(0), txns: [String](), errors: [String]())
        for index in 0..<count {
            let amount = Int64.random(in: 1...maxAmount, using: &random)
            do {
                let approval = try ledger.write { tx in
                    try tx.purchase(card: try tx.card(pan: pan), partnerID: partner, terminalID: terminal,
                                    stan: "\(stanPrefix)\(index)", amountCents: amount, wallet: code, allowPartial: false)
                }
                summary.approved += 1
                summary.cents += approval.approvedCents
                summary.txns.append(approval.txn)
            } catch LedgerError.insufficientFunds {
                summary.declined += 1
            } catch {
                summary.errors.append(String(describing: error))
            }
        }
        try CommandOutput.printJSON("debit", Summary(approved: summary.approved, declined: summary.declined,
                                                    approvedCents: summary.cents, txns: summary.txns, otherErrors: summary.errors))
    }
}

struct Stream: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write without end (loads, purchases, vouchers) until killed; prints one line per commit.")
    @Option var dir: String
    @Option var card: String
    @Option var terminal: String
    @Option var partner: String

    func run() throws {
        let pan = try PAN(validating: card)
        let ledger = try Ledger.open(directory: dir, actor: "ledger-load")
        var index = 0
        while true {
            index += 1
            try ledger.write { tx in
                _ = try tx.loadWallet(pan: pan, code: .manuels, amountCents: 500, validMonths: nil)
                _ = try tx.purchase(card: try tx.card(pan: pan), partnerID: partner, terminalID: terminal,
                                    stan: "S\(index)", amountCents: 300, wallet: .manuels, allowPartial: false)
                if index % 3 == 0 {
                    let voucher = try tx.prepay(pan: pan, partnerID: partner, wallet: .manuels, amountCents: 100)
                    if index % 2 == 0 { _ = try tx.cancelPrepayment(pan: pan, code: voucher.code) }
                }
            }
            print("committed \(index)")
            fflush(nil)
        }
    }
}
