/// ISO 7816-4 short APDUs: the only form the card application speaks (its longest command carries 14 bytes).

/// Why bytes are not a well-formed command APDU. The applet answers all of these with `67 00`.
public enum APDUError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Fewer than the 4 header bytes CLA INS P1 P2.
    case tooShort(byteCount: Int)
    /// The Lc byte announces a body that the remaining bytes do not match (neither Lc nor Lc + Le bytes).
    case lengthMismatch(lc: Int, bytesAfterLc: Int)
    /// `Lc = 00` followed by more bytes is the extended-length form, which no command of this card needs.
    case extendedLengthNotSupported
    /// A short APDU carries at most 255 data bytes.
    case dataTooLong(byteCount: Int)
    /// Le is the number of bytes expected, 1 to 256 (256 travels as `00`).
    case invalidLe(Int)
    /// A response APDU ends with the two status bytes SW1 SW2.
    case responseTooShort(byteCount: Int)

    public var description: String {
        switch self {
        case .tooShort(let count):
            return "a command APDU has at least 4 bytes (CLA INS P1 P2), got \(count)"
        case .lengthMismatch(let lc, let rest):
            return "Lc announces \(lc) data bytes but \(rest) bytes follow it (expected \(lc) or \(lc + 1) with Le)"
        case .extendedLengthNotSupported:
            return "extended-length APDUs are not supported"
        case .dataTooLong(let count):
            return "a short APDU carries at most 255 data bytes, got \(count)"
        case .invalidLe(let le):
            return "Le must be between 1 and 256, got \(le)"
        case .responseTooShort(let count):
            return "a response APDU has at least the 2 status bytes, got \(count)"
        }
    }
}

/// The card's answer status. The named words are those of the card application (contract §4 and `protocol/card.md`).
public struct StatusWord: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(sw1: UInt8, sw2: UInt8) { self.rawValue = UInt16(sw1) << 8 | UInt16(sw2) }

    public var sw1: UInt8 { UInt8(rawValue >> 8) }
    public var sw2: UInt8 { UInt8(rawValue & 0xFF) }
    public var bytes: [UInt8] { [sw1, sw2] }

    /// `90 00`
    public static let success = StatusWord(rawValue: 0x9000)
    /// `6A 82`: SELECT named an application this card does not hold.
    public static let fileNotFound = StatusWord(rawValue: 0x6A82)
    /// `67 00`: Lc, the data or Le do not fit the command.
    public static let wrongLength = StatusWord(rawValue: 0x6700)
    /// `69 85`: a command other than SELECT before the application was selected.
    public static let conditionsNotSatisfied = StatusWord(rawValue: 0x6985)
    /// `6D 00`
    public static let instructionNotSupported = StatusWord(rawValue: 0x6D00)
    /// `6E 00`
    public static let classNotSupported = StatusWord(rawValue: 0x6E00)
    /// `69 83`: the ATC reached FFFF; the card can never produce another cryptogram.
    public static let atcExhausted = StatusWord(rawValue: 0x6983)
    /// `6A 86`: P1 P2 are not those of the command (a project extension, see `protocol/card.md`).
    public static let incorrectP1P2 = StatusWord(rawValue: 0x6A86)
    /// `6A 88`: GET DATA for a tag other than `5A` (a project extension, see `protocol/card.md`).
    public static let referencedDataNotFound = StatusWord(rawValue: 0x6A88)

    public var name: String? {
        switch self {
        case .success: return "success"
        case .fileNotFound: return "file not found"
        case .wrongLength: return "wrong length"
        case .conditionsNotSatisfied: return "conditions of use not satisfied"
        case .instructionNotSupported: return "instruction not supported"
        case .classNotSupported: return "class not supported"
        case .atcExhausted: return "ATC exhausted"
        case .incorrectP1P2: return "incorrect P1 P2"
        case .referencedDataNotFound: return "referenced data not found"
        default: return nil
        }
    }

    /// `6A82 (file not found)`
    public var description: String {
        let hex = Hex.encode(bytes).uppercased()
        if let name { return "\(hex) (\(name))" }
        return hex
    }
}

public struct CommandAPDU: Hashable, Sendable, CustomStringConvertible {
    public let cla: UInt8
    public let ins: UInt8
    public let p1: UInt8
    public let p2: UInt8
    public let data: [UInt8]
    /// The number of response bytes expected, 1...256, or nil when the command carries no Le byte.
    public let le: Int?

    public init(cla: UInt8, ins: UInt8, p1: UInt8, p2: UInt8, data: [UInt8] = [], le: Int? = nil) throws(APDUError) {
        guard data.count <= 255 else { throw .dataTooLong(byteCount: data.count) }
        if let le, !(1...256).contains(le) { throw .invalidLe(le) }
        self.init(unchecked: cla, ins, p1, p2, data, le)
    }

    init(unchecked cla: UInt8, _ ins: UInt8, _ p1: UInt8, _ p2: UInt8, _ data: [UInt8], _ le: Int?) {
        self.cla = cla
        self.ins = ins
        self.p1 = p1
        self.p2 = p2
        self.data = data
        self.le = le
    }

    /// Parses the four ISO cases: header; header Le; header Lc data; header Lc data Le.
    public init(bytes: [UInt8]) throws(APDUError) {
        guard bytes.count >= 4 else { throw .tooShort(byteCount: bytes.count) }
        let (cla, ins, p1, p2) = (bytes[0], bytes[1], bytes[2], bytes[3])
        switch bytes.count {
        case 4:
            self.init(unchecked: cla, ins, p1, p2, [], nil)
        case 5:
            self.init(unchecked: cla, ins, p1, p2, [], CommandAPDU.decodeLe(bytes[4]))
        default:
            let lc = Int(bytes[4])
            guard lc != 0 else { throw .extendedLengthNotSupported }
            let rest = bytes.count - 5
            if rest == lc {
                self.init(unchecked: cla, ins, p1, p2, Array(bytes[5..<(5 + lc)]), nil)
            } else if rest == lc + 1 {
                self.init(unchecked: cla, ins, p1, p2, Array(bytes[5..<(5 + lc)]), CommandAPDU.decodeLe(bytes[5 + lc]))
            } else {
                throw .lengthMismatch(lc: lc, bytesAfterLc: rest)
            }
        }
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = [cla, ins, p1, p2]
        if !data.isEmpty {
            out.append(UInt8(data.count))
            out.append(contentsOf: data)
        }
        if let le { out.append(UInt8(truncatingIfNeeded: le)) }  // 256 travels as 00
        return out
    }

    static func decodeLe(_ byte: UInt8) -> Int { byte == 0 ? 256 : Int(byte) }

    public var description: String { Hex.encode(bytes).uppercased() }
}

public struct ResponseAPDU: Hashable, Sendable, CustomStringConvertible {
    public let data: [UInt8]
    public let statusWord: StatusWord

    public init(data: [UInt8] = [], statusWord: StatusWord) {
        self.data = data
        self.statusWord = statusWord
    }

    public init(bytes: [UInt8]) throws(APDUError) {
        guard bytes.count >= 2 else { throw .responseTooShort(byteCount: bytes.count) }
        self.data = Array(bytes[..<(bytes.count - 2)])
        self.statusWord = StatusWord(sw1: bytes[bytes.count - 2], sw2: bytes[bytes.count - 1])
    }

    public var bytes: [UInt8] { data + statusWord.bytes }

    /// Only the length and the status: a GET PAN answer's data is a card number, which logs must not show.
    public var description: String { "\(data.count) data bytes, \(statusWord)" }
}
