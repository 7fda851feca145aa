import ArgumentParser
import Foundation
import HDFDomain
import Ledger
import Provisioning

/// A ledger of several years (issue 11, "how cost grows"): `--cards` more beneficiaries, each with a MANUELS
/// wallet, then `--payments` purchases at the plan's terminals spread evenly over the last `--years`, written
/// with the ledger's own API (`LedgerTransaction.purchase`, `--per-commit` to a transaction, each transaction
/// at its own instant in the past). The plan's own cards are left as they are, so the load runs afterwards
/// meet a big ledger, not emptied wallets.
struct Grow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grow",
        abstract: "Add years of purchases to the environment's ledger through the ledger's API.")

    @Option(help: "The plan written by `bench-load prepare`.")
    var plan: String
    @Option(help: "Purchases to add.")
    var payments: Int = 1_000_000
    @Option(help: "Cards (beneficiaries) to issue for them.")
    var cards: Int = 100_000
    @Option(help: "Years the purchases are spread over, ending now.")
    var years: Int = 4
    @Option(name: .customLong("per-commit"), help: "Purchases per write transaction.")
    var perCommit: Int = 10_000

    func validate() throws {
        guard payments >= 0, cards >= 1, years >= 1, perCommit >= 1 else { throw ValidationError("counts must be positive") }
    }

    func run() throws {
        let plan = try BenchPlan.load(plan)
        let ledger = try Ledger(path: EnvironmentLayout(directory: plan.dir).ledgerPath, actor: "operator")
        let end = Date()
        let start = end.addingTimeInterval(-Double(years) * 365.25 * 86_400)
        let started = Clock.now()

        var pans: [PAN] = []
        pans.reserveCapacity(cards)
        var issued = 0
        while issued < cards {
            let count = min(perCommit, cards - issued)
            pans += try ledger.write(now: start) { tx in
                try (0..<count).map { offset in
                    let card = try tx.issueCard(beneficiary: BeneficiaryRecord(
                        dossier: "GROW-\(issued + offset)", firstName: "Histoire", lastName: "Carte \(issued + offset)"))
                    // Valid over the whole span, enough for its share of the purchases.
                    _ = try tx.loadWallet(pan: card.pan, code: .manuels, amountCents: 100_000_000, validMonths: years * 12 + 12)
                    return card.pan
                }
            }
            issued += count
        }
        say("grow: \(cards) cards issued in \(format(Double(Clock.now() - started) / 1e9, decimals: 1)) s")

        var random = SplitMix64(seed: 0x6120)
        let terminals = plan.terminals
        let commits = max(1, (payments + perCommit - 1) / perCommit)
        let step = end.timeIntervalSince(start) / Double(commits)
        var written = 0, commit = 0
        while written < payments {
            let count = min(perCommit, payments - written)
            let instant = start.addingTimeInterval(step * Double(commit))
            try ledger.write(now: instant) { tx in
                for offset in 0..<count {
                    let terminal = terminals[Int(random.next() % UInt64(terminals.count))]
                    let pan = pans[Int(random.next() % UInt64(pans.count))]
                    _ = try tx.purchase(card: try tx.card(pan: pan), partnerID: terminal.partner, terminalID: terminal.id,
                                        stan: "G\(written + offset)", amountCents: Int64(1 + random.next() % 3_000),
                                        wallet: nil, allowPartial: false)
                }
            }
            written += count
            commit += 1
            if commit % 100 == 0 {
                say("grow: \(written) purchases, \(format(Double(Clock.now() - started) / 1e9, decimals: 0)) s")
            }
        }
        let seconds = Double(Clock.now() - started) / 1e9
        let bytes = (try? FileManager.default.attributesOfItem(atPath: EnvironmentLayout(directory: plan.dir).ledgerPath)[.size] as? Int) ?? 0
        say("grow: \(payments) purchases over \(years) years on \(cards) cards in \(format(seconds, decimals: 0)) s; "
            + "ledger file \(bytes / 1_048_576) MiB")
    }
}
