/// (issue 12) Several pages in one document, for statements longer than a page: the same objects as
/// `PDFDocument.bytes(page:)`, with one page object and one content stream per page sharing the fonts.
extension PDFDocument {
    public static func bytes(pages: [PDFPage], title: String, language: String = "fr-FR", producer: String = "hdf-gateway") -> [UInt8] {
        precondition(!pages.isEmpty, "a PDF has at least one page")
        let fonts = WinAnsi.Font.allCases
        // 1 catalog, 2 page tree, 3... fonts, then per page its page object and content stream, then the information dictionary.
        let firstFont = 3
        let firstPage = firstFont + fonts.count
        let infoObject = firstPage + 2 * pages.count
        var objects: [String] = []
        objects.append("<< /Type /Catalog /Pages 2 0 R /Lang \(PDFPage.literal(Array(language.utf8))) >>")
        let kids = pages.indices.map { "\(firstPage + 2 * $0) 0 R" }.joined(separator: " ")
        objects.append("<< /Type /Pages /Kids [\(kids)] /Count \(pages.count) >>")
        for font in fonts {
            objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /\(font.rawValue) /Encoding /WinAnsiEncoding >>")
        }
        let fontEntries = fonts.enumerated().map { "/\($1.resourceName) \(firstFont + $0) 0 R" }.joined(separator: " ")
        for (index, page) in pages.enumerated() {
            let contentObject = firstPage + 2 * index + 1
            objects.append("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 \(PDFPage.number(page.width)) \(PDFPage.number(page.height))] "
                           + "/Resources << /Font << \(fontEntries) >> /ProcSet [/PDF /Text] >> /Contents \(contentObject) 0 R >>")
            let stream = String(decoding: page.content, as: UTF8.self)
            objects.append("<< /Length \(page.content.count) >>\nstream\n" + stream + "endstream")
        }
        objects.append("<< /Title \(utf16Hex(title)) /Producer \(utf16Hex(producer)) >>")
        assert(objects.count == infoObject)

        return file(objects: objects, infoObject: infoObject)
    }
}
