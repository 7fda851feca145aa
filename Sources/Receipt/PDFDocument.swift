/// A PDF 1.4 written by hand (one page, or several through `PDFDocument.bytes(pages:)`): catalog, page tree, the pages, the two standard Helvetica fonts in
/// WinAnsiEncoding (not embedded: every PDF reader has them), one uncompressed content stream, an
/// information dictionary, and a cross-reference table with each object's byte offset.
///
/// The page is drawn through `PDFPage`: text (`text`, `centredText`, `wrappedText`), filled rectangles
/// and stroked lines. Coordinates are PDF points (1/72 inch) from the bottom-left corner.
public struct PDFPage {
    public static let a4Width = 595.0
    public static let a4Height = 842.0

    public let width: Double
    public let height: Double
    private(set) var content: [UInt8] = []

    public init(width: Double = PDFPage.a4Width, height: Double = PDFPage.a4Height) {
        self.width = width
        self.height = height
    }

    /// An RGB colour, each component 0...1.
    public struct Colour: Sendable, Equatable {
        public let red, green, blue: Double
        public init(_ red: Double, _ green: Double, _ blue: Double) {
            self.red = red
            self.green = green
            self.blue = blue
        }
        public static let black = Colour(0, 0, 0)
        public static let white = Colour(1, 1, 1)
        var operands: String { "\(PDFPage.number(red)) \(PDFPage.number(green)) \(PDFPage.number(blue))" }
    }

    mutating func append(_ text: String) {
        content.append(contentsOf: Array(text.utf8))
    }

    /// A number as PDF writes it: at most 3 decimals, no exponent, no trailing zeros.
    static func number(_ value: Double) -> String {
        let thousandths = Int64((value * 1000).rounded())
        let sign = thousandths < 0 ? "-" : ""
        let magnitude = thousandths.magnitude
        let whole = magnitude / 1000
        var fraction = magnitude % 1000
        guard fraction != 0 else { return sign + String(whole) }
        var digits = 3
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let text = String(fraction)
        return sign + String(whole) + "." + String(repeating: "0", count: digits - text.count) + text
    }

