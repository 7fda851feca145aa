import Foundation
import HDFDomain
import Testing
import WireProtocol

/// Contract §3: "Every request that carries a `stan` is idempotent", `reverse`, and `status`.
@Suite("stan, reverse and status (contract §3) without the network")
struct IdempotencyTests {
    @Test("a retransmission under another id gets the first response with the new id, and nothing happens twice")
    func retransmissionWithAnotherID() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.fundedCards[0]
        let card0 = gateway.tap(card.pan, 2000)
        let first = try gateway.send(gateway.purchaseText(card.pan, 2000, stan: "000042", id: "first", card: card0))
        #expect(first.code == "00")
        // Same content, other id, members in another order and spaced out: the same request.
        let again = try gateway.send("""
            { "card": \(card0), "currency": "EUR", "amount": 2000, "id": "second", "stan": "000042", "type": "purchase" }
            """)
        #expect(again.value == first.value.withID("second"))
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels) - 2000)
    }

    @Test("a retransmission is recognised before its cryptogram is checked: a now-stale ATC still gets the first response")
    func retransmissionBeforeCryptogram() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.fundedCards[1]
        let text = gateway.purchaseText(card.pan, 1500, stan: "RT1", id: "a")
        let first = try gateway.send(text)
        #expect(first.code == "00")
        // The card is used again: its ATC moves on, so the first request's ATC is now below the last one seen.
        #expect(try gateway.purchase(card.pan, 500, stan: "RT2").code == "00")
        #expect(try gateway.balance(card.pan).code == "00")
        let replay = try gateway.send(text)
        #expect(replay.code == "00")
        #expect(replay.value == first.value)
        // A refusal is remembered too: the same bytes get the same 51, not 63.
        let tooMuch = gateway.purchaseText(card.pan, 1_000_000, stan: "RT3", id: "b")
        #expect(try gateway.send(tooMuch).code == "51")
        #expect(try gateway.purchase(card.pan, 100, stan: "RT4").code == "00")
        #expect(try gateway.send(tooMuch).code == "51")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels) - 2100)
    }

    @Test("stans are remembered for at least 48 hours")
    func stanRetention() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.fundedCards[5]
        let text = gateway.purchaseText(card.pan, 700, stan: "KEEP1")
        let first = try gateway.send(text)
        #expect(first.code == "00")
        gateway.now = gateway.now.addingTimeInterval(48 * 3600 + 60)
        let purged = try gateway.ledger.write(now: gateway.now) { try $0.purgeStans() }
        #expect(purged == 0)
        #expect(try gateway.send(text).value == first.value)
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels) - 700)
    }

    @Test("stans are per terminal: two terminals of one partner may use the same stan")
    func stanPerTerminal() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.fundedCards[2]
        let onT2 = try gateway.purchase(card.pan, 300, at: "T002", stan: "000001")
        let onT3 = try gateway.purchase(card.pan, 400, at: "T003", stan: "000001")
        #expect(onT2.code == "00")
        #expect(onT3.code == "00")
        #expect(onT2.string("txn") != onT3.string("txn"))
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels) - 700)
    }

    @Test("voucher.redeem retransmitted: the first 00 again, not A1")
    func redeemRetransmitted() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.card(holding: [.manuels, .transport])
        let code = try gateway.prepay(card.pan, partner: "P002", amount: 1200)
        let first = try gateway.redeem(code, at: "T002", stan: "V1")
        #expect(first.code == "00")
        #expect(try gateway.redeem(code, at: "T002", stan: "V1").value == first.value)
        #expect(try gateway.redeem(code, at: "T003", stan: "V1").code == "A1")
    }

    @Test("reverse is always 00 and idempotent; the money comes back once")
    func reverseIdempotent() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.fundedCards[3]
        #expect(try gateway.purchase(card.pan, 2500, stan: "R1").code == "00")
        for _ in 0..<3 { #expect(try gateway.reverse("R1").code == "00") }
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels))
        // A reversal of a refused request, and of one never seen, are 00 too.
        #expect(try gateway.purchase(card.pan, 1_000_000, stan: "R2").code == "51")
        #expect(try gateway.reverse("R2").code == "00")
        #expect(try gateway.reverse("NEVER").code == "00")
        #expect(try gateway.reverse("NEVER").code == "00")
        #expect(try gateway.purchase(card.pan, 100, stan: "NEVER").code == "05")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels))
    }

    @Test("a reversed voucher redemption puts the voucher back: it can be redeemed again")
    func reverseRedemption() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.card(holding: [.manuels, .transport])
        let code = try gateway.prepay(card.pan, partner: "P001", amount: 2000)
        #expect(try gateway.redeem(code, stan: "VR1").code == "00")
        #expect(try gateway.reverse("VR1").code == "00")
        #expect(try gateway.storedVoucherStatus(code) == "issued")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels) - 2000)
        #expect(try gateway.redeem(code, stan: "VR1").code == "05")
        #expect(try gateway.redeem(code, stan: "VR2").code == "00")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels) - 2000)
    }

    @Test("status: the original response unchanged; 05 for a stan only reversed; 25 for one never seen")
    func status() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.fundedCards[4]
        let first = try gateway.send(gateway.purchaseText(card.pan, 1100, stan: "ST1", id: "id-of-the-purchase"))
        #expect(first.code == "00")
        let status = try gateway.status(of: "ST1", id: "id-of-the-status")
        #expect(status.code == "00")
        #expect(status.string("id") == "id-of-the-status")
        #expect(status["original"] == first.value)

        let refused = try gateway.purchase(card.pan, 1_000_000, stan: "ST2")
        #expect(refused.code == "51")
        #expect(try gateway.status(of: "ST2")["original"] == refused.value)

        #expect(try gateway.reverse("ST3").code == "00")
        let onlyReversed = try gateway.status(of: "ST3")
        #expect(onlyReversed.code == "00")
        #expect(onlyReversed["original"]?.code == "05")

        #expect(try gateway.status(of: "ST4").code == "25")
        // A status is not itself remembered as a stan, and asking changes nothing.
        #expect(try gateway.status(of: "ST4").code == "25")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels) - 1100)
    }
}

