import Foundation
import HDFDomain
import Ledger
import Testing

/// One case of the wallet-choice rule (contract §3), at `PALL` (accepts every wallet) unless `terminal` says.
struct WalletChoiceCase: Sendable, CustomTestStringConvertible {
    let name: String
    /// code, cents (0: opened empty), expires
    let wallets: [(WalletCode, Int64, String)]
    let amount: Int64
    var requested: WalletCode? = nil
    var partial = false
    var terminal = "TALL1"
    /// The wallet and the amount approved, or the LedgerError code and response code of the refusal.
    let expected: Expected

    enum Expected: Sendable {
        case approved(WalletCode, Int64)
        case refused(String, ResponseCode)
    }

    var testDescription: String { name }
}

@Suite("payment rules")
struct PaymentRuleTests {
    // Today is 2026-03-10 in every case.
    static let choiceCases: [WalletChoiceCase] = [
        .init(name: "the usable wallet holding enough that expires first",
              wallets: [(.manuels, 5_000, "2026-09-01"), (.transport, 5_000, "2026-06-01"), (.hebergement, 5_000, "2026-12-01"),
                        (.restauration, 5_000, "2026-04-01")],
              amount: 1_000, expected: .approved(.restauration, 1_000)),
        .init(name: "the one expiring first does not hold enough: the next one",
              wallets: [(.manuels, 5_000, "2026-09-01"), (.transport, 5_000, "2026-06-01"), (.restauration, 500, "2026-04-01")],
              amount: 1_000, expected: .approved(.transport, 1_000)),
        .init(name: "exactly enough is enough",
              wallets: [(.manuels, 5_000, "2026-09-01"), (.restauration, 1_000, "2026-04-01")],
              amount: 1_000, expected: .approved(.restauration, 1_000)),
        .init(name: "an expired wallet is skipped",
              wallets: [(.manuels, 5_000, "2026-09-01"), (.transport, 5_000, "2026-06-01"), (.restauration, 5_000, "2026-03-09")],
              amount: 1_000, expected: .approved(.transport, 1_000)),
        .init(name: "a wallet is usable on its expiry day",
              wallets: [(.manuels, 5_000, "2026-09-01"), (.restauration, 5_000, "2026-03-10")],
              amount: 1_000, expected: .approved(.restauration, 1_000)),
        .init(name: "a wallet not usable at this partner is skipped, even if it expires first",
              wallets: [(.transport, 5_000, "2026-03-20"), (.restauration, 5_000, "2026-08-01"), (.manuels, 5_000, "2026-09-01")],
              amount: 1_000, terminal: "TRESTO1", expected: .approved(.restauration, 1_000)),
        .init(name: "ties on expiry: the code first in alphabetical order",
              wallets: [(.transport, 5_000, "2026-06-01"), (.restauration, 5_000, "2026-06-01"), (.manuels, 5_000, "2026-06-01"),
                        (.hebergement, 5_000, "2026-06-01")],
              amount: 1_000, expected: .approved(.hebergement, 1_000)),
        .init(name: "ties on expiry, the first code without enough: the next code",
              wallets: [(.transport, 5_000, "2026-06-01"), (.restauration, 5_000, "2026-06-01"), (.manuels, 5_000, "2026-06-01"),
                        (.hebergement, 999, "2026-06-01")],
              amount: 1_000, expected: .approved(.manuels, 1_000)),
        .init(name: "none holds enough, partial: the richest pays what it holds",
              wallets: [(.manuels, 3_000, "2026-09-01"), (.transport, 2_000, "2026-06-01")],
              amount: 5_000, partial: true, expected: .approved(.manuels, 3_000)),
        .init(name: "none holds enough, partial, equal amounts: expires first",
              wallets: [(.manuels, 3_000, "2026-09-01"), (.transport, 3_000, "2026-06-01")],
              amount: 5_000, partial: true, expected: .approved(.transport, 3_000)),
        .init(name: "partial never takes an expired wallet",
              wallets: [(.manuels, 3_000, "2026-09-01"), (.transport, 4_000, "2026-03-09")],
              amount: 5_000, partial: true, expected: .approved(.manuels, 3_000)),
        .init(name: "partial with a wallet that holds enough is a full approval",
              wallets: [(.manuels, 3_000, "2026-09-01"), (.transport, 6_000, "2026-12-01")],
              amount: 5_000, partial: true, expected: .approved(.transport, 5_000)),
        .init(name: "partial with the chosen wallet",
              wallets: [(.manuels, 3_000, "2026-09-01"), (.transport, 9_000, "2026-12-01")],
              amount: 5_000, requested: .manuels, partial: true, expected: .approved(.manuels, 3_000)),
        .init(name: "the chosen wallet is used even when another expires first",
              wallets: [(.manuels, 3_000, "2026-09-01"), (.transport, 9_000, "2026-04-01")],
              amount: 1_000, requested: .manuels, expected: .approved(.manuels, 1_000)),
        .init(name: "none holds enough, no partial: 51",
              wallets: [(.manuels, 3_000, "2026-09-01"), (.transport, 2_000, "2026-06-01")],
              amount: 5_000, expected: .refused("insufficient_funds", .insufficientFunds)),
        .init(name: "partial but every usable wallet is empty: 51",
              wallets: [(.manuels, 0, "2026-09-01"), (.transport, 0, "2026-06-01")],
              amount: 5_000, partial: true, expected: .refused("insufficient_funds", .insufficientFunds)),
        .init(name: "the chosen wallet does not hold enough: 51",
              wallets: [(.manuels, 3_000, "2026-09-01"), (.transport, 9_000, "2026-12-01")],
              amount: 5_000, requested: .manuels, expected: .refused("insufficient_funds", .insufficientFunds)),
        .init(name: "the chosen wallet is not on the card: 12",
              wallets: [(.manuels, 3_000, "2026-09-01")],
              amount: 1_000, requested: .transport, expected: .refused("unknown_wallet", .invalidTransaction)),
        .init(name: "the chosen wallet is not usable at this partner: 57",
              wallets: [(.manuels, 3_000, "2026-09-01"), (.transport, 3_000, "2026-09-01")],
              amount: 1_000, requested: .transport, terminal: "TRESTO1", expected: .refused("wallet_not_usable_here", .notPermittedHere)),
        .init(name: "no wallet of the card is usable here: 57",
              wallets: [(.transport, 3_000, "2026-09-01"), (.hebergement, 3_000, "2026-09-01")],
              amount: 1_000, terminal: "TLIB1", expected: .refused("wallet_not_usable_here", .notPermittedHere)),
        .init(name: "every usable wallet expired: 54",
              wallets: [(.manuels, 3_000, "2026-03-09"), (.transport, 3_000, "2026-09-01")],
              amount: 1_000, terminal: "TLIB1", expected: .refused("wallet_expired", .expired)),
        .init(name: "the chosen wallet expired yesterday: 54",
              wallets: [(.manuels, 3_000, "2026-03-09"), (.restauration, 3_000, "2026-09-01")],
              amount: 1_000, requested: .manuels, expected: .refused("wallet_expired", .expired)),
    ]

