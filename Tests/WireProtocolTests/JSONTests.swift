import Testing
@testable import WireProtocol

@Suite("JSON values")
struct JSONTests {
    private func text(_ value: JSONValue) -> String { String(decoding: value.encoded(), as: UTF8.self) }

    @Test("parses every kind of value, keeping member order and duplicates")
    func parsesEverything() throws {
        let value = try JSONValue.parse(#" {"b":1,"a":[true,false,null,-7,"x",{"c":{}}],"b":2.5e3,"big":12345678901234567890} "#)
        #expect(value == .object([
            ("b", .int(1)),
            ("a", .array([.bool(true), .bool(false), .null, .int(-7), .string("x"), .object([("c", .object([]))])])),
            ("b", .number("2.5e3")),
            ("big", .number("12345678901234567890")),
        ]))
        #expect(value["b"] == .int(1))
    }

    @Test("integers at the edges of Int64")
    func int64Edges() throws {
        #expect(try JSONValue.parse("9223372036854775807") == .int(.max))
        #expect(try JSONValue.parse("-9223372036854775808") == .int(.min))
        #expect(try JSONValue.parse("9223372036854775808") == .number("9223372036854775808"))
        #expect(try JSONValue.parse("-9223372036854775809") == .number("-9223372036854775809"))
        #expect(try JSONValue.parse("-0") == .int(0))
        #expect(text(.int(.min)) == "-9223372036854775808")
        #expect(text(.int(0)) == "0")
    }

    @Test("refuses what is not exactly one JSON value", arguments: [
        "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{a:1}", "'x'", "01", "1.", ".5", "1e", "+1", "-",
        "tru", "nul", "True", "NaN", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"",
        "\"\\ud800\\u0041\"", "{\"a\" 1}", "[1 2]", "1 2", "\"a\u{01}b\"", "/* */1",
    ])
    func refuses(_ input: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(input) }
    }

    @Test("refuses invalid UTF-8 inside strings, with and without escapes")
    func refusesInvalidUTF8() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0x5C, 0x6E, 0xED, 0xA0, 0x80, 0x22]] {
            #expect(throws: JSONParseError.self) { try JSONValue.parse(bytes) }
        }
    }

    @Test("nesting is bounded")
    func nesting() throws {
        let limit = WireLimits.maximumJSONNestingDepth
        _ = try JSONValue.parse(String(repeating: "[", count: limit) + String(repeating: "]", count: limit))
        let tooDeep = String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(tooDeep) }
        // Far deeper than the stack would allow without the bound.
        #expect(throws: JSONParseError.self) { try JSONValue.parse(String(repeating: "[", count: 60_000)) }
    }

    @Test("string escapes decode, including surrogate pairs")
    func escapes() throws {
        #expect(try JSONValue.parse(#""\"\\\/\b\f\n\r\t\u00e9\u20AC\ud83d\ude00\u0000""#)
                == .string("\"\\/\u{08}\u{0C}\n\r\t\u{E9}\u{20AC}\u{1F600}\u{0}"))
    }

    @Test("strings: French kept as UTF-8, quotes, backslashes and control characters escaped")
    func encodesStrings() {
        #expect(text(.string("Accepté — déjà payé €")) == "\"Accepté — déjà payé €\"")
        #expect(text(.string("a\"b\\c/d")) == #""a\"b\\c/d""#)
        #expect(text(.string("\u{0}\u{1}\u{8}\u{9}\u{A}\u{C}\u{D}\u{1F}")) == #""\u0000\u0001\b\t\n\f\r\u001f""#)
        #expect(text(.string("\u{7F}\u{80}\u{9F}\u{A0}")) == "\"\\u007f\\u0080\\u009f\u{A0}\"")
        #expect(text(.string("a\u{2028}b\u{2029}c")) == #""a\u2028b\u2029c""#)
        #expect(text(.string("😀")) == "\"😀\"")
    }

    @Test("encoding is compact and ordered; parse then encode gives the same bytes")
    func canonicalRoundTrip() throws {
        let value: JSONValue = .object([
            ("z", .string("Carte volée\n\t\u{1}\u{85}\u{2028}\"\\")), ("a", .int(-42)), ("n", .null),
            ("list", .array([.bool(true), .bool(false), .array([]), .object([]), .number("1.5e-3")])),
            ("nested", .object([("k", .int(Int64.max)), ("k2", .int(Int64.min))])),
        ])
        let bytes = value.encoded()
        #expect(String(decoding: bytes, as: UTF8.self)
                == #"{"z":"Carte volée\n\t\u0001\u0085\u2028\"\\","a":-42,"n":null,"list":[true,false,[],{},1.5e-3],"nested":{"k":9223372036854775807,"k2":-9223372036854775808}}"#)
        let parsed = try JSONValue.parse(bytes)
        #expect(parsed == value)
        #expect(parsed.encoded() == bytes)
    }

    @Test("every single scalar of the first planes survives a round trip")
    func allScalarsRoundTrip() throws {
        var scalars = String.UnicodeScalarView()
        for value in UInt32(0)...0x3000 {
            if let scalar = Unicode.Scalar(value) { scalars.append(scalar) }
        }
        let string = String(scalars)
        let bytes = JSONValue.string(string).encoded()
        #expect(try JSONValue.parse(bytes) == .string(string))
    }
}
