import Foundation
import HDFDomain
import Testing
import WireProtocol

/// Contract §3, "Response codes": every code of the table that a request can reach, decided by the
/// `Authorizer` on the ledger (no network). Each test ends with `gateway check` on the ledger.
@Suite("Response codes (contract §3) without the network")
struct ResponseCodeTests {
    @Test("00 approved: txn, a 6-character auth_code, the amount, the wallet and what is left in it")
    func approved() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.card(holding: [.manuels, .transport])
        let answer = try gateway.send(gateway.purchaseText(card.pan, 1250, stan: "000123", id: "achat-1"))
        #expect(answer.code == "00")
        #expect(answer.string("type") == "purchase")
        #expect(answer.string("id") == "achat-1")
        #expect(answer.string("message") == "Accepté")
        #expect(answer.string("txn")?.isEmpty == false)
        #expect(answer.string("auth_code")?.count == 6)
        #expect(answer.int("amount") == 1250)
        #expect(answer.string("wallet") == "MANUELS")
        #expect(answer.int("balance") == card.balance(.manuels) - 1250)
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels) - 1250)
        #expect(try gateway.available(card.pan, .transport) == card.balance(.transport))

        let echo = try gateway.send(#"{"type":"echo","id":"e"}"#)
        #expect(echo.code == "00")
        #expect(echo.string("server_time") != nil)
    }

    @Test("10 partial approval with allow_partial: what the wallet holds; 51 without it")
    func partialApproval() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.card(holding: [.manuels, .transport])
        let held = card.balance(.manuels)

        let refused = try gateway.purchase(card.pan, held + 2000)
        #expect(refused.code == "51")
        #expect(try gateway.available(card.pan, .manuels) == held)

        let partial = try gateway.purchase(card.pan, held + 2000, partial: true)
        #expect(partial.code == "10")
        #expect(partial.string("message") == "Accepté partiellement")
        #expect(partial.int("amount") == held)
        #expect(partial.string("wallet") == "MANUELS")
        #expect(partial.int("balance") == 0)
        #expect(try gateway.available(card.pan, .manuels) == 0)

        // Nothing left anywhere usable: even allow_partial is refused.
        #expect(try gateway.purchase(card.pan, 100, partial: true).code == "51")
    }

    @Test("51 insufficient funds: a card whose wallets are empty, and an amount above the balance")
    func insufficientFunds() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let empty = gateway.manifest.emptyCard
        #expect(try gateway.purchase(empty.pan, 100).code == "51")
        #expect(try gateway.purchase(empty.pan, 100, partial: true).code == "51")

        let card = gateway.manifest.card(holding: [.manuels, .restauration])
        #expect(try gateway.purchase(card.pan, card.balance(.manuels) + 1, wallet: "MANUELS").code == "51")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels))
    }

    @Test("13 invalid amount: 0, negative, above 100,000,000 cents (read before the card number's Luhn check)")
    func invalidAmount() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.fundedCards[0]
        for amount: Int64 in [0, -5, 100_000_001] {
            let answer = try gateway.send(gateway.purchaseText(card.pan, amount, stan: gateway.nextStan(), id: "m",
                                                               card: gateway.tap(card.pan, 1)))
            #expect(answer.code == "13", "amount \(amount)")
            #expect(answer.string("type") == "purchase")
            #expect(answer.string("id") == "m")
        }
        let luhnFailing = String(card.pan.dropLast()) + String((Int(String(card.pan.last!))! + 1) % 10)
        let both = try gateway.send(#"""
            {"type":"purchase","id":"x","stan":"A1","amount":0,"currency":"EUR",
             "card":{"pan":"\#(luhnFailing)","atc":1,"un":"00000000","cryptogram":"0000000000000000"}}
            """#)
        #expect(both.code == "13")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels))
    }

    @Test("14 unknown card number: a PAN failing Luhn, and a Luhn-valid PAN that was never issued")
    func unknownCard() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.fundedCards[0]
        let luhnFailing = String(card.pan.dropLast()) + String((Int(String(card.pan.last!))! + 1) % 10)
        let notLuhn = try gateway.send(#"""
            {"type":"purchase","id":"x","stan":"A1","amount":100,"currency":"EUR",
             "card":{"pan":"\#(luhnFailing)","atc":1,"un":"00000000","cryptogram":"0000000000000000"}}
            """#)
        #expect(notLuhn.code == "14")

        let neverIssued = PAN(appendingCheckDigitTo: "925000000000000").digits
        #expect(!gateway.manifest.cards.contains { $0.pan == neverIssued })
        let unknown = try gateway.send(#"""
            {"type":"purchase","id":"y","stan":"A2","amount":100,"currency":"EUR",
             "card":{"pan":"\#(neverIssued)","atc":1,"un":"00000000","cryptogram":"0000000000000000"}}
            """#)
        #expect(unknown.code == "14")
        let list = try gateway.send(#"{"type":"online.list","id":"o","stan":"A3","pan":"\#(neverIssued)"}"#)
        #expect(list.code == "14")
    }

    /// Frames that are not well-formed requests (protocol/wire.md "Refused requests").
    static let formatErrors: [(String, String, String?)] = [
        (#"{"type":"echo","id":"1""#, "error", nil),                       // unreadable JSON
        (#"["echo"]"#, "error", nil),                                        // not an object
        (#"{"type":"echo"}"#, "error", nil),                                  // no id
        (#"{"type":"echo","id":""}"#, "error", nil),                          // empty id
        (#"{"type":"echo","id":"\#(String(repeating: "i", count: 65))"}"#, "error", nil), // id over 64
        (#"{"id":"n"}"#, "error", "n"),                                       // no type
        (#"{"type":7,"id":"n"}"#, "error", "n"),                              // type not a string
        (#"{"type":"purchase","id":"c","stan":"S1","amount":100,"currency":"USD","card":{"pan":"9250000000000009","atc":1,"un":"00000000","cryptogram":"0000000000000000"}}"#, "purchase", "c"),
        (#"{"type":"purchase","id":"c","stan":"S 1","amount":100,"currency":"EUR","card":{"pan":"9250000000000009","atc":1,"un":"00000000","cryptogram":"0000000000000000"}}"#, "purchase", "c"),
        (#"{"type":"purchase","id":"c","stan":"S1","amount":12.5,"currency":"EUR","card":{"pan":"9250000000000009","atc":1,"un":"00000000","cryptogram":"0000000000000000"}}"#, "purchase", "c"),
        (#"{"type":"purchase","id":"c","stan":"S1","amount":100,"currency":"EUR","card":{"pan":"9250000000000009","atc":70000,"un":"00000000","cryptogram":"0000000000000000"}}"#, "purchase", "c"),
        (#"{"type":"purchase","id":"c","stan":"S1","amount":100,"currency":"EUR","card":{"pan":"9250000000000009","atc":1,"un":"00000000","cryptogram":"0000000000000000"},"wallet":"CINEMA"}"#, "purchase", "c"),
        (#"{"type":"balance","id":"c","stan":"S1"}"#, "balance", "c"),
        (#"{"type":"totals","id":"t","date":"2026-02-30"}"#, "totals", "t"),
        (#"{"type":"online.list","id":"o","stan":"S1","pan":"9250000000000009","card":{"pan":"9250000000000009","atc":1,"un":"00000000","cryptogram":"0000000000000000"}}"#, "online.list", "o"),
        (#"{"type":"voucher.check","id":"v","code":" - - "}"#, "voucher.check", "v"),
    ]

    @Test("30 format error: answered with the type and id when they were readable", arguments: formatErrors)
    func formatError(frame: String, type: String, id: String?) throws {
        let gateway = try OfflineGateway()
        let answer = try gateway.send(frame)
        #expect(answer.code == "30")
        #expect(answer.string("type") == type)
        #expect(answer["id"] == (id.map { JSONValue.string($0) } ?? .null))
        #expect(answer.string("message") == "Erreur de format")
    }

    @Test("12 invalid transaction: an unknown type (echoed), and cancelling a payment that was reversed")
    func invalidTransaction() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let unknownType = try gateway.send(#"{"type":"refund","id":"u1"}"#)
        #expect(unknownType.code == "12")
        #expect(unknownType.string("type") == "refund")
        #expect(unknownType.string("id") == "u1")

        let card = gateway.manifest.fundedCards[0]
        let purchase = try gateway.purchase(card.pan, 900, stan: "P1")
        #expect(purchase.code == "00")
        #expect(try gateway.reverse("P1").code == "00")
        let cancel = try gateway.cancel(purchase.string("txn")!)
        #expect(cancel.code == "12")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels))
    }

    @Test("25 record not found: an unknown voucher, an unknown txn, the status of a stan never seen")
    func recordNotFound() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let neverIssued = VoucherCode.generate().grouped
        #expect(try gateway.checkVoucher(neverIssued).code == "25")
        #expect(try gateway.redeem(neverIssued).code == "25")
        #expect(try gateway.cancel("TXNEVERSEEN").code == "25")
        #expect(try gateway.status(of: "NEVER1").code == "25")
    }

    @Test("41 lost, 43 stolen, 62 restricted: a blocked card is declined on its very next request")
    func blockedCards() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let lost = gateway.manifest.card(status: "lost")
        let stolen = gateway.manifest.card(status: "stolen")
        #expect(try gateway.purchase(lost.pan, 100).code == "41")
        #expect(try gateway.purchase(stolen.pan, 100).code == "43")
        #expect(try gateway.balance(lost.pan).code == "41")
        #expect(try gateway.balance(stolen.pan).code == "43")

        let card = gateway.manifest.fundedCards[1]
        #expect(try gateway.purchase(card.pan, 100).code == "00")
        try gateway.setCardStatus(card.pan, .damaged)
        #expect(try gateway.purchase(card.pan, 100).code == "62")
        #expect(try gateway.balance(card.pan).code == "62")
        try gateway.setCardStatus(card.pan, .lost)
        #expect(try gateway.purchase(card.pan, 100).code == "41")
        try gateway.setCardStatus(card.pan, .active)
        #expect(try gateway.purchase(card.pan, 100).code == "00")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels) - 200)
    }

    @Test("54 expired wallet: the demo card whose only wallet has expired")
    func expiredWallet() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.expiredCard
        #expect(try gateway.purchase(card.pan, 100).code == "54")
        #expect(try gateway.purchase(card.pan, 100, wallet: "MANUELS").code == "54")
        #expect(try gateway.purchase(card.pan, 100, partial: true).code == "54")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels))
    }

    @Test("54 expired voucher: refused, and its money is back in the wallet it came from")
    func expiredVoucher() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.card(holding: [.manuels, .transport])
        let code = try gateway.prepay(card.pan, partner: "P001", amount: 3000)
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels) - 3000)

        // The voucher is valid until its wallet expires (6 months for MANUELS): 200 days later it has expired.
        gateway.now = gateway.now.addingTimeInterval(200 * 86_400)
        let redeem = try gateway.redeem(code)
        #expect(redeem.code == "54")
        #expect(try gateway.storedVoucherStatus(code) == "expired")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels))

        let check = try gateway.checkVoucher(code)
        #expect(check.code == "54")
        #expect(check["voucher"]?.string("status") == "expired")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels))
    }

    @Test("57 not permitted here: no wallet of the card is usable at this partner, or the one asked for is not")
    func notPermittedHere() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.card(holding: [.manuels, .restauration])
        #expect(try gateway.purchase(card.pan, 100, at: "T004").code == "57")   // transport only
        #expect(try gateway.purchase(card.pan, 100, at: "T001", wallet: "RESTAURATION").code == "57")
        // protocol/wire.md: a `wallet` the card does not have is 12.
        #expect(try gateway.purchase(card.pan, 100, at: "T005", wallet: "HEBERGEMENT").code == "12")
        #expect(try gateway.available(card.pan, .restauration) == card.balance(.restauration))
    }

    @Test("58 not permitted to this terminal: another partner's voucher or txn, a revoked terminal")
    func notPermittedToTerminal() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.card(holding: [.manuels, .transport])
        let code = try gateway.prepay(card.pan, partner: "P002", amount: 1500)
        #expect(try gateway.checkVoucher(code, at: "T001").code == "58")
        #expect(try gateway.redeem(code, at: "T001").code == "58")
        #expect(try gateway.checkVoucher(code, at: "T002").code == "00")

        let transport = try gateway.purchase(card.pan, 700, at: "T004")
        #expect(transport.code == "00")
        #expect(try gateway.cancel(transport.string("txn")!, at: "T001").code == "58")

        let online = try gateway.payOnline(card.pan, partner: "P003", wallet: .transport, amount: 300)
        #expect(try gateway.cancel(online, at: "T001").code == "58")

        try gateway.ledger.write(now: gateway.now) { try $0.revokeTerminal(id: "T005") }
        let revoked = try gateway.send(#"{"type":"echo","id":"e"}"#, from: "T005")
        #expect(revoked.code == "58")
        #expect(revoked.closesConnection)
        #expect(!(try gateway.send(#"{"type":"echo","id":"e"}"#, from: "T004")).closesConnection)
    }

    @Test("63 security violation: a wrong cryptogram, one over another amount, an ATC not above the last one")
    func securityViolation() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.fundedCards[2]
        let forged = gateway.purchaseText(card.pan, 500, stan: "F1", card: gateway.reader.forged(card.pan, amount: 500))
        #expect(try gateway.send(forged).code == "63")
        let otherAmount = gateway.purchaseText(card.pan, 5000, stan: "F2", card: gateway.tap(card.pan, 50))
        #expect(try gateway.send(otherAmount).code == "63")

        let atc10 = gateway.purchaseText(card.pan, 500, stan: "F3", card: gateway.reader.tap(card.pan, amount: 500, atc: 10))
        #expect(try gateway.send(atc10).code == "00")
        let sameATC = gateway.purchaseText(card.pan, 500, stan: "F4", card: gateway.reader.tap(card.pan, amount: 500, atc: 10))
        #expect(try gateway.send(sameATC).code == "63")
        let lowerATC = gateway.purchaseText(card.pan, 500, stan: "F5", card: gateway.reader.tap(card.pan, amount: 500, atc: 9))
        #expect(try gateway.send(lowerATC).code == "63")
        let balanceLowerATC = try gateway.send(#"{"type":"balance","id":"b","stan":"F6","card":\#(gateway.reader.tap(card.pan, amount: 0, atc: 3))}"#)
        #expect(balanceLowerATC.code == "63")
        let above = gateway.purchaseText(card.pan, 500, stan: "F7", card: gateway.reader.tap(card.pan, amount: 500, atc: 11))
        #expect(try gateway.send(above).code == "00")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels) - 1000)
    }

    @Test("94 duplicate transmission: a stan reused with other content; nothing happens")
    func duplicateTransmission() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.fundedCards[3]
        #expect(try gateway.purchase(card.pan, 1000, stan: "D1").code == "00")
        let other = try gateway.purchase(card.pan, 2000, stan: "D1")
        #expect(other.code == "94")
        #expect(other.string("message") == "Doublon refusé")
        #expect(try gateway.cancel("TXWHATEVER", stan: "D1").code == "94")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels) - 1000)
    }

    @Test("A1 voucher already redeemed, A2 voucher cancelled by the beneficiary")
    func voucherCodes() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.card(holding: [.manuels, .transport])
        let code = try gateway.prepay(card.pan, partner: "P001", amount: 2500)
        let redeemed = try gateway.redeem(code)
        #expect(redeemed.code == "00")
        #expect(redeemed.int("amount") == 2500)
        #expect(redeemed.string("txn")?.isEmpty == false)
        #expect(try gateway.redeem(code).code == "A1")
        let check = try gateway.checkVoucher(code)
        #expect(check.code == "A1")
        #expect(check["voucher"]?.string("status") == "redeemed")

        let second = try gateway.prepay(card.pan, partner: "P001", amount: 1000)
        try gateway.cancelPrepayment(card.pan, code: second)
        #expect(try gateway.redeem(second).code == "A2")
        #expect(try gateway.checkVoucher(second).code == "A2")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels) - 2500)
    }

    @Test("A3 already cancelled: a partner cancels a payment once; the money goes back once")
    func alreadyCancelled() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.fundedCards[4]
        let purchase = try gateway.purchase(card.pan, 1800, at: "T002", stan: "BUY1")
        let txn = try #require(purchase.string("txn"))
        // Any terminal of the partner may cancel it.
        let cancel = try gateway.cancel(txn, at: "T003")
        #expect(cancel.code == "00")
        #expect(cancel.string("original") == txn)
        #expect(cancel.int("amount") == 1800)
        #expect(cancel.string("txn") != nil && cancel.string("txn") != txn)
        #expect(try gateway.cancel(txn, at: "T002").code == "A3")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels))
        // The terminal reversing that purchase now gets 00, and gives nothing back a second time.
        #expect(try gateway.reverse("BUY1", at: "T002").code == "00")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels))
    }

    @Test("05 do not honour: a request reversed before it arrives, and a retransmission after its reversal")
    func doNotHonour() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.fundedCards[5]
        // The reversal comes first (the terminal timed out before its purchase reached us): remembered, 00.
        let early = try gateway.reverse("LATE1")
        #expect(early.code == "00")
        let late = try gateway.purchase(card.pan, 1000, stan: "LATE1")
        #expect(late.code == "05")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels))

        // Approved, reversed (the money comes back), then retransmitted: 05, not the approval.
        let text = gateway.purchaseText(card.pan, 1200, stan: "REV1")
        #expect(try gateway.send(text).code == "00")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels) - 1200)
        #expect(try gateway.reverse("REV1").code == "00")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels))
        #expect(try gateway.send(text).code == "05")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels))
    }
}
