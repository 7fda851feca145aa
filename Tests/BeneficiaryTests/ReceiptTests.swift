import Foundation
import HDFDomain
import Receipt
import Testing

/// The receipt as a shop meets it: printed (rendered at 150 dpi by poppler's `pdftoppm`), its barcode read
/// by a scanner (`zbarimg`), its text read back (`pdftotext`). The Debian packages: poppler-utils, zbar-tools.
enum ShopTools {
    static func require(_ names: String..., sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: String] {
        var found: [String: String] = [:]
        for name in names {
            found[name] = try #require(Tools.system(name),
                                       "\(name) is missing: apt-get install -y --no-install-recommends poppler-utils zbar-tools",
                                       sourceLocation: sourceLocation)
        }
        return found
    }

    /// Renders page 1 at 150 dpi and returns what a barcode scanner reads on it, one symbol per line.
    static func scan(pdf: String, keepingImageAt png: String? = nil) async throws -> [String] {
        let tools = try require("pdftoppm", "zbarimg")
        let prefix = (png.map { URL(fileURLWithPath: $0).deletingPathExtension().path }) ?? (pdf + ".scan")
        let render = try await Tools.run(tools["pdftoppm"]!, ["-r", "150", "-png", "-singlefile", pdf, prefix])
        try #require(render.succeeded, "pdftoppm: \(render)")
        let scan = try await Tools.run(tools["zbarimg"]!, ["--raw", "-q", prefix + ".png"])
        if png == nil { try? FileManager.default.removeItem(atPath: prefix + ".png") }
        return scan.stdout.split(separator: "\n").map(String.init)
    }

    static func text(pdf: String) async throws -> String {
        let tools = try require("pdftotext")
        let outcome = try await Tools.run(tools["pdftotext"]!, ["-layout", pdf, "-"])
        try #require(outcome.succeeded, "pdftotext: \(outcome)")
        return outcome.stdout
    }
}

