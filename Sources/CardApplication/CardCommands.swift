import HDFDomain

/// The terminal's side of the card application: the three commands of contract §4 and their answers.
public enum CardCommands {
    /// `F0 48 44 46 47 45 4E 31`: a proprietary AID (F0…), then ASCII "HDFGEN1".
    public static let aid: [UInt8] = [0xF0, 0x48, 0x44, 0x46, 0x47, 0x45, 0x4E, 0x31]

    public static let claISO: UInt8 = 0x00
    public static let claProprietary: UInt8 = 0x80
    public static let insSelect: UInt8 = 0xA4
    public static let insGetData: UInt8 = 0xCA
    public static let insGenerateCryptogram: UInt8 = 0xAE
    /// The EMV tag of the application PAN, which GET PAN asks for in P1 P2.
    public static let panTag: (p1: UInt8, p2: UInt8) = (0x00, 0x5A)
    /// amount 8 ‖ currency 2 ‖ UN 4
    public static let generateCryptogramDataLength = 14
    /// ATC 2 ‖ cryptogram 8
    public static let generateCryptogramAnswerLength = 10

    /// `00 A4 04 00 08 <AID> 00`
    public static func select(aid: [UInt8] = CardCommands.aid) -> CommandAPDU {
        precondition((1...16).contains(aid.count), "an AID is 1 to 16 bytes")
        return CommandAPDU(unchecked: claISO, insSelect, 0x04, 0x00, aid, 256)
    }

    /// `80 CA 00 5A 00`
    public static func getPAN() -> CommandAPDU {
        CommandAPDU(unchecked: claProprietary, insGetData, panTag.p1, panTag.p2, [], 256)
    }

    /// `80 AE 00 00 0E <amount BE8> <currency BE2> <UN 4> 00`
    public static func generateCryptogram(
        amountCents: Int64, currency: UInt16 = Money.currencyNumericEUR, unpredictableNumber: [UInt8]
    ) throws(Cryptogram.Invalid) -> CommandAPDU {
        guard unpredictableNumber.count == Cryptogram.unpredictableNumberByteCount else {
            throw .unpredictableNumberLength(unpredictableNumber.count)
        }
        guard amountCents >= 0 else { throw .negativeAmount(amountCents) }
        let data = bigEndian(UInt64(amountCents)) + bigEndian(currency) + unpredictableNumber
        return CommandAPDU(unchecked: claProprietary, insGenerateCryptogram, 0x00, 0x00, data, 256)
    }

    // MARK: answers

    public enum AnswerError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The card answered with a status other than `90 00`.
        case status(StatusWord)
        case malformed(APDUError)
        /// The data of a `90 00` answer has the wrong length for the command.
        case unexpectedLength(expected: Int, got: Int)
        /// GET PAN answered 16 bytes that are not a valid PAN.
        case invalidPAN(PAN.Invalid)

        public var description: String {
            switch self {
            case .status(let sw): return "the card answered \(sw)"
            case .malformed(let error): return "the card's answer is malformed: \(error)"
            case .unexpectedLength(let expected, let got):
                return "the card's answer carries \(got) data bytes, expected \(expected)"
            case .invalidPAN(let error): return "the card's PAN is invalid: \(error)"
            }
        }
    }

    /// What GENERATE CRYPTOGRAM returns: the ATC after its increment and the 8-byte cryptogram.
    public struct GeneratedCryptogram: Hashable, Sendable {
        public let atc: UInt16
        public let cryptogram: [UInt8]

        public init(atc: UInt16, cryptogram: [UInt8]) {
            self.atc = atc
            self.cryptogram = cryptogram
        }
    }

    public static func parseSelectAnswer(_ bytes: [UInt8]) throws(AnswerError) {
        // The card may return FCI data; the project's applet returns none, and nothing in it is needed.
        _ = try successData(bytes)
    }

    public static func parseGetPANAnswer(_ bytes: [UInt8]) throws(AnswerError) -> PAN {
        let data = try successData(bytes)
        guard data.count == PAN.digitCount else { throw .unexpectedLength(expected: PAN.digitCount, got: data.count) }
        do {
            return try PAN(validating: String(decoding: data, as: UTF8.self))
        } catch {
            throw .invalidPAN(error)
        }
    }

    public static func parseGenerateCryptogramAnswer(_ bytes: [UInt8]) throws(AnswerError) -> GeneratedCryptogram {
        let data = try successData(bytes)
        guard data.count == generateCryptogramAnswerLength else {
            throw .unexpectedLength(expected: generateCryptogramAnswerLength, got: data.count)
        }
        return GeneratedCryptogram(atc: readBigEndian(data[0..<2]), cryptogram: Array(data[2..<10]))
    }

    static func successData(_ bytes: [UInt8]) throws(AnswerError) -> [UInt8] {
        let response: ResponseAPDU
        do { response = try ResponseAPDU(bytes: bytes) } catch { throw .malformed(error) }
        guard response.statusWord == .success else { throw .status(response.statusWord) }
        return response.data
    }
}
