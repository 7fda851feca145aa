import ArgumentParser
import CommandSupport
import Foundation
import HDFDomain
import Ledger

extension LedgerError: CommandOutput.CodedError {}

/// `beneficiary`: the beneficiary side's operations (their web space), on the same ledger file as a
/// running gateway, from another process (contract §5).
@main
struct BeneficiaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "beneficiary",
        abstract: "The beneficiary side: wallets, prepayment vouchers, online payments, card problems.",
        subcommands: [Wallets.self, Prepay.self, CancelPrepayment.self, PayOnline.self, DeclareProblem.self])

    static func main() { CommandOutput.main(BeneficiaryCommand.self) }
}

struct Common: ParsableArguments {
    @Option(name: .long, help: "The environment directory holding the ledger.")
    var dir: String
    @Flag(name: .long, help: "Print exactly one JSON object on stdout.")
    var json = false

    func ledger() throws -> Ledger { try Ledger.open(directory: dir, actor: "beneficiary") }
}

func parsePAN(_ text: String) throws -> PAN {
    do { return try PAN(validating: text) } catch {
        throw CommandOutput.Refusal(code: "invalid_card_number", "invalid card number \(PAN.mask(text)): \(error.description)")
    }
}

func parseWallet(_ text: String) throws -> WalletCode {
    do { return try WalletCode(parsing: text) } catch { throw CommandOutput.Refusal(code: "unknown_wallet", error.description) }
}

func parseAmount(_ text: String) throws -> Int64 {
    do { return try Money.parseAmountCents(text) } catch { throw CommandOutput.Refusal(code: "invalid_amount", error.description) }
}

func parseVoucher(_ text: String) throws -> VoucherCode {
    do { return try VoucherCode(parsing: text) } catch { throw CommandOutput.Refusal(code: "invalid_voucher_code", error.description) }
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
        let wallets = try common.ledger().read { tx in try tx.wallets(cardID: try tx.card(pan: pan).id) }
        struct Output: Encodable { let code: String; let label: String; let balance: Int64; let expires: String }
        let output = wallets.map { Output(code: $0.code.rawValue, label: $0.code.label, balance: $0.availableCents, expires: $0.expiresOn.iso) }
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
    @Option(help: "In cents, > 0.") var amount: String

    func run() throws {
        let pan = try parsePAN(card)
        let code = try parseWallet(wallet)
        let cents = try parseAmount(amount)
        let voucher = try common.ledger().write { try $0.prepay(pan: pan, partnerID: partner, wallet: code, amountCents: cents) }
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
        let cancelled = try common.ledger().write { try $0.cancelPrepayment(pan: pan, code: code) }
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
    @Option(help: "In cents, > 0.") var amount: String

    func run() throws {
        let pan = try parsePAN(card)
        let code = try parseWallet(wallet)
        let cents = try parseAmount(amount)
        let payment = try common.ledger().write { try $0.payOnline(pan: pan, partnerID: partner, wallet: code, amountCents: cents) }
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
        try common.ledger().write { try $0.setCardStatus(pan: pan, status: reason.cardStatus, actor: "beneficiary") }
        if common.json { try CommandOutput.printJSON("card", ["pan": pan.masked, "status": reason.cardStatus.rawValue]) }
        else { CommandOutput.printLine("carte \(pan.masked) bloquée (\(reason.rawValue))") }
    }
}
