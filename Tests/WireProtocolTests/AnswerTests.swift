import HDFDomain
import Testing
@testable import WireProtocol

/// The typed answer (issue 11): each body's fields in the order of contract §3, the message the code's default
/// unless given, and an answer read back from its bytes encoding to the same bytes.
@Suite("typed answers")
struct AnswerTests {
    static let day = LocalDate(iso: "2026-12-02")!

    @Test("each body encodes its contract fields, in order", arguments: [
        (AnswerBody.none, #"{"type":"t","id":"i","code":"00","message":"Accepté"}"#),
        (.purchase(txn: "TY0000000000AB", authCode: "A1B2C3", amountCents: 1250, wallet: .manuels, balanceCents: 8750),
         #"{"type":"t","id":"i","code":"00","message":"Accepté","txn":"TY0000000000AB","auth_code":"A1B2C3","amount":1250,"wallet":"MANUELS","balance":8750}"#),
        (.reversed(of: "S1"), #"{"type":"t","id":"i","code":"00","message":"Accepté","of":"S1"}"#),
        (.cancellation(txn: "TY1", originalTxn: "TY0", amountCents: 5),
         #"{"type":"t","id":"i","code":"00","message":"Accepté","txn":"TY1","original":"TY0","amount":5}"#),
        (.redemption(txn: "TY2", amountCents: 700), #"{"type":"t","id":"i","code":"00","message":"Accepté","txn":"TY2","amount":700}"#),
        (.voucher(VoucherLine(code: "ABCD-EFGH", amountCents: 700, wallet: .manuels, status: "issued", expiresOn: day)),
         #"{"type":"t","id":"i","code":"00","message":"Accepté","voucher":{"code":"ABCD-EFGH","amount":700,"wallet":"MANUELS","status":"issued","expires":"2026-12-02"}}"#),
        (.totals(day: day, purchases: CountAndAmountLine(count: 2, amountCents: 30), cancellations: CountAndAmountLine(count: 0, amountCents: 0),
                 vouchers: CountAndAmountLine(count: 1, amountCents: 7), online: CountAndAmountLine(count: 0, amountCents: 0)),
         #"{"type":"t","id":"i","code":"00","message":"Accepté","date":"2026-12-02","purchases":{"count":2,"amount":30},"cancellations":{"count":0,"amount":0},"vouchers":{"count":1,"amount":7},"online":{"count":0,"amount":0}}"#),
    ])
    func bodies(_ body: AnswerBody, _ expected: String) {
        #expect(String(decoding: Answer(type: "t", id: "i", code: .approved, body: body).encode(), as: UTF8.self) == expected)
    }

    @Test("a status holds its original unchanged; a stored answer read back encodes to the same bytes; withID changes only the id")
    func nesting() throws {
        let original = Answer(type: "purchase", id: "p1", code: .partialApproval,
                              body: .purchase(txn: "TY3", authCode: "ZZZZZZ", amountCents: 10, wallet: .transport, balanceCents: 0))
        let bytes = original.encode()
        let status = Answer(type: "status", id: "s", code: .approved, body: .status(original: original)).encode()
        #expect(status == Array(#"{"type":"status","id":"s","code":"00","message":"Accepté","original":"#.utf8) + bytes + [UInt8(ascii: "}")])
        let read = try Response(decoding: bytes)
        let stored = Answer(type: read.type, id: read.id, code: read.code, message: read.message, body: .stored(read.fields))
        #expect(stored.encode() == bytes)
        #expect(String(decoding: original.withID(nil).encode(), as: UTF8.self).hasPrefix(#"{"type":"purchase","id":null,"code":"10","message":"Accepté partiellement","txn":"TY3""#))
        #expect(Answer(type: "voucher.redeem", id: "v", code: .formatError, message: "Code de bon mal saisi").response.message == "Code de bon mal saisi")
    }
}
