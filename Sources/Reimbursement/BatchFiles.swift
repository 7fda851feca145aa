import Foundation
import Ledger

/// Writes a batch's files in `DIR/reimbursements/BATCH/`: `virements.xml` (when someone is paid) and,
/// per partner paid, `PARTNER.pdf` and `PARTNER.csv`. The files are a pure rendering of the batch as
/// stored in the ledger (no clock, no randomness), so writing a batch again gives the same bytes: a
/// repeated cutoff, or one whose files were lost after its commit, writes them again; a folder whose
/// files differ from the ledger is reported, never overwritten.
public enum BatchFiles {
    public static let folderName = "reimbursements"
    public static let transferFileName = "virements.xml"

    public enum Failure: Error, CustomStringConvertible {
        case differs(folder: String, file: String)
        public var description: String {
            switch self {
            case .differs(let folder, let file):
                return "\(folder)/\(file) differs from the batch in the ledger: left as it is (move the folder away to write it again)"
            }
        }
    }

    /// The files, by name, in memory.
    public static func render(_ batch: ReimbursementBatch) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let paid = batch.paidPartners
        if !paid.isEmpty { files[transferFileName] = try SEPACreditTransfer.xml(for: batch) }
        for partner in paid {
            files["\(partner.partnerID).csv"] = PartnerStatement.csv(partner)
            files["\(partner.partnerID).pdf"] = Data(PartnerStatement.pdf(partner, batch: batch))
        }
        return files
    }

    /// The batch's folder, relative to DIR.
    public static func relativeFolder(batchID: String) -> String { "\(folderName)/\(batchID)" }

    /// Writes the batch's folder under `directory` (DIR): in a temporary folder first, renamed into place
    /// whole. Returns the folder's path.
    @discardableResult
    public static func write(_ batch: ReimbursementBatch, directory: String) throws -> String {
        let fileManager = FileManager.default
        let parent = directory + "/" + folderName
        let folder = parent + "/" + batch.id
        try fileManager.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let files = try render(batch)
        if fileManager.fileExists(atPath: folder) {
            for (name, data) in files.sorted(by: { $0.key < $1.key }) {
                let path = folder + "/" + name
                if let existing = fileManager.contents(atPath: path) {
                    guard existing == data else { throw Failure.differs(folder: relativeFolder(batchID: batch.id), file: name) }
                } else {
                    try data.write(to: URL(fileURLWithPath: path), options: .atomic)
                }
            }
            return folder
        }
        let temporary = parent + "/.\(batch.id).tmp-\(UUID().uuidString.prefix(8))"
        try fileManager.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        do {
            for (name, data) in files {
                try data.write(to: URL(fileURLWithPath: temporary + "/" + name))
            }
            try fileManager.moveItem(atPath: temporary, toPath: folder)
        } catch {
            try? fileManager.removeItem(atPath: temporary)
            throw error
        }
        return folder
    }
}
