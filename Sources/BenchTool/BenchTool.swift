import ArgumentParser
import Foundation

/// `bench-load`: the load side of `make bench` (docs/bench.md). Every subcommand is one measurement or one
/// setup step; `scripts/bench.sh` runs them in sequence against a fresh environment:
///
///   prepare      enrolls the bench terminals and issues their cards straight in the environment (one process)
///   echo-server  a mutual-TLS server with the gateway's framing and certificates, answering a fixed echo
///   echo         the purchase load shape against `echo-server`                     -> tls_echo/s
///   purchases    N persistent mTLS connections, one request in flight each, to the gateway -> purchases/s, p50, p99
///   idle         opens many idle mTLS connections and reads the gateway's RSS while they are open
///   ledger-only  the same purchases decided on the ledger in batches of N, no network -> ledger_only/s
///   prepayments  the beneficiary side in a second process: vouchers at a steady rate during a load -> worst latency
///   grow         years of purchases added through the ledger's API (the 10-million-payment ledger)
///   ledger-floor the rows of those purchases written by raw SQLite calls on a copy of the ledger -> ledger_floor/s
@main
struct BenchLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-load",
        abstract: "The load process of `make bench` (docs/bench.md).",
        subcommands: [Prepare.self, EchoServerCommand.self, EchoLoad.self, PurchasesLoad.self, IdleConnections.self,
                      LedgerOnly.self, LedgerFloor.self, Prepayments.self, Grow.self])
}

/// What every load run shares: the plan written by `prepare`, where to connect, how long to run.
struct LoadOptions: ParsableArguments {
    @Option(help: "The plan written by `bench-load prepare`.")
    var plan: String

    @Option(help: "The server's address.")
    var host: String = "127.0.0.1"

    @Option(help: "The server's port.")
    var port: Int

    @Option(help: "Seconds measured, after the warm-up.")
    var duration: Double = 10

    @Option(help: "Seconds of load before the measurement starts (not counted).")
    var warmup: Double = 2

    @Option(help: "Connections (one per terminal of the plan, in order; default: every terminal of the plan).")
    var connections: Int?

    @Option(help: "Event loop threads of the load process.")
    var threads: Int = 2

    @Option(name: .customLong("max-amount"), help: "Purchases are of 1 to this many cents, at random.")
    var maxAmount: Int64 = 500

    @Option(name: .customLong("first-atc"), help: ArgumentHelp("Each card's ATC before the run (the first request sends one more). "
            + "0 on a fresh environment; to run again on the same one, a value above what the last run reached."))
    var firstATC: UInt16 = 0

    @Option(name: .customLong("server-pid"), help: "The server's process id: its CPU use per thread over the measured window is printed.")
    var serverPID: Int32?
}

/// What the runs straight on an environment's ledger share (`ledger-only`, `ledger-floor`, `prepayments`).
struct LedgerRunOptions: ParsableArguments {
    @Option(help: "The plan written by `bench-load prepare`.")
    var plan: String
    @Option(help: "Seconds measured, after the warm-up.")
    var duration: Double = 10
    @Option(help: "Seconds of load before the measurement starts (not counted).")
    var warmup: Double = 2

    var window: RunWindow { RunWindow(warmup: warmup, duration: duration) }
}
