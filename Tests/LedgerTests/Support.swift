import Foundation
import HDFDomain
import Ledger
import Testing

/// A ledger of its own in a fresh temporary directory, removed when the value goes away.
final class TempLedger {
    let directory: URL
    let ledger: Ledger

    init(actor: String = "test") throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hdf-ledgertests-\(UUID().uuidString.prefix(12))", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        ledger = try Ledger(path: directory.appendingPathComponent("ledger.sqlite").path, actor: actor)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    var path: String { directory.appendingPathComponent("ledger.sqlite").path }
}

/// The partners every test environment starts with (ids, wallets, what they accept, their terminals).
struct PartnerSpec: Sendable {
    let id: String
    let wallets: [WalletCode]
    let prepayment: Bool
    let online: Bool
    let terminals: [String]

    var record: PartnerRecord {
        PartnerRecord(id: id, name: "Partenaire \(id)", category: .equipement, city: "Lille",
                      acceptsPrepayment: prepayment, acceptsOnline: online, wallets: wallets)
    }

    static let all: [PartnerSpec] = [
        // Books and equipment: prepayment and online, two terminals.
        PartnerSpec(id: "PLIB", wallets: [.manuels], prepayment: true, online: true, terminals: ["TLIB1", "TLIB2"]),
        // Restaurant also selling equipment: prepayment only.
        PartnerSpec(id: "PRESTO", wallets: [.manuels, .restauration], prepayment: true, online: false, terminals: ["TRESTO1"]),
        // Transport: online only.
        PartnerSpec(id: "PTRANS", wallets: [.transport], prepayment: false, online: true, terminals: ["TTRANS1"]),
        // Lodging: neither prepayment nor online.
        PartnerSpec(id: "PHEB", wallets: [.hebergement], prepayment: false, online: false, terminals: ["THEB1"]),
        // Every wallet: where the choice among several wallets (expiry, ties by code) matters most.
        PartnerSpec(id: "PALL", wallets: WalletCode.allCases, prepayment: true, online: true, terminals: ["TALL1"]),
    ]

    static func of(terminal: String) -> PartnerSpec { all.first { $0.terminals.contains(terminal) }! }
    static func named(_ id: String) -> PartnerSpec { all.first { $0.id == id }! }
    static var allTerminals: [String] { all.flatMap(\.terminals) }
}

extension LedgerTransaction {
    /// Adds the standard partners and enrolls their terminals.
    func addStandardPartners() throws {
        for spec in PartnerSpec.all {
            try addPartner(spec.record)
            for terminal in spec.terminals {
                try enrollTerminal(id: terminal, partnerID: spec.id, certificateSHA256: String(repeating: "ab", count: 32))
            }
        }
    }

    func issueTestCard(_ index: Int) throws -> CardRecord {
        try issueCard(beneficiary: BeneficiaryRecord(dossier: "DOS-\(index)", firstName: "Prénom\(index)", lastName: "Nom\(index)"))
    }

    func availableCents(pan: PAN, _ code: WalletCode) throws -> Int64? {
        let card = try card(pan: pan)
        return try wallets(cardID: card.id).first { $0.code == code }?.availableCents
    }
}

/// An instant on a Europe/Paris business day, `hour`:`minute` Paris time.
func parisInstant(_ year: Int, _ month: Int, _ day: Int, hour: Int = 12, minute: Int = 0) -> Date {
    let date = LocalDate(year: year, month: month, day: day)!
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = ParisCalendar.timeZone
    return calendar.date(from: DateComponents(year: date.year, month: date.month, day: date.day, hour: hour, minute: minute))!
}

func day(_ iso: String) -> LocalDate { LocalDate(iso: iso)! }

/// Everything that must not change when an operation is refused: the account totals, the row counts of
/// every table, and the statuses and dates that operations update.
struct LedgerSnapshot: Equatable, CustomStringConvertible {
    var lines: [String]

    init(_ connection: SQLiteConnection) throws {
        var lines: [String] = []
        for table in ["accounts", "transfers", "beneficiaries", "cards", "wallets", "partners", "partner_wallets",
                      "terminals", "loads", "payments", "cancellations", "vouchers", "stans", "audit"] {
            lines.append("\(table): \(try connection.scalarInt("SELECT COUNT(*) FROM \(table)") ?? -1)")
        }
        lines += try connection.rows("""
            SELECT id, kind, name, debits_posted, credits_posted, debits_pending, credits_pending FROM accounts ORDER BY id
            """) { "account \($0.int(0)) \($0.text(1)) \($0.text(2)) \($0.int(3)) \($0.int(4)) \($0.int(5)) \($0.int(6))" }
        lines += try connection.rows("SELECT id, status, last_atc FROM cards ORDER BY id") { "card \($0.int(0)) \($0.text(1)) \($0.int(2))" }
        lines += try connection.rows("SELECT id, code, loaded_on, expires_on FROM wallets ORDER BY id") {
            "wallet \($0.int(0)) \($0.text(1)) \($0.text(2)) \($0.text(3))"
        }
        lines += try connection.rows("SELECT code, status, hold_transfer_id, COALESCE(resolved_at_ms, -1) FROM vouchers ORDER BY code") {
            "voucher \($0.text(0)) \($0.text(1)) \($0.int(2)) \($0.int(3))"
        }
        lines += try connection.rows("SELECT txn, status, COALESCE(undo_transfer_id, -1) FROM payments ORDER BY txn") {
            "payment \($0.text(0)) \($0.text(1)) \($0.int(2))"
        }
        lines += try connection.rows("SELECT id, status FROM terminals ORDER BY id") { "terminal \($0.text(0)) \($0.text(1))" }
        self.lines = lines
    }

    var description: String { lines.joined(separator: "\n") }

    /// The lines that differ, for a readable failure.
    func difference(from other: LedgerSnapshot) -> String {
        let mine = Set(lines), theirs = Set(other.lines)
        return "only before: \(other.lines.filter { !mine.contains($0) }) only after: \(lines.filter { !theirs.contains($0) })"
    }
}

/// The LedgerError a body threw, or nil (recording an issue when something else was thrown).
func ledgerError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> LedgerError? {
    do {
        try body()
        return nil
    } catch let error as LedgerError {
        return error
    } catch {
        Issue.record("expected a LedgerError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
