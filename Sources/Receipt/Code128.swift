/// Code 128 (ISO/IEC 15417), subset B: every printable ASCII character, which is all a voucher code
/// needs (its 12 canonical characters, no dashes). A symbol is: start B, one symbol per character
/// (value = ASCII − 32), the check symbol ((104 + Σ position × value) mod 103), stop.
public enum Code128 {
    public enum Invalid: Error, Equatable, CustomStringConvertible {
        case empty
        case notPrintableASCII(Character)
        public var description: String {
            switch self {
            case .empty: return "nothing to encode"
            case .notPrintableASCII(let c): return "'\(c)' is not in Code 128 subset B (printable ASCII)"
            }
        }
    }

    public static let startB = 104
    public static let stop = 106
    /// Light modules required on each side of the symbol (ISO/IEC 15417 §4.4.3: at least 10 X).
    public static let quietZoneModules = 10

    /// The symbol values of `text` in subset B: start, data, check, stop.
    public static func symbolValues(_ text: String) throws(Invalid) -> [Int] {
        guard !text.isEmpty else { throw .empty }
        var values = [startB]
        for character in text {
            guard let ascii = character.asciiValue, (32...126).contains(ascii) else { throw .notPrintableASCII(character) }
            values.append(Int(ascii) - 32)
        }
        values.append(checkValue(values))
        values.append(stop)
        return values
    }

    /// (start + Σ position × value) mod 103, positions counted from 1 after the start symbol.
    static func checkValue(_ startAndData: [Int]) -> Int {
        var sum = startAndData[0]
        for (index, value) in startAndData.enumerated().dropFirst() { sum += index * value }
        return sum % 103
    }

    /// The widths in modules of the symbol's bars and spaces, alternately, starting with a bar and ending
    /// with the stop pattern's final bar (quiet zones not included).
    public static func runs(_ text: String) throws(Invalid) -> [Int] {
        try symbolValues(text).flatMap { patterns[$0].map { Int($0.asciiValue! - 48) } }
    }

    /// The symbol's width in modules without its quiet zones: 11 per symbol, 13 for the stop.
    public static func moduleCount(_ text: String) throws(Invalid) -> Int {
        try runs(text).reduce(0, +)
    }

    /// Bar, space, bar, space, bar, space widths of each symbol value 0...105 (11 modules each), then
    /// the stop (13 modules, with its final bar).
    static let patterns: [String] = [
        "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212", "221213", // 0
        "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211", "221132", // 10
        "221231", "213212", "223112", "312131", "311222", "321122", "321221", "312212", "322112", "322211", // 20
        "212123", "212321", "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313", // 30
        "231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121", "313121", "211331", // 40
        "231131", "213113", "213311", "213131", "311123", "311321", "331121", "312113", "312311", "332111", // 50
        "314111", "221411", "431111", "111224", "111422", "121124", "121421", "141122", "141221", "112214", // 60
        "112412", "122114", "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", // 70
        "111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141", // 80
        "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311", "113141", // 90
        "114131", "311141", "411131", "211412", "211214", "211232",                                         // 100
        "2331112",                                                                                          // 106: stop
    ]
}
