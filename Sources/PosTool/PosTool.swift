import ArgumentParser
import CommandSupport
import Foundation
import HDFDomain
import Terminal

extension PosError: CommandOutput.CodedError {}

/// `pos`: the partner terminal (contract §6). Reads the card through PC/SC, talks to the gateway over
/// mutual TLS, prints the shop's display lines in French (or one JSON object with `--json`).
@main
struct PosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pos",
        abstract: "The Génération #HDF partner terminal: card payments, balances, cancellations, vouchers, totals.",
        discussion: """
            pos --dir DIR --terminal T VERB: T's certificate and key at DIR/certs/T.pem and T.key, the gateway's \
            address and CA from DIR/demo.json (any of --host --port --ca --cert --key overrides them). The card is \
            read from the first PC/SC reader holding one, or --reader NAME. See docs/terminal.md.
            """,
        subcommands: [Pay.self, Balance.self, Cancel.self, VoucherCheck.self, VoucherRedeem.self, Online.self, Totals.self])

    static func main() async {
        await CommandOutput.mainAsync(PosCommand.self, arguments: verbFirst(Array(CommandLine.arguments.dropFirst())))
    }

    /// The contract writes the common options before the verb (`pos --dir DIR --terminal T pay ...`); the
    /// argument parser wants them after it. Moves the first word that is not an option or an option's value
    /// to the front. Every common option takes a value, except the flags below.
    static func verbFirst(_ arguments: [String]) -> [String] {
        let flags: Set<String> = ["--json", "--help", "-h", "--partial", "--card", "--version"]
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            if word == "--" { return arguments }
            if word.hasPrefix("-") {
                index += (flags.contains(word) || word.contains("=")) ? 1 : 2
                continue
            }
            var reordered = arguments
            reordered.remove(at: index)
            return [word] + reordered
        }
        return arguments
    }
}

struct PosOptions: ParsableArguments {
    @Option(help: "An environment directory (demo.json, certs/).") var dir: String?
    @Option(help: "The terminal's id: its certificate is DIR/certs/T.pem.") var terminal: String?
    @Option(help: "The gateway's host (default: demo.json's, else 127.0.0.1).") var host: String?
    @Option(help: "The gateway's port (default: demo.json's, else 8583).") var port: Int?
    @Option(help: "The partner CA's certificate (PEM).") var ca: String?
    @Option(help: "The terminal's certificate (PEM).") var cert: String?
    @Option(help: "The terminal's private key (PEM).") var key: String?
    @Option(help: "The PC/SC reader to use (default: the first one holding a card).") var reader: String?
    @Option(name: .customLong("card-timeout"), help: "Seconds to wait for a card.") var cardTimeout: Double = 30
    @Option(name: .customLong("timeout"), help: "Seconds to wait for the gateway's answer.") var responseTimeout: Double = 10
    @Option(name: .customLong("state-dir"), help: "Where the stan counter and pending reversals live (default: DIR/pos).")
    var stateDir: String?
    @Flag(help: "Print exactly one JSON object on stdout.") var json = false

    func pointOfSale() throws -> PointOfSale {
        guard cardTimeout > 0, cardTimeout <= 3600 else {
            throw PosError.usage(code: "usage", "--card-timeout : entre 0 et 3600 secondes")
        }
        guard responseTimeout > 0, responseTimeout <= 600 else {
            throw PosError.usage(code: "usage", "--timeout : entre 0 et 600 secondes")
        }
        let (credentials, state) = try TerminalConfiguration.resolve(
            dir: dir, terminal: terminal, host: host, port: port, ca: ca, cert: cert, key: key, stateDir: stateDir)
        let configuration = TerminalConfiguration(
            credentials: credentials, reader: reader, cardTimeout: .milliseconds(Int64(cardTimeout * 1000)),
            responseTimeout: .milliseconds(Int64(responseTimeout * 1000)), state: state)
        return PointOfSale(configuration: configuration)
    }

    func print<T: PosOutcome>(_ outcome: T) throws {
        if json {
            try CommandOutput.printJSON(T.jsonName, outcome)
        } else {
            outcome.displayLines.forEach(CommandOutput.printLine)
        }
    }
}

struct Pay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A card payment of AMOUNT cents.")
    @OptionGroup var options: PosOptions
    @Option(help: "In cents, > 0.") var amount: String
    @Option(help: "MANUELS, TRANSPORT, HEBERGEMENT or RESTAURATION (default: chosen by the gateway).") var wallet: String?
    @Flag(help: "Accept a partial approval when no wallet holds enough.") var partial = false

    func run() async throws {
        let cents = try PosInput.amount(amount)
        let code = try wallet.map { text throws(PosError) in try PosInput.wallet(text) }
        try options.print(try await options.pointOfSale().pay(amountCents: cents, wallet: code, allowPartial: partial))
    }
}

struct Balance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The balances of the card in the reader.")
    @OptionGroup var options: PosOptions

    func run() async throws {
        try options.print(try await options.pointOfSale().balance())
    }
}

struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cancel a payment this partner received; the money goes back.")
    @OptionGroup var options: PosOptions
    @Option(help: "The payment's txn.") var txn: String

    func run() async throws {
        try options.print(try await options.pointOfSale().cancel(txn: txn))
    }
}

struct VoucherCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "voucher-check", abstract: "Is this prepayment voucher valid here?")
    @OptionGroup var options: PosOptions
    @Argument(help: "The voucher's code (any case, with or without dashes).") var code: String

    func run() async throws {
        try options.print(try await options.pointOfSale().checkVoucher(code: code))
    }
}

struct VoucherRedeem: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "voucher-redeem", abstract: "Redeem a prepayment voucher.")
    @OptionGroup var options: PosOptions
    @Argument(help: "The voucher's code.") var code: String

    func run() async throws {
        try options.print(try await options.pointOfSale().redeemVoucher(code: code))
    }
}

struct Online: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "This partner's online payments: of the card in the reader (--card), of a card number (--pan), or all of the last 30 days.")
    @OptionGroup var options: PosOptions
    @Flag(name: .customLong("card"), help: "The beneficiary is at the counter: read the card.") var cardPresent = false
    @Option(help: "A card number, for a partner without a reader.") var pan: String?

    func run() async throws {
        try options.print(try await options.pointOfSale().onlinePayments(cardPresent: cardPresent, pan: pan))
    }
}

struct Totals: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "What this terminal did on a day (default: today, Europe/Paris).")
    @OptionGroup var options: PosOptions
    @Option(help: "YYYY-MM-DD") var date: String?

    func run() async throws {
        var day = ParisCalendar.today()
        if let date {
            guard let parsed = LocalDate(iso: date) else {
                throw PosError.usage(code: "invalid_date", "Date invalide « \(date) » : AAAA-MM-JJ attendu")
            }
            day = parsed
        }
        try options.print(try await options.pointOfSale().totals(date: day))
    }
}
