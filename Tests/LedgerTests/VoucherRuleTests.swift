import Foundation
import HDFDomain
import Ledger
import Testing

@Suite("prepayment vouchers")
struct VoucherRuleTests {
    func prepay(_ env: RulesEnvironment, _ pan: PAN, partner: String = "PLIB", wallet: WalletCode = .manuels,
                cents: Int64, at instant: Date? = nil) throws -> VoucherRecord {
        try env.ledger.write(now: instant ?? env.now) { try $0.prepay(pan: pan, partnerID: partner, wallet: wallet, amountCents: cents) }
    }

    func redeem(_ env: RulesEnvironment, _ code: VoucherCode, terminal: String = "TLIB1", stan: String? = nil,
                at instant: Date? = nil) throws -> RedemptionResult {
        let partner = PartnerSpec.of(terminal: terminal, extra: [RulesEnvironment.allWallets]).id
        return try env.ledger.write(now: instant ?? env.now) {
            try $0.redeemVoucher(code: code, partnerID: partner, terminalID: terminal, stan: stan ?? env.nextStan())
        }
    }

    /// Pending money the partner holds for issued vouchers, and posted money it received.
    func partnerAccount(_ env: RulesEnvironment, _ partner: String) throws -> (posted: Int64, pending: Int64) {
        let db = env.ledger.connection
        return (try db.scalarInt("SELECT credits_posted - debits_posted FROM accounts WHERE name = ?", "partner:\(partner)") ?? -1,
                try db.scalarInt("SELECT credits_pending FROM accounts WHERE name = ?", "partner:\(partner)") ?? -1)
    }

    @Test("issue holds the money; redeem posts it to the partner, once")
    func issueAndRedeem() throws {
        let env = try RulesEnvironment()
        let pan = try env.card([(.manuels, 10_000, nil)])
        let voucher = try prepay(env, pan, cents: 4_000)
        #expect(voucher.status == .issued)
        #expect(voucher.amountCents == 4_000)
        #expect(voucher.partnerID == "PLIB")
        #expect(voucher.wallet == .manuels)
        #expect(voucher.expiresOn == env.today.adding(months: 6), "valid until its wallet expires")
        #expect(try env.available(pan, .manuels) == 6_000, "the money leaves the wallet at once")
        #expect(try partnerAccount(env, "PLIB") == (0, 4_000))

        // Another partner's terminal may neither check nor redeem it.
        let before = try env.snapshot()
        let check = ledgerError { _ = try env.ledger.write(now: env.now) { try $0.checkVoucher(code: voucher.code, partnerID: "PRESTO") } }
        #expect(check == .voucherOfAnotherPartner)
        #expect(check?.responseCode == .notPermittedToTerminal)
        #expect(ledgerError { _ = try redeem(env, voucher.code, terminal: "TRESTO1") }?.responseCode == .notPermittedToTerminal)
        // An unknown code (well formed): 25.
        let unknown = ledgerError { _ = try redeem(env, VoucherCode.generate()) }
        #expect(unknown == .unknownVoucher)
        #expect(unknown?.responseCode == .recordNotFound)
        #expect(try env.snapshot() == before)

        let redemption = try redeem(env, voucher.code, terminal: "TLIB2")
        #expect(redemption.amountCents == 4_000)
        #expect(try env.available(pan, .manuels) == 6_000)
        #expect(try partnerAccount(env, "PLIB") == (4_000, 0))
        let payment = try env.read { try $0.payment(txn: redemption.txn) }
        #expect(payment.kind == .voucher)
        #expect(payment.terminalID == "TLIB2")
        #expect(try env.read { try $0.voucher(code: voucher.code) }.status == .redeemed)

        let after = try env.snapshot()
        let twice = ledgerError { _ = try redeem(env, voucher.code) }
        #expect(twice == .voucherAlreadyRedeemed)
        #expect(twice?.responseCode == .voucherAlreadyRedeemed)
        let cancel = ledgerError { _ = try env.ledger.write(now: env.now) { try $0.cancelPrepayment(pan: pan, code: voucher.code) } }
        #expect(cancel == .voucherAlreadyRedeemed, "the beneficiary cannot cancel a redeemed voucher")
        #expect(try env.snapshot() == after)
        #expect(try env.violations().isEmpty)
    }

