import ArgumentParser
import CommandSupport
import Foundation
import GatewayEnvironment
import GatewayServer
import HDFDomain
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Ledger
import PartnerPKI
import Provisioning

extension LedgerError: CommandOutput.CodedError {}

/// `gateway`: the operator's tool and the server (contract §1).
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "The Génération #HDF partner gateway: demo environment, operator's verbs, checks and the server.",
        subcommands: [DemoCommand.self, ServeCommand.self, CheckCommand.self, PartnerCommand.self,
                      TerminalCommand.self, CardCommand.self, WalletCommand.self,
                      ReimburseCommand.self, RegionCommand.self,
                      ApplicationCommand.self, THRCommand.self]) // (issue 10) the review verbs

    static func main() async { await CommandOutput.mainAsync(GatewayCommand.self) }
}

struct DirectoryOptions: ParsableArguments {
    @Option(name: .long, help: "The environment directory (ledger, keys, certificates).")
    var dir: String

    @Flag(name: .long, help: "Print exactly one JSON object on stdout.")
    var json = false
}




struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Create the demo environment in DIR.")
    @OptionGroup var options: DirectoryOptions
    @Flag(name: .long, help: "Replace an environment that already holds a ledger.")
    var force = false
    @Option(name: .customLong("server-name"), help: ArgumentHelp(
        "A DNS name or IP address terminals use to reach the gateway, put in its server certificate besides localhost and 127.0.0.1 (repeatable).",
        valueName: "NAME"))
    var serverNames: [String] = []

    func run() throws {
        let manifest = try DemoEnvironment.create(directory: options.dir, force: force, serverNames: serverNames)
        let layout = EnvironmentLayout(directory: options.dir)
        if options.json {
            try CommandOutput.printJSON("demo", ["manifest": layout.manifestPath, "ledger": layout.ledgerPath])
        } else {
            CommandOutput.printLine("demo environment created in \(layout.directory): \(manifest.partners.count) partners, \(manifest.cards.count) cards; manifest \(layout.manifestPath)")
        }
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Check the ledger's invariants.")
    @OptionGroup var options: DirectoryOptions

    func run() throws {
        let violations = try Operator(directory: options.dir).check()
        if options.json {
            struct Report: Encodable { let ok: Bool; let violations: [[String: String]] }
            try CommandOutput.printJSON("check", Report(ok: violations.isEmpty, violations: violations.map {
                ["invariant": $0.invariant, "detail": $0.detail]
            }))
        } else if violations.isEmpty {
            CommandOutput.printLine("ledger ok: every invariant holds")
        } else {
            for violation in violations { FileHandle.standardError.write(Data("broken: \(violation)\n".utf8)) }
        }
        if !violations.isEmpty { throw ExitCode(2) }
    }
}

