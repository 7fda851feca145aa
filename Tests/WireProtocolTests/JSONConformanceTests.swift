import Foundation
import HDFDomain
import Testing
@testable import WireProtocol

/// The JSON parser against the categories of the public JSON parsing test suite (nst/JSONTestSuite:
/// `y_` must be accepted, `n_` refused, `i_` implementation-defined), with cases written here, one
/// list per category. No package of the registries this project can reach ships that suite's files
/// (see docs/fuzzing.md); when a copy of its `test_parsing/` folder is at hand, point
/// `HDF_JSONTESTSUITE_DIR` at it and the last test runs every file as well
/// (`HDF_REQUIRE_JSONTESTSUITE=1` makes its absence a failure).
@Suite("JSON conformance")
struct JSONConformanceTests {
    /// What the parser must do with a text. For an implementation-defined case, `accepted` is our choice.
    enum Verdict: Sendable, CustomStringConvertible {
        case accept
        case reject
        case ourChoice(accepted: Bool, because: String)

        var description: String {
            switch self {
            case .accept: return "y"
            case .reject: return "n"
            case .ourChoice(let accepted, _): return accepted ? "i (accepted)" : "i (refused)"
            }
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let category: String
        let bytes: [UInt8]
        let verdict: Verdict
        var testDescription: String {
            let text = String(decoding: bytes.prefix(40), as: UTF8.self).debugDescription
            return "\(verdict) \(category) \(text)\(bytes.count > 40 ? "…" : "")"
        }
    }

    static func y(_ category: String, _ text: String) -> Case { Case(category: category, bytes: Array(text.utf8), verdict: .accept) }
    static func n(_ category: String, _ text: String) -> Case { Case(category: category, bytes: Array(text.utf8), verdict: .reject) }
    static func n(_ category: String, bytes: [UInt8]) -> Case { Case(category: category, bytes: bytes, verdict: .reject) }
    static func i(_ category: String, _ bytes: [UInt8], accepted: Bool, _ because: String) -> Case {
        Case(category: category, bytes: bytes, verdict: .ourChoice(accepted: accepted, because: because))
    }
    static func nested(_ depth: Int, open: String = "[", close: String = "]", inner: String = "") -> String {
        String(repeating: open, count: depth) + inner + String(repeating: close, count: depth)
    }
    static let maximumDepth = WireLimits.maximumJSONNestingDepth

    // MARK: y: must be accepted

    static let structureAccepted: [Case] = [
        y("structure", "[]"), y("structure", "{}"), y("structure", " [ ] "), y("structure", "[[] ]"),
        y("structure", "[\"\"]"), y("structure", "[null, 1, \"1\", {}]"), y("structure", "[1\n]"),
        y("structure", "{\"a\":[]}"), y("structure", "{\"\":0}"), y("structure", "{\"a\":\"b\",\"a\":\"c\"}"),
        y("structure", "{\"a\":\"b\",\"a\":\"b\"}"), y("structure", "[{\"a\":{\"b\":[{}]}}]"),
        y("structure: a lonely scalar is a document (RFC 8259)", "2"), y("structure", "null"), y("structure", "true"),
        y("structure", "false"), y("structure", "\"asd\""), y("structure", "-0.1"),
        y("depth: exactly the bound", nested(maximumDepth)),
        y("depth: objects to the bound", nested(maximumDepth - 1, open: "{\"k\":", close: "}", inner: "[]")),
    ]

    static let whitespaceAccepted: [Case] = [
        y("whitespace", " \t\n\r[ \t\n\r1 \t\n\r, \t\n\r2 \t\n\r] \t\n\r"), y("whitespace", "{ \"a\" : 1 }"),
        y("whitespace: trailing newline", "[\"a\"]\n"), y("whitespace", "\n\n{}\n\n"),
    ]

