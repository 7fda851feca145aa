import Documents
import Foundation
import Receipt
import Testing

/// The documents of "Mes documents", read back by poppler (pdfinfo, pdftotext): an independent PDF reader.
@Suite("Documents: the Règlement général and the flyer as PDF")
struct DocumentsTests {
    func write(_ bytes: [UInt8], name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("documents-\(UUID().uuidString)-\(name)")
        try Data(bytes).write(to: url)
        return url
    }

    func pdfinfo(_ url: URL) throws -> [String: String] {
        let output = try ProcessRunner.run("/usr/bin/pdfinfo", [url.path])
        var fields: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    func pdftotext(_ url: URL, page: Int? = nil) throws -> String {
        var arguments = ["-enc", "UTF-8"]
        if let page { arguments += ["-f", String(page), "-l", String(page)] }
        return try ProcessRunner.run("/usr/bin/pdftotext", arguments + [url.path, "-"])
    }

    /// Poppler reads words split over lines and spaces as they are: compare with whitespace collapsed.
    func collapsed(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    @Test("the Règlement général: several pages, its title and every article read back, each page numbered")
    func reglement() throws {
        let document = ProgrammeDocument.reglementGeneral
        let url = try write(document.pdf(), name: document.fileName)
        defer { try? FileManager.default.removeItem(at: url) }
        let info = try pdfinfo(url)
        let pages = try #require(Int(info["Pages"] ?? ""))
        #expect((3...8).contains(pages), "a few pages: \(pages)")
        #expect(info["Title"] == "Règlement général")
        #expect(info["Page size"]?.hasPrefix("595 x 842") == true)
        let text = collapsed(try pdftotext(url))
        #expect(text.hasPrefix("Règlement général Carte Génération #HDF"))
        for needle in ["Qui peut en bénéficier", "lycéen", "apprenti", "école de production", "porte-monnaie",
                       "Manuels et équipement (MANUELS)", "valable 6 mois à compter de son chargement", "Prépaiements",
                       "« Imprimer »", "« Annuler »", "Paiements en ligne", "Extranet Bénéficiaire",
                       "Seul le partenaire peut annuler un paiement en ligne", "Carte perdue, volée ou endommagée",
                       "0800 026 080", "Protection des données personnelles", "CNIL", "5 mots de passe erronés"] {
            #expect(text.contains(needle), "\(needle)")
        }
        for page in 1...pages {
            #expect(collapsed(try pdftotext(url, page: page)).contains("Page \(page) / \(pages)"))
        }
        // The same bytes every time: a download can be cached and compared.
        #expect(document.pdf() == document.pdf())
    }

    @Test("the flyer: one page, its title, the wallets and the help line")
    func flyer() throws {
        let document = ProgrammeDocument.flyer
        let url = try write(document.pdf(), name: document.fileName)
        defer { try? FileManager.default.removeItem(at: url) }
        let info = try pdfinfo(url)
        #expect(info["Pages"] == "1")
        #expect(info["Title"] == "Flyer Génération #HDF")
        let text = collapsed(try pdftotext(url))
        for needle in ["Génération #HDF", "La carte des jeunes des Hauts-de-France", "Manuels et équipement", "Transport",
                       "Hébergement", "Restauration", "Comment ça marche ?", "Un problème de carte ?", "0800 026 080"] {
            #expect(text.contains(needle), "\(needle)")
        }
    }

    @Test("documents are found by their slug only; titles and file names as the page shows them")
    func catalogue() {
        #expect(ProgrammeDocument.allCases.map(\.title) == ["Règlement général", "Flyer Génération #HDF"])
        #expect(ProgrammeDocument.allCases.map(\.fileName) == ["reglement-general.pdf", "flyer-generation-hdf.pdf"])
        #expect(ProgrammeDocument(slug: "reglement-general") == .reglementGeneral)
        #expect(ProgrammeDocument(slug: "../etc/passwd") == nil)
        #expect(ProgrammeDocument(slug: "Reglement-General") == nil)
    }

    @Test("multi-page PDF writer: pages in order, every xref offset at its object, one page laid out as before")
    func multiPageWriter() throws {
        var pages: [PDFPage] = []
        for index in 1...3 {
            var page = PDFPage()
            page.text("Page numéro \(index)", x: 72, y: 700, font: .helveticaBold, size: 20)
            pages.append(page)
        }
        let bytes = PDFDocument.bytes(pages: pages, title: "Trois pages")
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("/Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3"))
        // startxref → the table; each entry's offset → "N 0 obj".
        let startxref = try #require(text.range(of: "startxref\n", options: .backwards))
        let xrefOffset = try #require(Int(text[startxref.upperBound...].prefix { $0.isNumber }))
        let table = Array(bytes[xrefOffset...])
        let tableText = String(decoding: table, as: UTF8.self).split(separator: "\n")
        #expect(tableText[0] == "xref")
        let count = try #require(Int(tableText[1].split(separator: " ")[1]))
        #expect(count == 1 + 1 + 3 + 2 + 3 + 1 + 1)  // catalog, tree, 3 pages, 2 fonts, 3 contents, info, and entry 0
        for object in 1..<count {
            let offset = try #require(Int(tableText[2 + object].prefix(10)))
            #expect(String(decoding: bytes[offset..<offset + "\(object) 0 obj\n".utf8.count], as: UTF8.self) == "\(object) 0 obj\n")
        }
        let url = try write(bytes, name: "trois.pdf")
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(try pdfinfo(url)["Pages"] == "3")
        for index in 1...3 { #expect(collapsed(try pdftotext(url, page: index)) == "Page numéro \(index)") }
        // One page: the layout the receipt has always had (page 3, fonts 4–5, content 6, info 7).
        let single = String(decoding: PDFDocument.bytes(page: pages[0], title: "Une"), as: UTF8.self)
        #expect(single.contains("/Kids [3 0 R] /Count 1") && single.contains("/Contents 6 0 R") && single.contains("/Info 7 0 R"))
    }
}