extension BeneficiarySide {
    @Suite("Voucher receipt (PDF)")
    struct ReceiptTests {
        @Test("receipt: one A4 page a shop scans back to the code, with amount, partner and beneficiary (accents intact); the shop then redeems the scanned code")
        func shopScansTheReceipt() async throws {
            let gateway = try await LiveGateway.start("receipt")
            // A beneficiary whose name carries an accent.
            let card = try #require(gateway.fundedCards.first { $0.fullName.unicodeScalars.contains { $0.value > 0x7F } })
            let (_, voucher) = try await gateway.beneficiary.prepay(card.pan, partner: "P002", amount: 1_500)
            let code = try #require(voucher?.string("code"))
            let canonical = code.replacingOccurrences(of: "-", with: "")
            let expires = try #require(voucher?.string("expires").flatMap(LocalDate.init(iso:)))
            let file = gateway.directory + "/bon.pdf"

            let outcome = try await gateway.beneficiary.run("receipt", ["--voucher", code.lowercased(), "--out", file])
            #expect(outcome.succeeded, "\(outcome)")
            let receipt = try #require(outcome.json?["receipt"] as? [String: Any])
            #expect(receipt.string("voucher") == code)
            #expect(receipt.string("file") == file)
            #expect(receipt.string("status") == "issued")

            let bytes = try #require(FileManager.default.contents(atPath: file))
            try expectWellFormedPDF(Array(bytes))

            let png = NSTemporaryDirectory() + "hdf-receipt-issued.png"
            let scanned = try await ShopTools.scan(pdf: file, keepingImageAt: png)
            #expect(scanned == [canonical], "the scanner reads the 12 canonical characters")
            print("receipt rendered at 150 dpi: \(png)")

            let text = try await ShopTools.text(pdf: file)
            for expected in ["Génération #HDF", "15,00 €", "Équipement Pro Lille", "45 rue Nationale", "Lille", card.fullName,
                             card.beneficiary.dossier, "Manuels et équipement", VoucherReceipt.frenchDate(expires), code] {
                #expect(text.contains(expected), "the receipt shows '\(expected)':\n\(text)")
            }
            #expect(!text.contains(card.pan), "never the full card number")
            #expect(text.contains(String(card.pan.prefix(4))) && text.contains(String(card.pan.suffix(4))), "the masked card number")
            #expect(!text.contains("NE PAS ACCEPTER") && !text.contains("NE PLUS ACCEPTER"))

            // The same voucher, the same ledger: the same bytes.
            let again = gateway.directory + "/bon-again.pdf"
            #expect(try await gateway.beneficiary.run("receipt", ["--voucher", code, "--out", again]).succeeded)
            #expect(FileManager.default.contents(atPath: again) == bytes)

            // The shop redeems what its scanner read.
            let t003 = try await gateway.terminal("T003")
            let redeem = try await t003.voucherRedeem(try #require(scanned.first))
            #expect(redeem.code == "00", "\(redeem)")
            #expect(redeem.int("amount") == 1_500)

            // A redeemed voucher still gets a receipt, which says so.
            let redeemed = try await gateway.beneficiary.run("receipt", ["--voucher", code, "--out", file])
            #expect((redeemed.json?["receipt"] as? [String: Any])?.string("status") == "redeemed")
            let redeemedText = try await ShopTools.text(pdf: file)
            #expect(redeemedText.contains("BON DÉJÀ UTILISÉ"), "\(redeemedText)")
            #expect(redeemedText.contains("Déjà utilisé"))
            await t003.close()
            await gateway.stop()
        }

        @Test("receipt of a cancelled voucher says so; an unknown or mistyped code is refused and no file is written")
        func statusesAndRefusals() async throws {
            let gateway = try await LiveGateway.start("receipt-refusals")
            let card = gateway.fundedCards[5]
            let (_, voucher) = try await gateway.beneficiary.prepay(card.pan, partner: "P001", amount: 800)
            let code = try #require(voucher?.string("code"))
            #expect(try await gateway.beneficiary.run("cancel-prepayment", ["--card", card.pan, "--voucher", code]).succeeded)
            let file = gateway.directory + "/annule.pdf"
            let cancelled = try await gateway.beneficiary.run("receipt", ["--voucher", code, "--out", file])
            #expect(cancelled.succeeded, "\(cancelled)")
            #expect((cancelled.json?["receipt"] as? [String: Any])?.string("status") == "cancelled")
            let text = try await ShopTools.text(pdf: file)
            #expect(text.contains("BON ANNULÉ") && text.contains("Annulé par le bénéficiaire") && text.contains("8,00 €"), "\(text)")

            let counts = try gateway.recordCounts()
            let nowhere = gateway.directory + "/never.pdf"
            // Well formed but unknown.
            let unknown = VoucherCode.generate().grouped
            expectRefused(try await gateway.beneficiary.run("receipt", ["--voucher", unknown, "--out", nowhere]),
                          code: "unknown_voucher", messageContains: "unknown voucher")
            // One character changed: the check character tells a typo apart.
            var typo = Array(code)
            let alphabet = VoucherCode.alphabet
            typo[0] = alphabet[(alphabet.firstIndex(of: typo[0])! + 1) % alphabet.count]
            expectRefused(try await gateway.beneficiary.run("receipt", ["--voucher", String(typo), "--out", nowhere]),
                          code: "invalid_voucher_code", messageContains: "mistyped")
            expectRefused(try await gateway.beneficiary.run("receipt", ["--voucher", "ABCD-EFGH", "--out", nowhere]),
                          code: "invalid_voucher_code")
            // A place that cannot be written.
            expectRefused(try await gateway.beneficiary.run("receipt", ["--voucher", code, "--out", gateway.directory + "/no/such/dir/x.pdf"]),
                          code: "cannot_write")
            #expect(!FileManager.default.fileExists(atPath: nowhere), "no file written")
            let plain = try await gateway.beneficiary.run("receipt", ["--voucher", unknown, "--out", nowhere], json: false)
            #expect(plain.status != 0 && plain.stdout.isEmpty && plain.stderr.hasPrefix("error: unknown voucher"), "\(plain)")
            #expect(!FileManager.default.fileExists(atPath: nowhere))
            #expect(try gateway.recordCounts() == counts)
            await gateway.stop()
        }

        @Test("receipt layout from the Receipt library alone: accents in WinAnsi, a long partner name wrapped, every status")
        func libraryLayout() async throws {
            let code = VoucherCode.generate()
            for status in VoucherReceipt.Status.allCases {
                let receipt = VoucherReceipt(
                    code: code, amountCents: 123_456, wallet: .hebergement, expiresOn: LocalDate(year: 2027, month: 2, day: 28)!,
                    issuedOn: LocalDate(year: 2026, month: 8, day: 31)!, status: status,
                    beneficiary: .init(firstName: "Anaïs-Bérénice", lastName: "Œillet-Çağlar", dossier: "HDF-2026-0042"),
                    partner: .init(name: "Résidence étudiante « Les Hortillonnages » – Maison d'accueil des élèves, apprentis et étudiants",
                                   address: "3 chemin de Halage", city: "Amiens"),
                    card: try PAN(validating: "9250123456789013"))
                let file = NSTemporaryDirectory() + "hdf-receipt-layout-\(status.rawValue)-\(UUID().uuidString.prefix(6)).pdf"
                let bytes = receipt.pdf()
                try expectWellFormedPDF(bytes)
                try Data(bytes).write(to: URL(fileURLWithPath: file))
                defer { try? FileManager.default.removeItem(atPath: file) }
                let png = status == .expired ? NSTemporaryDirectory() + "hdf-receipt-layout-expired.png" : nil
                #expect(try await ShopTools.scan(pdf: file, keepingImageAt: png) == [code.canonical], "\(status)")
                if let png { print("receipt of an expired voucher, long names: \(png)") }
                let text = try await ShopTools.text(pdf: file)
                for expected in ["1234,56 €", "Aide à l'hébergement", "28/02/2027", "31/08/2026", "Anaïs-Bérénice", "Œillet-Çaglar",
                                 "« Les Hortillonnages »", status.label] {
                    #expect(text.contains(expected), "\(status): '\(expected)' in:\n\(text)")
                }
                #expect(!text.contains("9250123456789013") && text.contains("9250 **** **** 9013"))
                if let banner = status.banner { #expect(text.contains(banner), "\(status)") }
            }
        }
    }
}

/// PDF 1.4 as written by hand must still be exact: header, one page of 595×842, the two Helvetica fonts
/// in WinAnsiEncoding, every xref offset pointing at its object, startxref at the table.
func expectWellFormedPDF(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let text = String(decoding: bytes, as: UTF8.self)
    #expect(text.hasPrefix("%PDF-1.4\n"), sourceLocation: sourceLocation)
    #expect(text.hasSuffix("%%EOF\n"), sourceLocation: sourceLocation)
    #expect(text.contains("/MediaBox [0 0 595 842]"), sourceLocation: sourceLocation)
    #expect(text.contains("/Type /Pages /Kids [3 0 R] /Count 1"), sourceLocation: sourceLocation)
    #expect(text.contains("/BaseFont /Helvetica /Encoding /WinAnsiEncoding"), sourceLocation: sourceLocation)
    #expect(text.contains("/BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding"), sourceLocation: sourceLocation)

    // startxref → "xref", then each entry's offset → "N 0 obj".
    let tail = String(decoding: bytes.suffix(64), as: UTF8.self)
    let startxrefLines = tail.components(separatedBy: "startxref\n")
    let xrefOffset = try #require(Int(startxrefLines.last?.split(separator: "\n").first ?? ""), sourceLocation: sourceLocation)
    #expect(String(decoding: bytes[xrefOffset..<xrefOffset + 5], as: UTF8.self) == "xref\n", sourceLocation: sourceLocation)
    let table = String(decoding: bytes[xrefOffset...], as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    let header = table[1].split(separator: " ")
    let count = try #require(Int(header[1]), sourceLocation: sourceLocation)
    #expect(table[2] == "0000000000 65535 f ", sourceLocation: sourceLocation)
    for object in 1..<count {
        let entry = table[2 + object]
        #expect(entry.utf8.count == 19 && entry.hasSuffix(" 00000 n "), "20-byte entries: '\(entry)'", sourceLocation: sourceLocation)
        let offset = try #require(Int(entry.prefix(10)), sourceLocation: sourceLocation)
        let expected = "\(object) 0 obj\n"
        #expect(String(decoding: bytes[offset..<offset + expected.utf8.count], as: UTF8.self) == expected,
                "object \(object) at \(offset)", sourceLocation: sourceLocation)
    }
    #expect(text.contains("trailer\n<< /Size \(count) /Root 1 0 R"), sourceLocation: sourceLocation)
    // The content stream's /Length is its byte count.
    let streamStart = try #require(text.range(of: "stream\n"), sourceLocation: sourceLocation)
    let lengthText = text[..<streamStart.lowerBound].components(separatedBy: "/Length ").last?.split(separator: " ").first
    let length = try #require(lengthText.flatMap { Int($0) }, sourceLocation: sourceLocation)
    let body = text.utf8[streamStart.upperBound...]
    #expect(String(decoding: body.dropFirst(length).prefix(9), as: UTF8.self) == "endstream", sourceLocation: sourceLocation)
}