    static let numbersAccepted: [Case] = [
        y("numbers", "[0]"), y("numbers", "[-0]"), y("numbers", "[123]"), y("numbers", "[-123]"),
        y("numbers", "[1E22]"), y("numbers", "[1e22]"), y("numbers", "[1E-2]"), y("numbers", "[1E+2]"),
        y("numbers", "[0e1]"), y("numbers", "[0e+1]"), y("numbers", "[0E-1]"), y("numbers", "[-0.0]"),
        y("numbers", "[1.5]"), y("numbers", "[123.456e78]"), y("numbers", "[-1e-9]"), y("numbers", "[20e1]"),
        y("numbers", "[9223372036854775807]"), y("numbers", "[-9223372036854775808]"),
        y("numbers: beyond Int64, kept as written", "[123123123123123123123123123123]"),
        y("numbers: a fraction that is an integer", "[1.0]"), y("numbers", "[1E400]"),
    ]

    static let stringsAccepted: [Case] = [
        y("strings", "[\"\"]"), y("strings", "[\"asd \"]"), y("strings", "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]"),
        y("strings: escaped NUL", "[\"\\u0000\"]"), y("strings", "[\"\\u0061\\u30af\\u30EA\\u30b9\"]"),
        y("strings: escaped quote", "[\"\\u0022\"]"), y("strings: surrogate pair", "[\"\\uD834\\uDD1E\"]"),
        y("strings: last scalar", "[\"\\uDBFF\\uDFFF\"]"), y("strings: a noncharacter", "[\"\\uFFFF\"]"),
        y("strings: U+FDD0", "[\"\\uFDD0\"]"), y("strings: escaped DEL", "[\"\\u007F\"]"),
        y("strings: raw DEL is not a control character for JSON", "[\"a\u{7F}b\"]"),
        y("strings: raw UTF-8 of every length", "[\"é€𝄞\"]"), y("strings: raw U+2028 and U+2029", "[\"\u{2028}\u{2029}\"]"),
        y("strings: raw noncharacter U+FFFF", "[\"\u{FFFF}\"]"), y("strings: raw U+10FFFF", "[\"\u{10FFFF}\"]"),
        y("strings: comment-like text", "[\"a/*b*/c/*d//e\"]"), y("strings: escaped slash", "[\"\\/\"]"),
        y("strings: key with escapes", "{\"\\u00e9t\\u00e9\":\"ok\"}"), y("strings", "[\"\\\\u0000\"]"),
    ]

    static let literalsAccepted: [Case] = [
        y("literals", "[true]"), y("literals", "[false]"), y("literals", "[null]"), y("literals", "[true,false,null]"),
    ]

    // MARK: n: must be refused

    static let structureRefused: [Case] = [
        n("structure: empty", ""), n("structure: whitespace only", " "), n("structure", "["), n("structure", "]"),
        n("structure", "{"), n("structure", "}"), n("structure", "[1,]"), n("structure", "[1,,2]"), n("structure", "[,1]"),
        n("structure", "[,]"), n("structure", "[1 2]"), n("structure", "[1:2]"), n("structure", "[\"a\",]"),
        n("structure", "[[]"), n("structure", "[]]"), n("structure", "[}"), n("structure", "{]"),
        n("structure", "{\"a\":1,}"), n("structure", "{,}"), n("structure", "{\"a\"}"), n("structure", "{\"a\" 1}"),
        n("structure", "{\"a\"::1}"), n("structure", "{\"a\":}"), n("structure", "{:1}"), n("structure: non-string key", "{1:1}"),
        n("structure: unquoted key", "{a:1}"), n("structure: single quotes", "{'a':1}"), n("structure", "{\"a\":1 \"b\":2}"),
        n("structure", "{\"a\":1,,\"b\":2}"), n("structure", "{\"a\",\"b\"}"), n("structure", "{[]:1}"),
        n("structure", "<null>"), n("structure", "[<>]"), n("structure", "@"), n("structure", "[\u{1}]"),
        n("structure: two values", "[] []"), n("structure: two values", "1 2"), n("structure: trailing garbage", "[]x"),
        n("structure: trailing garbage", "{}}"), n("structure: trailing garbage", "\"a\"\"b\""), n("structure: trailing NUL", "[]\u{0}"),
        n("structure: trailing comma", "[],"), n("structure: trailing garbage", "nullx"), n("structure", "[1]]"),
        n("structure: comments", "[1/*c*/]"), n("structure: comments", "[1]//c"), n("structure: comments", "# c\n[]"),
        n("depth: one past the bound", nested(maximumDepth + 1)),
        n("depth: objects one past the bound", nested(maximumDepth, open: "{\"k\":", close: "}", inner: "[]")),
        n("depth: a hundred thousand opening arrays", String(repeating: "[", count: 100_000)),
        n("depth: unclosed objects in arrays", String(repeating: "[{\"\":", count: 50_000)),
    ]

