import ArgumentParser
import BeneficiaryOperations
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
        do {
            try common.operations().refuseOnlineCancellation(pan: pan, txn: txn)
        } catch LedgerError.unknownPayment {
            throw CommandOutput.Refusal(code: "unknown_transaction", "unknown transaction '\(txn)'")
        }
    }
}