    @Test("the beneficiary cancels an unredeemed voucher: the money goes back; the partner can no longer redeem it")
    func cancelPrepayment() throws {
        let env = try RulesEnvironment()
        let pan = try env.card([(.manuels, 10_000, nil), (.restauration, 5_000, nil)])
        let someoneElse = try env.card([(.manuels, 10_000, nil)])
        let voucher = try prepay(env, pan, partner: "PRESTO", wallet: .restauration, cents: 2_000)
        #expect(try env.available(pan, .restauration) == 3_000)

        let before = try env.snapshot()
        let other = ledgerError { _ = try env.ledger.write(now: env.now) { try $0.cancelPrepayment(pan: someoneElse, code: voucher.code) } }
        #expect(other == .voucherOfAnotherCard)
        #expect(try env.snapshot() == before)

        let cancelled = try env.ledger.write(now: env.now) { try $0.cancelPrepayment(pan: pan, code: voucher.code) }
        #expect(cancelled.status == .cancelled)
        #expect(try env.available(pan, .restauration) == 5_000)
        #expect(try partnerAccount(env, "PRESTO") == (0, 0))

        let after = try env.snapshot()
        let redeemed = ledgerError { _ = try redeem(env, voucher.code, terminal: "TRESTO1") }
        #expect(redeemed == .voucherCancelled)
        #expect(redeemed?.responseCode == .voucherCancelled)
        #expect(ledgerError { _ = try env.ledger.write(now: env.now) { try $0.cancelPrepayment(pan: pan, code: voucher.code) } } == .voucherCancelled)
        #expect(try env.snapshot() == after)
        #expect(try env.violations().isEmpty)
    }