    static let whitespaceRefused: [Case] = [
        n("whitespace: form feed outside a string", "[\u{0C}]"), n("whitespace: vertical tab", "\u{0B}[]"),
        n("whitespace: no-break space", "[\u{A0}1]"), n("whitespace: U+2028 outside a string", "[\u{2028}]"),
        n("whitespace: escaped newline outside a string", "[\\n]"), n("whitespace: zero width space", "\u{200B}[]"),
    ]

    static let numbersRefused: [Case] = [
        n("numbers", "[01]"), n("numbers", "[-01]"), n("numbers", "[00]"), n("numbers", "[1.]"), n("numbers", "[.1]"),
        n("numbers", "[-.1]"), n("numbers", "[-]"), n("numbers", "[--1]"), n("numbers", "[+1]"), n("numbers", "[1e]"),
        n("numbers", "[1e+]"), n("numbers", "[1e-]"), n("numbers", "[1E+-2]"), n("numbers", "[1.e1]"), n("numbers", "[1.2.3]"),
        n("numbers", "[0x1]"), n("numbers", "[0x42]"), n("numbers", "[Infinity]"), n("numbers", "[-Infinity]"),
        n("numbers", "[NaN]"), n("numbers", "[-NaN]"), n("numbers", "[1_000]"), n("numbers", "[1 000]"), n("numbers", "[1,0e]"),
        n("numbers", "[2.e3]"), n("numbers", "[-1.0.]"), n("numbers", "[1ea]"), n("numbers", "[1e1.5]"), n("numbers", "[.2e-3]"),
        n("numbers", "[0.3e+]"), n("numbers", "[1f]"), n("numbers", "[012]"), n("numbers", "[- 1]"), n("numbers", "[1eE2]"),
        n("numbers: a fullwidth digit", "[１]"), n("numbers: invalid UTF-8 after a number", bytes: Array("[1".utf8) + [0xE5, 0x5D]),
    ]

    static let stringsRefused: [Case] = [
        n("strings: unterminated", "[\"a]"), n("strings: unterminated", "\"\\"), n("strings: single quotes", "['a']"),
        n("strings: unescaped tab", "[\"\t\"]"), n("strings: unescaped newline", "[\"a\nb\"]"),
        n("strings: unescaped NUL", "[\"\u{0}\"]"), n("strings: unescaped U+001F", "[\"\u{1F}\"]"),
        n("strings: unknown escape", "[\"\\x00\"]"), n("strings: unknown escape", "[\"\\a\"]"), n("strings: escaped apostrophe", "[\"\\'\"]"),
        n("strings: capital U", "[\"\\U0041\"]"), n("strings: short unicode escape", "[\"\\u00A\"]"), n("strings: short", "[\"\\u\"]"),
        n("strings: non-hex", "[\"\\uqqqq\"]"), n("strings: escaped emoji", "[\"\\🌀\"]"), n("strings: backslash at the end", "[\"\\\"]"),
        n("strings: escape of a raw tab", "[\"\\\t\"]"), n("strings: escaped newline", "[\"\\\n\"]"),
        n("strings: incomplete surrogate escape", "[\"\\uD834\\uDd\"]"), n("strings: a string as a key without value", "{\"a\"}"),
        n("strings: invalid UTF-8 in a key", bytes: Array("{\"".utf8) + [0xFF] + Array("\":0}".utf8)),
        n("strings: no quotes", "[abc]"), n("strings: stray quote", "[\"a\"\"]"), n("strings: escaped quote outside", "[\\\"a\"]"),
    ]

    static let literalsRefused: [Case] = [
        n("literals", "[tru]"), n("literals", "[fals]"), n("literals", "[nul]"), n("literals", "[True]"),
        n("literals", "[FALSE]"), n("literals", "[Null]"), n("literals", "[truefalse]"), n("literals", "[nulll]"),
        n("literals", "[undefined]"), n("literals", "[t]"), n("literals", "t"), n("literals", "nu"),
    ]

