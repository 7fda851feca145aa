/// Bytes ↔ lowercase hexadecimal, as the wire protocol, the demo manifest and the test vectors write them.
///
/// Errors never repeat the text they reject: hex in this project is often a card key.
public enum Hex {
    public enum Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        case oddLength(characters: Int)
        case notHexDigit(offset: Int)
        case wrongByteCount(expected: Int, got: Int)

        public var description: String {
            switch self {
            case .oddLength(let characters):
                return "hex text must have an even number of characters (got \(characters))"
            case .notHexDigit(let offset):
                return "hex text has a character that is not 0-9, a-f or A-F at offset \(offset)"
            case .wrongByteCount(let expected, let got):
                return "expected \(expected) bytes (\(expected * 2) hex characters), got \(got) bytes"
            }
        }
    }

    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Lowercase, no separators.
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var ascii: [UInt8] = []
        ascii.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            ascii.append(digits[Int(byte >> 4)])
            ascii.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: ascii, as: UTF8.self)
    }

    /// Accepts upper and lower case; refuses separators, whitespace and odd lengths.
    public static func decode(_ text: String) throws(Invalid) -> [UInt8] {
        let ascii = Array(text.utf8)
        guard ascii.count % 2 == 0 else { throw .oddLength(characters: text.count) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ascii.count / 2)
        var index = 0
        while index < ascii.count {
            guard let high = nibble(ascii[index]) else { throw .notHexDigit(offset: index) }
            guard let low = nibble(ascii[index + 1]) else { throw .notHexDigit(offset: index + 1) }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    /// Decodes and checks the length, for fixed-size fields (a 16-byte key, a 4-byte UN, an 8-byte cryptogram).
    public static func decode(_ text: String, byteCount: Int) throws(Invalid) -> [UInt8] {
        let bytes = try decode(text)
        guard bytes.count == byteCount else { throw .wrongByteCount(expected: byteCount, got: bytes.count) }
        return bytes
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }
}
