import Foundation
import HDFDomain
import NIOCore
import Testing
@testable import WireProtocol

let testPAN = "9250123456789013"
let testCard = #"{"pan":"9250123456789013","atc":1,"un":"a1b2c3d4","cryptogram":"b968a5de76835732"}"#

func parse(_ text: String) -> ParseOutcome { RequestParser.parse(Array(text.utf8)) }

func request(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Request {
    guard case .request(let request) = parse(text) else {
        Issue.record("not a request: \(parse(text))", sourceLocation: sourceLocation)
        throw CancellationError()
    }
    return request
}

@Suite("Requests")
struct RequestTests {
    @Test("a purchase with every field")
    func purchase() throws {
        let r = try request(#"{"type":"purchase","id":"p-1","stan":"000123","amount":1250,"currency":"EUR","card":{"pan":"9250123456789013","atc":7,"un":"A1B2C3D4","cryptogram":"B968A5DE76835732"},"wallet":"MANUELS","allow_partial":true}"#)
        #expect(r.id == "p-1")
        #expect(r.type == .purchase)
        #expect(r.stan == "000123")
        let card = CardData(pan: try PAN(validating: testPAN), atc: 7,
                            unpredictableNumberHex: "a1b2c3d4", cryptogramHex: "b968a5de76835732")
        #expect(r.body == .purchase(stan: "000123", amountCents: 1250, currency: "EUR", card: card,
                                    wallet: .manuels, allowPartial: true))
    }

    @Test("every type parses into its body", arguments: [
        (#"{"type":"echo","id":"1"}"#, RequestBody.echo),
        (#"{"type":"reverse","id":"1","of":"S-9"}"#, .reverse(of: "S-9")),
        (#"{"type":"cancel","id":"1","stan":"C1","txn":"T 1é"}"#, .cancel(stan: "C1", txn: "T 1é")),
        (#"{"type":"voucher.check","id":"1","code":"ab-12 cd"}"#, .voucherCheck(code: "AB12CD")),
        (#"{"type":"voucher.redeem","id":"1","stan":"V1","code":"AB12CD"}"#, .voucherRedeem(stan: "V1", code: "AB12CD")),
        (#"{"type":"online.list","id":"1","stan":"O1"}"#, .onlineList(stan: "O1", card: nil, pan: nil)),
        (#"{"type":"online.list","id":"1","stan":"O1","pan":"9250123456789013"}"#,
         .onlineList(stan: "O1", card: nil, pan: try! PAN(validating: "9250123456789013"))),
        (#"{"type":"status","id":"1","of":"000123"}"#, .status(of: "000123")),
        (#"{"type":"totals","id":"1","date":"2026-11-26"}"#, .totals(date: LocalDate(year: 2026, month: 11, day: 26)!)),
    ])
    func types(_ text: String, _ body: RequestBody) throws {
        let r = try request(text)
        #expect(r.body == body)
        #expect(r.id == "1")
        #expect(r.type == body.type)
    }

    @Test("balance and online.list with a card")
    func cardTypes() throws {
        let balance = try request(#"{"type":"balance","id":"b","stan":"B1","card":"# + testCard + "}")
        guard case .balance(let stan, let card) = balance.body else { Issue.record("not a balance"); return }
        #expect(stan == "B1")
        #expect(card.pan.digits == testPAN)
        #expect(card.atc == 1)
        let list = try request(#"{"type":"online.list","id":"o","stan":"O1","card":"# + testCard + "}")
        guard case .onlineList(_, let listCard, let pan) = list.body else { Issue.record("not online.list"); return }
        #expect(listCard == card)
        #expect(pan == nil)
    }

    @Test("stan: only the types that carry their own")
    func stanAccessor() throws {
        #expect(try request(#"{"type":"cancel","id":"1","stan":"C1","txn":"T"}"#).stan == "C1")
        #expect(try request(#"{"type":"voucher.redeem","id":"1","stan":"V1","code":"X"}"#).stan == "V1")
        #expect(try request(#"{"type":"online.list","id":"1","stan":"O1"}"#).stan == "O1")
        #expect(try request(#"{"type":"reverse","id":"1","of":"S1"}"#).stan == nil)
        #expect(try request(#"{"type":"status","id":"1","of":"S1"}"#).stan == nil)
        #expect(try request(#"{"type":"echo","id":"1"}"#).stan == nil)
        #expect(try request(#"{"type":"voucher.check","id":"1","code":"X"}"#).stan == nil)
        #expect(try request(#"{"type":"totals","id":"1","date":"2026-01-01"}"#).stan == nil)
    }

    @Test("a ByteBuffer frame parses the same as bytes")
    func fromByteBuffer() throws {
        let text = #"{"type":"status","id":"x","of":"1"}"#
        let outcome = RequestParser.parse(frame: ByteBuffer(string: text))
        #expect(outcome == parse(text))
        #expect(try RequestParser.parseRequest(frame: ByteBuffer(string: text)).body == .status(of: "1"))
    }

    @Test("a rejection says why, without the full PAN")
    func rejectionReason() {
        let frame = ByteBuffer(string: #"{"type":"balance","id":"b","stan":"B1","card":{"pan":"9250123456789014","atc":1,"un":"a1b2c3d4","cryptogram":"b968a5de76835732"}}"#)
        do {
            _ = try RequestParser.parseRequest(frame: frame)
            Issue.record("accepted a Luhn-failing PAN")
        } catch {
            #expect(error.code == .unknownCard)
            #expect(error.type == "balance")
            #expect(error.id == "b")
            #expect(error.reason.contains("9250********9014"))
            #expect(!error.reason.contains("9250123456789014"))
            #expect(!error.description.contains("9250123456789014"))
            #expect(error.response == Response(type: "balance", id: "b", code: .unknownCard))
        }
    }

    @Test("descriptions mask the PAN")
    func masking() throws {
        let r = try request(#"{"type":"purchase","id":"p","stan":"1","amount":1,"currency":"EUR","card":"# + testCard + "}")
        let list = try request(#"{"type":"online.list","id":"o","stan":"O1","pan":"9250123456789013"}"#)
        guard case .purchase(_, _, _, let card, _, _) = r.body else { Issue.record("not a purchase"); return }
        for text in [String(describing: r), String(reflecting: r), String(describing: r.body), "\(card)",
                     String(reflecting: card), String(describing: list), String(reflecting: list.body)] {
            #expect(!text.contains(testPAN), "full PAN in: \(text)")
            #expect(text.contains("9250********9013"), "no masked PAN in: \(text)")
        }
    }

    @Test("a frame cut short anywhere is unreadable, answered 30 as an error")
    func truncations() {
        let bytes = Array(FingerprintTests.purchase.utf8)
        for length in 0..<bytes.count {
            #expect(RequestParser.parse(bytes[..<length]) == .reject(type: nil, id: nil, code: .formatError),
                    "cut at \(length)")
        }
    }

    @Test("any single byte changed gives an outcome, never a crash; a refusal is never 00")
    func mutations() {
        let bytes = Array(FingerprintTests.purchase.utf8)
        var accepted = 0
        for index in bytes.indices {
            for replacement: UInt8 in [0x00, 0x22, 0x2C, 0x30, 0x39, 0x5C, 0x7B, 0x7D, 0xC3, 0xFF] {
                var mutated = bytes
                mutated[index] = replacement
                switch RequestParser.parse(mutated) {
                case .request: accepted += 1
                case .reject(_, _, let code): #expect(!code.isApproval)
                }
            }
        }
        #expect(accepted > 0)
    }

    @Test("voucher codes are normalised")
    func voucherNormalisation() {
        #expect(VoucherCodeText.normalize("ab12-cd 34") == "AB12CD34")
        #expect(VoucherCodeText.normalize("--  ") == "")
        #expect(VoucherCodeText.normalize("été") == "éTé")
    }
}

@Suite("Content fingerprints")
struct FingerprintTests {
    static let purchase = #"{"type":"purchase","id":"ID","stan":"000123","amount":1250,"currency":"EUR","card":{"pan":"9250123456789013","atc":1,"un":"a1b2c3d4","cryptogram":"b968a5de76835732"},"wallet":"MANUELS","allow_partial":false}"#

    @Test("the same content under another id, in another member order, has the same fingerprint")
    func sameContent() throws {
        let first = try request(Self.purchase)
        let retransmitted = try request(Self.purchase.replacingOccurrences(of: #""ID""#, with: #""another-id""#))
        let reordered = try request(#"{"allow_partial":false,"wallet":"manuels","card":{"cryptogram":"B968A5DE76835732","un":"A1B2C3D4","atc":1,"pan":"9250123456789013"},"currency":"EUR","amount":1250,"stan":"000123","id":"z","type":"purchase","ignored":1}"#)
        #expect(first.id != retransmitted.id)
        #expect(first.contentFingerprint == retransmitted.contentFingerprint)
        #expect(first.contentFingerprint == reordered.contentFingerprint)
        #expect(first.contentFingerprint == #"{"type":"purchase","stan":"000123","amount":1250,"currency":"EUR","card":{"pan":"9250123456789013","atc":1,"un":"a1b2c3d4","cryptogram":"b968a5de76835732"},"wallet":"MANUELS","allow_partial":false}"#)
    }

    @Test("absent and default optional fields mean the same")
    func defaults() throws {
        let a = try request(#"{"type":"purchase","id":"1","stan":"1","amount":1,"currency":"EUR","card":"# + testCard + "}")
        let b = try request(#"{"type":"purchase","id":"2","stan":"1","amount":1,"currency":"EUR","card":"# + testCard + #","wallet":null,"allow_partial":false}"#)
        #expect(a.contentFingerprint == b.contentFingerprint)
    }

    @Test("any change of content changes the fingerprint", arguments: [
        (#""stan":"000123""#, #""stan":"000124""#),
        (#""amount":1250"#, #""amount":1251"#),
        (#""pan":"9250123456789013""#, #""pan":"9250123456789021""#),
        (#""atc":1"#, #""atc":2"#),
        (#""un":"a1b2c3d4""#, #""un":"a1b2c3d5""#),
        (#""cryptogram":"b968a5de76835732""#, #""cryptogram":"b968a5de76835733""#),
        (#""wallet":"MANUELS""#, #""wallet":"TRANSPORT""#),
        (#","wallet":"MANUELS""#, ""),
        (#""allow_partial":false"#, #""allow_partial":true"#),
    ])
    func anyChange(_ from: String, _ to: String) throws {
        let changed = Self.purchase.replacingOccurrences(of: from, with: to)
        #expect(changed != Self.purchase)
        #expect(try request(Self.purchase).contentFingerprint != request(changed).contentFingerprint)
    }

    @Test("different types with the same fields differ; every type's fields count")
    func acrossTypes() throws {
        let texts = [
            #"{"type":"echo","id":"1"}"#,
            #"{"type":"reverse","id":"1","of":"A"}"#,
            #"{"type":"status","id":"1","of":"A"}"#,
            #"{"type":"reverse","id":"1","of":"B"}"#,
            #"{"type":"cancel","id":"1","stan":"A","txn":"T1"}"#,
            #"{"type":"cancel","id":"1","stan":"A","txn":"T2"}"#,
            #"{"type":"cancel","id":"1","stan":"B","txn":"T1"}"#,
            #"{"type":"voucher.check","id":"1","code":"A"}"#,
            #"{"type":"voucher.check","id":"1","code":"B"}"#,
            #"{"type":"voucher.redeem","id":"1","stan":"A","code":"A"}"#,
            #"{"type":"voucher.redeem","id":"1","stan":"A","code":"B"}"#,
            #"{"type":"online.list","id":"1","stan":"A"}"#,
            #"{"type":"online.list","id":"1","stan":"B"}"#,
            #"{"type":"online.list","id":"1","stan":"A","pan":"9250123456789013"}"#,
            #"{"type":"online.list","id":"1","stan":"A","card":"# + testCard + "}",
            #"{"type":"balance","id":"1","stan":"A","card":"# + testCard + "}",
            #"{"type":"balance","id":"1","stan":"B","card":"# + testCard + "}",
            #"{"type":"totals","id":"1","date":"2026-11-26"}"#,
            #"{"type":"totals","id":"1","date":"2026-11-27"}"#,
        ]
        let fingerprints = try texts.map { try request($0).contentFingerprint }
        #expect(Set(fingerprints).count == texts.count)
    }

    @Test("a txn or code holding quotes cannot forge another request's fingerprint")
    func injective() throws {
        let a = try request(#"{"type":"cancel","id":"1","stan":"A","txn":"T\",\"x\":\"y"}"#)
        let b = try request(#"{"type":"cancel","id":"1","stan":"A","txn":"T"}"#)
        #expect(a.contentFingerprint != b.contentFingerprint)
        #expect(try JSONValue.parse(a.contentFingerprint)["txn"] == .string(#"T","x":"y"#))
    }
}
