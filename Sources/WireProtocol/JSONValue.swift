/// A JSON value as the protocol carries it. Objects keep their members in order (and any duplicate
/// key as sent: a request's parser refuses duplicates of the fields it reads).
///
/// Integers that fit `Int64` are `.int`; any other number (a fraction, an exponent, an integer beyond
/// `Int64`) is `.number` with its literal text, so that a request's `"amount": 12.5` is that field's
/// format error rather than an unreadable frame. The gateway itself never sends a `.number`.
public enum JSONValue: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case int(Int64)
    /// A JSON number literal that is not an `Int64` integer, exactly as written (e.g. `12.5`, `1e3`).
    case number(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        case (.null, .null): return true
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The value of the first member named `key` of an object; nil for a missing key or a non-object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first(where: { $0.0 == key })?.1
    }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var intValue: Int64? { if case .int(let i) = self { return i } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: [(String, JSONValue)]? { if case .object(let o) = self { return o } else { return nil } }
    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// The canonical encoding (see `encode(into:)`) as text.
    public var description: String { String(decoding: self.encoded(), as: UTF8.self) }

    /// The canonical encoding of this value as UTF-8 bytes.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        self.encode(into: &out)
        return out
    }

    /// Appends the canonical encoding of this value: no whitespace, members in their order, integers
    /// in decimal, `.number` as its literal, strings as `JSONValue.encodeString` writes them.
    /// It is deterministic, and `JSONValue.parse` of it gives back an equal value, whose encoding is
    /// the same bytes again: stored responses can be parsed and embedded unchanged.
    public func encode(into out: inout [UInt8]) {
        switch self {
        case .string(let s): JSONValue.encodeString(s, into: &out)
        case .int(let i): JSONValue.encodeInt(i, into: &out)
        case .number(let text): out.append(contentsOf: text.utf8)
        case .bool(let b): out.append(contentsOf: b ? JSONValue.trueBytes : JSONValue.falseBytes)
        case .null: out.append(contentsOf: JSONValue.nullBytes)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                element.encode(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.encodeString(member.0, into: &out)
                out.append(UInt8(ascii: ":"))
                member.1.encode(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let trueBytes: [UInt8] = Array("true".utf8)
    private static let falseBytes: [UInt8] = Array("false".utf8)
    private static let nullBytes: [UInt8] = Array("null".utf8)
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Writes a JSON string literal. Text is kept as UTF-8 (French accents as they are); `"` and `\`
    /// are escaped; so is every control character: U+0000–U+001F (as `\b \f \n \r \t` or `\u00XX`),
    /// U+007F–U+009F (`\u00XX`), and U+2028/U+2029 (`\u2028`, `\u2029`), which some readers take for
    /// line breaks. `/` is not escaped.
    public static func encodeString(_ string: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            var runStart = 0
            var index = 0
            let count = utf8.count
            while index < count {
                let byte = utf8[index]
                var escape: (bytes: Int, scalar: UInt32)? = nil
                if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0x7F {
                    escape = (1, UInt32(byte))
                } else if byte == 0xC2, index + 1 < count, utf8[index + 1] >= 0x80, utf8[index + 1] <= 0x9F {
                    escape = (2, UInt32(utf8[index + 1]))  // U+0080...U+009F
                } else if byte == 0xE2, index + 2 < count, utf8[index + 1] == 0x80,
                          utf8[index + 2] == 0xA8 || utf8[index + 2] == 0xA9 {
                    escape = (3, 0x2000 + UInt32(utf8[index + 2]) - 0x80)  // U+2028, U+2029
                }
                guard let (length, scalar) = escape else {
                    index += 1
                    continue
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                out.append(UInt8(ascii: "\\"))
                switch scalar {
                case 0x22: out.append(UInt8(ascii: "\""))
                case 0x5C: out.append(UInt8(ascii: "\\"))
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                default:
                    out.append(UInt8(ascii: "u"))
                    for shift in stride(from: 12, through: 0, by: -4) {
                        out.append(hexDigits[Int((scalar >> UInt32(shift)) & 0xF)])
                    }
                }
                index += length
                runStart = index
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<count]))
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Writes an integer in decimal, without allocating.
    public static func encodeInt(_ value: Int64, into out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            out.append(contentsOf: buffer[(20 - count)...])
        }
    }
}
