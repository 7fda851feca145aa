import ArgumentParser
import CommandSupport
import HDFDomain
import Ledger

/// `beneficiary cancel-online --card PAN --txn TXN`: always refused (contract §5: only the partner that
/// received an online payment can cancel it, through its terminal's `cancel`). Says who can, when the
/// txn is an online payment of this card; "unknown transaction" for anything else, so that nobody learns
/// about other cards' payments. Reads only: nothing changes.
struct CancelOnline: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel-online",
        abstract: "Refused: an online payment can only be cancelled by the partner that received it.")
    @OptionGroup var common: Common
    @Option var card: String
    @Option var txn: String

    func run() throws {
        let pan = try parsePAN(card)
        let txn = self.txn
        let partnerName = try common.ledger().read { tx -> String? in
            let card = try tx.card(pan: pan)
            guard let payment = try? tx.payment(txn: txn), payment.kind == .online, payment.cardID == card.id else { return nil }
            return try tx.partner(id: payment.partnerID).name
        }
        guard let partnerName else {
            throw CommandOutput.Refusal(code: "unknown_transaction", "unknown transaction '\(txn)'")
        }
        throw CommandOutput.Refusal(
            code: "cancel_by_partner_only",
            "an online payment can only be cancelled by the partner that received it (\(partnerName))")
    }
}
