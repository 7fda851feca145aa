import CardApplication
import HDFDomain
import WireProtocol

/// A card in software, for tests and the bench: computes the `card` object of a request as the card
/// application would (protocol/card.md), with its ATC going up by one each time.
public struct SoftwareCard: Sendable {
    public let pan: PAN
    public let key: [UInt8]
    public private(set) var atc: UInt16

    public init(pan: PAN, key: [UInt8], atc: UInt16 = 0) {
        self.pan = pan
        self.key = key
        self.atc = atc
    }

    /// The next `card` object for `amountCents` (0 for balance and online.list).
    public mutating func cardObject(amountCents: Int64) -> JSONValue {
        atc &+= 1
        var un = [UInt8](repeating: 0, count: 4)
        for index in un.indices { un[index] = UInt8.random(in: 0...255) }
        let cryptogram = try! Cryptogram.compute(key: key, pan: pan, atc: atc, unpredictableNumber: un,
                                                  amountCents: amountCents, currency: Money.currencyNumericEUR)
        return .object([
            ("pan", .string(pan.digits)), ("atc", .int(Int64(atc))), ("un", .string(Hex.encode(un))),
            ("cryptogram", .string(Hex.encode(cryptogram))),
        ])
    }
}
