/// A card's primary account number: exactly 16 ASCII digits whose last digit is a Luhn check digit.
///
/// The full number is only for the ledger, the card and the cryptogram. Everything a person or a log
/// reads uses `masked` (first 4 and last 4 digits).
public struct PAN: Hashable, Sendable, Codable, CustomStringConvertible {
    public static let digitCount = 16
    public let digits: String

    public enum Invalid: Error, Equatable, CustomStringConvertible {
        case notSixteenDigits
        case luhnCheckFailed

        public var description: String {
            switch self {
            case .notSixteenDigits: return "a card number is exactly 16 digits"
            case .luhnCheckFailed: return "the card number's check digit is wrong (Luhn)"
            }
        }
    }

    public init(validating text: String) throws(Invalid) {
        let bytes = Array(text.utf8)
        guard bytes.count == PAN.digitCount, bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw .notSixteenDigits
        }
        guard PAN.luhnValid(bytes) else { throw .luhnCheckFailed }
        self.digits = text
    }

    /// Builds a PAN from 15 digits by appending the Luhn check digit.
    public init(appendingCheckDigitTo body: String) {
        precondition(body.utf8.count == PAN.digitCount - 1 && body.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 })
        let check = PAN.luhnCheckDigit(Array(body.utf8))
        self.digits = body + String(check)
        assert(PAN.luhnValid(Array(digits.utf8)))
    }

    public var masked: String { PAN.mask(digits) }

    public var description: String { masked }

    public var asciiBytes: [UInt8] { Array(digits.utf8) }

    /// Masks anything that may be a card number: keeps the first 4 and last 4 characters at most.
    public static func mask(_ text: String) -> String {
        let chars = Array(text)
        guard chars.count > 8 else { return String(repeating: "*", count: chars.count) }
        return String(chars.prefix(4)) + String(repeating: "*", count: chars.count - 8) + String(chars.suffix(4))
    }

    static func luhnValid(_ ascii: [UInt8]) -> Bool {
        var sum = 0
        for (index, byte) in ascii.reversed().enumerated() {
            var digit = Int(byte - 0x30)
            if index % 2 == 1 {
                digit *= 2
                if digit > 9 { digit -= 9 }
            }
            sum += digit
        }
        return sum % 10 == 0
    }

    static func luhnCheckDigit(_ body: [UInt8]) -> Int {
        var sum = 0
        for (index, byte) in body.reversed().enumerated() {
            var digit = Int(byte - 0x30)
            if index % 2 == 0 {
                digit *= 2
                if digit > 9 { digit -= 9 }
            }
            sum += digit
        }
        return (10 - sum % 10) % 10
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(validating: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(digits)
    }
}