/// Contract §3: the wallet chosen when `wallet` is absent, `balance`, `cancel`, vouchers, `totals`, `online.list`.
@Suite("Operations (contract §3) without the network")
struct OperationTests {
    @Test("without wallet: the usable wallet holding enough that expires first; ties: the code first alphabetically")
    func walletChoice() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        // T006's partner takes RESTAURATION and MANUELS; MANUELS expires first (6 months against 12).
        let card = gateway.manifest.card(holding: [.manuels, .restauration])
        #expect(try gateway.purchase(card.pan, 100, at: "T006").string("wallet") == "MANUELS")

        let today = gateway.today
        try gateway.setWalletExpiry(card.pan, .restauration, today.adding(days: 30))
        try gateway.setWalletExpiry(card.pan, .manuels, today.adding(days: 60))
        #expect(try gateway.purchase(card.pan, 100, at: "T006").string("wallet") == "RESTAURATION")

        try gateway.setWalletExpiry(card.pan, .manuels, today.adding(days: 30))
        #expect(try gateway.purchase(card.pan, 100, at: "T006").string("wallet") == "MANUELS")

        // Only a wallet holding enough: RESTAURATION holds less than MANUELS.
        let restauration = try gateway.available(card.pan, .restauration)
        let manuels = try gateway.available(card.pan, .manuels)
        #expect(restauration < manuels)
        #expect(try gateway.purchase(card.pan, restauration + 1, at: "T006").string("wallet") == "MANUELS")

