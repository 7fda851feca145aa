import ArgumentParser
import CommandSupport
import BeneficiaryOperations
import Foundation
import HDFDomain
import Ledger

extension LedgerError: CommandOutput.CodedError {}
extension BeneficiaryRefusal: CommandOutput.CodedError {}

/// `beneficiary`: the beneficiary side's operations (their web space), on the same ledger file as a
/// running gateway, from another process (contract §5).
@main
struct BeneficiaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "beneficiary",
        abstract: "The beneficiary side: wallets, prepayment vouchers, online payments, card problems.",
        subcommands: [Wallets.self, Prepay.self, CancelPrepayment.self, PayOnline.self, CancelOnline.self, DeclareProblem.self,
                      Transactions.self, Partners.self, ReceiptCommand.self, Serve.self])

    static func main() async {
        await CommandOutput.mainAsync(BeneficiaryCommand.self, arguments: commonOptionsAfterVerb(Array(CommandLine.arguments.dropFirst())))
    }

    /// Contract §5 writes `beneficiary --dir DIR VERB ...`, while `--dir` and `--json` belong to each verb:
    /// those given before the verb are moved just after it (`beneficiary VERB --dir DIR ...` works as well).
    static func commonOptionsAfterVerb(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--json" || argument.hasPrefix("--dir=") {
                leading.append(argument)
                index += 1
            } else if argument == "--dir", index + 1 < arguments.count {
                leading += [argument, arguments[index + 1]]
                index += 2
            } else {
                break
            }
        }
        guard !leading.isEmpty, index < arguments.count else { return arguments }
        return [arguments[index]] + leading + Array(arguments[(index + 1)...])
    }
}

struct Common: ParsableArguments {
    @Option(name: .long, help: "The environment directory holding the ledger.")
    var dir: String
    @Flag(name: .long, help: "Print exactly one JSON object on stdout.")
    var json = false

    func ledger() throws -> Ledger { try Ledger.open(directory: dir, actor: "beneficiary") }
    /// The beneficiary operations every verb calls (the web space calls the same).
    func operations() throws -> CardOperations { CardOperations(ledger: try ledger()) }
}





struct VoucherOutput: Encodable {
    let code: String
    let amount: Int64
    let wallet: String
    let partner: String
    let status: String
    let expires: String

    init(_ voucher: VoucherRecord) {
        code = voucher.code.grouped
        amount = voucher.amountCents
        wallet = voucher.wallet.rawValue
        partner = voucher.partnerID
        status = voucher.status.rawValue
        expires = voucher.expiresOn.iso
    }
}

struct Wallets: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Balances, labels and expiry dates of a card's wallets.")
    @OptionGroup var common: Common
    @Option var card: String

    func run() throws {
        let pan = try parsePAN(card)
        let wallets = try common.operations().wallets(pan: pan)
        struct Output: Encodable { let code: String; let label: String; let balance: Int64; let expires: String }
        let output = wallets.map { Output(code: $0.code.rawValue, label: $0.label, balance: $0.balanceCents, expires: $0.expiresOn.iso) }
        if common.json { try CommandOutput.printJSON("wallets", output) }
        else {
            for wallet in output {
                CommandOutput.printLine("\(wallet.label) (\(wallet.code)): \(Money.display(cents: wallet.balance)), valable jusqu'au \(wallet.expires)")
            }
        }
    }
}

struct Prepay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a prepayment voucher for a partner; the money leaves the wallet at once. Prints the voucher's code.")
    @OptionGroup var common: Common
    @Option var card: String
    @Option var partner: String
    @Option var wallet: String
    @Option(parsing: .unconditional, help: "In cents, > 0.") var amount: String

    func run() throws {
        let pan = try parsePAN(card)
        let code = try parseWallet(wallet)
        let cents = try parseAmount(amount)
        let voucher = try common.operations().prepay(pan: pan, partnerID: partner, wallet: code, amountCents: cents)
        if common.json { try CommandOutput.printJSON("voucher", VoucherOutput(voucher)) }
        else { CommandOutput.printLine(voucher.code.grouped) }
    }
}

struct CancelPrepayment: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel-prepayment", abstract: "Cancel a voucher the partner has not redeemed; the money goes back to the wallet.")
    @OptionGroup var common: Common
    @Option var card: String
    @Option var voucher: String

    func run() throws {
        let pan = try parsePAN(card)
        let code = try parseVoucher(voucher)
        let cancelled = try common.operations().cancelPrepayment(pan: pan, code: code)
        if common.json { try CommandOutput.printJSON("voucher", VoucherOutput(cancelled)) }
        else { CommandOutput.printLine("bon \(cancelled.code.grouped) annulé : \(Money.display(cents: cancelled.amountCents)) rendus au porte-monnaie \(cancelled.wallet.rawValue)") }
    }
}

