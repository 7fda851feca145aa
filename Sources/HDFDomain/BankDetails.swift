import Foundation

/// An IBAN (ISO 13616), stored in its electronic form: upper case, no spaces.
public struct IBAN: Sendable, Equatable, Hashable, CustomStringConvertible {
    public let electronic: String

    /// The IBAN length of each country of the SEPA scheme (EPC409-09, the countries and territories of the
    /// SEPA schemes' geographical scope). French overseas departments and Monaco's neighbours use `FR`/`MC`.
    public static let sepaLengths: [String: Int] = [
        "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20,
        "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26,
        "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28,
        "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "VA": 22,
    ]
    /// Longest IBAN of any country (ISO 13616: 34 characters).
    public static let maximumLength = 34

    public enum Invalid: Error, Equatable, CustomStringConvertible {
        case characters, notSEPA(String), length(country: String, expected: Int, got: Int), checksum
        public var description: String {
            switch self {
            case .characters: return "an IBAN is 2 letters, 2 check digits and up to 30 letters or digits"
            case .notSEPA(let country): return "country '\(country)' is not in the SEPA area"
            case .length(let country, let expected, let got): return "a \(country) IBAN has \(expected) characters, not \(got)"
            case .checksum: return "its check digits are wrong (ISO 13616 mod 97)"
            }
        }
    }

    /// Accepts the paper form ("FR76 3000 6000 ...") and lower case; refuses anything else that is not a
    /// well-formed SEPA IBAN with the right length for its country and a correct mod-97 check.
    public init(_ text: String) throws(Invalid) {
        let compact = String(text.filter { $0 != " " }).uppercased()
        guard compact.count >= 5, compact.count <= Self.maximumLength,
              compact.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { throw .characters }
        let chars = Array(compact)
        guard chars[0].isLetter, chars[1].isLetter, chars[2].isNumber, chars[3].isNumber else { throw .characters }
        let country = String(chars[0...1])
        guard let expected = Self.sepaLengths[country] else { throw .notSEPA(country) }
        guard compact.count == expected else { throw .length(country: country, expected: expected, got: compact.count) }
        guard Self.mod97(compact) == 1 else { throw .checksum }
        electronic = compact
    }

    /// ISO 7064 MOD 97-10 over the IBAN with its first four characters moved to the end, letters as 10...35.
    /// Digit by digit, so no big integers are needed.
    public static func mod97(_ compact: String) -> Int {
        let chars = Array(compact)
        guard chars.count > 4 else { return -1 }
        var remainder = 0
        for character in chars[4...] + chars[0..<4] {
            if let digit = character.wholeNumberValue, character.isASCII {
                remainder = (remainder * 10 + digit) % 97
            } else if let ascii = character.asciiValue, (65...90).contains(ascii) {
                remainder = (remainder * 100 + Int(ascii) - 55) % 97
            } else {
                return -1
            }
        }
        return remainder
    }

    /// The IBAN with check digits computed for a country code and a BBAN (for building test and demo IBANs).
    public static func make(country: String, bban: String) throws(Invalid) -> IBAN {
        let remainder = mod97(country + "00" + bban)
        let check = 98 - remainder
        return try IBAN(country + (check < 10 ? "0" : "") + String(check) + bban)
    }

    /// Groups of four, as printed for people.
    public var paperForm: String {
        var out = ""
        for (index, character) in electronic.enumerated() {
            if index > 0 && index % 4 == 0 { out.append(" ") }
            out.append(character)
        }
        return out
    }

    /// Only the country, the check digits and the last 4 characters: for logs and messages.
    public var masked: String { String(electronic.prefix(4)) + "…" + String(electronic.suffix(4)) }
    public var description: String { masked }
}

/// A BIC (ISO 9362): 4 letters for the institution, 2 letters for its country, 2 letters or digits for its
/// location, and optionally 3 letters or digits for a branch.
public struct BIC: Sendable, Equatable, Hashable, CustomStringConvertible {
    public let code: String

    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let text: String
        public var description: String {
            "BIC '\(text)' must be 8 or 11 characters: 4 letters (bank), 2 letters (country), 2 letters or digits (place), optionally 3 letters or digits (branch)"
        }
    }

    public init(_ text: String) throws(Invalid) {
        let compact = text.trimmingCharacters(in: .whitespaces).uppercased()
        let chars = Array(compact)
        func isLetter(_ c: Character) -> Bool { c.isASCII && c.isLetter }
        func isAlphanumeric(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber) }
        guard chars.count == 8 || chars.count == 11,
              chars[0..<6].allSatisfy(isLetter), chars[6...].allSatisfy(isAlphanumeric) else {
            throw Invalid(text: String(text.prefix(40)))
        }
        code = compact
    }

    public var description: String { code }
}

/// The SEPA character set of the EPC's implementation guidelines: what a bank accepts in names and
/// references of a credit transfer (letters without accents, digits, space and `/ - ? : ( ) . , ' +`).
public enum SEPAText {
    public static let allowedPunctuation: Set<Character> = ["/", "-", "?", ":", "(", ")", ".", ",", "'", "+", " "]

    public static func isAllowed(_ character: Character) -> Bool {
        guard character.isASCII else { return false }
        return character.isLetter || character.isNumber || allowedPunctuation.contains(character)
    }

    /// Transliterates a name into the SEPA set: accents dropped (É → E), ligatures spelled out (œ → oe),
    /// `&` → "et", typographic quotes and dashes → their ASCII forms, anything else → a space; runs of
    /// spaces collapsed; cut to `maximumLength` characters.
    public static func transliterate(_ text: String, maximumLength: Int) -> String {
        let spelled: [Character: String] = ["&": " et ", "œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss",
                                            "’": "'", "‘": "'", "–": "-", "—": "-", "«": " ", "»": " ", "_": "-"]
        var expanded = ""
        for character in text { expanded += spelled[character] ?? String(character) }
        let folded = expanded.folding(options: [.diacriticInsensitive, .widthInsensitive], locale: Locale(identifier: "fr_FR"))
        var out = ""
        for character in folded {
            let kept: Character = isAllowed(character) ? character : " "
            if kept == " " && (out.isEmpty || out.last == " ") { continue }
            out.append(kept)
        }
        while out.last == " " { out.removeLast() }
        if out.count > maximumLength { out = String(out.prefix(maximumLength)) }
        while out.last == " " { out.removeLast() }
        return out
    }
}