    // MARK: i: implementation-defined, with our choice

    static let implementationDefined: [Case] = [
        i("numbers: huge exponent", Array("[1.5e99999]".utf8), accepted: true,
          "numbers are kept as written (`.number`); no field of the protocol takes a fraction or an exponent"),
        i("numbers: tiny exponent", Array("[123e-10000000]".utf8), accepted: true, "kept as written"),
        i("numbers: huge negative integer", Array("[-123123123123123123123123123123]".utf8), accepted: true,
          "kept as written; an amount like it is refused `13` by the request parser"),
        i("numbers: huge positive integer", Array("[100000000000000000000]".utf8), accepted: true, "kept as written"),
        i("numbers: double overflow", Array("[1.0e+400]".utf8), accepted: true, "kept as written"),
        i("numbers: very precise", Array("[1.000000000000000005]".utf8), accepted: true, "kept as written"),
        i("strings: lone high surrogate escape", Array("[\"\\uD800\"]".utf8), accepted: false,
          "a string must be valid Unicode: a lone surrogate could not be logged or stored as text"),
        i("strings: lone low surrogate escape", Array("[\"\\uDFAA\"]".utf8), accepted: false, "idem"),
        i("strings: two high surrogates", Array("[\"\\uD800\\uD800\\n\"]".utf8), accepted: false, "idem"),
        i("strings: inverted surrogates", Array("[\"\\uDd1e\\uD834\"]".utf8), accepted: false, "idem"),
        i("strings: high surrogate then a letter", Array("[\"\\uD800abc\"]".utf8), accepted: false, "idem"),
        i("strings: lone surrogate in a key", Array("{\"\\uDFAA\":0}".utf8), accepted: false, "idem"),
        i("strings: UTF-8 encoded surrogate", [0x5B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x5D], accepted: false,
          "frames are UTF-8 (contract §3); a UTF-8 encoded surrogate is not UTF-8"),
        i("strings: overlong encoding", [0x5B, 0x22, 0xC0, 0xAF, 0x22, 0x5D], accepted: false, "not UTF-8"),
        i("strings: beyond U+10FFFF", [0x5B, 0x22, 0xF4, 0xBF, 0xBF, 0xBF, 0x22, 0x5D], accepted: false, "not UTF-8"),
        i("strings: lone continuation byte", [0x5B, 0x22, 0x81, 0x22, 0x5D], accepted: false, "not UTF-8"),
        i("strings: truncated sequence", [0x5B, 0x22, 0xE0, 0xFF, 0x22, 0x5D], accepted: false, "not UTF-8"),
        i("strings: ISO Latin-1 byte", [0x5B, 0x22, 0xE9, 0x22, 0x5D], accepted: false, "not UTF-8"),
        i("strings: invalid byte with escapes", [0x5B, 0x22, 0x5C, 0x6E, 0xFF, 0x22, 0x5D], accepted: false, "not UTF-8"),
        i("encoding: UTF-16LE with BOM", [0xFF, 0xFE, 0x5B, 0x00, 0x5D, 0x00], accepted: false, "frames are UTF-8"),
        i("encoding: UTF-16BE", [0x00, 0x5B, 0x00, 0x5D], accepted: false, "frames are UTF-8"),
        i("BOM: UTF-8 byte order mark", [0xEF, 0xBB, 0xBF] + Array("{}".utf8), accepted: false,
          "RFC 8259 §8.1: a sender must not add one; a frame is exactly one JSON text"),
        i("depth: 500 nested arrays", Array(nested(500).utf8), accepted: false,
          "nesting is bounded at \(maximumDepth) (WireLimits.maximumJSONNestingDepth): the parser is recursive"),
        i("structure: 33 nested objects", Array(nested(maximumDepth + 1, open: "{\"a\":", close: "}", inner: "0").utf8),
          accepted: false, "idem"),
    ]

    static let allCases: [Case] = structureAccepted + whitespaceAccepted + numbersAccepted + stringsAccepted
        + literalsAccepted + structureRefused + whitespaceRefused + numbersRefused + stringsRefused + literalsRefused
        + implementationDefined

