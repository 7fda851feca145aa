import Crypto
import HDFDomain

/// The card cryptogram of contract §4:
/// first 8 bytes of HMAC-SHA256(K, PAN 16 ASCII ‖ ATC BE2 ‖ UN 4 ‖ amount BE8 ‖ currency BE2).
public enum Cryptogram {
    public static let byteCount = 8
    public static let keyByteCount = 16
    public static let unpredictableNumberByteCount = 4

    public enum Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        case keyLength(Int)
        case unpredictableNumberLength(Int)
        case negativeAmount(Int64)

        public var description: String {
            switch self {
            case .keyLength(let count): return "a card key is \(Cryptogram.keyByteCount) bytes, got \(count)"
            case .unpredictableNumberLength(let count):
                return "an unpredictable number is \(Cryptogram.unpredictableNumberByteCount) bytes, got \(count)"
            case .negativeAmount(let cents): return "a cryptogram's amount cannot be negative (got \(cents) cents)"
            }
        }
    }

    /// The exact bytes the HMAC covers (32 bytes), exposed so tests can pin them to the contract.
    public static func hmacInput(
        pan: PAN, atc: UInt16, unpredictableNumber: [UInt8], amountCents: Int64, currency: UInt16
    ) throws(Invalid) -> [UInt8] {
        guard unpredictableNumber.count == unpredictableNumberByteCount else {
            throw .unpredictableNumberLength(unpredictableNumber.count)
        }
        guard amountCents >= 0 else { throw .negativeAmount(amountCents) }
        return rawInput(pan: pan.asciiBytes, atc: atc, unpredictableNumber: unpredictableNumber,
                        amount: bigEndian(UInt64(amountCents)), currency: currency)
    }

    public static func compute(
        key: [UInt8], pan: PAN, atc: UInt16, unpredictableNumber: [UInt8], amountCents: Int64, currency: UInt16
    ) throws(Invalid) -> [UInt8] {
        guard key.count == keyByteCount else { throw .keyLength(key.count) }
        let input = try hmacInput(pan: pan, atc: atc, unpredictableNumber: unpredictableNumber,
                                  amountCents: amountCents, currency: currency)
        return mac(key: key, input: input)
    }

    public static func compute(
        key: [UInt8], pan: PAN, atc: UInt16, unpredictableNumber: UInt32, amountCents: Int64, currency: UInt16
    ) throws(Invalid) -> [UInt8] {
        try compute(key: key, pan: pan, atc: atc, unpredictableNumber: bigEndian(unpredictableNumber),
                    amountCents: amountCents, currency: currency)
    }

    /// Fails closed: malformed inputs (wrong key or UN length, negative amount) are a mismatch, never a crash.
    /// The comparison takes the same time wherever the first differing byte is, so a terminal cannot learn a
    /// valid cryptogram byte by byte from response times.
    public static func verify(
        _ cryptogram: [UInt8], key: [UInt8], pan: PAN, atc: UInt16, unpredictableNumber: [UInt8],
        amountCents: Int64, currency: UInt16
    ) -> Bool {
        guard let expected = try? compute(key: key, pan: pan, atc: atc, unpredictableNumber: unpredictableNumber,
                                          amountCents: amountCents, currency: currency) else { return false }
        return constantTimeEquals(expected, cryptogram)
    }

    /// Lengths are not secret; contents are compared without an early exit.
    public static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    // The applet holds the amount as the 8 raw bytes it received, so this level takes bytes, not an Int64.
    static func rawInput(pan: [UInt8], atc: UInt16, unpredictableNumber: [UInt8], amount: [UInt8], currency: UInt16) -> [UInt8] {
        var input: [UInt8] = []
        input.reserveCapacity(32)
        input.append(contentsOf: pan)
        input.append(contentsOf: bigEndian(atc))
        input.append(contentsOf: unpredictableNumber)
        input.append(contentsOf: amount)
        input.append(contentsOf: bigEndian(currency))
        return input
    }

    static func mac(key: [UInt8], input: [UInt8]) -> [UInt8] {
        let code = HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: key))
        return Array(Array(code).prefix(byteCount))
    }
}

func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    let size = T.bitWidth / 8
    return (0..<size).map { UInt8(truncatingIfNeeded: value >> ((size - 1 - $0) * 8)) }
}

func readBigEndian<T: FixedWidthInteger>(_ bytes: ArraySlice<UInt8>, as: T.Type = T.self) -> T {
    bytes.reduce(T.zero) { $0 << 8 | T($1) }
}