    /// A PDF literal string of WinAnsi bytes: `(`, `)` and `\` escaped, anything outside printable
    /// ASCII written as an octal escape (the file stays 7-bit text).
    static func literal(_ bytes: [UInt8]) -> String {
        var out = "("
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\\"):
                out += "\\" + String(UnicodeScalar(byte))
            case 0x20...0x7E:
                out += String(UnicodeScalar(byte))
            default:
                let octal = String(byte, radix: 8)
                out += "\\" + String(repeating: "0", count: 3 - octal.count) + octal
            }
        }
        return out + ")"
    }

    /// One line of text whose baseline starts at (x, y).
    public mutating func text(_ text: String, x: Double, y: Double, font: WinAnsi.Font, size: Double,
                              colour: Colour = .black) {
        append("BT /\(font.resourceName) \(Self.number(size)) Tf \(colour.operands) rg \(Self.number(x)) \(Self.number(y)) Td "
               + Self.literal(WinAnsi.encode(text)) + " Tj ET\n")
    }

    /// One line centred on `centreX`.
    public mutating func centredText(_ text: String, centreX: Double, y: Double, font: WinAnsi.Font, size: Double,
                                     colour: Colour = .black) {
        self.text(text, x: centreX - WinAnsi.width(text, font: font, size: size) / 2, y: y, font: font, size: size, colour: colour)
    }

    /// One line ending at `rightX`.
    public mutating func rightAlignedText(_ text: String, rightX: Double, y: Double, font: WinAnsi.Font, size: Double,
                                          colour: Colour = .black) {
        self.text(text, x: rightX - WinAnsi.width(text, font: font, size: size), y: y, font: font, size: size, colour: colour)
    }

    /// Text broken into lines at most `width` wide, at most `maximumLines` of them (the last one ends in
    /// "…" when text is left over); the first baseline at `y`, then every `leading` points down.
    /// Returns the baseline below the last line written.
    @discardableResult
    public mutating func wrappedText(_ text: String, x: Double, y: Double, width: Double, font: WinAnsi.Font, size: Double,
                                     leading: Double, maximumLines: Int = .max, colour: Colour = .black) -> Double {
        let lines = Self.wrap(text, width: width, font: font, size: size, maximumLines: maximumLines)
        var baseline = y
        for line in lines {
            self.text(line, x: x, y: baseline, font: font, size: size, colour: colour)
            baseline -= leading
        }
        return baseline
    }

    /// Breaks text at spaces into lines at most `width` wide; a word wider than a line is cut.
    public static func wrap(_ text: String, width: Double, font: WinAnsi.Font, size: Double, maximumLines: Int = .max) -> [String] {
        func fits(_ line: String) -> Bool { WinAnsi.width(line, font: font, size: size) <= width }
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true).map(String.init) {
            let candidate = current.isEmpty ? word : current + " " + word
            if fits(candidate) {
                current = candidate
                continue
            }
            if !current.isEmpty { lines.append(current) }
            current = word
            while !fits(current) {
                // A single word wider than the line: cut it where it stops fitting.
                var head = ""
                for character in current {
                    if !fits(head + String(character)) { break }
                    head.append(character)
                }
                if head.isEmpty { head = String(current.first!) }
                lines.append(head)
                current = String(current.dropFirst(head.count))
            }
        }
        if !current.isEmpty { lines.append(current) }
        guard lines.count > maximumLines, maximumLines > 0 else { return lines }
        var kept = Array(lines.prefix(maximumLines))
        var last = kept[maximumLines - 1]
        while !last.isEmpty && !fits(last + "…") { last.removeLast() }
        kept[maximumLines - 1] = last.trimmingSuffixSpaces() + "…"
        return kept
    }

    /// A filled rectangle, (x, y) its bottom-left corner.
    public mutating func fill(x: Double, y: Double, width: Double, height: Double, colour: Colour = .black) {
        append("\(colour.operands) rg \(Self.number(x)) \(Self.number(y)) \(Self.number(width)) \(Self.number(height)) re f\n")
    }

    /// Several filled rectangles of one colour, painted at once.
    public mutating func fill(rectangles: [(x: Double, y: Double, width: Double, height: Double)], colour: Colour = .black) {
        guard !rectangles.isEmpty else { return }
        append("\(colour.operands) rg\n")
        for r in rectangles {
            append("\(Self.number(r.x)) \(Self.number(r.y)) \(Self.number(r.width)) \(Self.number(r.height)) re\n")
        }
        append("f\n")
    }

    /// A Code 128 (subset B) symbol of `text`: its bars as filled rectangles, the first one's left edge at
    /// `x`, `module` points per narrow module. The quiet zones (10 modules each side) are the caller's to keep
    /// white. Returns the symbol's width.
    @discardableResult
    public mutating func code128(_ text: String, x: Double, bottom: Double, module: Double, height: Double) throws(Code128.Invalid) -> Double {
        let runs = try Code128.runs(text)
        var left = x
        var bars: [(x: Double, y: Double, width: Double, height: Double)] = []
        for (index, run) in runs.enumerated() {
            let width = Double(run) * module
            if index % 2 == 0 { bars.append((left, bottom, width, height)) }
            left += width
        }
        fill(rectangles: bars)
        return left - x
    }

    /// A rectangle's outline.
    public mutating func stroke(x: Double, y: Double, width: Double, height: Double, lineWidth: Double = 1,
                                colour: Colour = .black, dash: Double? = nil) {
        append("q \(Self.number(lineWidth)) w \(colour.operands) RG ")
        if let dash { append("[\(Self.number(dash)) \(Self.number(dash))] 0 d ") }
        append("\(Self.number(x)) \(Self.number(y)) \(Self.number(width)) \(Self.number(height)) re S Q\n")
    }

    /// A straight line.
    public mutating func line(from start: (x: Double, y: Double), to end: (x: Double, y: Double), lineWidth: Double = 1,
                              colour: Colour = .black) {
        append("q \(Self.number(lineWidth)) w \(colour.operands) RG \(Self.number(start.x)) \(Self.number(start.y)) m "
               + "\(Self.number(end.x)) \(Self.number(end.y)) l S Q\n")
    }
}

