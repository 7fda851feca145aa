/// Why some bytes are not one JSON value, and where (byte offset from the start).
public struct JSONParseError: Error, Equatable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        case unexpectedEnd
        case unexpectedByte(UInt8)
        case invalidUTF8
        case invalidEscape
        case loneSurrogate
        case controlCharacterInString(UInt8)
        case invalidNumber
        case nestingTooDeep
        case trailingBytes
    }

    public let reason: Reason
    public let offset: Int

    public var description: String {
        let what: String
        switch reason {
        case .unexpectedEnd: what = "the JSON text ends too early"
        case .unexpectedByte(let byte): what = "unexpected byte 0x\(String(byte, radix: 16))"
        case .invalidUTF8: what = "a string is not valid UTF-8"
        case .invalidEscape: what = "invalid escape sequence in a string"
        case .loneSurrogate: what = "a \\u escape is half of a surrogate pair"
        case .controlCharacterInString(let byte): what = "unescaped control character 0x\(String(byte, radix: 16)) in a string"
        case .invalidNumber: what = "malformed number"
        case .nestingTooDeep: what = "arrays and objects nest deeper than \(WireLimits.maximumJSONNestingDepth)"
        case .trailingBytes: what = "bytes after the JSON value"
        }
        return "\(what) at byte \(offset)"
    }
}

extension JSONValue {
    /// Parses exactly one JSON value (RFC 8259), surrounded by optional whitespace.
    ///
    /// Strict: UTF-8 only, no comments, no trailing commas, no lone surrogates, nesting at most
    /// `WireLimits.maximumJSONNestingDepth`. Object members keep their order and duplicates.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        return try parser.parseDocument()
    }

    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONParseError) -> JSONValue in try parse(UnsafeRawBufferPointer(buffer)) }
        }
        if let result { return try result.get() }
        let copy = Array(bytes)
        let copied = copy.withUnsafeBytes { raw in
            Result { () throws(JSONParseError) -> JSONValue in try parse(raw) }
        }
        return try copied.get()
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }
}