    @Test("wallet choice", arguments: choiceCases)
    func walletChoice(_ example: WalletChoiceCase) throws {
        let env = try RulesEnvironment()
        let pan = try env.card(example.wallets.map { ($0.0, $0.1, $0.2) })
        let before = try env.snapshot()
        switch example.expected {
        case let .approved(code, cents):
            let heldBefore = try #require(try env.available(pan, code))
            let approval = try env.purchase(pan, terminal: example.terminal, amount: example.amount, wallet: example.requested,
                                            partial: example.partial)
            #expect(approval.wallet == code)
            #expect(approval.approvedCents == cents)
            #expect(approval.isPartial == (cents < example.amount))
            #expect(approval.balanceAfterCents == heldBefore - cents)
            #expect(try env.available(pan, code) == heldBefore - cents)
            // The other wallets did not move.
            for (other, held, _) in example.wallets where other != code {
                #expect(try env.available(pan, other) == held)
            }
        case let .refused(code, response):
            let error = ledgerError {
                try env.purchase(pan, terminal: example.terminal, amount: example.amount, wallet: example.requested,
                                 partial: example.partial)
            }
            #expect(error?.code == code, "\(String(describing: error))")
            #expect(error?.responseCode == response)
            #expect(try env.snapshot() == before, "a refused purchase changes nothing")
        }
        #expect(try env.violations().isEmpty)
    }

    @Test("amounts outside 1...1,000,000.00 EUR are refused and change nothing", arguments: [0, -1, -10_000, Money.maximumAmountCents + 1, Int64.max, Int64.min])
    func purchaseAmountBounds(_ cents: Int64) throws {
        let env = try RulesEnvironment()
        let pan = try env.card([(.manuels, 10_000, nil)])
        let before = try env.snapshot()
        let error = ledgerError { try env.purchase(pan, terminal: "TLIB1", amount: cents) }
        #expect(error?.code == "invalid")
        #expect(try env.snapshot() == before)
    }

    @Test("the largest amount is accepted; a wallet cannot be loaded beyond it")
    func largestAmount() throws {
        let env = try RulesEnvironment()
        let pan = try env.card([(.manuels, Money.maximumAmountCents, nil)])
        let before = try env.snapshot()
        let error = ledgerError {
            _ = try env.ledger.write(now: env.now) { try $0.loadWallet(pan: pan, code: .manuels, amountCents: 1, validMonths: nil) }
        }
        #expect(error?.code == "invalid")
        #expect(try env.snapshot() == before)
        let approval = try env.purchase(pan, terminal: "TLIB1", amount: Money.maximumAmountCents)
        #expect(approval.approvedCents == Money.maximumAmountCents)
        #expect(approval.balanceAfterCents == 0)
        #expect(try env.violations().isEmpty)
    }