extension String {
    fileprivate func trimmingSuffixSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}

public enum PDFDocument {
    /// More pages than this in one document is a runaway loop, not a document of ours.
    public static let maximumPages = 500

    /// The bytes of a PDF 1.4 file holding `page`. `title` goes to the information dictionary (UTF-16BE,
    /// so any character is kept) and `language` to the catalog.
    public static func bytes(page: PDFPage, title: String, language: String = "fr-FR", producer: String = "hdf-gateway") -> [UInt8] {
        bytes(pages: [page], title: title, language: language, producer: producer)
    }

    /// The bytes of a PDF 1.4 file holding `pages` in order (1 to `maximumPages` of them; the caller's bug
    /// otherwise). Objects: 1 catalog, 2 page tree, the pages, the fonts, one content stream per page, the
    /// information dictionary; a one-page document is laid out exactly as before multi-page existed.
    public static func bytes(pages: [PDFPage], title: String, language: String = "fr-FR", producer: String = "hdf-gateway") -> [UInt8] {
        precondition((1...maximumPages).contains(pages.count), "a PDF holds 1 to \(maximumPages) pages, not \(pages.count)")
        let fonts = WinAnsi.Font.allCases
        var objects: [String] = []
        let firstPage = 3
        let firstFont = firstPage + pages.count
        let firstContent = firstFont + fonts.count
        let infoObject = firstContent + pages.count
        objects.append("<< /Type /Catalog /Pages 2 0 R /Lang \(PDFPage.literal(Array(language.utf8))) >>")
        let kids = (0..<pages.count).map { "\(firstPage + $0) 0 R" }.joined(separator: " ")
        objects.append("<< /Type /Pages /Kids [\(kids)] /Count \(pages.count) >>")
        let fontEntries = fonts.enumerated().map { "/\($1.resourceName) \(firstFont + $0) 0 R" }.joined(separator: " ")
        for (index, page) in pages.enumerated() {
            objects.append("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 \(PDFPage.number(page.width)) \(PDFPage.number(page.height))] "
                           + "/Resources << /Font << \(fontEntries) >> /ProcSet [/PDF /Text] >> /Contents \(firstContent + index) 0 R >>")
        }
        for font in fonts {
            objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /\(font.rawValue) /Encoding /WinAnsiEncoding >>")
        }
        for page in pages {
            let stream = String(decoding: page.content, as: UTF8.self)
            objects.append("<< /Length \(page.content.count) >>\nstream\n" + stream + "endstream")
        }
        objects.append("<< /Title \(utf16Hex(title)) /Producer \(utf16Hex(producer)) >>")
        assert(objects.count == infoObject)

        return file(objects: objects, infoObject: infoObject)
    }

    /// The file around numbered objects (object N is `objects[N - 1]`): header, bodies, cross-reference
    /// table and trailer. One page or several, every document is written by this one function.
    static func file(objects: [String], infoObject: Int) -> [UInt8] {
        var out: [UInt8] = Array("%PDF-1.4\n%".utf8) + [0xE2, 0xE3, 0xCF, 0xD3, 0x0A]
        var offsets: [Int] = []
        for (index, body) in objects.enumerated() {
            offsets.append(out.count)
            out += Array("\(index + 1) 0 obj\n\(body)\nendobj\n".utf8)
        }
        let xref = out.count
        var table = "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
        for offset in offsets {
            let digits = String(offset)
            table += String(repeating: "0", count: 10 - digits.count) + digits + " 00000 n \n"
        }
        table += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R /Info \(infoObject) 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        out += Array(table.utf8)
        return out
    }

    /// A text string as UTF-16BE with its byte order mark, in hex (PDF 1.4 §3.8.1).
    static func utf16Hex(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF")
        var out = "<FEFF"
        for unit in text.utf16 {
            for shift in [12, 8, 4, 0] { out.append(hex[Int(unit >> UInt16(shift)) & 0xF]) }
        }
        return out + ">"
    }
}