struct PartnerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "partner", abstract: "Partners.", subcommands: [Add.self, Bank.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a partner.")
        @OptionGroup var options: DirectoryOptions
        @Option var id: String
        @Option var name: String
        @Option var city: String
        @Option(help: "One of \(PartnerCategory.allCases.map(\.rawValue).joined(separator: ", ")).")
        var category: String
        @Option(help: "Wallet codes usable there, comma-separated (MANUELS,TRANSPORT,...).")
        var wallets: String
        @Option var address: String = ""
        @Option var phone: String = ""
        @Option var email: String = ""
        @Option var website: String = ""
        @Flag var prepayment = false
        @Flag var online = false
        @Option(help: "The partner's IBAN (ISO 13616; spaces allowed), with --bic.") var iban: String?
        @Option(help: "The partner's BIC (8 or 11 characters), with --iban.") var bic: String?

        func run() throws {
            let bank = try parseBankAccount(iban: iban, bic: bic, required: false)
            guard let category = PartnerCategory(rawValue: category.lowercased()) else {
                throw CommandOutput.Refusal(code: "unknown_category",
                    "unknown category '\(category)' (expected one of \(PartnerCategory.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let codes = try wallets.split(separator: ",").map { try parseWallet(String($0).trimmingCharacters(in: .whitespaces)) }
            let record = PartnerRecord(id: id, name: name, category: category, address: address, city: city, phone: phone,
                                       email: email, website: website, acceptsPrepayment: prepayment, acceptsOnline: online,
                                       wallets: codes)
            let output = try Operator(directory: options.dir).addPartner(record, iban: bank?.iban, bic: bank?.bic)
            if options.json { try CommandOutput.printJSON("partner", PartnerWithBank(partner: output, iban: bank?.iban.electronic, bic: bank?.bic.code)) }
            else { CommandOutput.printLine("partner \(output.id) added: \(output.name), \(output.city)") }
        }
    }
}

struct TerminalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "terminal", abstract: "Partner terminals.",
                                                    subcommands: [Enroll.self, Revoke.self, List.self])

    struct Enroll: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "enroll",
            abstract: "Enroll a terminal: writes DIR/certs/T.pem and T.key, signed by the partner CA.")
        @OptionGroup var options: DirectoryOptions
        @Option var partner: String
        @Option var id: String

        func run() throws {
            let output = try Operator(directory: options.dir).enrollTerminal(id: id, partnerID: partner)
            if options.json {
                try CommandOutput.printJSON("terminal", ["id": output.id, "partner": output.partner,
                                                         "cert": output.cert ?? "", "key": output.key ?? ""])
            } else {
                CommandOutput.printLine("terminal \(output.id) enrolled for partner \(output.partner): \(output.cert ?? ""), \(output.key ?? "")")
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a terminal at once.")
        @OptionGroup var options: DirectoryOptions
        @Option var id: String

        func run() throws {
            let output = try Operator(directory: options.dir).revokeTerminal(id: id)
            if options.json { try CommandOutput.printJSON("terminal", ["id": output.id, "partner": output.partner, "status": output.status ?? ""]) }
            else { CommandOutput.printLine("terminal \(output.id) revoked") }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List terminals.")
        @OptionGroup var options: DirectoryOptions

        func run() throws {
            let terminals = try Operator(directory: options.dir).listTerminals()
            if options.json {
                try CommandOutput.printJSON("terminals", terminals.map { ["id": $0.id, "partner": $0.partner, "status": $0.status ?? ""] })
            } else {
                for terminal in terminals { CommandOutput.printLine("\(terminal.id)\t\(terminal.partner)\t\(terminal.status ?? "")") }
            }
        }
    }
}

struct CardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "card", abstract: "Cards.",
                                                    subcommands: [Issue.self, Block.self, Unblock.self])

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "issue",
            abstract: "Issue a card; prints its PAN and key K for the card's personalisation.")
        @OptionGroup var options: DirectoryOptions
        @Option var dossier: String
        @Option(name: .customLong("first-name")) var firstName: String
        @Option(name: .customLong("last-name")) var lastName: String
        @Option(name: .customLong("birth-date"), help: "YYYY-MM-DD") var birthDate: String?
        @Option(help: "lyceen, apprenti, ecole-de-production or post-bac") var situation: String?
        @Flag var boursier = false

        func run() throws {
            var birth: LocalDate?
            if let birthDate {
                guard let date = LocalDate(iso: birthDate) else {
                    throw CommandOutput.Refusal(code: "invalid_date", "birth date '\(birthDate)' is not YYYY-MM-DD")
                }
                birth = date
            }
            var situationValue: BeneficiarySituation?
            if let situation {
                guard let value = BeneficiarySituation(rawValue: situation) else {
                    throw CommandOutput.Refusal(code: "invalid_situation", "unknown situation '\(situation)'")
                }
                situationValue = value
            }
            let output = try Operator(directory: options.dir).issueCard(beneficiary: BeneficiaryRecord(
                dossier: dossier, firstName: firstName, lastName: lastName, birthDate: birth, situation: situationValue,
                boursier: boursier))
            if options.json { try CommandOutput.printJSON("card", ["pan": output.pan, "key": output.key ?? "", "status": output.status]) }
            else { CommandOutput.printLine("card \(PAN.mask(output.pan)) issued; PAN and key for personalisation: \(output.pan) \(output.key ?? "")") }
        }
    }

    struct Block: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "block", abstract: "Block a card (lost, stolen, damaged).")
        @OptionGroup var options: DirectoryOptions
        @Option var card: String
        @Option(help: "lost, stolen or damaged") var reason: String

        func run() throws {
            guard let reason = BlockReason(rawValue: reason) else {
                throw CommandOutput.Refusal(code: "invalid_reason", "reason '\(reason)' must be lost, stolen or damaged")
            }
            let output = try Operator(directory: options.dir).setCardStatus(pan: try parsePAN(card), status: reason.cardStatus)
            if options.json { try CommandOutput.printJSON("card", ["pan": output.pan, "status": output.status]) }
            else { CommandOutput.printLine("card \(output.pan) blocked (\(output.status))") }
        }
    }

    struct Unblock: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "unblock", abstract: "Unblock a card.")
        @OptionGroup var options: DirectoryOptions
        @Option var card: String

        func run() throws {
            let output = try Operator(directory: options.dir).setCardStatus(pan: try parsePAN(card), status: .active)
            if options.json { try CommandOutput.printJSON("card", ["pan": output.pan, "status": output.status]) }
            else { CommandOutput.printLine("card \(output.pan) unblocked") }
        }
    }
}