    @Test("a wallet is usable on its expires day (Europe/Paris) and expired from the next")
    func expiryBoundary() throws {
        let env = try RulesEnvironment(now: parisInstant(2026, 7, 1))
        let summer = try env.card([(.manuels, 10_000, "2026-07-15")])
        // 23:59 in Paris on the 15th is 21:59 UTC: usable.
        try env.purchase(summer, terminal: "TLIB1", amount: 100, at: parisInstant(2026, 7, 15, hour: 23, minute: 59))
        try env.purchase(summer, terminal: "TLIB1", amount: 100, at: Date(timeIntervalSince1970: 1_784_152_740)) // 2026-07-15T21:59:00Z
        // 00:30 in Paris on the 16th is still the 15th in UTC: expired all the same.
        for instant in [parisInstant(2026, 7, 16, hour: 0, minute: 0), Date(timeIntervalSince1970: 1_784_154_600), // 2026-07-15T22:30:00Z
                        parisInstant(2026, 8, 1)] {
            let before = try env.snapshot()
            let error = ledgerError { try env.purchase(summer, terminal: "TLIB1", amount: 100, at: instant) }
            #expect(error == .walletExpired(wallet: .manuels, expiredOn: day("2026-07-15")), "at \(instant)")
            #expect(error?.responseCode == .expired)
            #expect(try env.snapshot() == before)
        }
        #expect(try env.available(summer, .manuels) == 9_800)

        // Winter time (UTC+1): 2026-01-31T23:30:00Z is 00:30 on 1 February in Paris.
        let winterEnv = try RulesEnvironment(now: parisInstant(2026, 1, 10))
        let winter = try winterEnv.card([(.transport, 10_000, "2026-01-31")])
        try winterEnv.purchase(winter, terminal: "TTRANS1", amount: 100, at: Date(timeIntervalSince1970: 1_769_900_340)) // 22:59Z
        let error = ledgerError { try winterEnv.purchase(winter, terminal: "TTRANS1", amount: 100, at: Date(timeIntervalSince1970: 1_769_902_200)) }
        #expect(error?.responseCode == .expired)
    }

    @Test("loads: default validity (MANUELS 6 months, others 12), --valid-months, end of month, expiry only moves later")
    func loadExpiry() throws {
        let env = try RulesEnvironment(now: parisInstant(2026, 8, 31))
        let pan = try env.card()
        try env.ledger.write(now: env.now) { tx in
            let manuels = try tx.loadWallet(pan: pan, code: .manuels, amountCents: 1_000, validMonths: nil)
            #expect(manuels.expiresOn == day("2027-02-28"), "31 August + 6 months = end of February")
            #expect(manuels.loadedOn == day("2026-08-31"))
            let transport = try tx.loadWallet(pan: pan, code: .transport, amountCents: 1_000, validMonths: nil)
            #expect(transport.expiresOn == day("2027-08-31"))
            let hebergement = try tx.loadWallet(pan: pan, code: .hebergement, amountCents: 1_000, validMonths: 3)
            #expect(hebergement.expiresOn == day("2026-11-30"))
            // A shorter load later does not shorten the wallet; a longer one extends it.
            let again = try tx.loadWallet(pan: pan, code: .manuels, amountCents: 500, validMonths: 1)
            #expect(again.expiresOn == day("2027-02-28"))
            #expect(again.availableCents == 1_500)
            let longer = try tx.loadWallet(pan: pan, code: .manuels, amountCents: 500, validMonths: 24)
            #expect(longer.expiresOn == day("2028-08-31"))
        }
        for months in [0, -1, 61] {
            let before = try env.snapshot()
            let error = ledgerError {
                _ = try env.ledger.write(now: env.now) { try $0.loadWallet(pan: pan, code: .restauration, amountCents: 100, validMonths: months) }
            }
            #expect(error?.code == "invalid", "months \(months)")
            #expect(try env.snapshot() == before)
        }
        let unknown = PAN(appendingCheckDigitTo: "925000000000000")
        let error = ledgerError {
            _ = try env.ledger.write(now: env.now) { try $0.loadWallet(pan: unknown, code: .manuels, amountCents: 100, validMonths: nil) }
        }
        #expect(error == .unknownCard(masked: unknown.masked))
        #expect(error?.responseCode == .unknownCard)
        #expect(try env.violations().isEmpty)
    }

