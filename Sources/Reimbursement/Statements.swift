import Foundation
import HDFDomain
import Ledger
import Receipt

/// A partner's statement of one batch, as a `;`-separated CSV (French decimal commas) and a PDF
/// "Relevé de remboursement". Both list every operation of the batch for that partner; their amounts
/// add up to the transfer.
public enum PartnerStatement {
    /// Table rows on the first page (under the header) and on each following page.
    public static let rowsOnFirstPage = 34
    public static let rowsPerFollowingPage = 48

    /// The operation's kind as a partner reads it.
    public static func kindLabel(_ kind: String) -> String {
        switch kind {
        case "purchase": return "achat carte"
        case "voucher": return "bon de prépaiement"
        case "online": return "paiement en ligne"
        case "cancellation": return "annulation"
        case "reversal": return "annulation par le terminal"
        default: return kind
        }
    }

    /// "12,34" / "-5,00": French decimal comma, no currency, no thousands separator (spreadsheets read it).
    public static func frenchDecimal(cents: Int64) -> String {
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        let rest = magnitude % 100
        return "\(sign)\(magnitude / 100),\(rest < 10 ? "0" : "")\(rest)"
    }

    /// Paris local date and time, "2026-12-01 14:05:09".
    public static func localDateTime(millis: Int64) -> String {
        let iso = ParisCalendar.isoTimestamp(millis: millis)
        return String(iso.prefix(10)) + " " + String(iso.dropFirst(11).prefix(8))
    }

    public static let csvHeader = "date;transaction;operation;carte;montant_eur"

    /// One line per operation, CRLF line ends (RFC 4180), no total line (the lines alone add up to the transfer).
    public static func csv(_ partner: ReimbursementPartner) -> Data {
        var text = csvHeader + "\r\n"
        for line in partner.lines {
            let fields = [localDateTime(millis: line.occurredAtMillis), line.txn, kindLabel(line.kind), line.cardMasked,
                          frenchDecimal(cents: line.amountCents)]
            // None of these can hold a ';', a quote or a line break (ids, masks, fixed labels, digits).
            text += fields.joined(separator: ";") + "\r\n"
        }
        return Data(text.utf8)
    }

    public static func frenchDate(_ day: LocalDate) -> String {
        String(format: "%02d/%02d/%04d", day.day, day.month, day.year)
    }

    public static func pdf(_ partner: ReimbursementPartner, batch: ReimbursementBatch) -> [UInt8] {
        let left = 48.0, right = PDFPage.a4Width - 48
        let columns: [(title: String, x: Double)] = [("Date", left), ("Transaction", left + 110), ("Opération", left + 220),
                                                     ("Carte", left + 340)]
        var pages: [PDFPage] = []
        var remaining = partner.lines[...]
        var pageNumber = 0
        let pageCount = partner.lines.count <= rowsOnFirstPage ? 1
            : 1 + (partner.lines.count - rowsOnFirstPage + rowsPerFollowingPage - 1) / rowsPerFollowingPage
        repeat {
            pageNumber += 1
            var page = PDFPage()
            var y = PDFPage.a4Height - 60
            if pageNumber == 1 {
                page.text("Relevé de remboursement", x: left, y: y, font: .helveticaBold, size: 18)
                y -= 22
                page.text("Génération #HDF — \(batch.debtor.name)", x: left, y: y, font: .helvetica, size: 10)
                y -= 28
                let details: [(String, String)] = [
                    ("Partenaire", "\(partner.name) (\(partner.partnerID))"),
                    ("Lot de remboursement", batch.id),
                    ("Opérations jusqu'au", frenchDate(batch.cutoff) + " inclus (heure de Paris)"),
                    ("Virement demandé pour le", frenchDate(batch.executionDate)),
                    ("Compte crédité", partner.iban.map { "IBAN \($0.masked), BIC \(partner.bic?.code ?? "")" } ?? "aucun virement"),
                    ("Référence du virement", partner.endToEndID ?? "aucune"),
                    ("Nombre d'opérations", String(partner.lines.count)),
                    ("Montant du virement", Money.display(cents: partner.amountCents)),
                ]
                for (label, value) in details {
                    page.text(label, x: left, y: y, font: .helvetica, size: 10)
                    page.text(value, x: left + 160, y: y, font: .helveticaBold, size: 10)
                    y -= 15
                }
                y -= 12
                page.wrappedText("Chaque ligne est une opération encaissée (montant positif) ou annulée (montant négatif). "
                                 + "Le total des lignes est le montant du virement.", x: left, y: y, width: right - left,
                                 font: .helvetica, size: 9, leading: 12)
                y -= 30
            }
            for column in columns { page.text(column.title, x: column.x, y: y, font: .helveticaBold, size: 9) }
            page.rightAlignedText("Montant", rightX: right, y: y, font: .helveticaBold, size: 9)
            y -= 4
            page.line(from: (left, y), to: (right, y), lineWidth: 0.5)
            y -= 12
            let rows = remaining.prefix(pageNumber == 1 ? rowsOnFirstPage : rowsPerFollowingPage)
            remaining = remaining.dropFirst(rows.count)
            for line in rows {
                page.text(localDateTime(millis: line.occurredAtMillis), x: columns[0].x, y: y, font: .helvetica, size: 8)
                page.text(line.txn, x: columns[1].x, y: y, font: .helvetica, size: 8)
                page.text(kindLabel(line.kind), x: columns[2].x, y: y, font: .helvetica, size: 8)
                page.text(line.cardMasked, x: columns[3].x, y: y, font: .helvetica, size: 8)
                page.rightAlignedText(Money.display(cents: line.amountCents), rightX: right, y: y, font: .helvetica, size: 8)
                y -= 13
            }
            if remaining.isEmpty {
                y -= 2
                page.line(from: (left, y + 8), to: (right, y + 8), lineWidth: 0.5)
                page.text("Total", x: left, y: y - 4, font: .helveticaBold, size: 10)
                page.rightAlignedText(Money.display(cents: partner.amountCents), rightX: right, y: y - 4, font: .helveticaBold, size: 10)
            }
            page.centredText("Page \(pageNumber) sur \(pageCount)", centreX: PDFPage.a4Width / 2, y: 30, font: .helvetica, size: 8)
            pages.append(page)
        } while !remaining.isEmpty
        return PDFDocument.bytes(pages: pages, title: "Relevé de remboursement \(batch.id) — \(partner.partnerID)")
    }
}