struct WalletCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "wallet", abstract: "Wallets.", subcommands: [Load.self])

    struct Load: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "load", abstract: "Load money into a card's wallet.")
        @OptionGroup var options: DirectoryOptions
        @Option var card: String
        @Option var wallet: String
        @Option(help: "In cents, > 0.") var amount: String
        @Option(name: .customLong("valid-months"), help: "Default: 6 for MANUELS, 12 otherwise.") var validMonths: Int?

        func run() throws {
            let output = try Operator(directory: options.dir).loadWallet(
                pan: try parsePAN(card), code: try parseWallet(wallet), amountCents: try parseAmount(amount), validMonths: validMonths)
            if options.json { try CommandOutput.printJSON("wallet", output) }
            else { CommandOutput.printLine("\(output.code) (\(output.label)): \(Money.display(cents: output.balance)), expires \(output.expires)") }
        }
    }
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve the gateway on DIR's ledger (mutual TLS).")
    @OptionGroup var options: DirectoryOptions
    @Option var host: String = DemoEnvironment.defaultHost
    @Option var port: Int = DemoEnvironment.defaultPort
    // Default 0: a fixed default port made the second gateway on a host fail to start. The port taken is printed.
    @Option(name: .customLong("metrics-port"), parsing: .unconditional, help: "Prometheus text on http://127.0.0.1:PORT/metrics (0, the default: any free port, printed at start; -1: off).")
    var metricsPort: Int = 0
    @Option(name: .customLong("log-level"), help: "trace, debug, info (one line per request), notice, warning, error.")
    var logLevel: String = "info"
    @Option(name: .customLong("checkpoints"),
            help: "Who copies the WAL into the database: 'paced' (the writer, between batches, once per interval; the default), 'automatic' (SQLite's, on commits), 'thread' (a checkpointer thread beside the writer). docs/bench.md.")
    var checkpoints: String = CheckpointMode.paced.rawValue
    @Option(name: .customLong("checkpoint-interval-ms"), help: "With --checkpoints paced or thread: how often.")
    var checkpointIntervalMillis: Int = Int(Checkpointer.defaultInterval.milliseconds)

    func run() async throws {
        guard let checkpointMode = CheckpointMode(rawValue: checkpoints) else {
            throw CommandOutput.Refusal(code: "usage", "--checkpoints is 'paced', 'automatic' or 'thread', not '\(checkpoints)'")
        }
        guard (10...60_000).contains(checkpointIntervalMillis) else {
            throw CommandOutput.Refusal(code: "usage", "--checkpoint-interval-ms is 10 to 60000, not \(checkpointIntervalMillis)")
        }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw CommandOutput.Refusal(code: "usage", "unknown log level '\(logLevel)'")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "gateway")
        var configuration = try GatewayConfiguration.environment(directory: options.dir, host: host, port: port,
                                                                 metricsPort: metricsPort < 0 ? nil : metricsPort)
        configuration.limits.checkpointMode = checkpointMode
        configuration.limits.checkpointInterval = .milliseconds(checkpointIntervalMillis)
        let server = try GatewayServer(configuration: configuration, logger: logger, prometheus: registry)
        try await server.start()
        // One line that scripts wait for: the gateway accepts connections from here on.
        print("gateway ready on \(host):\(server.boundPort ?? port)")
        if let metrics = server.boundMetricsPort { print("metrics on http://127.0.0.1:\(metrics)/metrics") }
        fflush(nil)
        let group = ServiceGroup(configuration: .init(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

extension GatewayStartError: CommandOutput.CodedError {
    public var code: String { "cannot_listen" }
}

extension DemoError: CommandOutput.CodedError {
    public var code: String {
        switch self {
        case .ledgerExists: return "ledger_exists"
        case .noManifest: return "no_manifest"
        }
    }
}


extension IssuerMasterKey.Failure: CommandOutput.CodedError {
    public var code: String { "issuer_key" }
}