    @Test("a blocked card is declined with its code; unblocked, it pays again", arguments: [
        (BlockReason.lost, ResponseCode.lostCard), (.stolen, .stolenCard), (.damaged, .restrictedCard),
    ])
    func blockedCard(_ reason: BlockReason, _ code: ResponseCode) throws {
        let env = try RulesEnvironment()
        let pan = try env.card([(.manuels, 10_000, nil)])
        try env.ledger.write(now: env.now) { try $0.setCardStatus(pan: pan, status: reason.cardStatus) }
        let before = try env.snapshot()
        let error = ledgerError { try env.purchase(pan, terminal: "TLIB1", amount: 100) }
        #expect(error == .cardBlocked(masked: pan.masked, status: reason.cardStatus))
        #expect(error?.responseCode == code)
        #expect(error.map { !String(describing: $0).contains(pan.digits) } == true, "the message masks the PAN")
        #expect(try env.snapshot() == before)

        // Card-not-present operations of the beneficiary are not card-present payments (contract §5).
        let payment = try env.ledger.write(now: env.now) { try $0.payOnline(pan: pan, partnerID: "PLIB", wallet: .manuels, amountCents: 200) }
        #expect(payment.status == .approved)

        try env.ledger.write(now: env.now) { try $0.setCardStatus(pan: pan, status: .active) }
        #expect(try env.purchase(pan, terminal: "TLIB1", amount: 100).approvedCents == 100)
        let again = ledgerError { try env.ledger.write(now: env.now) { try $0.setCardStatus(pan: pan, status: .active) } }
        #expect(again?.code == "invalid", "unblocking an active card is refused")
        #expect(try env.available(pan, .manuels) == 9_700)
        #expect(LedgerError.cardBlocked(masked: "x", status: .active).responseCode == .restrictedCard)
        #expect(try env.violations().isEmpty)
    }

    @Test("an unknown card: 14, and nothing changes")
    func unknownCard() throws {
        let env = try RulesEnvironment()
        _ = try env.card([(.manuels, 10_000, nil)])
        let unknown = PAN(appendingCheckDigitTo: "925099999999999")
        let before = try env.snapshot()
        for operation in [
            { try env.purchase(unknown, terminal: "TLIB1", amount: 100) } as () throws -> Any,
            { try env.ledger.write(now: env.now) { try $0.prepay(pan: unknown, partnerID: "PLIB", wallet: .manuels, amountCents: 100) } },
            { try env.ledger.write(now: env.now) { try $0.payOnline(pan: unknown, partnerID: "PLIB", wallet: .manuels, amountCents: 100) } },
            { try env.ledger.write(now: env.now) { try $0.setCardStatus(pan: unknown, status: .lost) } },
        ] {
            let error = ledgerError { _ = try operation() }
            #expect(error == .unknownCard(masked: unknown.masked))
            #expect(error?.responseCode == .unknownCard)
        }
        #expect(try env.snapshot() == before)
    }

    @Test("a partner cancels its payment once, from any of its terminals; not another partner's")
    func cancellations() throws {
        let env = try RulesEnvironment()
        let pan = try env.card([(.manuels, 10_000, nil), (.transport, 5_000, nil)])
        let purchase = try env.purchase(pan, terminal: "TLIB1", amount: 2_500)
        #expect(try env.available(pan, .manuels) == 7_500)

        func cancel(_ txn: String, _ terminal: String) throws -> CancellationResult {
            try env.ledger.write(now: env.now) { tx in
                try tx.cancelPayment(txn: txn, partnerID: PartnerSpec.of(terminal: terminal, extra: [RulesEnvironment.allWallets]).id,
                                     terminalID: terminal, stan: env.nextStan())
            }
        }
        var before = try env.snapshot()
        let other = ledgerError { _ = try cancel(purchase.txn, "TRESTO1") }
        #expect(other == .paymentOfAnotherPartner(purchase.txn))
        #expect(other?.responseCode == .notPermittedToTerminal)
        let unknown = ledgerError { _ = try cancel("TXNOSUCHTXN0", "TLIB1") }
        #expect(unknown == .unknownPayment("TXNOSUCHTXN0"))
        #expect(unknown?.responseCode == .recordNotFound)
        #expect(try env.snapshot() == before)

        let cancellation = try cancel(purchase.txn, "TLIB2") // the same partner's other terminal
        #expect(cancellation.originalTxn == purchase.txn)
        #expect(cancellation.amountCents == 2_500)
        #expect(cancellation.txn != purchase.txn)
        #expect(try env.available(pan, .manuels) == 10_000, "the money is back in the wallet it came from")
        #expect(try env.read { try $0.payment(txn: purchase.txn) }.status == .cancelled)

        before = try env.snapshot()
        for terminal in ["TLIB1", "TLIB2"] {
            let twice = ledgerError { _ = try cancel(purchase.txn, terminal) }
            #expect(twice == .alreadyCancelled(purchase.txn))
            #expect(twice?.responseCode == .alreadyCancelled)
        }
        #expect(ledgerError { _ = try cancel(purchase.txn, "TTRANS1") }?.responseCode == .notPermittedToTerminal)
        #expect(try env.snapshot() == before)

        // Online payments: only by their partner.
        let online = try env.ledger.write(now: env.now) { try $0.payOnline(pan: pan, partnerID: "PTRANS", wallet: .transport, amountCents: 1_200) }
        #expect(online.label == "Extranet Bénéficiaire")
        #expect(try env.available(pan, .transport) == 3_800)
        #expect(ledgerError { _ = try cancel(online.txn, "TLIB1") } == .paymentOfAnotherPartner(online.txn))
        #expect(try cancel(online.txn, "TTRANS1").amountCents == 1_200)
        #expect(try env.available(pan, .transport) == 5_000)

        // A reversed purchase has nothing left to cancel.
        let reversedStan = env.nextStan()
        let reversed = try env.purchase(pan, terminal: "TLIB1", amount: 300, stan: reversedStan)
        _ = try env.ledger.write(now: env.now) { try $0.reversePayment(terminalID: "TLIB1", stan: reversedStan) }
        let notCancellable = ledgerError { _ = try cancel(reversed.txn, "TLIB1") }
        #expect(notCancellable?.code == "not_cancellable")
        #expect(notCancellable?.responseCode == .invalidTransaction)
        #expect(try env.available(pan, .manuels) == 10_000)
        #expect(try env.violations().isEmpty)
    }

