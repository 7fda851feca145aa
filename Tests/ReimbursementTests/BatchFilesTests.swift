import Foundation
import HDFDomain
import Ledger
import Receipt
import Reimbursement
import Testing

/// The batch's files from the Reimbursement library alone, on a ledger of its own: a long statement over
/// several pages, the XML against the XSD, amounts written from cents, files written twice identical.
@Suite("reimbursement files: SEPA XML, CSV, multi-page PDF")
struct BatchFilesTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let schema = packageRoot.appendingPathComponent("var/third_party/sepaxml/pain.001.001.03.xsd").path

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test("amounts are written from integer cents")
    func amounts() {
        #expect(SEPACreditTransfer.decimalAmount(cents: 0) == "0.00")
        #expect(SEPACreditTransfer.decimalAmount(cents: 5) == "0.05")
        #expect(SEPACreditTransfer.decimalAmount(cents: 123_450) == "1234.50")
        #expect(PartnerStatement.frenchDecimal(cents: -1_000) == "-10,00")
        #expect(PartnerStatement.frenchDecimal(cents: 99_999_999_901) == "999999999,01")
    }

    @Test("a batch of 120 operations: valid XML, a 3-page statement, CSV adding up, the same bytes twice")
    func longBatch() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hdf-reimb-files-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ledger = try Ledger(path: directory + "/ledger.sqlite", actor: "test")
        let start = Date(timeIntervalSince1970: 1_780_000_000)
        try ledger.write(now: start) { tx in
            try tx.setRegionAccount(BankAccountRecord(name: "Région Hauts-de-France", iban: try IBAN.make(country: "FR", bban: "30001005900000071234567"),
                                                      bic: try BIC("BDFEFRPPCCT")))
            try tx.addPartner(PartnerRecord(id: "P1", name: "Librairie Élan & Cie", category: .librairie, city: "Lille",
                                            acceptsPrepayment: false, acceptsOnline: false, wallets: [.manuels]))
            try tx.enrollTerminal(id: "T1", partnerID: "P1", certificateSHA256: String(repeating: "ab", count: 32))
            try tx.setPartnerBankAccount(partnerID: "P1", iban: try IBAN("FR7630006000011234567890189"), bic: try BIC("AGRIFRPP"))
            let card = try tx.issueCard(beneficiary: BeneficiaryRecord(dossier: "D1", firstName: "Zoé", lastName: "Martin"))
            _ = try tx.loadWallet(pan: card.pan, code: .manuels, amountCents: 1_000_000)
            for index in 0..<120 {
                _ = try tx.purchase(card: card, partnerID: "P1", terminalID: "T1", stan: "S\(index)", amountCents: Int64(101 + index),
                                    wallet: .manuels, allowPartial: false)
            }
        }
        let outcome = try ledger.write(now: start.addingTimeInterval(3_600)) {
            try $0.makeReimbursementBatch(cutoff: ParisCalendar.businessDay(of: start), executionDate: nil)
        }
        let expected = Int64((0..<120).reduce(0) { $0 + 101 + $1 })
        #expect(outcome.batch.totalCents == expected)
        let folder = try BatchFiles.write(outcome.batch, directory: directory)
        let lint = try Self.run(["xmllint", "--noout", "--schema", Self.schema, folder + "/virements.xml"])
        #expect(lint.status == 0, "\(lint.stderr)")
        let xml = try String(contentsOfFile: folder + "/virements.xml", encoding: .utf8)
        #expect(xml.contains("<Nm>Librairie Elan et Cie</Nm>"))
        #expect(xml.contains("<CtrlSum>\(SEPACreditTransfer.decimalAmount(cents: expected))</CtrlSum>"))
        #expect(xml.contains("<InstdAmt Ccy=\"EUR\">"))
        let info = try Self.run(["pdfinfo", folder + "/P1.pdf"])
        #expect(info.stdout.range(of: #"Pages:\s+3\n"#, options: .regularExpression) != nil, "\(info.stdout) \(info.stderr)")
        let text = try Self.run(["pdftotext", "-layout", folder + "/P1.pdf", "-"])
        #expect(text.stdout.contains("Relevé de remboursement") && text.stdout.contains("Page 3 sur 3"))
        let csv = try String(contentsOfFile: folder + "/P1.csv", encoding: .utf8)
        let rows = csv.split(separator: "\r\n")
        #expect(rows.first == Substring(PartnerStatement.csvHeader))
        #expect(rows.count == 121)
        #expect(rows.dropFirst().map { Int64($0.split(separator: ";")[4].replacingOccurrences(of: ",", with: ""))! }.reduce(0, +) == expected)
        // Written again from the ledger: identical; a file tampered with is reported, not overwritten.
        let first = try Data(contentsOf: URL(fileURLWithPath: folder + "/P1.pdf"))
        try FileManager.default.removeItem(atPath: folder + "/P1.pdf")
        try BatchFiles.write(try ledger.read { try $0.reimbursementBatch(id: outcome.batch.id) }, directory: directory)
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/P1.pdf")) == first)
        try Data("changed".utf8).write(to: URL(fileURLWithPath: folder + "/P1.csv"))
        #expect(throws: BatchFiles.Failure.self) { try BatchFiles.write(outcome.batch, directory: directory) }
        #expect(try ledger.read { try $0.checkInvariants() }.isEmpty)
    }

    @Test("the migration rewrote the accounts CHECKs: a settlement account exists, a partner may owe")
    func schema() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hdf-reimb-schema-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ledger = try Ledger(path: directory + "/ledger.sqlite", actor: "test")
        let sql = try ledger.connection.scalarText("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'accounts'") ?? ""
        #expect(sql.contains("'settlement'"))
        #expect(sql.contains("credits_posted - (debits_posted - settled_posted) >= 0"))
        #expect(try ledger.connection.scalarInt("SELECT COUNT(*) FROM accounts WHERE kind = 'settlement'") == 1)
        // The database itself still refuses a partner refunded more than it received.
        try ledger.write { try $0.addPartner(PartnerRecord(id: "P1", name: "N", category: .librairie, city: "Lille",
                                                          acceptsPrepayment: false, acceptsOnline: false, wallets: [.manuels])) }
        #expect(throws: SQLiteError.self) {
            try ledger.connection.run("UPDATE accounts SET debits_posted = 5 WHERE name = 'partner:P1'")
        }
        try ledger.connection.run("UPDATE accounts SET debits_posted = 5, settled_posted = 5 WHERE name = 'partner:P1'")
        #expect(throws: SQLiteError.self) {
            try ledger.connection.run("UPDATE accounts SET kind = 'bogus' WHERE name = 'partner:P1'")
        }
        // A new connection (another process) reads the same schema.
        let other = try Ledger(path: directory + "/ledger.sqlite", actor: "other")
        #expect(throws: SQLiteError.self) { try other.connection.run("UPDATE accounts SET debits_posted = 9 WHERE name = 'partner:P1'") }
    }
}
