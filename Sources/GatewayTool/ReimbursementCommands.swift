import ArgumentParser
import CommandSupport
import Foundation
import HDFDomain
import Ledger
import Provisioning

/// (issue 12) Checks IBAN and BIC before anything is written; one clear line when either is wrong.
func parseBankAccount(iban: String?, bic: String?, required: Bool) throws -> (iban: IBAN, bic: BIC)? {
    guard iban != nil || bic != nil || required else { return nil }
    guard let iban, let bic else { throw CommandOutput.Refusal(code: "usage", "--iban and --bic go together") }
    let parsedIBAN: IBAN
    do { parsedIBAN = try IBAN(iban) } catch {
        // Only the start and the end of a refused IBAN are echoed: it is someone's account number.
        let shown = iban.count > 8 ? String(iban.prefix(4)) + "…" + String(iban.suffix(4)) : iban
        throw CommandOutput.Refusal(code: "invalid_iban", "IBAN \(shown) refused: \(error.description)")
    }
    let parsedBIC: BIC
    do { parsedBIC = try BIC(bic) } catch { throw CommandOutput.Refusal(code: "invalid_bic", error.description) }
    return (parsedIBAN, parsedBIC)
}

func parseDate(_ text: String, what: String) throws -> LocalDate {
    guard let day = LocalDate(iso: text) else { throw CommandOutput.Refusal(code: "invalid_date", "\(what) '\(text)' is not a date YYYY-MM-DD") }
    return day
}

/// `{"partner": {...}}` with the bank account next to the partner's other fields.
struct PartnerWithBank: Encodable {
    let partner: PartnerOutput
    let iban: String?
    let bic: String?
    enum Keys: String, CodingKey { case iban, bic }
    func encode(to encoder: Encoder) throws {
        try partner.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encodeIfPresent(iban, forKey: .iban)
        try container.encodeIfPresent(bic, forKey: .bic)
    }
}

extension PartnerCommand {
    struct Bank: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "bank",
            abstract: "Set or change a partner's bank account (audited; IBAN and BIC checked).")
        @OptionGroup var options: DirectoryOptions
        @Option var id: String
        @Option var iban: String
        @Option var bic: String

        func run() throws {
            let bank = try parseBankAccount(iban: iban, bic: bic, required: true)!
            try Operator(directory: options.dir).setPartnerBankAccount(partnerID: id, iban: bank.iban, bic: bank.bic)
            if options.json { try CommandOutput.printJSON("partner", ["id": id, "iban": bank.iban.electronic, "bic": bank.bic.code]) }
            else { CommandOutput.printLine("partner \(id): bank account set to IBAN \(bank.iban.masked), BIC \(bank.bic.code)") }
        }
    }
}

struct RegionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "region", abstract: "The Région's own bank account.",
                                                    subcommands: [SetAccount.self, Show.self])

    struct SetAccount: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set",
            abstract: "Set the account reimbursements are paid from (stored in the ledger; audited).")
        @OptionGroup var options: DirectoryOptions
        @Option var name: String
        @Option var iban: String
        @Option var bic: String

        func run() throws {
            let bank = try parseBankAccount(iban: iban, bic: bic, required: true)!
            try Operator(directory: options.dir).setRegionAccount(BankAccountRecord(name: name, iban: bank.iban, bic: bank.bic))
            if options.json { try CommandOutput.printJSON("region", ["name": name, "iban": bank.iban.electronic, "bic": bank.bic.code]) }
            else { CommandOutput.printLine("Région account set: \(name), IBAN \(bank.iban.masked), BIC \(bank.bic.code)") }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show the Région's account.")
        @OptionGroup var options: DirectoryOptions

        func run() throws {
            guard let account = try Operator(directory: options.dir).regionAccount() else {
                throw CommandOutput.Refusal(code: "no_region_account", "the Région's bank account is not set (gateway region set)")
            }
            if options.json { try CommandOutput.printJSON("region", ["name": account.name, "iban": account.iban.electronic, "bic": account.bic.code]) }
            else { CommandOutput.printLine("\(account.name), IBAN \(account.iban.paperForm), BIC \(account.bic.code)") }
        }
    }
}

struct ReimburseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reimburse",
        abstract: "Make the reimbursement batch of a cutoff day: ledger moves, SEPA file and statements in DIR/reimbursements/BATCH/.")
    @OptionGroup var options: DirectoryOptions
    @Option(help: "The last day covered (YYYY-MM-DD, Europe/Paris), today at the latest.") var cutoff: String
    @Option(name: .customLong("execution-date"), help: "The day the bank should pay (YYYY-MM-DD; default: the next weekday).")
    var executionDate: String?

    func run() throws {
        let cutoffDay = try parseDate(cutoff, what: "cutoff")
        let execution = try executionDate.map { try parseDate($0, what: "execution date") }
        let report = try Operator(directory: options.dir).reimburse(cutoff: cutoffDay, executionDate: execution)
        if options.json {
            try CommandOutput.printJSON("batch", report)
        } else {
            let paid = report.partners.filter { $0.amount > 0 }
            CommandOutput.printLine("batch \(report.id)\(report.new ? "" : " (already made: unchanged)"): cutoff \(report.cutoff), "
                + "\(paid.count) partners paid, total \(Money.display(cents: report.total)), execution \(report.executionDate); "
                + (report.file.map { "file \($0)" } ?? "no transfer"))
            for carried in report.carriedForward {
                CommandOutput.printLine("partner \(carried.id) owes \(Money.display(cents: -carried.amount)): carried to the next batch")
            }
            for partner in report.withoutBankAccount {
                CommandOutput.printLine("partner \(partner) has no bank account (gateway partner bank): carried to the next batch")
            }
        }
    }
}
