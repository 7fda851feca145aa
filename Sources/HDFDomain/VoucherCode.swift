/// A prepayment voucher's code: 11 random characters and one check character, from an alphabet
/// without look-alikes (no 0/O, no 1/I/L), printed as `XXXX-XXXX-XXXX`.
///
/// Entropy: 11 × log2(31) ≈ 54.5 bits from the system's CSPRNG (getrandom on Linux).
/// Check character: the weighted sum Σ (position+1) × value over all 12 characters is 0 mod 31.
/// 31 is prime and the weights 1...12 are distinct and non-zero mod 31, so any one wrong character
/// and any swap of two neighbours changes the sum: a mistyped code is told apart from an unknown one.
public struct VoucherCode: Hashable, Sendable, CustomStringConvertible {
    public static let alphabet: [Character] = Array("23456789ABCDEFGHJKMNPQRSTUVWXYZ")
    public static let randomCharacterCount = 11
    public static let length = randomCharacterCount + 1

    /// The 12 characters without separators, upper case: how the ledger stores it.
    public let canonical: String

    public enum Invalid: Error, Equatable, CustomStringConvertible {
        case wrongLength(Int)
        case badCharacter(Character)
        case checkCharacterMismatch
        public var description: String {
            switch self {
            case .wrongLength(let count): return "a voucher code has \(VoucherCode.length) characters (got \(count))"
            case .badCharacter(let c): return "'\(c)' cannot appear in a voucher code"
            case .checkCharacterMismatch: return "the voucher code is mistyped (its check character does not match)"
            }
        }
    }

    static func value(of character: Character) -> Int? {
        alphabet.firstIndex(of: character)
    }

    static func checkValue(for values: [Int]) -> Int {
        precondition(values.count == randomCharacterCount)
        var sum = 0
        for (index, value) in values.enumerated() { sum += (index + 1) * value }
        // Solve sum + 12 × check ≡ 0 (mod 31); 12⁻¹ mod 31 = 13 (12 × 13 = 156 = 5 × 31 + 1).
        let check = ((31 - sum % 31) % 31) * 13 % 31
        return check
    }

    public static func generate<R: RandomNumberGenerator>(using generator: inout R) -> VoucherCode {
        var values: [Int] = []
        values.reserveCapacity(length)
        for _ in 0..<randomCharacterCount { values.append(Int.random(in: 0..<alphabet.count, using: &generator)) }
        values.append(checkValue(for: values))
        return VoucherCode(canonical: String(values.map { alphabet[$0] }))
    }

    public static func generate() -> VoucherCode {
        var generator = SystemRandomNumberGenerator()
        return generate(using: &generator)
    }

    private init(canonical: String) { self.canonical = canonical }

    /// Reads a code as a person typed it: any case, with or without spaces and dashes.
    public init(parsing text: String) throws(Invalid) {
        let characters = text.uppercased().filter { $0 != " " && $0 != "-" }
        guard characters.count == VoucherCode.length else { throw .wrongLength(characters.count) }
        var values: [Int] = []
        for character in characters {
            guard let value = VoucherCode.value(of: character) else { throw .badCharacter(character) }
            values.append(value)
        }
        guard VoucherCode.checkValue(for: Array(values.prefix(VoucherCode.randomCharacterCount))) == values.last! else {
            throw .checkCharacterMismatch
        }
        self.canonical = String(characters)
    }

    /// `XXXX-XXXX-XXXX`: how a receipt prints it.
    public var grouped: String {
        let chars = Array(canonical)
        return stride(from: 0, to: chars.count, by: 4).map { String(chars[$0..<min($0 + 4, chars.count)]) }.joined(separator: "-")
    }

    public var description: String { grouped }
}
