import Foundation
import HDFDomain
import Receipt
import Testing

extension BeneficiarySide {
    @Suite("Receipt building blocks: Code 128, WinAnsi, PDF")
    struct Code128Tests {
        @Test("every symbol is 11 modules (3 bars, 3 spaces), the stop 13; start B, check, stop around the data")
        func symbolShapes() throws {
            let values = try Code128.symbolValues("HDF")
            #expect(values.first == 104 && values.last == 106)
            #expect(Array(values[1...3]) == [40, 36, 38])
            #expect(values[4] == (104 + 1 * 40 + 2 * 36 + 3 * 38) % 103)
            #expect(try Code128.moduleCount("HDF") == 11 * 5 + 13)
            for character in (32...126).map({ Character(UnicodeScalar(UInt8($0))) }) {
                let runs = try Code128.runs(String(character))
                #expect(runs.count == 6 * 3 + 7)
                #expect(runs.allSatisfy { (1...4).contains($0) })
            }
            #expect(throws: Code128.Invalid.notPrintableASCII("é")) { try Code128.symbolValues("é") }
            #expect(throws: Code128.Invalid.empty) { try Code128.symbolValues("") }
        }

        /// The whole table against an independent decoder: every printable ASCII character as data, and every
        /// check value 0...102 (values 95...102 only ever appear as check symbols), several symbols per page.
        @Test("zbar reads back every data value and every check value, rendered at 150 dpi")
        func zbarReadsTheWholeTable() async throws {
            var texts: [String] = []
            let printable = (33...126).map { Character(UnicodeScalar(UInt8($0))) }
            for start in stride(from: 0, to: printable.count, by: 12) {
                texts.append(String(printable[start..<min(start + 12, printable.count)]))
            }
            texts.append("A B")  // the space (value 0) inside
            var seenChecks = Set(try texts.map { try Code128.symbolValues($0).dropLast().last! })
            // Two-character texts reaching every check value not yet covered.
            outer: for check in 0...102 where !seenChecks.contains(check) {
                for a in printable {
                    for b in "23456789ABCDEFGHJKMNPQRSTUVWXYZ" {
                        let text = String([a, b])
                        if try Code128.symbolValues(text).dropLast().last! == check {
                            texts.append(text)
                            seenChecks.insert(check)
                            continue outer
                        }
                    }
                }
            }
            #expect(seenChecks == Set(0...102))

            // zbar treats a few characters specially in raw output; compare line by line per page.
            let perPage = 10
            for pageStart in stride(from: 0, to: texts.count, by: perPage) {
                let batch = Array(texts[pageStart..<min(pageStart + perPage, texts.count)])
                var page = PDFPage()
                for (index, text) in batch.enumerated() {
                    // One symbol per band, 1.44 pt modules (3 px at 150 dpi), wide white margins between bands.
                    try page.code128(text, x: 72, bottom: 760 - Double(index) * 78, module: 1.44, height: 50)
                }
                let file = NSTemporaryDirectory() + "hdf-code128-\(pageStart)-\(UUID().uuidString.prefix(6)).pdf"
                try Data(PDFDocument.bytes(page: page, title: "Code 128")).write(to: URL(fileURLWithPath: file))
                defer { try? FileManager.default.removeItem(atPath: file) }
                let read = try await ShopTools.scan(pdf: file)
                #expect(Set(read) == Set(batch), "page \(pageStart / perPage): read \(read), expected \(batch)")
            }
        }

        @Test("WinAnsi: French accents and € as code page 1252 bytes, Helvetica's widths")
        func winAnsi() {
            #expect(WinAnsi.encode("é è à ç É €") == [0xE9, 0x20, 0xE8, 0x20, 0xE0, 0x20, 0xE7, 0x20, 0xC9, 0x20, 0x80])
            #expect(WinAnsi.encode("œŒ’«»–…") == [0x9C, 0x8C, 0x92, 0xAB, 0xBB, 0x96, 0x85])
            #expect(WinAnsi.encode("a\u{202F}b\u{00A0}ğ中") == [0x61, 0xA0, 0x62, 0xA0, 0x67, 0x3F])
            #expect(WinAnsi.width("é", font: .helvetica, size: 10) == WinAnsi.width("e", font: .helvetica, size: 10))
            #expect(WinAnsi.width("€", font: .helveticaBold, size: 1000) == 556)
            #expect(WinAnsi.width("Wi", font: .helvetica, size: 1000) == 944 + 222)
        }

        @Test("PDF strings: parentheses and backslashes escaped, bytes outside ASCII as octal")
        func pdfLiteral() {
            var page = PDFPage()
            page.text("(a\\b) 15,00 €", x: 1, y: 2, font: .helvetica, size: 10)
            let bytes = PDFDocument.bytes(page: page, title: "t")
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.contains(#"(\(a\\b\) 15,00 \200) Tj"#))
            #expect(bytes.dropFirst(15).allSatisfy { $0 < 0x80 }, "7-bit after the binary comment line")
        }
    }
}
