import Receipt

/// A text document flowed over as many A4 pages as it needs, on top of the receipt's hand-written PDF writer:
/// headings, paragraphs and bullets wrapped to the column, a new page when the next line would not fit, a
/// heading never left alone at the bottom of a page, and "Page N / M" at the foot of every page.
struct FlowingDocument {
    static let marginPoints = 56.0
    static let bodySize = 10.5
    static let bodyLeading = 14.5
    static let footerSize = 8.5
    /// Space a heading needs below it on the same page (its own lines plus two body lines), in points.
    static let keepWithNextPoints = 3 * bodyLeading

    let footerLabel: String
    private(set) var pages: [PDFPage] = [PDFPage()]
    private var baseline: Double

    static let blue = PDFPage.Colour(0.114, 0.31, 0.478)
    static let grey = PDFPage.Colour(0.3, 0.3, 0.3)

    init(footerLabel: String) {
        self.footerLabel = footerLabel
        baseline = PDFPage.a4Height - Self.marginPoints
    }

    var columnWidth: Double { PDFPage.a4Width - 2 * Self.marginPoints }
    /// The lowest baseline body text may use: above the footer.
    var bottom: Double { Self.marginPoints + 10 }

    private mutating func newPage() {
        pages.append(PDFPage())
        baseline = PDFPage.a4Height - Self.marginPoints
    }

    private mutating func ensureRoom(_ points: Double) {
        if baseline - points < bottom { newPage() }
    }

    mutating func space(_ points: Double) {
        baseline -= points
    }

    mutating func title(_ text: String, size: Double = 22) {
        for line in PDFPage.wrap(text, width: columnWidth, font: .helveticaBold, size: size) {
            ensureRoom(size * 1.25)
            pages[pages.count - 1].text(line, x: Self.marginPoints, y: baseline, font: .helveticaBold, size: size, colour: Self.blue)
            baseline -= size * 1.25
        }
    }

    mutating func heading(_ text: String, size: Double = 13) {
        let lines = PDFPage.wrap(text, width: columnWidth, font: .helveticaBold, size: size)
        space(6)
        ensureRoom(Double(lines.count) * size * 1.3 + Self.keepWithNextPoints)
        for line in lines {
            pages[pages.count - 1].text(line, x: Self.marginPoints, y: baseline, font: .helveticaBold, size: size, colour: Self.blue)
            baseline -= size * 1.3
        }
        baseline -= 2
    }

    mutating func paragraph(_ text: String, font: WinAnsi.Font = .helvetica, indent: Double = 0, bullet: String? = nil) {
        let lines = PDFPage.wrap(text, width: columnWidth - indent, font: font, size: Self.bodySize)
        for (index, line) in lines.enumerated() {
            ensureRoom(Self.bodyLeading)
            if index == 0, let bullet {
                pages[pages.count - 1].text(bullet, x: Self.marginPoints + indent - 11, y: baseline, font: .helveticaBold, size: Self.bodySize)
            }
            pages[pages.count - 1].text(line, x: Self.marginPoints + indent, y: baseline, font: font, size: Self.bodySize)
            baseline -= Self.bodyLeading
        }
        baseline -= 4
    }

    mutating func bullets(_ items: [String]) {
        for item in items { paragraph(item, indent: 16, bullet: "•") }
    }

    /// The finished pages, each with its footer.
    func finishedPages() -> [PDFPage] {
        var finished = pages
        for index in finished.indices {
            let y = Self.marginPoints - 24
            finished[index].line(from: (Self.marginPoints, y + 12), to: (PDFPage.a4Width - Self.marginPoints, y + 12), lineWidth: 0.5, colour: Self.grey)
            finished[index].text(footerLabel, x: Self.marginPoints, y: y, font: .helvetica, size: Self.footerSize, colour: Self.grey)
            finished[index].rightAlignedText("Page \(index + 1) / \(finished.count)", rightX: PDFPage.a4Width - Self.marginPoints, y: y,
                                             font: .helvetica, size: Self.footerSize, colour: Self.grey)
        }
        return finished
    }
}