    @Test("every case gets its verdict; what is accepted re-encodes to a fixed point", arguments: allCases)
    func verdict(_ testCase: Case) throws {
        let result = Result { () throws(JSONParseError) -> JSONValue in try JSONValue.parse(testCase.bytes) }
        let mustAccept: Bool
        switch testCase.verdict {
        case .accept: mustAccept = true
        case .reject: mustAccept = false
        case .ourChoice(let accepted, _): mustAccept = accepted
        }
        switch result {
        case .success(let value):
            #expect(mustAccept, "accepted, and must be refused")
            let encoded = value.encoded()
            let again = try JSONValue.parse(encoded)
            #expect(again == value)
            #expect(again.encoded() == encoded)
        case .failure(let error):
            #expect(!mustAccept, "refused (\(error)), and must be accepted")
            #expect((0...testCase.bytes.count).contains(error.offset))
        }
    }

    @Test("every category of the suite has cases of each kind it defines")
    func categoriesCovered() {
        func categories(_ cases: [Case]) -> Set<String> { Set(cases.map { String($0.category.split(separator: ":")[0]) }) }
        let accepted = categories(Self.structureAccepted + Self.whitespaceAccepted + Self.numbersAccepted
            + Self.stringsAccepted + Self.literalsAccepted)
        let refused = categories(Self.structureRefused + Self.whitespaceRefused + Self.numbersRefused
            + Self.stringsRefused + Self.literalsRefused)
        let chosen = categories(Self.implementationDefined)
        #expect(accepted.isSuperset(of: ["structure", "whitespace", "numbers", "strings", "literals", "depth"]))
        #expect(refused.isSuperset(of: ["structure", "whitespace", "numbers", "strings", "literals", "depth"]))
        #expect(chosen.isSuperset(of: ["numbers", "strings", "encoding", "BOM", "depth"]))
    }

    // MARK: what the protocol's rules need from the numbers and the members

    /// A purchase frame with the given `amount` literal (and optionally more members after it).
    static func purchase(amount: String, extra: String = "") -> String {
        #"{"type":"purchase","id":"r1","stan":"S1","amount":"# + amount
            + #","currency":"EUR","card":{"pan":"9250123456789013","atc":1,"un":"a1b2c3d4","cryptogram":"b968a5de76835732"}"#
            + extra + "}"
    }

