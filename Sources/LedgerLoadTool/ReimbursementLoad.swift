import ArgumentParser
import CommandSupport
import Foundation
import HDFDomain
import Ledger
import Reimbursement

/// (issue 12) `ledger-load reimbursement`: fills a fresh ledger with `--partners` partners (bank accounts
/// set) and `--operations` purchases through the ledger's own API (1 % of them then cancelled), then times
/// one reimbursement batch (the ledger transaction) and the writing of its files. Not in `make test`.
struct ReimbursementLoad: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reimbursement",
        abstract: "Time a reimbursement batch over many operations and partners (a fresh ledger in DIR).")
    @Option var dir: String
    @Option var partners: Int = 5_000
    @Option var operations: Int = 1_000_000
    /// Purchases per write transaction while filling.
    @Option var chunk: Int = 20_000

    func run() throws {
        guard (1...100_000).contains(partners), (1...10_000_000).contains(operations) else {
            throw CommandOutput.Refusal(code: "usage", "--partners 1...100000, --operations 1...10000000")
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let ledger = try Ledger.open(directory: dir, actor: "bench", mustExist: false)
        let yesterday = Date().addingTimeInterval(-86_400)
        let cardCount = max(1, operations / 1_000)
        var generator = SplitMix64(state: 12)
        let fillStart = Date()
        var pans: [PAN] = []
        try ledger.write(now: yesterday) { tx in
            try tx.setRegionAccount(BankAccountRecord(name: "Région Hauts-de-France", iban: try IBAN.make(country: "FR", bban: "30001005900000071234567"),
                                                      bic: try BIC("BDFEFRPPCCT")))
            for index in 0..<partners {
                let id = String(format: "B%05d", index)
                try tx.addPartner(PartnerRecord(id: id, name: "Partenaire Élan & Cie \(index)", category: .librairie, city: "Lille",
                                                acceptsPrepayment: false, acceptsOnline: false, wallets: [.manuels]))
                try tx.enrollTerminal(id: "T" + id, partnerID: id, certificateSHA256: String(repeating: "ab", count: 32))
                try tx.setPartnerBankAccount(partnerID: id, iban: try IBAN.make(country: "FR", bban: String(format: "3000400823000%08d00", index)),
                                             bic: try BIC("BNPAFRPP"))
            }
            for index in 0..<cardCount {
                let card = try tx.issueCard(beneficiary: BeneficiaryRecord(dossier: "L\(index)", firstName: "Léa", lastName: "Martin"))
                _ = try tx.loadWallet(pan: card.pan, code: .manuels, amountCents: 2_000_000)
                pans.append(card.pan)
            }
        }
        var done = 0
        var cancellable: [(txn: String, partner: String)] = []
        while done < operations {
            let count = min(chunk, operations - done)
            try ledger.write(now: yesterday) { tx in
                for index in done..<(done + count) {
                    let partner = String(format: "B%05d", index % partners)
                    let card = try tx.card(pan: pans[index % cardCount])
                    let approval = try tx.purchase(card: card, partnerID: partner, terminalID: "T" + partner, stan: "S\(index)",
                                                   amountCents: Int64(100 + generator.next() % 1_900), wallet: .manuels, allowPartial: false)
                    if index % 100 == 0 { cancellable.append((approval.txn, partner)) }
                }
            }
            done += count
        }
        try ledger.write(now: yesterday) { tx in
            for (index, payment) in cancellable.enumerated() {
                _ = try tx.cancelPayment(txn: payment.txn, partnerID: payment.partner, terminalID: "T" + payment.partner, stan: "C\(index)")
            }
        }
        let filled = Date().timeIntervalSince(fillStart)
        let batchStart = Date()
        let outcome = try ledger.write { try $0.makeReimbursementBatch(cutoff: ParisCalendar.businessDay(of: yesterday), executionDate: nil) }
        let batchSeconds = Date().timeIntervalSince(batchStart)
        let filesStart = Date()
        let folder = try BatchFiles.write(outcome.batch, directory: dir)
        let filesSeconds = Date().timeIntervalSince(filesStart)
        let xmlBytes = (try FileManager.default.attributesOfItem(atPath: folder + "/" + BatchFiles.transferFileName)[.size] as? Int) ?? -1
        let folderBytes = try FileManager.default.contentsOfDirectory(atPath: folder).reduce(0) {
            $0 + ((try FileManager.default.attributesOfItem(atPath: folder + "/" + $1)[.size] as? Int) ?? 0)
        }
        let lines = outcome.batch.partners.reduce(0) { $0 + $1.lines.count }
        CommandOutput.printLine(String(format: "reimbursement: partners=%d operations=%d lines=%d fill_s=%.1f batch_s=%.2f files_s=%.2f xml_bytes=%d folder_bytes=%d total_cents=%lld",
                                       outcome.batch.paidPartners.count, operations + cancellable.count, lines, filled, batchSeconds, filesSeconds,
                                       xmlBytes, folderBytes, outcome.batch.totalCents))
    }
}
