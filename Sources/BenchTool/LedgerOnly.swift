import ArgumentParser
import CardApplication
import Foundation
import GatewayServer
import HDFDomain
import Ledger
import Provisioning
import WireProtocol

/// The same purchases as `purchases`, decided straight on the environment's ledger with the gateway's
/// `Authorizer`, in group commits of one request per terminal (what the server's authorisation thread
/// gets with N terminals each with one request in flight): no network, no TLS, no event loops.
/// Run it while no gateway serves the ledger.
struct LedgerOnly: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger-only",
        abstract: "Decide the bench's purchases straight on the ledger (Authorizer + writeBatch), no network.")

    @OptionGroup var ledgerRun: LedgerRunOptions
    @Option(help: "Requests per commit (default: one per terminal of the plan).")
    var batch: Int?
    @Option(name: .customLong("max-amount"), help: "Purchases are of 1 to this many cents, at random.")
    var maxAmount: Int64 = 500
    @Option(help: ArgumentHelp("An extra `PRAGMA` run on the ledger connection after it is opened, e.g. "
                               + "`temp_store=MEMORY` (repeatable): to measure a proposed server setting. "
                               + "None by default: the gateway's own settings.", valueName: "name=value"))
    var pragma: [String] = []

    func run() throws {
        let plan = try BenchPlan.load(ledgerRun.plan)
        let layout = EnvironmentLayout(directory: plan.dir)
        let ledger = try Ledger(path: layout.ledgerPath, actor: "gateway")
        ledger.giveWayToOtherWriters()
        for setting in pragma {
            try ledger.connection.execute("PRAGMA \(setting)")
            let name = setting.split(separator: "=").first.map(String.init) ?? setting
            say("ledger_only: PRAGMA \(setting) -> \(try ledger.connection.scalarText("PRAGMA \(name)") ?? "?")")
        }
        let authorizer = Authorizer(cardKeys: try IssuerMasterKey.load(layout: layout))
        let runTag = PurchaseGenerator.runTag()

        // Each terminal's cards, from the ATC the ledger last accepted (the gateway run used them before).
        var terminals: [(context: TerminalContext, generator: PurchaseGenerator)] = []
        for (index, terminal) in plan.terminals.enumerated() {
            let cards = try terminal.cards.map { card -> BenchCard in
                let pan = try PAN(validating: card.pan)
                let lastATC = try ledger.read { try $0.card(pan: pan).lastATC }
                return BenchCard(pan: pan, key: try Hex.decode(card.key), atc: lastATC)
            }
            terminals.append((TerminalContext(terminalID: terminal.id, partnerID: terminal.partner),
                              PurchaseGenerator(cards: cards, kind: "L", runTag: runTag, maxAmount: maxAmount,
                                                seed: UInt64(index) &+ 0x1ED6E5)))
        }
        let batchSize = max(1, batch ?? terminals.count)

        let window = ledgerRun.window
        var cpuAtWarmEnd: ThreadCPUSnapshot?
        var measuredCount = 0, measuredBusyNanos: UInt64 = 0, commits = 0
        var errors = 0, samples: [String] = []
        var latencies: [UInt64] = []
        var nextTerminal = 0
        var items: [(Request, TerminalContext)] = []
        items.reserveCapacity(batchSize)
        while true {
            let batchStart = Clock.now()
            if batchStart >= window.measureEnd { break }
            // What the terminals would send (the card's side: not timed as the server's work)...
            var payloads: [(id: String, payload: [UInt8], terminal: TerminalContext)] = []
            for _ in 0..<batchSize {
                let (id, payload) = terminals[nextTerminal].generator.next()
                payloads.append((id, payload, terminals[nextTerminal].context))
                nextTerminal = (nextTerminal + 1) % terminals.count
            }
            // ...then the server's work: parse each frame, decide them all in one commit.
            let started = Clock.now()
            items.removeAll(keepingCapacity: true)
            for entry in payloads {
                switch RequestParser.parse(entry.payload) {
                case .request(let request): items.append((request, entry.terminal))
                case .reject(_, _, let code):
                    errors += 1
                    if samples.count < 5 { samples.append("request \(entry.id) refused by the parser: \(code.rawValue)") }
                }
            }
            let results: [Result<Decision, Error>]
            do {
                results = try ledger.writeBatch(count: items.count) { index, tx in
                    try authorizer.decide(items[index].0, terminal: items[index].1, tx: tx)
                }
            } catch {
                results = items.map { _ in .failure(error) }
            }
            let finished = Clock.now()
            commits += 1
            var good = 0
            for (item, result) in zip(items, results) {
                switch result {
                case .success(let decision) where decision.code == .approved: good += 1
                case .success(let decision):
                    errors += 1
                    if samples.count < 5 { samples.append("\(item.0.id): \(String(decoding: decision.response, as: UTF8.self))") }
                case .failure(let error):
                    errors += 1
                    if samples.count < 5 { samples.append("\(item.0.id): \(error)") }
                }
            }
            if started >= window.warmEnd && cpuAtWarmEnd == nil { cpuAtWarmEnd = ThreadCPUSnapshot(pid: getpid()) }
            if started >= window.warmEnd {
                measuredCount += good
                measuredBusyNanos += finished - started
                latencies.append(finished - started)
            }
        }
        let cpuAtEnd = ThreadCPUSnapshot(pid: getpid())
        for sample in samples { warn("ledger_only: error: \(sample)") }
        let busySeconds = Double(measuredBusyNanos) / 1e9
        let rate = busySeconds > 0 ? Double(measuredCount) / busySeconds : 0
        let wallRate = Double(measuredCount) / window.measuredSeconds
        latencies.sort()
        say("ledger_only: \(terminals.count) terminals, batches of \(batchSize), \(format(ledgerRun.warmup, decimals: 0)) s warm-up + "
            + "\(format(window.measuredSeconds, decimals: 0)) s: \(measuredCount) purchases approved; "
            + "\(Int(rate.rounded()))/s of parse+decide+commit time (\(Int(wallRate.rounded()))/s wall clock, including "
            + "building the requests); one batch (parse, decide, durable commit) p50 \(format(percentileMilliseconds(latencies, 0.5))) ms "
            + "p99 \(format(percentileMilliseconds(latencies, 0.99))) ms; \(errors) errors")
        if let cpuAtWarmEnd, let cpuAtEnd {
            let usage = cpuAtEnd.usage(since: cpuAtWarmEnd)
            say("ledger_only: CPU over the measured window: \(ThreadCPUSnapshot.describe(usage)); "
                + "\(format(usage.cpuSeconds / Double(max(1, measuredCount)) * 1e6, decimals: 0)) µs per purchase "
                + "(building the requests included)")
        }
        say("result ledger_only rate=\(Int(rate.rounded())) errors=\(errors)")
    }
}
