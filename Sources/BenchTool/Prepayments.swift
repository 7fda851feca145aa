import ArgumentParser
import BeneficiaryOperations
import Foundation
import HDFDomain
import Ledger
import Provisioning

/// The beneficiary side at work during the purchase load (issue 11): a second process on the same ledger
/// creating prepayment vouchers at a steady rate, as the web space's "Créer un prépaiement" does
/// (`CardOperations.prepay`: one write transaction each, waiting for the ledger's write lock like any process).
/// Reports every prepayment's latency, the worst above all: the gateway's group commits must leave the lock
/// to a waiting process often enough.
struct Prepayments: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepayments",
        abstract: "Create prepayment vouchers from a second process at a steady rate; print their latencies.")

    @OptionGroup var ledgerRun: LedgerRunOptions
    @Option(help: "Prepayments per second.")
    var rate: Double = 20
    @Option(help: "The partner the vouchers are for (it must accept prepayments and MANUELS).")
    var partner: String = "P001"
    @Option(name: .customLong("amount"), help: "Cents per voucher.")
    var amountCents: Int64 = 100

    func run() throws {
        let plan = try BenchPlan.load(ledgerRun.plan)
        let layout = EnvironmentLayout(directory: plan.dir)
        let operations = CardOperations(ledger: try Ledger(path: layout.ledgerPath, actor: "beneficiary"))
        let cards = try plan.terminals.flatMap { try $0.cards.map { try PAN(validating: $0.pan) } }
        guard !cards.isEmpty, rate > 0 else { throw ValidationError("no card in the plan, or a rate of 0") }

        let interval = UInt64(1e9 / rate)
        let window = ledgerRun.window
        var next = window.start
        var latencies: [UInt64] = []
        var errors = 0, samples: [String] = []
        var index = 0
        while next < window.measureEnd {
            let now = Clock.now()
            if now < next { usleep(UInt32((next - now) / 1000)) }
            // A steady schedule: a late prepayment does not push the next ones (the rate holds).
            let started = Clock.now()
            do {
                _ = try operations.prepay(pan: cards[index % cards.count], partnerID: partner, wallet: .manuels,
                                          amountCents: amountCents)
            } catch {
                errors += 1
                if samples.count < 5 { samples.append("\(error)") }
            }
            let finished = Clock.now()
            if started >= window.warmEnd { latencies.append(finished - started) }
            index += 1
            next += interval
        }
        for sample in samples { warn("prepayments: error: \(sample)") }
        latencies.sort()
        let worst = latencies.last.map { Double($0) / 1e6 } ?? 0
        say("prepayments: \(latencies.count) vouchers in \(format(window.measuredSeconds, decimals: 0)) s (\(format(rate, decimals: 0))/s "
            + "asked) from a second process: p50 \(format(percentileMilliseconds(latencies, 0.5))) ms "
            + "p99 \(format(percentileMilliseconds(latencies, 0.99))) ms max \(format(worst)) ms; \(errors) errors")
        say("result prepayments count=\(latencies.count) p50_ms=\(format(percentileMilliseconds(latencies, 0.5))) "
            + "p99_ms=\(format(percentileMilliseconds(latencies, 0.99))) max_ms=\(format(worst)) errors=\(errors)")
    }
}