        // An expired wallet is never chosen, even when it expires first.
        try gateway.setWalletExpiry(card.pan, .manuels, today.adding(days: -1))
        let answer = try gateway.purchase(card.pan, 100, at: "T006")
        #expect(answer.code == "00")
        #expect(answer.string("wallet") == "RESTAURATION")
        // And an explicit wallet is used as asked.
        try gateway.setWalletExpiry(card.pan, .manuels, today)
        #expect(try gateway.purchase(card.pan, 100, at: "T006", wallet: "restauration").string("wallet") == "RESTAURATION")
        #expect(try gateway.purchase(card.pan, 100, at: "T006").string("wallet") == "MANUELS", "usable up to and including its expires day")
    }

    @Test("balance: every wallet with code, label, balance, expires and usable_here at this partner")
    func balance() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.card(holding: [.manuels, .transport])
        _ = try gateway.prepay(card.pan, partner: "P001", amount: 1000)
        let answer = try gateway.balance(card.pan, at: "T001")
        #expect(answer.code == "00")
        let wallets = try #require(answer["wallets"]?.arrayValue)
        #expect(wallets.count == 2)
        let manuels = try #require(wallets.first { $0.string("code") == "MANUELS" })
        #expect(manuels.string("label") == "Manuels et équipement")
        #expect(manuels.int("balance") == card.balance(.manuels) - 1000, "the voucher's money is held")
        #expect(manuels.string("expires") == card.wallets.first { $0.code == "MANUELS" }?.expires)
        #expect(manuels["usable_here"] == .bool(true))
        let transport = try #require(wallets.first { $0.string("code") == "TRANSPORT" })
        #expect(transport.string("label") == "Aide au transport")
        #expect(transport["usable_here"] == .bool(false))
        let atTransport = try gateway.balance(card.pan, at: "T004")["wallets"]?.arrayValue ?? []
        #expect(atTransport.first { $0.string("code") == "TRANSPORT" }?["usable_here"] == .bool(true))
        #expect(atTransport.first { $0.string("code") == "MANUELS" }?["usable_here"] == .bool(false))

        let expired = gateway.manifest.expiredCard
        let expiredWallets = try gateway.balance(expired.pan, at: "T001")["wallets"]?.arrayValue ?? []
        #expect(expiredWallets.count == 1)
        #expect(expiredWallets.first?["usable_here"] == .bool(false))

        // The cryptogram is over amount 0.
        let overAmount = try gateway.send(#"{"type":"balance","id":"b","stan":"B9","card":\#(gateway.tap(card.pan, 100))}"#)
        #expect(overAmount.code == "63")
    }

    @Test("cancel: a purchase, a voucher redemption and an online payment the partner received; the money goes back")
    func cancel() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.card(holding: [.manuels, .transport])
        let start = card.balance(.manuels)
        let purchase = try gateway.purchase(card.pan, 1000, at: "T001")
        let code = try gateway.prepay(card.pan, partner: "P001", amount: 2000)
        let redemption = try gateway.redeem(code, at: "T001")
        let online = try gateway.payOnline(card.pan, partner: "P001", wallet: .manuels, amount: 3000)
        #expect(try gateway.available(card.pan, .manuels) == start - 6000)
        for txn in [purchase.string("txn")!, redemption.string("txn")!, online] {
            let cancel = try gateway.cancel(txn, at: "T001")
            #expect(cancel.code == "00")
            #expect(cancel.string("original") == txn)
        }
        #expect(try gateway.available(card.pan, .manuels) == start)
        // Online payments can be cancelled by their partner only.
        let other = try gateway.payOnline(card.pan, partner: "P005", wallet: .manuels, amount: 500)
        #expect(try gateway.cancel(other, at: "T001").code == "58")
        #expect(try gateway.cancel(other, at: "T006").code == "00")
    }

    @Test("voucher codes are read case-insensitively, with or without separators")
    func voucherCodeForms() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.card(holding: [.manuels, .transport])
        let code = try gateway.prepay(card.pan, partner: "P001", amount: 800)
        let plain = code.replacingOccurrences(of: "-", with: "")
        for form in [code, plain, plain.lowercased(), code.lowercased().replacingOccurrences(of: "-", with: " ")] {
            let check = try gateway.checkVoucher(form)
            #expect(check.code == "00", "\(form)")
            #expect(check["voucher"]?.string("code") == code)
            #expect(check["voucher"]?.int("amount") == 800)
            #expect(check["voucher"]?.string("wallet") == "MANUELS")
            #expect(check["voucher"]?.string("status") == "issued")
            #expect(check["voucher"]?.string("expires") == card.wallets.first { $0.code == "MANUELS" }?.expires)
        }
        let typo = try gateway.checkVoucher(mistyped(code))
        #expect(typo.code == "30")
        #expect(typo.string("message") == "Code de bon mal saisi")
        #expect(try gateway.redeem(plain.lowercased()).code == "00")
    }

    /// The code with its first character changed: its check character no longer matches.
    func mistyped(_ code: String) -> String {
        let first = code.first!
        let replacement = VoucherCode.alphabet.first { $0 != first }!
        return String(replacement) + code.dropFirst()
    }

    @Test("voucher guessing: after 10 unknown codes, the terminal's voucher requests are answered 05 for a while")
    func voucherGuessingLockout() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.card(holding: [.manuels, .transport])
        let real = try gateway.prepay(card.pan, partner: "P001", amount: 600)
        // Unknown codes (25) and mistyped ones (30, the check character does not match) both count.
        for _ in 0..<5 {
            #expect(try gateway.checkVoucher(VoucherCode.generate().grouped).code == "25")
        }
        for _ in 0..<4 {
            #expect(try gateway.checkVoucher(mistyped(VoucherCode.generate().grouped)).code == "30")
        }
        #expect(try gateway.checkVoucher(real).code == "00", "9 unknown codes are not yet too many")
        #expect(try gateway.checkVoucher(VoucherCode.generate().grouped).code == "25")
        let locked = try gateway.checkVoucher(real)
        #expect(locked.code == "05")
        #expect(try gateway.redeem(real).code == "05")
        #expect(try gateway.storedVoucherStatus(real) == "issued")
        // Only that terminal, and only its voucher requests.
        let otherCard = gateway.manifest.fundedCards[7]
        #expect(try gateway.purchase(otherCard.pan, 100).code == "00")
        let otherVoucher = try gateway.prepay(card.pan, partner: "P002", amount: 100)
        #expect(try gateway.checkVoucher(otherVoucher, at: "T002").code == "00")

        // A while later (the lock-out is 15 minutes) the terminal may try again.
        gateway.now = gateway.now.addingTimeInterval(16 * 60)
        #expect(try gateway.redeem(real).code == "00")
    }

    @Test("totals: this terminal's purchases (not reversed, cancelled or not), its cancellations, its vouchers, its partner's online payments")
    func totals() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let cards = gateway.manifest.fundedCards
        let a = try gateway.purchase(cards[0].pan, 1000, at: "T002")
        _ = try gateway.purchase(cards[1].pan, 2000, at: "T002", stan: "TOT-REV")
        #expect(try gateway.reverse("TOT-REV", at: "T002").code == "00")
        let c = try gateway.purchase(cards[2].pan, 3000, at: "T002")
        #expect(try gateway.cancel(c.string("txn")!, at: "T003").code == "00")
        _ = try gateway.purchase(cards[3].pan, 50_000_000, at: "T002")   // 51: not counted
        let code = try gateway.prepay(cards[4].pan, partner: "P002", amount: 1500)
        #expect(try gateway.redeem(code, at: "T002").code == "00")
        #expect(a.code == "00")
        _ = try gateway.payOnline(cards[5].pan, partner: "P001", wallet: .manuels, amount: 700)
        _ = try gateway.payOnline(cards[6].pan, partner: "P001", wallet: .manuels, amount: 300)

        func totals(_ terminal: String, _ day: LocalDate) throws -> OfflineGateway.Answer {
            try gateway.send(#"{"type":"totals","id":"t","date":"\#(day.iso)"}"#, from: terminal)
        }
        func pair(_ value: JSONValue?) -> [Int64?] { [value?.int("count"), value?.int("amount")] }

        let t2 = try totals("T002", gateway.today)
        #expect(t2.code == "00")
        #expect(pair(t2["purchases"]) == [2, 4000])
        #expect(pair(t2["cancellations"]) == [0, 0])
        #expect(pair(t2["vouchers"]) == [1, 1500])
        #expect(pair(t2["online"]) == [0, 0])

        let t3 = try totals("T003", gateway.today)
        #expect(pair(t3["purchases"]) == [0, 0])
        #expect(pair(t3["cancellations"]) == [1, 3000])

        let t1 = try totals("T001", gateway.today)
        #expect(pair(t1["online"]) == [2, 1000])

        let yesterday = try totals("T002", gateway.today.adding(days: -1))
        #expect(pair(yesterday["purchases"]) == [0, 0])
        #expect(pair(yesterday["vouchers"]) == [0, 0])
    }

    @Test("online.list: this partner's online payments only, newest first; by card, by pan, or the last 30 days")
    func onlineList() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let cards = gateway.manifest.fundedCards
        let now = gateway.now
        let old = try gateway.payOnline(cards[0].pan, partner: "P001", wallet: .manuels, amount: 100, at: now.addingTimeInterval(-40 * 86_400))
        let first = try gateway.payOnline(cards[0].pan, partner: "P001", wallet: .manuels, amount: 200, at: now.addingTimeInterval(-7200))
        let second = try gateway.payOnline(cards[1].pan, partner: "P001", wallet: .manuels, amount: 300, at: now.addingTimeInterval(-3600))
        let third = try gateway.payOnline(cards[0].pan, partner: "P001", wallet: .manuels, amount: 400, at: now)
        _ = try gateway.payOnline(cards[0].pan, partner: "P005", wallet: .manuels, amount: 500)
        #expect(try gateway.cancel(second, at: "T001").code == "00")

        func txns(_ answer: OfflineGateway.Answer) -> [String] {
            (answer["payments"]?.arrayValue ?? []).compactMap { $0.string("txn") }
        }
        let all = try gateway.send(#"{"type":"online.list","id":"o","stan":"OL1"}"#)
        #expect(all.code == "00")
        #expect(txns(all) == [third, second, first])
        let payments = all["payments"]?.arrayValue ?? []
        #expect(payments.map { $0.int("amount") } == [400, 300, 200])
        #expect(payments.map { $0.string("status") } == ["approved", "cancelled", "approved"])
        #expect(payments.allSatisfy { $0.string("wallet") == "MANUELS" && $0.string("created") != nil })

        let byPan = try gateway.send(#"{"type":"online.list","id":"o","stan":"OL2","pan":"\#(cards[0].pan)"}"#)
        #expect(txns(byPan) == [third, first, old])
        let byCard = try gateway.send(#"{"type":"online.list","id":"o","stan":"OL3","card":\#(gateway.tap(cards[1].pan, 0))}"#)
        #expect(txns(byCard) == [second])
        // protocol/wire.md: listing is not paying, a blocked card's payments are still listed.
        try gateway.setCardStatus(cards[1].pan, .lost)
        let blocked = try gateway.send(#"{"type":"online.list","id":"o","stan":"OL5","card":\#(gateway.tap(cards[1].pan, 0))}"#)
        #expect(blocked.code == "00")
        #expect(txns(blocked) == [second])
        let elsewhere = try gateway.send(#"{"type":"online.list","id":"o","stan":"OL4"}"#, from: "T006")
        #expect(txns(elsewhere).count == 1)
    }

    @Test("online.list: at most 500 payments, the newest")
    func onlineListAtMost500() throws {
        let gateway = try OfflineGateway()
        defer { gateway.expectInvariants() }
        let card = gateway.manifest.card(holding: [.manuels, .transport])
        let start = gateway.now.addingTimeInterval(-600)
        var txns: [String] = []
        for index in 0..<501 {
            txns.append(try gateway.payOnline(card.pan, partner: "P001", wallet: .manuels, amount: 1,
                                              at: start.addingTimeInterval(Double(index))))
        }
        let list = try gateway.send(#"{"type":"online.list","id":"o","stan":"MANY"}"#)
        let listed = (list["payments"]?.arrayValue ?? []).compactMap { $0.string("txn") }
        #expect(listed.count == 500)
        #expect(listed == Array(txns.reversed().prefix(500)))
    }
}