    @Test("a reversal undoes a purchase once; an unknown stan is nothing to undo")
    func reversalOfPurchase() throws {
        let env = try RulesEnvironment()
        let pan = try env.card([(.manuels, 10_000, nil)])
        let purchase = try env.purchase(pan, terminal: "TLIB1", amount: 4_000, stan: "000123")
        #expect(try env.available(pan, .manuels) == 6_000)

        var before = try env.snapshot()
        // The same stan from another terminal, and a stan never seen, undo nothing.
        #expect(try env.ledger.write(now: env.now) { try $0.reversePayment(terminalID: "TLIB2", stan: "000123") } == nil)
        #expect(try env.ledger.write(now: env.now) { try $0.reversePayment(terminalID: "TLIB1", stan: "999") } == nil)
        #expect(try env.snapshot() == before)

        let undone = try env.ledger.write(now: env.now) { try $0.reversePayment(terminalID: "TLIB1", stan: "000123") }
        #expect(undone?.txn == purchase.txn)
        #expect(try env.available(pan, .manuels) == 10_000)
        #expect(try env.read { try $0.payment(txn: purchase.txn) }.status == .reversed)

        before = try env.snapshot()
        #expect(try env.ledger.write(now: env.now) { try $0.reversePayment(terminalID: "TLIB1", stan: "000123") } == nil, "idempotent")
        #expect(try env.snapshot() == before)
        #expect(try env.violations().isEmpty)
    }

    @Test("the ATC of a card only goes up")
    func atcOnlyGoesUp() throws {
        let env = try RulesEnvironment()
        let pan = try env.card()
        let card = try env.read { try $0.card(pan: pan) }
        #expect(card.lastATC == 0)
        func accept(_ atc: UInt16) -> LedgerError? {
            ledgerError { try env.ledger.write(now: env.now) { try $0.acceptATC(cardID: card.id, atc: atc) } }
        }
        #expect(accept(0)?.code == "invalid", "0 is not above the initial 0")
        #expect(accept(5) == nil)
        #expect(accept(5)?.code == "invalid", "the same ATC twice")
        #expect(accept(4)?.code == "invalid", "a lower ATC")
        #expect(accept(6) == nil)
        #expect(accept(1_000) == nil)
        #expect(accept(999)?.code == "invalid")
        #expect(try env.read { try $0.card(pan: pan) }.lastATC == 1_000)
        #expect(accept(UInt16.max) == nil)
        #expect(accept(UInt16.max)?.code == "invalid")
        #expect(try env.read { try $0.card(pan: pan) }.lastATC == UInt16.max)
    }