/// A recursive-descent parser over a byte buffer. It allocates only the values it returns.
struct JSONParser {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    private var depth = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        guard index == bytes.count else { throw fail(.trailingBytes) }
        return value
    }

    private func fail(_ reason: JSONParseError.Reason) -> JSONParseError {
        JSONParseError(reason: reason, offset: index)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func peek() throws(JSONParseError) -> UInt8 {
        guard index < bytes.count else { throw fail(.unexpectedEnd) }
        return bytes[index]
    }

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        let byte = try peek()
        switch byte {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail(.unexpectedByte(byte))
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        let start = literal.utf8Start
        for offset in 0..<count {
            let byte = try peek()
            guard byte == start[offset] else { throw fail(.unexpectedByte(byte)) }
            index += 1
        }
    }

    private mutating func enterContainer() throws(JSONParseError) {
        depth += 1
        guard depth <= WireLimits.maximumJSONNestingDepth else { throw fail(.nestingTooDeep) }
        index += 1
        skipWhitespace()
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        defer { depth -= 1 }
        var members: [(String, JSONValue)] = []
        if try peek() == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        members.reserveCapacity(8)
        while true {
            let byte = try peek()
            guard byte == UInt8(ascii: "\"") else { throw fail(.unexpectedByte(byte)) }
            let key = try parseString()
            skipWhitespace()
            let colon = try peek()
            guard colon == UInt8(ascii: ":") else { throw fail(.unexpectedByte(colon)) }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            members.append((key, value))
            skipWhitespace()
            let next = try peek()
            index += 1
            if next == UInt8(ascii: "}") { return .object(members) }
            guard next == UInt8(ascii: ",") else { index -= 1; throw fail(.unexpectedByte(next)) }
            skipWhitespace()
        }
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        defer { depth -= 1 }
        var elements: [JSONValue] = []
        if try peek() == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue())
            skipWhitespace()
            let next = try peek()
            index += 1
            if next == UInt8(ascii: "]") { return .array(elements) }
            guard next == UInt8(ascii: ",") else { index -= 1; throw fail(.unexpectedByte(next)) }
            skipWhitespace()
        }
    }

    /// Reads a string literal starting at its opening quote. Without escapes, the bytes are taken as
    /// they are (validated as UTF-8 when not all ASCII); with escapes, they are rebuilt first.
    private mutating func parseString() throws(JSONParseError) -> String {
        index += 1  // the opening quote
        let start = index
        var sawNonASCII = false
        while true {
            guard index < bytes.count else { throw fail(.unexpectedEnd) }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                index += 1
                return try makeString(slice, checkUTF8: sawNonASCII, offset: start)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw fail(.controlCharacterInString(byte)) }
            if byte >= 0x80 { sawNonASCII = true }
            index += 1
        }
        // Slow path: there are escapes.
        var unescaped: [UInt8] = []
        unescaped.reserveCapacity(index - start + 16)
        unescaped.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while true {
            guard index < bytes.count else { throw fail(.unexpectedEnd) }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                let result = unescaped.withUnsafeBytes { raw in
                    Result { () throws(JSONParseError) -> String in
                        try makeString(raw, checkUTF8: sawNonASCII, offset: start)
                    }
                }
                return try result.get()
            }
            if byte < 0x20 { throw fail(.controlCharacterInString(byte)) }
            if byte >= 0x80 { sawNonASCII = true }
            guard byte == UInt8(ascii: "\\") else {
                unescaped.append(byte)
                index += 1
                continue
            }
            index += 1
            let escaped = try peek()
            index += 1
            switch escaped {
            case UInt8(ascii: "\""): unescaped.append(0x22)
            case UInt8(ascii: "\\"): unescaped.append(0x5C)
            case UInt8(ascii: "/"): unescaped.append(0x2F)
            case UInt8(ascii: "b"): unescaped.append(0x08)
            case UInt8(ascii: "f"): unescaped.append(0x0C)
            case UInt8(ascii: "n"): unescaped.append(0x0A)
            case UInt8(ascii: "r"): unescaped.append(0x0D)
            case UInt8(ascii: "t"): unescaped.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                          bytes[index + 1] == UInt8(ascii: "u") else { throw fail(.loneSurrogate) }
                    index += 2
                    let low = try parseHex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail(.loneSurrogate) }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw fail(.loneSurrogate)
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw fail(.invalidEscape) }
                unescaped.append(contentsOf: UTF8.encode(unicode)!)
            default:
                index -= 1
                throw fail(.invalidEscape)
            }
        }
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail(.unexpectedEnd) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw fail(.invalidEscape)
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private func makeString(_ raw: UnsafeRawBufferPointer, checkUTF8: Bool, offset: Int) throws(JSONParseError) -> String {
        let utf8 = raw.assumingMemoryBound(to: UInt8.self)
        if !checkUTF8 { return String(decoding: utf8, as: UTF8.self) }
        guard let string = String(validating: utf8, as: UTF8.self) else {
            throw JSONParseError(reason: .invalidUTF8, offset: offset)
        }
        return string
    }

    /// Reads a number: an integer literal that fits `Int64` becomes `.int`, any other valid number
    /// `.number` with its literal text.
    private mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = index
        var negative = false
        if bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard index < bytes.count, isDigit(bytes[index]) else { throw fail(.invalidNumber) }
        var value: Int64 = 0
        var fits = true
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count, isDigit(bytes[index]) {
                if fits {
                    // Accumulate negatively so that Int64.min fits.
                    let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                    let (next, o2) = times10.subtractingReportingOverflow(Int64(bytes[index] - UInt8(ascii: "0")))
                    if o1 || o2 { fits = false } else { value = next }
                }
                index += 1
            }
        }
        var isInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail(.invalidNumber) }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail(.invalidNumber) }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if isInteger && fits {
            if negative { return .int(value) }
            if value != .min { return .int(-value) }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        return .number(text)
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