    @Test("an amount is an integer literal: 13 when out of range, 30 when not an integer", arguments: [
        ("1250", nil), ("1", nil),
        ("0", "13"), ("-0", "13"), ("-5", "13"), ("9223372036854775807", "13"), ("-9223372036854775808", "13"),
        ("99999999999999999999999", "13"), ("-99999999999999999999999", "13"),
        ("12.5", "30"), ("1250.0", "30"), ("1e3", "30"), ("1E3", "30"), ("0.0", "30"), ("-0.0", "30"),
        ("1.5e99999", "30"), ("\"1250\"", "30"), ("null", "30"), ("true", "30"), ("[1250]", "30"), ("{}", "30"),
    ] as [(String, String?)])
    func amountLiterals(_ amount: String, _ code: String?) {
        let outcome = RequestParser.parse(Array(Self.purchase(amount: amount).utf8))
        switch outcome {
        case .request(let request):
            #expect(code == nil, "accepted")
            if case .purchase(_, let cents, _, _, _, _) = request.body { #expect(String(cents) == amount) }
        case .reject(_, _, let refused):
            #expect(refused.rawValue == code)
        }
    }

    @Test("a format fault (30) wins over a value fault (13, 14) whatever their order")
    func formatBeforeValue() {
        let cases: [(String, String)] = [
            (Self.purchase(amount: "0", extra: #","allow_partial":"yes""#), "30"),
            (Self.purchase(amount: "0").replacingOccurrences(of: #""EUR""#, with: #""USD""#), "30"),
            (Self.purchase(amount: "0").replacingOccurrences(of: "9250123456789013", with: "9250123456789014"), "13"),
            (Self.purchase(amount: "5").replacingOccurrences(of: "9250123456789013", with: "9250123456789014"), "14"),
            (Self.purchase(amount: "5").replacingOccurrences(of: "9250123456789013", with: "925012345678901"), "30"),
        ]
        for (frame, code) in cases {
            guard case .reject(_, _, let refused) = RequestParser.parse(Array(frame.utf8)) else {
                Issue.record("accepted: \(frame)")
                continue
            }
            #expect(refused.rawValue == code, "\(frame)")
        }
    }

    @Test("a field sent twice is a format error; an unknown field sent twice is ignored")
    func duplicates() {
        let twiceAmount = Self.purchase(amount: "1250", extra: #","amount":1250"#)
        #expect(RequestParser.parse(Array(twiceAmount.utf8)) == .reject(type: "purchase", id: "r1", code: .formatError))
        let twiceInCard = Self.purchase(amount: "1250").replacingOccurrences(of: #""atc":1"#, with: #""atc":1,"atc":1"#)
        #expect(RequestParser.parse(Array(twiceInCard.utf8)) == .reject(type: "purchase", id: "r1", code: .formatError))
        let twiceId = #"{"type":"echo","id":"a","id":"a"}"#
        #expect(RequestParser.parse(Array(twiceId.utf8)) == .reject(type: nil, id: nil, code: .formatError))
        let twiceType = #"{"type":"echo","id":"a","type":"echo"}"#
        #expect(RequestParser.parse(Array(twiceType.utf8)) == .reject(type: nil, id: "a", code: .formatError))
        let twiceUnknown = Self.purchase(amount: "1250", extra: #","note":1,"note":2"#)
        guard case .request = RequestParser.parse(Array(twiceUnknown.utf8)) else {
            Issue.record("an unknown duplicate was not ignored")
            return
        }
    }

    @Test("the id and the type are echoed within their limits")
    func echoLimits() {
        let longest = String(repeating: "é", count: WireLimits.maximumIdCharacters)
        #expect(RequestParser.parse(Array(#"{"type":"nope","id":"\#(longest)"}"#.utf8))
            == .reject(type: "nope", id: longest, code: .invalidTransaction))
        let tooLong = longest + "e"
        #expect(RequestParser.parse(Array(#"{"type":"nope","id":"\#(tooLong)"}"#.utf8))
            == .reject(type: nil, id: nil, code: .formatError))
        let longType = String(repeating: "t", count: WireLimits.maximumEchoedTypeCharacters + 1)
        #expect(RequestParser.parse(Array(#"{"type":"\#(longType)","id":"a"}"#.utf8))
            == .reject(type: nil, id: "a", code: .invalidTransaction))
    }

    // MARK: the suite's own files, when a copy is at hand

    static var suiteDirectory: URL? {
        ProcessInfo.processInfo.environment["HDF_JSONTESTSUITE_DIR"].map { URL(fileURLWithPath: $0) }
    }

    @Test("the suite's test_parsing files, when HDF_JSONTESTSUITE_DIR names a copy")
    func suiteFiles() throws {
        let required = ProcessInfo.processInfo.environment["HDF_REQUIRE_JSONTESTSUITE"] == "1"
        guard let directory = Self.suiteDirectory,
              let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else {
            if required { Issue.record("HDF_REQUIRE_JSONTESTSUITE=1 and no test_parsing folder in HDF_JSONTESTSUITE_DIR") }
            return
        }
        var counts: [Character: Int] = [:]
        var implementationChoices: [String] = []
        for name in names.sorted() where name.hasSuffix(".json") {
            let bytes = Array(try Data(contentsOf: directory.appendingPathComponent(name)))
            let accepted = (try? JSONValue.parse(bytes)) != nil
            guard let kind = name.first else { continue }
            counts[kind, default: 0] += 1
            switch kind {
            case "y": #expect(accepted, "\(name) must be accepted")
            case "n": #expect(!accepted, "\(name) must be refused")
            default: implementationChoices.append("\(name): \(accepted ? "accepted" : "refused")")
            }
        }
        #expect((counts["y"] ?? 0) > 0 && (counts["n"] ?? 0) > 0, "no y_ or n_ files in \(directory.path)")
        print("JSONTestSuite: \(counts["y"] ?? 0) y, \(counts["n"] ?? 0) n, \(counts["i"] ?? 0) i; i choices:\n"
              + implementationChoices.joined(separator: "\n"))
    }
}
