import Foundation
import HDFDomain
import Testing
@testable import WireProtocol

/// The shared vectors of protocol/vectors/parse-*.json: each case is a frame (`request`: a JSON object,
/// or a string that is the frame's exact text; or `request_hex`: the frame's bytes) and what parsing it
/// must give (`expect`).
@Suite("Protocol vectors")
struct VectorTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("protocol/vectors")

    static let files = [
        "parse-envelope.json", "parse-echo.json", "parse-purchase.json", "parse-balance.json",
        "parse-reverse.json", "parse-cancel.json", "parse-voucher-check.json", "parse-voucher-redeem.json",
        "parse-online-list.json", "parse-status.json", "parse-totals.json",
    ]

    static func cases(in file: String) throws -> [JSONValue] {
        let data = try Data(contentsOf: directory.appendingPathComponent(file))
        return try #require(try JSONValue.parse(Array(data)).arrayValue, "\(file) is not a list")
    }

    static func frameBytes(_ testCase: JSONValue) throws -> [UInt8] {
        if let hex = testCase["request_hex"]?.stringValue {
            var bytes: [UInt8] = []
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2)
                bytes.append(try #require(UInt8(hex[index..<next], radix: 16)))
                index = next
            }
            return bytes
        }
        let request = try #require(testCase["request"])
        if case .string(let text) = request { return Array(text.utf8) }
        return request.encoded()
    }

    @Test("every vector file is read, and every file in the folder is listed")
    func filesListed() throws {
        let present = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path)
            .filter { $0.hasPrefix("parse-") && $0.hasSuffix(".json") }
        #expect(Set(present) == Set(Self.files))
    }

    @Test("every request type has its vectors, accepted and refused")
    func everyTypeCovered() throws {
        var accepted = Set<String>()
        for file in Self.files {
            for testCase in try Self.cases(in: file) where testCase["expect"]?["outcome"] == .string("request") {
                if let type = testCase["expect"]?["type"]?.stringValue { accepted.insert(type) }
            }
        }
        #expect(accepted == Set(RequestType.allCases.map(\.rawValue)))
    }

    @Test("vectors", arguments: files)
    func vectors(_ file: String) throws {
        let cases = try Self.cases(in: file)
        #expect(!cases.isEmpty)
        for testCase in cases {
            let name = "\(file): \(testCase["name"]?.stringValue ?? "(unnamed)")"
            let expect = try #require(testCase["expect"], "\(name) has no expect")
            let outcome = RequestParser.parse(try Self.frameBytes(testCase))
            switch (expect["outcome"]?.stringValue, outcome) {
            case ("request", .request(let request)):
                #expect(request.type.rawValue == expect["type"]?.stringValue, "\(name)")
                #expect(request.id == expect["id"]?.stringValue, "\(name)")
                #expect(request.stan == expect["stan"]?.stringValue, "\(name)")
                if let fingerprint = expect["fingerprint"]?.stringValue {
                    #expect(request.contentFingerprint == fingerprint, "\(name)")
                }
                // The canonical form, given an id, is itself a request with the same content.
                guard case .object(var members) = try JSONValue.parse(request.contentFingerprint) else {
                    Issue.record("\(name): fingerprint is not an object"); continue
                }
                members.append(("id", .string("canonical")))
                guard case .request(let again) = RequestParser.parse(JSONValue.object(members).encoded()) else {
                    Issue.record("\(name): the canonical form is refused"); continue
                }
                #expect(again.body == request.body, "\(name)")
                #expect(again.contentFingerprint == request.contentFingerprint, "\(name)")
            case ("reject", .reject(let type, let id, let code)):
                #expect(code.rawValue == expect["code"]?.stringValue, "\(name)")
                #expect(type == expect["type"]?.stringValue, "\(name)")
                #expect(id == expect["id"]?.stringValue, "\(name)")
            default:
                Issue.record("\(name): expected \(expect), got \(outcome)")
            }
        }
    }
}