struct PayOnline: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pay-online", abstract: "Pay a partner online (\"Extranet Bénéficiaire\"). Prints its txn.")
    @OptionGroup var common: Common
    @Option var card: String
    @Option var partner: String
    @Option var wallet: String
    @Option(parsing: .unconditional, help: "In cents, > 0.") var amount: String

    func run() throws {
        let pan = try parsePAN(card)
        let code = try parseWallet(wallet)
        let cents = try parseAmount(amount)
        let payment = try common.operations().payOnline(pan: pan, partnerID: partner, wallet: code, amountCents: cents)
        struct Output: Encodable { let txn: String; let amount: Int64; let wallet: String; let partner: String; let created: String }
        if common.json {
            try CommandOutput.printJSON("payment", Output(txn: payment.txn, amount: payment.amountCents, wallet: payment.wallet.rawValue,
                                                          partner: payment.partnerID,
                                                          created: ParisCalendar.isoTimestamp(millis: payment.createdAtMillis)))
        } else {
            CommandOutput.printLine(payment.txn)
        }
    }
}

struct DeclareProblem: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "declare-problem", abstract: "Declare the card lost, stolen or damaged: it stops paying at once.")
    @OptionGroup var common: Common
    @Option var card: String
    @Option(help: "lost, stolen or damaged") var reason: String

    func run() throws {
        let pan = try parsePAN(card)
        guard let reason = BlockReason(rawValue: reason) else {
            throw CommandOutput.Refusal(code: "invalid_reason", "reason '\(reason)' must be lost, stolen or damaged")
        }
        try common.operations().declareProblem(pan: pan, reason: reason)
        if common.json { try CommandOutput.printJSON("card", ["pan": pan.masked, "status": reason.cardStatus.rawValue]) }
        else { CommandOutput.printLine("carte \(pan.masked) bloquée (\(reason.rawValue))") }
    }
}

struct Transactions: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The card's history, newest first, with partner names and labels.")
    @OptionGroup var common: Common
    @Option var card: String

    struct Line: Encodable {
        let date: String
        let kind: String
        let label: String
        let partner: String?
        let wallet: String
        let amount: Int64
        let status: String
    }

    func run() throws {
        let pan = try parsePAN(card)
        let entries = try common.operations().transactions(pan: pan)
        let lines = entries.map {
            Line(date: ParisCalendar.isoTimestamp(millis: $0.atMillis), kind: $0.kind, label: $0.label, partner: $0.partner,
                 wallet: $0.wallet.rawValue, amount: $0.amountCents, status: $0.status)
        }
        if common.json { try CommandOutput.printJSON("transactions", lines) }
        else {
            for line in lines {
                CommandOutput.printLine("\(line.date)  \(Money.display(cents: line.amount))  \(line.label)  [\(line.wallet), \(line.status)]")
            }
        }
    }
}

struct Partners: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Where the card can be used: search by name, city and category (case and accents ignored).")
    @OptionGroup var common: Common
    @Option var name: String?
    @Option var city: String?
    @Option var category: String?

    struct Output: Encodable {
        let id: String
        let name: String
        let category: String
        let categoryLabel: String
        let address: String
        let city: String
        let phone: String
        let email: String
        let website: String
        let acceptsPrepayment: Bool
        let acceptsOnline: Bool
        let wallets: [String]
        enum CodingKeys: String, CodingKey {
            case id, name, category, address, city, phone, email, website, wallets
            case categoryLabel = "category_label"
            case acceptsPrepayment = "accepts_prepayment"
            case acceptsOnline = "accepts_online"
        }
    }

    func run() throws {
        let partners = try common.operations().partners(name: name, city: city, category: category)
        let output = partners.map {
            Output(id: $0.id, name: $0.name, category: $0.category.rawValue, categoryLabel: $0.category.label, address: $0.address,
                   city: $0.city, phone: $0.phone, email: $0.email, website: $0.website,
                   acceptsPrepayment: $0.acceptsPrepayment, acceptsOnline: $0.acceptsOnline, wallets: $0.wallets.map(\.rawValue))
        }
        if common.json { try CommandOutput.printJSON("partners", output) }
        else {
            for partner in output {
                var accepts = partner.wallets.joined(separator: ", ")
                if partner.acceptsPrepayment { accepts += " · bons de prépaiement" }
                if partner.acceptsOnline { accepts += " · paiement en ligne" }
                CommandOutput.printLine("\(partner.id)  \(partner.name) (\(partner.categoryLabel)) — \(partner.address), \(partner.city) — \(partner.phone) \(partner.email) \(partner.website) — \(accepts)")
            }
        }
    }
}
