import Foundation
import HDFDomain
import Ledger
import Reimbursement

/// `--json` of `gateway reimburse` (contract §10), amounts in cents, paths relative to DIR.
public struct ReimbursementReport: Encodable, Sendable {
    public struct Partner: Encodable, Sendable {
        public let id: String
        public let amount: Int64
        public let operations: Int
        public let statement: String?
        public let csv: String?
    }
    public struct Carried: Encodable, Sendable {
        public let id: String
        public let amount: Int64
    }
    public let id: String
    public let cutoff: String
    public let executionDate: String
    public let total: Int64
    /// `reimbursements/BATCH/virements.xml`, or null when the batch pays no one.
    public let file: String?
    public let folder: String
    public let partners: [Partner]
    /// False when this cutoff had been made already: the same batch, its files unchanged.
    public let new: Bool
    /// Partners that owe (negative net): nothing settled, carried to the next batch.
    public let carriedForward: [Carried]
    /// Partners owed money but without a bank account: nothing settled, carried to the next batch.
    public let withoutBankAccount: [String]

    enum CodingKeys: String, CodingKey {
        case id, cutoff, total, file, folder, partners, new
        case executionDate = "execution_date"
        case carriedForward = "carried_forward"
        case withoutBankAccount = "without_bank_account"
    }
}

extension Operator {
    /// Adds a partner and, when given, its bank account, in one transaction.
    public func addPartner(_ partner: PartnerRecord, iban: IBAN?, bic: BIC?) throws -> PartnerOutput {
        try ledger.write { tx in
            try tx.addPartner(partner)
            if let iban, let bic { try tx.setPartnerBankAccount(partnerID: partner.id, iban: iban, bic: bic) }
        }
        return PartnerOutput(try ledger.read { try $0.partner(id: partner.id) })
    }

    public func setPartnerBankAccount(partnerID: String, iban: IBAN, bic: BIC) throws {
        try ledger.write { try $0.setPartnerBankAccount(partnerID: partnerID, iban: iban, bic: bic) }
    }

    public func setRegionAccount(_ account: BankAccountRecord) throws {
        try ledger.write { try $0.setRegionAccount(account) }
    }

    public func regionAccount() throws -> BankAccountRecord? {
        try ledger.read { try $0.regionAccount() }
    }

    /// Makes the batch of `cutoff` (one ledger transaction), then writes its files from what was stored.
    /// The lock is held only for the ledger part; should the files fail after the commit, the same
    /// command again writes them (the batch is answered again, unchanged).
    public func reimburse(cutoff: LocalDate, executionDate: LocalDate?, now: Date = Date()) throws -> ReimbursementReport {
        let outcome = try ledger.write(now: now) { try $0.makeReimbursementBatch(cutoff: cutoff, executionDate: executionDate) }
        let batch = outcome.batch
        try BatchFiles.write(batch, directory: layout.directory)
        let folder = BatchFiles.relativeFolder(batchID: batch.id)
        return ReimbursementReport(
            id: batch.id, cutoff: batch.cutoff.iso, executionDate: batch.executionDate.iso, total: batch.totalCents,
            file: batch.paidPartners.isEmpty ? nil : folder + "/" + BatchFiles.transferFileName, folder: folder,
            partners: batch.partners.map {
                .init(id: $0.partnerID, amount: $0.amountCents, operations: $0.lines.count,
                      statement: $0.amountCents > 0 ? "\(folder)/\($0.partnerID).pdf" : nil,
                      csv: $0.amountCents > 0 ? "\(folder)/\($0.partnerID).csv" : nil)
            },
            new: outcome.isNew,
            carriedForward: outcome.carriedForward.map { .init(id: $0.partnerID, amount: $0.netCents) },
            withoutBankAccount: outcome.withoutBankAccount)
    }
}