    @Test("prepay is refused where prepayment is not accepted, with too little money, from an unusable wallet")
    func prepayRefusals() throws {
        let env = try RulesEnvironment()
        let pan = try env.card([(.manuels, 10_000, nil), (.transport, 5_000, nil)])
        let before = try env.snapshot()
        let cases: [(String, String, WalletCode, Int64, String, ResponseCode)] = [
            ("PTRANS", "TRANSPORT", .transport, 100, "partner_refuses", .notPermittedHere),
            ("PHEB", "HEBERGEMENT", .hebergement, 100, "partner_refuses", .notPermittedHere),
            ("PLIB", "MANUELS", .manuels, 10_001, "insufficient_funds", .insufficientFunds),
            ("PLIB", "TRANSPORT", .transport, 100, "wallet_not_usable_here", .notPermittedHere),
            ("PRESTO", "RESTAURATION", .restauration, 100, "unknown_wallet", .invalidTransaction),
            ("PLIB", "MANUELS", .manuels, 0, "invalid", .formatError),
            ("PLIB", "MANUELS", .manuels, -100, "invalid", .formatError),
            ("PLIB", "MANUELS", .manuels, Money.maximumAmountCents + 1, "invalid", .formatError),
        ]
        for (partner, label, wallet, cents, code, response) in cases {
            let error = ledgerError { _ = try prepay(env, pan, partner: partner, wallet: wallet, cents: cents) }
            #expect(error?.code == code, "\(partner) \(label) \(cents): \(String(describing: error))")
            #expect(error?.responseCode == response)
        }
        #expect(try env.snapshot() == before)
        // Exactly what the wallet holds is fine.
        #expect(try prepay(env, pan, cents: 10_000).amountCents == 10_000)
        #expect(try env.available(pan, .manuels) == 0)
        #expect(ledgerError { _ = try env.purchase(pan, terminal: "TLIB1", amount: 1) }?.code == "insufficient_funds",
                "held money cannot be spent twice")
        #expect(try env.violations().isEmpty)
    }

    @Test("an expired voucher releases its money back to the wallet")
    func expiryReleasesMoney() throws {
        let env = try RulesEnvironment(now: parisInstant(2026, 1, 15))
        let pan = try env.card()
        _ = try env.ledger.write(now: env.now) { try $0.loadWallet(pan: pan, code: .manuels, amountCents: 10_000, validMonths: 1) }
        let voucher = try prepay(env, pan, cents: 4_000)
        #expect(voucher.expiresOn == day("2026-02-15"))
        #expect(try env.available(pan, .manuels) == 6_000)

        // Still valid on its expiry day (late evening in Paris).
        let lastDay = parisInstant(2026, 2, 15, hour: 23, minute: 45)
        let checked = try env.ledger.write(now: lastDay) { try $0.checkVoucher(code: voucher.code, partnerID: "PLIB") }
        #expect(checked.status == .issued)
        #expect(try env.available(pan, .manuels) == 6_000)

        let nextDay = parisInstant(2026, 2, 16, hour: 0, minute: 15)
        let before = try env.snapshot()
        let refused = ledgerError { _ = try redeem(env, voucher.code, at: nextDay) }
        #expect(refused == .voucherExpired(on: day("2026-02-15")))
        #expect(refused?.responseCode == .expired)
        #expect(try env.snapshot() == before, "a refused redemption changes nothing")

        let read = try env.ledger.write(now: nextDay) { try $0.checkVoucher(code: voucher.code, partnerID: "PLIB") }
        #expect(read.status == .expired)
        #expect(try env.available(pan, .manuels) == 10_000, "the hold is voided: the money is back in the wallet")
        #expect(try partnerAccount(env, "PLIB") == (0, 0))
        #expect(try env.violations().isEmpty)

        let after = try env.snapshot()
        #expect(ledgerError { _ = try redeem(env, voucher.code, at: nextDay) } == .voucherExpired(on: day("2026-02-15")))
        #expect(ledgerError { _ = try env.ledger.write(now: nextDay) { try $0.cancelPrepayment(pan: pan, code: voucher.code) } }
                == .voucherExpired(on: day("2026-02-15")))
        #expect(try env.snapshot() == after)

        // The wallet expired with it; a new load makes the whole amount usable again.
        #expect(ledgerError { _ = try env.purchase(pan, terminal: "TLIB1", amount: 100, at: nextDay) }?.responseCode == .expired)
        _ = try env.ledger.write(now: nextDay) { try $0.loadWallet(pan: pan, code: .manuels, amountCents: 1_000, validMonths: nil) }
        #expect(try env.purchase(pan, terminal: "TLIB1", amount: 11_000, at: nextDay).approvedCents == 11_000)
        #expect(try env.violations().isEmpty)
    }

    @Test("reversing a redemption puts the voucher back as issued, its money held again")
    func reversalOfRedemption() throws {
        let env = try RulesEnvironment()
        let pan = try env.card([(.manuels, 10_000, nil)])
        let voucher = try prepay(env, pan, cents: 2_500)
        let redemption = try redeem(env, voucher.code, terminal: "TLIB1", stan: "RED1")
        #expect(try partnerAccount(env, "PLIB") == (2_500, 0))

        let undone = try env.ledger.write(now: env.now) { try $0.reversePayment(terminalID: "TLIB1", stan: "RED1") }
        #expect(undone?.txn == redemption.txn)
        #expect(undone?.kind == .voucher)
        #expect(try env.read { try $0.payment(txn: redemption.txn) }.status == .reversed)
        #expect(try env.read { try $0.voucher(code: voucher.code) }.status == .issued)
        #expect(try env.available(pan, .manuels) == 7_500, "still held for the voucher")
        #expect(try partnerAccount(env, "PLIB") == (0, 2_500))
        #expect(try env.violations().isEmpty)

        let before = try env.snapshot()
        #expect(try env.ledger.write(now: env.now) { try $0.reversePayment(terminalID: "TLIB1", stan: "RED1") } == nil)
        #expect(try env.snapshot() == before)

        // It can be redeemed again (another stan), and that redemption cancelled by the partner: the money
        // goes back to the wallet, the voucher stays used.
        let second = try redeem(env, voucher.code, terminal: "TLIB2", stan: "RED2")
        #expect(try partnerAccount(env, "PLIB") == (2_500, 0))
        let cancellation = try env.ledger.write(now: env.now) {
            try $0.cancelPayment(txn: second.txn, partnerID: "PLIB", terminalID: "TLIB1", stan: "CAN1")
        }
        #expect(cancellation.amountCents == 2_500)
        #expect(try env.available(pan, .manuels) == 10_000)
        #expect(try partnerAccount(env, "PLIB") == (0, 0))
        #expect(try env.read { try $0.voucher(code: voucher.code) }.status == .redeemed)
        #expect(ledgerError { _ = try redeem(env, voucher.code) } == .voucherAlreadyRedeemed)
        #expect(try env.violations().isEmpty)
    }

    @Test("voucher codes are read case-insensitively, with or without separators")
    func codesAsTyped() throws {
        let env = try RulesEnvironment()
        let pan = try env.card([(.manuels, 10_000, nil)])
        let voucher = try prepay(env, pan, cents: 100)
        let typed = voucher.code.grouped.lowercased().replacingOccurrences(of: "-", with: " ")
        let parsed = try VoucherCode(parsing: typed)
        #expect(try env.ledger.write(now: env.now) { try $0.checkVoucher(code: parsed, partnerID: "PLIB") }.amountCents == 100)
    }
}
