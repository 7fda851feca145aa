import HDFDomain

/// What a terminal sends for a card-present operation (the wire's `card` object, contract §3/§4):
/// the PAN, the card's ATC after its increment, the terminal's UN and the card's cryptogram.
///
/// The ATC freshness rule (above the last accepted one) is the ledger's business; this type only checks
/// the cryptogram.
public struct CardRequest: Hashable, Sendable {
    public let pan: PAN
    public let atc: UInt16
    public let unpredictableNumber: [UInt8]
    public let cryptogram: [UInt8]

    public enum Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        case pan(PAN.Invalid)
        case atcOutOfRange(Int)
        case unpredictableNumber(Hex.Invalid)
        case cryptogram(Hex.Invalid)

        public var description: String {
            switch self {
            case .pan(let error): return "card.pan: \(error)"
            case .atcOutOfRange(let value): return "card.atc must be between 0 and 65535, got \(value)"
            case .unpredictableNumber(let error): return "card.un: \(error)"
            case .cryptogram(let error): return "card.cryptogram: \(error)"
            }
        }
    }

    public init(pan: PAN, atc: UInt16, unpredictableNumber: [UInt8], cryptogram: [UInt8]) throws(Invalid) {
        guard unpredictableNumber.count == Cryptogram.unpredictableNumberByteCount else {
            throw .unpredictableNumber(.wrongByteCount(expected: Cryptogram.unpredictableNumberByteCount,
                                                       got: unpredictableNumber.count))
        }
        guard cryptogram.count == Cryptogram.byteCount else {
            throw .cryptogram(.wrongByteCount(expected: Cryptogram.byteCount, got: cryptogram.count))
        }
        self.pan = pan
        self.atc = atc
        self.unpredictableNumber = unpredictableNumber
        self.cryptogram = cryptogram
    }

    /// From the wire's fields: `{"pan": "16 digits", "atc": int, "un": "8 hex", "cryptogram": "16 hex"}`.
    public init(panDigits: String, atc: Int, unHex: String, cryptogramHex: String) throws(Invalid) {
        let pan: PAN
        do { pan = try PAN(validating: panDigits) } catch { throw .pan(error) }
        guard let atc16 = UInt16(exactly: atc) else { throw .atcOutOfRange(atc) }
        let un: [UInt8]
        do { un = try Hex.decode(unHex, byteCount: Cryptogram.unpredictableNumberByteCount) } catch {
            throw .unpredictableNumber(error)
        }
        let cryptogram: [UInt8]
        do { cryptogram = try Hex.decode(cryptogramHex, byteCount: Cryptogram.byteCount) } catch {
            throw .cryptogram(error)
        }
        try self.init(pan: pan, atc: atc16, unpredictableNumber: un, cryptogram: cryptogram)
    }

    public var unHex: String { Hex.encode(unpredictableNumber) }
    public var cryptogramHex: String { Hex.encode(cryptogram) }

    /// True only when the cryptogram is the card's for exactly this amount and currency. Constant time.
    public func verify(key: [UInt8], amountCents: Int64, currency: UInt16 = Money.currencyNumericEUR) -> Bool {
        Cryptogram.verify(cryptogram, key: key, pan: pan, atc: atc, unpredictableNumber: unpredictableNumber,
                          amountCents: amountCents, currency: currency)
    }
}