    @Test("totals: per terminal and Paris business day; online per partner")
    func totals() throws {
        let env = try RulesEnvironment(now: parisInstant(2026, 7, 10, hour: 9))
        let pan = try env.card([(.manuels, 50_000, nil)])
        let lateEvening = parisInstant(2026, 7, 10, hour: 23, minute: 30) // 21:30 UTC
        let justAfterMidnight = parisInstant(2026, 7, 11, hour: 0, minute: 30) // still 10 July in UTC

        let p1 = try env.purchase(pan, terminal: "TLIB1", amount: 1_000)
        try env.purchase(pan, terminal: "TLIB1", amount: 2_000, stan: "REV1")
        _ = try env.ledger.write(now: env.now) { try $0.reversePayment(terminalID: "TLIB1", stan: "REV1") }
        let p3 = try env.purchase(pan, terminal: "TLIB1", amount: 3_000, at: lateEvening)
        _ = try env.ledger.write(now: lateEvening) {
            try $0.cancelPayment(txn: p3.txn, partnerID: "PLIB", terminalID: "TLIB2", stan: "C1")
        }
        try env.purchase(pan, terminal: "TLIB2", amount: 500)
        let voucher = try env.ledger.write(now: env.now) { try $0.prepay(pan: pan, partnerID: "PLIB", wallet: .manuels, amountCents: 1_500) }
        _ = try env.ledger.write(now: env.now) {
            try $0.redeemVoucher(code: voucher.code, partnerID: "PLIB", terminalID: "TLIB1", stan: "V1")
        }
        _ = try env.ledger.write(now: env.now) { try $0.payOnline(pan: pan, partnerID: "PLIB", wallet: .manuels, amountCents: 700) }
        let online2 = try env.ledger.write(now: env.now) { try $0.payOnline(pan: pan, partnerID: "PLIB", wallet: .manuels, amountCents: 300) }
        _ = try env.ledger.write(now: env.now) {
            try $0.cancelPayment(txn: online2.txn, partnerID: "PLIB", terminalID: "TLIB1", stan: "C2")
        }
        // The next business day (Paris), though the same UTC day.
        try env.purchase(pan, terminal: "TLIB1", amount: 400, at: justAfterMidnight)
        _ = try env.ledger.write(now: justAfterMidnight) {
            try $0.cancelPayment(txn: p1.txn, partnerID: "PLIB", terminalID: "TLIB1", stan: "C3")
        }
        // Another partner's activity counts nowhere here.
        _ = try env.ledger.write(now: env.now) { try $0.payOnline(pan: pan, partnerID: "PALL", wallet: .manuels, amountCents: 900) }
        try env.purchase(pan, terminal: "TALL1", amount: 800)

        try env.read { tx in
            let lib1 = try tx.totals(terminalID: "TLIB1", partnerID: "PLIB", day: day("2026-07-10"))
            #expect(lib1.purchases == CountAndAmount(count: 2, amountCents: 4_000), "approved and not reversed, cancelled or not")
            #expect(lib1.cancellations == CountAndAmount(count: 1, amountCents: 300), "the online payment it cancelled")
            #expect(lib1.vouchers == CountAndAmount(count: 1, amountCents: 1_500))
            #expect(lib1.online == CountAndAmount(count: 2, amountCents: 1_000))

            let lib2 = try tx.totals(terminalID: "TLIB2", partnerID: "PLIB", day: day("2026-07-10"))
            #expect(lib2.purchases == CountAndAmount(count: 1, amountCents: 500))
            #expect(lib2.cancellations == CountAndAmount(count: 1, amountCents: 3_000))
            #expect(lib2.vouchers == CountAndAmount())
            #expect(lib2.online == CountAndAmount(count: 2, amountCents: 1_000))

            let nextDay = try tx.totals(terminalID: "TLIB1", partnerID: "PLIB", day: day("2026-07-11"))
            #expect(nextDay.purchases == CountAndAmount(count: 1, amountCents: 400))
            #expect(nextDay.cancellations == CountAndAmount(count: 1, amountCents: 1_000))
            #expect(nextDay.vouchers == CountAndAmount())
            #expect(nextDay.online == CountAndAmount())

            let empty = try tx.totals(terminalID: "TLIB1", partnerID: "PLIB", day: day("2026-07-09"))
            for part in [empty.purchases, empty.cancellations, empty.vouchers, empty.online] { #expect(part == CountAndAmount()) }
        }
        #expect(try env.violations().isEmpty)
    }

    @Test("stan records: the first answer is kept; a reversal is remembered before or after its request")
    func stanRecords() throws {
        let env = try RulesEnvironment(now: parisInstant(2026, 3, 10))
        let digestA = [UInt8](repeating: 0xA1, count: 32), digestB = [UInt8](repeating: 0xB2, count: 32)
        let answer = StanAnswer(requestID: "r1", code: "51", requestType: "purchase")
        let whole = StanAnswer(requestID: "r2", code: "00", response: Array(#"{"code":"00"}"#.utf8))
        try env.ledger.write(now: env.now) { tx in
            #expect(try tx.stan(terminalID: "TLIB1", stan: "1") == nil)

            // Request first, then its reversal.
            try tx.recordStan(terminalID: "TLIB1", stan: "1", digest: digestA, answer: answer)
            #expect(try tx.stan(terminalID: "TLIB1", stan: "1") .map(stanFields) == stanFields(digestA, answer, false))
            try tx.recordStan(terminalID: "TLIB1", stan: "1", digest: digestB, answer: whole)
            #expect(try tx.stan(terminalID: "TLIB1", stan: "1")?.digest == digestA, "the first answer is never replaced")
            #expect(try tx.stan(terminalID: "TLIB1", stan: "1")?.answer == answer)
            try tx.markStanReversed(terminalID: "TLIB1", stan: "1")
            #expect(try tx.stan(terminalID: "TLIB1", stan: "1") .map(stanFields) == stanFields(digestA, answer, true))

            // Reversal first: remembered; the late request then records its answer and stays reversed.
            try tx.markStanReversed(terminalID: "TLIB1", stan: "2")
            #expect(try tx.stan(terminalID: "TLIB1", stan: "2") .map(stanFields) == stanFields(nil, nil, true))
            try tx.markStanReversed(terminalID: "TLIB1", stan: "2")
            try tx.recordStan(terminalID: "TLIB1", stan: "2", digest: digestB, answer: whole)
            #expect(try tx.stan(terminalID: "TLIB1", stan: "2") .map(stanFields) == stanFields(digestB, whole, true))

            // Stans are per terminal.
            #expect(try tx.stan(terminalID: "TLIB2", stan: "1") == nil)
            try tx.recordStan(terminalID: "TLIB2", stan: "1", digest: digestB, answer: answer)
            #expect(try tx.stan(terminalID: "TLIB2", stan: "1")?.digest == digestB)
            #expect(try tx.stan(terminalID: "TLIB1", stan: "1")?.digest == digestA)

            // A record written before migration 8 (hex digest, whole response) reads back as its bytes.
            try tx.ledger.connection.run("""
                INSERT INTO stans(terminal_id, stan, digest, response, reversed, created_at_ms) VALUES ('TLIB2', 'OLD', ?, ?, 0, ?)
                """, String(repeating: "a1", count: 32), Array(#"{"code":"00"}"#.utf8), tx.nowMillis)
            let legacy = try tx.stan(terminalID: "TLIB2", stan: "OLD")
            #expect(legacy?.digest == digestA)
            #expect(legacy?.answer == StanAnswer(requestID: nil, code: nil, response: Array(#"{"code":"00"}"#.utf8)))
        }
        // Kept at least 48 hours (7 days here), forgotten after.
        let twoDaysLater = env.now.addingTimeInterval(2 * 86_400 + 60)
        #expect(try env.ledger.write(now: twoDaysLater) { try $0.purgeStans() } == 0)
        #expect(try env.read { try $0.stan(terminalID: "TLIB1", stan: "1") } != nil)
        let eightDaysLater = env.now.addingTimeInterval(8 * 86_400)
        #expect(try env.ledger.write(now: eightDaysLater) { try $0.purgeStans() } == 4)
        #expect(try env.read { try $0.stan(terminalID: "TLIB1", stan: "1") } == nil)

        // A late original, 6 days after its reversal: remembered for the retention from its own arrival.
        let day: TimeInterval = 86_400
        try env.ledger.write(now: eightDaysLater) { try $0.markStanReversed(terminalID: "TLIB1", stan: "LATE") }
        try env.ledger.write(now: eightDaysLater.addingTimeInterval(6 * day)) {
            try $0.recordStan(terminalID: "TLIB1", stan: "LATE", digest: digestA, answer: answer)
        }
        #expect(try env.ledger.write(now: eightDaysLater.addingTimeInterval(8 * day)) { try $0.purgeStans() } == 0)
        #expect(try env.read { try $0.stan(terminalID: "TLIB1", stan: "LATE") }?.digest == digestA)
        #expect(try env.ledger.write(now: eightDaysLater.addingTimeInterval(14 * day)) { try $0.purgeStans() } == 1)
    }

    @Test("writeBatch: one commit; a refused operation is rolled back alone")
    func writeBatch() throws {
        let env = try RulesEnvironment()
        let pan = try env.card([(.manuels, 10_000, nil)])
        let other = try env.card([(.transport, 5_000, nil)])
        let results = try env.ledger.writeBatch(now: env.now, count: 5) { index, tx -> Int64 in
            switch index {
            case 0: return try tx.purchase(card: tx.card(pan: pan), partnerID: "PLIB", terminalID: "TLIB1", stan: "B0",
                                           amountCents: 3_000, wallet: nil, allowPartial: false).approvedCents
            case 1:
                // Moves money, then fails: its savepoint is rolled back, the others are kept.
                _ = try tx.loadWallet(pan: pan, code: .manuels, amountCents: 50_000, validMonths: nil)
                return try tx.purchase(card: tx.card(pan: pan), partnerID: "PLIB", terminalID: "TLIB1", stan: "B1",
                                       amountCents: 99_999, wallet: nil, allowPartial: false).approvedCents
            case 2: return try tx.loadWallet(pan: other, code: .transport, amountCents: 1_000, validMonths: nil).availableCents
            case 3: return try tx.prepay(pan: pan, partnerID: "PHEB", wallet: .manuels, amountCents: 100).amountCents
            default: return try tx.purchase(card: tx.card(pan: pan), partnerID: "PLIB", terminalID: "TLIB1", stan: "B4",
                                            amountCents: 7_000, wallet: nil, allowPartial: false).approvedCents
            }
        }
        #expect(results.count == 5)
        #expect((try? results[0].get()) == 3_000)
        #expect(failureCode(results[1]) == "insufficient_funds")
        #expect((try? results[2].get()) == 6_000)
        #expect(failureCode(results[3]) == "partner_refuses")
        #expect((try? results[4].get()) == 7_000, "sees the earlier operations of the batch, not the rolled-back load")
        #expect(try env.available(pan, .manuels) == 0)
        #expect(try env.available(other, .transport) == 6_000)
        #expect(try env.ledger.connection.scalarInt("SELECT COUNT(*) FROM payments") == 2)
        #expect(try env.ledger.connection.scalarInt("SELECT COUNT(*) FROM loads") == 3)
        #expect(try env.ledger.connection.scalarInt("SELECT COUNT(*) FROM vouchers") == 0)
        #expect(try env.violations().isEmpty)

        // A batch whose every operation fails commits nothing at all.
        let before = try env.snapshot()
        let failures = try env.ledger.writeBatch(now: env.now, count: 3) { _, tx in
            _ = try tx.purchase(card: tx.card(pan: pan), partnerID: "PLIB", terminalID: "TLIB1", stan: "F",
                                amountCents: 1, wallet: nil, allowPartial: false)
        }
        #expect(failures.allSatisfy { if case .failure = $0 { true } else { false } })
        #expect(try env.snapshot() == before)
    }

    @Test("operator operations refuse bad input and duplicates, changing nothing")
    func operatorRefusals() throws {
        let env = try RulesEnvironment()
        let before = try env.snapshot()
        let spec = PartnerSpec.all[0]
        let cases: [(String, (LedgerTransaction) throws -> Void)] = [
            ("duplicate", { try $0.addPartner(spec.record) }),
            ("invalid", { try $0.addPartner(PartnerRecord(id: "bad id", name: "x", category: .librairie, city: "Lille",
                                                          acceptsPrepayment: false, acceptsOnline: false, wallets: [.manuels])) }),
            ("invalid", { try $0.addPartner(PartnerRecord(id: "PNEW", name: "x", category: .librairie, city: "Lille",
                                                          acceptsPrepayment: false, acceptsOnline: false, wallets: [])) }),
            ("invalid", { try $0.addPartner(PartnerRecord(id: "PNEW", name: " ", category: .librairie, city: "Lille",
                                                          acceptsPrepayment: false, acceptsOnline: false, wallets: [.manuels])) }),
            ("unknown_partner", { try $0.enrollTerminal(id: "TNEW", partnerID: "PNOPE", certificateSHA256: "00") }),
            ("duplicate", { try $0.enrollTerminal(id: "TLIB1", partnerID: "PRESTO", certificateSHA256: "00") }),
            ("unknown_terminal", { try $0.revokeTerminal(id: "TNOPE") }),
            ("invalid", { _ = try $0.issueCard(beneficiary: BeneficiaryRecord(dossier: "", firstName: "A", lastName: "B")) }),
        ]
        for (code, operation) in cases {
            let error = ledgerError { try env.ledger.write(now: env.now) { try operation($0) } }
            #expect(error?.code == code, "\(String(describing: error))")
        }
        #expect(try env.snapshot() == before)

        // A dossier belongs to one beneficiary; a revoked terminal cannot be revoked again.
        _ = try env.card()
        let taken = ledgerError {
            _ = try env.ledger.write(now: env.now) {
                try $0.issueCard(beneficiary: BeneficiaryRecord(dossier: "DOS-1", firstName: "Autre", lastName: "Personne"))
            }
        }
        #expect(taken?.code == "invalid")
        try env.ledger.write(now: env.now) { try $0.revokeTerminal(id: "TLIB2") }
        #expect(try env.read { try $0.terminal(id: "TLIB2") }.status == .revoked)
        #expect(ledgerError { try env.ledger.write(now: env.now) { try $0.revokeTerminal(id: "TLIB2") } }?.code == "invalid")
        let issued = try env.ledger.write(now: env.now) {
            try $0.issueCard(beneficiary: BeneficiaryRecord(dossier: "DOS-1", firstName: "Prénom1", lastName: "Nom1"))
        }
        #expect(issued.pan.digits.hasPrefix("9250"), "a second card for the same beneficiary")
        #expect(try env.violations().isEmpty)
    }
}

/// The LedgerError code of a failed batch slot.
func failureCode<T>(_ result: Result<T, Error>) -> String? {
    if case .failure(let error) = result { return (error as? LedgerError)?.code ?? "not a LedgerError: \(error)" }
    return nil
}

/// A stan record's fields as a comparable string.
func stanFields(_ record: StanRecord) -> String { stanFields(record.digest, record.answer, record.reversed) }
func stanFields(_ digest: [UInt8]?, _ answer: StanAnswer?, _ reversed: Bool) -> String {
    "\(digest.map { $0.map { String($0, radix: 16) }.joined() } ?? "nil") \(answer.map { "\($0)" } ?? "nil") \(reversed)"
}
