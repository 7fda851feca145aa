import Foundation
import GatewayServer
import HDFDomain
@testable import Ledger
import Testing
import WireProtocol

/// Issue 11: a stan's record keeps its answer in the fewest bytes, and gives it back byte for byte. A purchase's
/// approval is re-derived from its payment (txn, auth code, amount, wallet) and the balance kept beside it; a
/// refusal from its type, code and message; only an answer with a body of its own is kept whole.
@Suite("compact stan records (issue 11)")
struct CompactStanTests {
    /// Sends `text` (whose id is `id`), then the same again under the id `again`, then `status` of `stan`:
    /// the retransmission is the first answer with the new id, and `status` holds the first answer, unchanged.
    /// Returns the first answer and whether its record kept it whole.
    func roundTrip(_ gateway: Decider, _ text: String, id: String, stan: String, at terminal: String = "T001",
                   sourceLocation: SourceLocation = #_sourceLocation) throws -> (answer: String, keptWhole: Bool) {
        let first = String(decoding: try gateway.sendBytes(text, from: terminal), as: UTF8.self)
        #expect(first.hasPrefix(#"{"type":"#) && first.contains(#""id":"\#(id)""#), "\(first)", sourceLocation: sourceLocation)
        let again = text.replacingOccurrences(of: #""id":"\#(id)""#, with: #""id":"again""#)
        let replay = String(decoding: try gateway.sendBytes(again, from: terminal), as: UTF8.self)
        #expect(replay == first.replacingOccurrences(of: #""id":"\#(id)""#, with: #""id":"again""#),
                "a retransmission gets the first answer, with its own id", sourceLocation: sourceLocation)
        let status = String(decoding: try gateway.sendBytes(#"{"type":"status","id":"st","of":"\#(stan)"}"#, from: terminal), as: UTF8.self)
        #expect(status == #"{"type":"status","id":"st","code":"00","message":"Accepté","original":"# + first + "}",
                "status gives the first answer back, byte for byte", sourceLocation: sourceLocation)
        let keptWhole = try gateway.ledger.read { tx in
            try tx.db.scalarInt("SELECT response IS NOT NULL FROM stans WHERE terminal_id = ? AND stan = ?", terminal, stan)
        }
        return (first, keptWhole == 1)
    }

    @Test("every kind of answer a stan gets comes back byte for byte; only balance, cancel and online.list are kept whole")
    func answersComeBack() throws {
        let gateway = try Decider("compact-stans")
        let cards = gateway.manifest.manuelsCards
        let pan = cards[0].pan
        let balance = try gateway.available(pan)

        // An approval: re-derived from its payment.
        let card = gateway.tap(pan, 1_250)
        let approved = try roundTrip(gateway, purchaseText(id: "p1", stan: "C1", amount: 1_250, card: card), id: "p1", stan: "C1")
        #expect(approved.answer.contains(#""code":"00""#) && approved.answer.contains(#""balance":\#(balance - 1_250)"#), "\(approved)")
        #expect(!approved.keptWhole)

        // A partial approval (`10`), then a refusal (`51`) on the emptied wallet.
        let left = balance - 1_250
        let partialCard = gateway.tap(pan, left + 500)
        let partialText = #"{"type":"purchase","id":"p2","stan":"C2","amount":\#(left + 500),"currency":"EUR","card":\#(partialCard),"allow_partial":true}"#
        let partial = try roundTrip(gateway, partialText, id: "p2", stan: "C2")
        #expect(partial.answer.contains(#""code":"10""#) && partial.answer.contains(#""amount":\#(left),"wallet":"MANUELS","balance":0"#), "\(partial)")
        #expect(!partial.keptWhole)
        let refused = try roundTrip(gateway, purchaseText(id: "p3", stan: "C3", amount: 100, card: gateway.tap(pan, 100)), id: "p3", stan: "C3")
        #expect(refused.answer.contains(#""code":"51""#), "\(refused)")
        #expect(!refused.keptWhole)

        // A refusal with a message of its own, and an answer after a reversal came first.
        let mistyped = try roundTrip(gateway, #"{"type":"voucher.redeem","id":"v0","stan":"C4","code":"AB"}"#, id: "v0", stan: "C4")
        #expect(mistyped.answer.contains(#""code":"30","message":"Code de bon mal saisi""#), "\(mistyped)")
        #expect(!mistyped.keptWhole)
        #expect(try gateway.reverse("C5").code == "00")
        let other = cards[1].pan
        let late = try roundTrip(gateway, purchaseText(id: "p5", stan: "C5", amount: 100, card: gateway.tap(other, 100)), id: "p5", stan: "C5")
        #expect(late.answer.contains(#""code":"05","message":"Opération annulée""#), "\(late)")

        // A voucher redeemed: re-derived from its payment.
        let voucher = try gateway.ledger.write { tx in
            try tx.prepay(pan: try PAN(validating: other), partnerID: "P001", wallet: .manuels, amountCents: 700)
        }
        let redeemed = try roundTrip(gateway, #"{"type":"voucher.redeem","id":"v1","stan":"C6","code":"\#(voucher.code.grouped)"}"#,
                                     id: "v1", stan: "C6")
        #expect(redeemed.answer.contains(#""code":"00""#) && redeemed.answer.contains(#""amount":700"#), "\(redeemed)")
        #expect(!redeemed.keptWhole)

        // Answers with a body of their own: kept whole.
        let balanceText = #"{"type":"balance","id":"b1","stan":"C7","card":\#(gateway.tap(other, 0))}"#
        let wallets = try roundTrip(gateway, balanceText, id: "b1", stan: "C7")
        #expect(wallets.answer.contains(#""wallets":["#) && wallets.keptWhole, "\(wallets)")
        let txn = try #require(json(Array(approved.answer.utf8)).string("txn"))
        let cancelled = try roundTrip(gateway, #"{"type":"cancel","id":"c1","stan":"C8","txn":"\#(txn)"}"#, id: "c1", stan: "C8")
        #expect(cancelled.answer.contains(#""original":"\#(txn)","amount":1250"#) && cancelled.keptWhole, "\(cancelled)")
        let listed = try roundTrip(gateway, #"{"type":"online.list","id":"o1","stan":"C9","pan":"\#(other)"}"#, id: "o1", stan: "C9")
        #expect(listed.answer.contains(#""payments":["#) && listed.keptWhole, "\(listed)")

        // The purchase's answer stays what it was after the payment was cancelled (status: "unchanged").
        let status = String(decoding: try gateway.sendBytes(#"{"type":"status","id":"st","of":"C1"}"#), as: UTF8.self)
        #expect(status.hasSuffix(#""original":"# + approved.answer + "}"))
        #expect(try gateway.violations().isEmpty)

        // `gateway check` names a record whose answer could not be given back.
        try gateway.otherConnection("UPDATE stans SET balance_after_cents = NULL WHERE terminal_id = 'T001' AND stan = 'C1'")
        #expect(try gateway.violations().map(\.invariant) == ["stan-answer-kept"])
        try gateway.otherConnection("UPDATE stans SET request_type = NULL WHERE terminal_id = 'T001' AND stan = 'C3'")
        #expect(try gateway.violations().count == 2)
    }

    @Test("a stan record of an approval keeps no answer bytes: its digest, id, code, txn and balance")
    func recordSize() throws {
        let gateway = try Decider("compact-stan-size")
        let pan = gateway.manifest.manuelsCards[2].pan
        let answer = try gateway.sendBytes(purchaseText(id: "p-000001", stan: "S000001", amount: 100, card: gateway.tap(pan, 100)))
        #expect(json(answer).code == "00")
        // What the record holds beside its key: 32 bytes of digest, the id, the code, the txn, the balance.
        let kept: Int64 = try gateway.ledger.read { tx in
            try tx.db.scalarInt("""
                SELECT length(digest) + length(request_id) + length(code) + length(payment_txn) + 8 + ifnull(length(response), 0)
                FROM stans WHERE terminal_id = 'T001' AND stan = 'S000001'
                """) ?? -1
        }
        let expected: Int64 = 32 + 8 + 2 + 14 + 8
        #expect(kept == expected, "the answer (\(answer.count) bytes) is not stored")
    }
}
