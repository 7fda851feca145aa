import ArgumentParser
import BeneficiaryOperations
import CommandSupport
import Foundation
import HDFDomain
import Ledger
import Receipt

/// `beneficiary receipt --voucher CODE --out FILE`: the voucher's printable receipt, a one-page A4 PDF the
/// beneficiary hands to the shop (docs/beneficiary.md). Any voucher gets one; one that is no longer
/// `issued` says so in a banner. An unknown or mistyped code is refused and no file is written.
struct ReceiptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipt", abstract: "Write a voucher's printable receipt (one A4 page, PDF) to FILE.")
    @OptionGroup var common: Common
    @Option(help: "The voucher's code (any case, with or without dashes).") var voucher: String
    @Option(help: "The PDF file to write (replaced if it exists).") var out: String

    func run() throws {
        let code = try parseVoucher(voucher)
        let receipt: VoucherReceipt
        do { receipt = try common.operations().receipt(code: code) } catch LedgerError.unknownVoucher {
            throw CommandOutput.Refusal(code: "unknown_voucher", "unknown voucher \(code.grouped)")
        }
        try Self.write(receipt.pdf(), to: out)
        struct Output: Encodable { let voucher: String; let file: String; let status: String }
        if common.json {
            try CommandOutput.printJSON("receipt", Output(voucher: code.grouped, file: out, status: receipt.status.rawValue))
        } else {
            var line = "reçu du bon \(code.grouped) (\(receipt.amountText), \(receipt.partner.name)) écrit dans \(out)"
            if receipt.status != .issued { line += " — statut : \(receipt.status.label.lowercased())" }
            CommandOutput.printLine(line)
        }
    }

    /// All or nothing: the bytes go to a temporary file beside FILE, which is then renamed over it.
    static func write(_ bytes: [UInt8], to path: String) throws {
        let target = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: target.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw CommandOutput.Refusal(code: "cannot_write", "cannot write the receipt: \(path) is a directory")
        }
        let temporary = target.deletingLastPathComponent()
            .appendingPathComponent(".\(target.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try Data(bytes).write(to: temporary)
            // rename(2) replaces an existing FILE in one step: a reader sees the old receipt or the new one.
            guard rename(temporary.path, target.path) == 0 else {
                throw CommandOutput.Refusal(code: "cannot_write", String(cString: strerror(errno)))
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            let why = (error as? CommandOutput.Refusal)?.description ?? error.localizedDescription
            throw CommandOutput.Refusal(code: "cannot_write", "cannot write the receipt to \(path): \(why)")
        }
    }
}
