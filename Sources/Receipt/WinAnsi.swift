import Foundation

/// The PDF's text encoding: WinAnsiEncoding (Windows code page 1252), so that the standard Type 1 fonts
/// print French text as it is (é, è, à, ç, É, œ, « », and € at 0x80), with the Adobe metrics of
/// Helvetica and Helvetica-Bold for measuring lines (centring, right alignment, wrapping).
public enum WinAnsi {
    /// The byte of each character, `?` for one WinAnsi has not. A no-break space (U+00A0 or the
    /// narrow U+202F of French typography) becomes 0xA0.
    /// A letter WinAnsi lacks is printed without its accent when it has one it knows (ğ → g, ń → n).
    public static func encode(_ text: String) -> [UInt8] {
        text.unicodeScalars.map(byte(for:))
    }

    public static func byte(for scalar: Unicode.Scalar) -> UInt8 {
        if let byte = exactByte(for: scalar) { return byte }
        // Canonical decomposition: the base letter first, then combining marks.
        if let base = String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars.first, base != scalar,
           let byte = exactByte(for: base) {
            return byte
        }
        return UInt8(ascii: "?")
    }

    static func exactByte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = scalar.value
        switch value {
        case 0x20...0x7E, 0xA0...0xFF: return UInt8(value)
        case 0x202F: return 0xA0
        default: return highPage[value]
        }
    }

    /// The characters WinAnsi places at 0x80–0x9F (where Latin-1 has control characters).
    static let highPage: [UInt32: UInt8] = [
        0x20AC: 0x80, 0x201A: 0x82, 0x0192: 0x83, 0x201E: 0x84, 0x2026: 0x85, 0x2020: 0x86, 0x2021: 0x87,
        0x02C6: 0x88, 0x2030: 0x89, 0x0160: 0x8A, 0x2039: 0x8B, 0x0152: 0x8C, 0x017D: 0x8E, 0x2018: 0x91,
        0x2019: 0x92, 0x201C: 0x93, 0x201D: 0x94, 0x2022: 0x95, 0x2013: 0x96, 0x2014: 0x97, 0x02DC: 0x98,
        0x2122: 0x99, 0x0161: 0x9A, 0x203A: 0x9B, 0x0153: 0x9C, 0x017E: 0x9E, 0x0178: 0x9F,
    ]

    public enum Font: String, Sendable, CaseIterable {
        case helvetica = "Helvetica"
        case helveticaBold = "Helvetica-Bold"

        /// The resource name in the page's font dictionary.
        var resourceName: String { self == .helvetica ? "F1" : "F2" }

        var widths: [UInt16] { self == .helvetica ? WinAnsi.helvetica : WinAnsi.helveticaBold }
    }

    /// The width in points of `text` set in `font` at `size`.
    public static func width(_ text: String, font: Font, size: Double) -> Double {
        let widths = font.widths
        var total = 0
        for byte in encode(text) where byte >= 0x20 {
            total += Int(widths[Int(byte) - 0x20])
        }
        return Double(total) * size / 1000
    }

    // Glyph widths in 1/1000 em of codes 0x20...0xFF, from Adobe's AFM files (Helvetica and Helvetica-Bold,
    // version 003.001) through WinAnsiEncoding's glyph names. 0 where WinAnsi has no glyph.
    static let helvetica: [UInt16] = [
        278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,  // 0x20
        556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,  // 0x30
        1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,  // 0x40
        667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,  // 0x50
        333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,  // 0x60
        556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 0,  // 0x70
        556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0,  // 0x80
        0, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667,  // 0x90
        278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333,  // 0xA0
        400, 584, 333, 333, 333, 578, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611,  // 0xB0
        667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,  // 0xC0
        722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,  // 0xD0
        556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278,  // 0xE0
        556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,  // 0xF0
    ]
    static let helveticaBold: [UInt16] = [
        278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,  // 0x20
        556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,  // 0x30
        975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,  // 0x40
        667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,  // 0x50
        333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,  // 0x60
        611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 0,  // 0x70
        556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0,  // 0x80
        0, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667,  // 0x90
        278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333,  // 0xA0
        400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611,  // 0xB0
        722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,  // 0xC0
        722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,  // 0xD0
        556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278,  // 0xE0
        611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556,  // 0xF0
    ]
}
