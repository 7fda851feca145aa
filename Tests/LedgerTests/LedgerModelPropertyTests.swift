import Foundation
import HDFDomain
import Ledger
import PropertyBased
import Testing

/// Random sequences of operations against a real ledger and against a model kept by the test. After each
/// step the ledger's invariants hold and the ledger says what the model says; a refused operation is refused
/// for the reason the model gives and changes nothing.
@Suite("ledger against a model (property-based)")
struct LedgerModelPropertyTests {
    static let stepsPerCase = 200
    static let cases = 24

    static let stepGenerator = zip(
        Gen.int(in: 0...99), Gen.int(in: 0...1_000_000), Gen.int(in: 0...1_000_000),
        Gen.int(in: 0...1_000_000), Gen.int(in: 0...1_000_000)
    ).map { ModelStep(kind: $0.0, a: $0.1, b: $0.2, c: $0.3, d: $0.4) }

    /// Shrinking is off: a case is a stateful sequence, and re-running hundreds of shortened sequences takes
    /// minutes. A failure names its step, the operation and the disagreement, and prints the seed to replay it.
    @Test("random operation sequences keep the invariants and match the model", .shrinking(false))
    func randomSequencesMatchTheModel() async {
        var approved: [String: Int] = [:]
        var refused: [String: Int] = [:]
        await propertyCheck(count: Self.cases, input: Self.stepGenerator.array(of: Self.stepsPerCase)) { steps in
            let harness = try ModelHarness()
            for (index, step) in steps.enumerated() {
                guard harness.run(step, index: index) else { break }
            }
            #expect(harness.stepsRun == steps.count, "the scenario stopped at the first disagreement")
            approved.merge(harness.approved) { $0 + $1 }
            refused.merge(harness.refused) { $0 + $1 }
        }
        // The runs were not vacuous: every kind of operation was both approved and refused.
        for kind in ["load", "purchase", "reverse", "cancel", "prepay", "redeem", "cancelPrepayment", "checkVoucher",
                     "online", "block", "unblock", "purchase:partial", "purchase:tie", "checkVoucher:released"] {
            #expect(approved[kind, default: 0] > 0, "no \(kind) was approved: \(approved)")
            if !kind.contains(":") && kind != "reverse" && kind != "block" { #expect(refused[kind, default: 0] > 0, "no \(kind) was refused: \(refused)") }
        }
    }
}

/// One random step: `kind` picks the operation, `a`...`d` its arguments (resolved against the model's state).
struct ModelStep: Sendable, CustomStringConvertible {
    let kind: Int
    let a: Int
    let b: Int
    let c: Int
    let d: Int
    var description: String { "(\(kind) \(a) \(b) \(c) \(d))" }
}

/// What the model expects of a refused operation.
struct ExpectedRefusal: Error, Equatable, CustomStringConvertible {
    let code: String
    let response: ResponseCode
    init(_ code: String, _ response: ResponseCode) {
        self.code = code
        self.response = response
    }
    var description: String { "\(code)/\(response.rawValue)" }
}

enum ModelOp: CustomStringConvertible {
    case load(card: Int, code: WalletCode, amount: Int64, months: Int?)
    case purchase(card: Int, terminal: String, amount: Int64, wallet: WalletCode?, partial: Bool, stan: String)
    case reverse(terminal: String, stan: String)
    case cancel(txn: String, terminal: String, stan: String)
    case prepay(card: Int, partner: String, code: WalletCode, amount: Int64)
    case redeem(voucher: VoucherCode, terminal: String, stan: String)
    case cancelPrepayment(card: Int, voucher: VoucherCode)
    case checkVoucher(voucher: VoucherCode, partner: String)
    case online(card: Int, partner: String, code: WalletCode, amount: Int64)
    case block(card: Int, reason: BlockReason)
    case unblock(card: Int)

    var name: String {
        switch self {
        case .load: return "load"
        case .purchase: return "purchase"
        case .reverse: return "reverse"
        case .cancel: return "cancel"
        case .prepay: return "prepay"
        case .redeem: return "redeem"
        case .cancelPrepayment: return "cancelPrepayment"
        case .checkVoucher: return "checkVoucher"
        case .online: return "online"
        case .block: return "block"
        case .unblock: return "unblock"
        }
    }

    var description: String {
        switch self {
        case let .load(card, code, amount, months): return "load(card \(card), \(code.rawValue), \(amount), months \(months.map(String.init) ?? "-"))"
        case let .purchase(card, terminal, amount, wallet, partial, stan):
            return "purchase(card \(card), \(terminal), \(amount), \(wallet?.rawValue ?? "auto"), partial \(partial), stan \(stan))"
        case let .reverse(terminal, stan): return "reverse(\(terminal), \(stan))"
        case let .cancel(txn, terminal, stan): return "cancel(\(txn), \(terminal), \(stan))"
        case let .prepay(card, partner, code, amount): return "prepay(card \(card), \(partner), \(code.rawValue), \(amount))"
        case let .redeem(voucher, terminal, stan): return "redeem(\(voucher), \(terminal), \(stan))"
        case let .cancelPrepayment(card, voucher): return "cancelPrepayment(card \(card), \(voucher))"
        case let .checkVoucher(voucher, partner): return "checkVoucher(\(voucher), \(partner))"
        case let .online(card, partner, code, amount): return "online(card \(card), \(partner), \(code.rawValue), \(amount))"
        case let .block(card, reason): return "block(card \(card), \(reason.rawValue))"
        case let .unblock(card): return "unblock(card \(card))"
        }
    }
}

/// What the ledger answered to an operation that succeeded.
enum ModelOutcome {
    case wallet(WalletRecord)
    case purchase(PurchaseApproval)
    case reversal(PaymentRecord?)
    case cancellation(CancellationResult)
    case voucher(VoucherRecord)
    case redemption(RedemptionResult)
    case payment(PaymentRecord)
    case none
}

/// The test's own model of the ledger, written from the contract, plus the real ledger it is compared to.
final class ModelHarness {
    struct Wallet: Equatable {
        var available: Int64
        var expires: LocalDate
    }
    struct Card {
        let pan: PAN
        let id: Int64
        var status: CardStatus
        var wallets: [WalletCode: Wallet]
    }
    struct Voucher {
        let code: VoucherCode
        let card: Int
        let wallet: WalletCode
        let partner: String
        let amount: Int64
        var status: VoucherStatus
        let expires: LocalDate
    }
    struct Payment {
        let txn: String
        let kind: PaymentKind
        let card: Int
        let wallet: WalletCode
        let partner: String
        let terminal: String?
        let stan: String?
        let amount: Int64
        var status: PaymentStatus
        let voucher: VoucherCode?
        /// When the ledger made it: a stan is remembered for `stanRetention`, then it is new (issue 8).
        var created: Date = .distantPast
    }

    let temp: TempLedger
    var ledger: Ledger { temp.ledger }
    var cards: [Card] = []
    /// A Luhn-valid PAN the ledger never issued (card index `cards.count`).
    let unknownPAN = PAN(appendingCheckDigitTo: "999912345678901")
    var vouchers: [Voucher] = []
    var payments: [Payment] = []
    var loadedCents: Int64 = 0
    var now: Date = parisInstant(2026, 1, 15, hour: 10)
    var today: LocalDate { ParisCalendar.businessDay(of: now) }
    var stanCounter = 0
    var stepsRun = 0
    /// How many operations of each kind were approved and refused (to show the runs are not vacuous).
    var approved: [String: Int] = [:]
    var refused: [String: Int] = [:]
    var failed = false
    var context = ""

    static let cardCount = 4

    init() throws {
        temp = try TempLedger()
        let issued = try temp.ledger.write(now: now) { tx in
            try tx.addStandardPartners()
            return try (0..<Self.cardCount).map { try tx.issueTestCard($0) }
        }
        cards = issued.map { Card(pan: $0.pan, id: $0.id, status: .active, wallets: [:]) }
        // Every card starts with money in three wallets expiring the same day (through the model, like any other
        // step): the choice among them falls to the tie-break by code. Cards 2 and 3 expire within the run.
        for card in cards.indices {
            let others = WalletCode.allCases.filter { $0 != .manuels }
            for (code, cents) in [(WalletCode.manuels, Int64(20_000)), (others[card % 3], 10_000), (others[(card + 1) % 3], 10_000)] {
                let months = card < 2 ? 12 : 2
                try ledger.write(now: now) { tx in try perform(.load(card: card, code: code, amount: cents, months: months), tx) }
            }
        }
        approved = [:]
    }

    func pan(_ card: Int) -> PAN { card < cards.count ? cards[card].pan : unknownPAN }

    func nextStan() -> String {
        stanCounter += 1
        return "S\(stanCounter)"
    }

    func fail(_ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        Issue.record("\(context): \(message)", sourceLocation: sourceLocation)
        failed = true
    }

    // MARK: - Turning random numbers into operations

    func amount(_ a: Int, _ b: Int, typical: Int) -> Int64 {
        switch b % 40 {
        case 0: return 0
        case 1: return -Int64(1 + a % 500)
        case 2: return Money.maximumAmountCents + 1 + Int64(a % 10)
        case 3, 4: return 50_000 + Int64(a % 10_000) // more than any wallet holds
        default: return 1 + Int64(a % typical)
        }
    }

    func card(_ x: Int) -> Int { x % 12 == 0 ? cards.count : x % cards.count }

    func voucherCode(_ x: Int, _ y: Int) -> VoucherCode {
        if vouchers.isEmpty || y % 10 == 0 { return VoucherCode.generate() } // almost surely unknown
        return vouchers[x % vouchers.count].code
    }

    /// Mostly a partner that accepts the operation and one of its wallets; sometimes any partner, any wallet.
    func partnerAndWallet(_ c: Int, _ d: Int, accepting: [PartnerSpec]) -> (String, WalletCode) {
        let partner = c % 4 == 0 ? PartnerSpec.all[(c / 4) % PartnerSpec.all.count] : accepting[(c / 4) % accepting.count]
        let code = d % 5 == 0 ? WalletCode.allCases[(d / 5) % WalletCode.allCases.count] : partner.wallets[(d / 5) % partner.wallets.count]
        return (partner.id, code)
    }

    func resolve(_ step: ModelStep) -> ModelOp? {
        let (a, b, c, d) = (step.a, step.b, step.c, step.d)
        let codes = WalletCode.allCases
        let terminals = PartnerSpec.allTerminals
        let partners = PartnerSpec.all
        switch step.kind {
        case 0..<12:
            let months: Int? = [nil, 1, 2, 3][c % 4]
            return .load(card: card(b), code: codes[d % codes.count], amount: amount(a, b / 7, typical: 15_000), months: months)
        case 12..<36:
            let terminal = terminals[d % terminals.count]
            let accepted = PartnerSpec.of(terminal: terminal).wallets
            let wallet: WalletCode? = c % 2 == 0 ? nil : c % 7 == 1 ? codes[(c / 7) % codes.count] : accepted[(c / 2) % accepted.count]
            return .purchase(card: card(b), terminal: terminal, amount: amount(a, c / 5, typical: 8_000),
                             wallet: wallet, partial: d % 2 == 0, stan: nextStan())
        case 36..<44:
            let candidates = payments.filter { $0.terminal != nil && $0.kind != .online }
            if candidates.isEmpty || b % 6 == 0 {
                return .reverse(terminal: terminals[d % terminals.count], stan: "NEVER\(a)")
            }
            let payment = candidates[a % candidates.count]
            return .reverse(terminal: payment.terminal!, stan: payment.stan!)
        case 44..<54:
            if payments.isEmpty || b % 10 == 0 {
                return .cancel(txn: "TXUNKNOWN\(a)", terminal: terminals[d % terminals.count], stan: nextStan())
            }
            let payment = payments[a % payments.count]
            let own = PartnerSpec.named(payment.partner).terminals
            let terminal = c % 4 == 0 ? terminals[d % terminals.count] : own[d % own.count]
            return .cancel(txn: payment.txn, terminal: terminal, stan: nextStan())
        case 54..<66:
            let (partner, code) = partnerAndWallet(c, d, accepting: partners.filter(\.prepayment))
            return .prepay(card: card(b), partner: partner, code: code, amount: amount(a, b / 3, typical: 5_000))
        case 66..<74:
            let code = voucherCode(a, b)
            let owner = vouchers.first { $0.code == code }.map { PartnerSpec.named($0.partner).terminals }
            let terminal = (owner == nil || c % 3 == 0) ? terminals[d % terminals.count] : owner![d % owner!.count]
            return .redeem(voucher: code, terminal: terminal, stan: nextStan())
        case 74..<80:
            let code = voucherCode(a, b)
            let owner = vouchers.first { $0.code == code }?.card
            return .cancelPrepayment(card: (owner == nil || c % 4 == 0) ? card(d) : owner!, voucher: code)
        case 80..<84:
            // Half the time a voucher still issued: the ones past their expiry get released.
            let issued = vouchers.filter { $0.status == .issued }
            let code = !issued.isEmpty && c % 2 == 1 ? issued[a % issued.count].code : voucherCode(a, b)
            let owner = vouchers.first { $0.code == code }?.partner
            return .checkVoucher(voucher: code, partner: (owner == nil || c % 4 == 0) ? partners[d % partners.count].id : owner!)
        case 84..<92:
            let (partner, code) = partnerAndWallet(c, d, accepting: partners.filter(\.online))
            return .online(card: card(b), partner: partner, code: code, amount: amount(a, b / 3, typical: 4_000))
        case 92..<94:
            return .block(card: card(b), reason: BlockReason.allCases[c % 3])
        case 94..<97:
            // Mostly a blocked card (when there is one), sometimes any card (an active one is refused).
            let blocked = cards.indices.filter { cards[$0].status != .active }
            return .unblock(card: blocked.isEmpty || c % 4 == 0 ? card(b) : blocked[b % blocked.count])
        default:
            return nil // handled by `run`: a batch or the calendar moving on
        }
    }

    // MARK: - The model's rules (contract §3)

    /// The wallet a payment is taken from and the amount approved, or why it is refused.
    func choose(card: Int, partner: PartnerSpec, requested: WalletCode?, amount: Int64,
                partial: Bool) -> Result<(WalletCode, Int64), ExpectedRefusal> {
        let wallets = cards[card].wallets
        if let requested {
            guard let wallet = wallets[requested] else { return .failure(.init("unknown_wallet", .invalidTransaction)) }
            guard partner.wallets.contains(requested) else { return .failure(.init("wallet_not_usable_here", .notPermittedHere)) }
            guard today <= wallet.expires else { return .failure(.init("wallet_expired", .expired)) }
            if wallet.available >= amount { return .success((requested, amount)) }
            if partial && wallet.available > 0 { return .success((requested, wallet.available)) }
            return .failure(.init("insufficient_funds", .insufficientFunds))
        }
        let usable = wallets.filter { partner.wallets.contains($0.key) }
        guard !usable.isEmpty else { return .failure(.init("wallet_not_usable_here", .notPermittedHere)) }
        let live = usable.filter { today <= $0.value.expires }
        guard !live.isEmpty else { return .failure(.init("wallet_expired", .expired)) }
        // Among those holding enough: the one that expires first, ties by code.
        if let best = live.filter({ $0.value.available >= amount })
            .min(by: { ($0.value.expires, $0.key.rawValue) < ($1.value.expires, $1.key.rawValue) }) {
            return .success((best.key, amount))
        }
        // Partial: the wallet holding the most (ties: expires first, then code) pays what it holds.
        if partial, let best = live.filter({ $0.value.available > 0 }).min(by: {
            ($1.value.available, $0.value.expires, $0.key.rawValue) < ($0.value.available, $1.value.expires, $1.key.rawValue)
        }) {
            return .success((best.key, best.value.available))
        }
        return .failure(.init("insufficient_funds", .insufficientFunds))
    }

    func validAmount(_ amount: Int64) -> Bool { amount > 0 && amount <= Money.maximumAmountCents }

    static let invalid = ExpectedRefusal("invalid", .formatError)
    static let unknownCard = ExpectedRefusal("unknown_card", .unknownCard)

    func blocked(_ status: CardStatus) -> ExpectedRefusal {
        switch status {
        case .lost: return .init("card_blocked", .lostCard)
        case .stolen: return .init("card_blocked", .stolenCard)
        default: return .init("card_blocked", .restrictedCard)
        }
    }

    /// A voucher's status as the ledger will see it when it reads it now (issued past its expiry: expired).
    func effectiveStatus(_ voucher: Voucher) -> VoucherStatus {
        voucher.status == .issued && today > voucher.expires ? .expired : voucher.status
    }

    func voucherRefusal(_ status: VoucherStatus) -> ExpectedRefusal? {
        switch status {
        case .redeemed: return .init("voucher_redeemed", .voucherAlreadyRedeemed)
        case .cancelled: return .init("voucher_cancelled", .voucherCancelled)
        case .expired: return .init("voucher_expired", .expired)
        case .issued: return nil
        }
    }

    /// What the model expects: nil when the operation must succeed, else why it must be refused.
    func predict(_ op: ModelOp) -> ExpectedRefusal? {
        switch op {
        case let .load(card, _, amount, _):
            if !validAmount(amount) { return Self.invalid }
            if card >= cards.count { return Self.unknownCard }
            return nil
        case let .purchase(card, terminal, amount, wallet, partial, _):
            if card >= cards.count { return Self.unknownCard }
            if !validAmount(amount) { return Self.invalid }
            if cards[card].status != .active { return blocked(cards[card].status) }
            if case .failure(let refusal) = choose(card: card, partner: .of(terminal: terminal), requested: wallet,
                                                   amount: amount, partial: partial) { return refusal }
            return nil
        case .reverse:
            return nil
        case let .cancel(txn, terminal, _):
            guard let payment = payments.first(where: { $0.txn == txn }) else { return .init("unknown_payment", .recordNotFound) }
            if payment.partner != PartnerSpec.of(terminal: terminal).id { return .init("payment_of_another_partner", .notPermittedToTerminal) }
            switch payment.status {
            case .cancelled: return .init("already_cancelled", .alreadyCancelled)
            case .reversed: return .init("not_cancellable", .invalidTransaction)
            case .approved: return nil
            }
        case let .prepay(card, partner, code, amount), let .online(card, partner, code, amount):
            if !validAmount(amount) { return Self.invalid }
            if card >= cards.count { return Self.unknownCard }
            let spec = PartnerSpec.named(partner)
            if case .prepay = op, !spec.prepayment { return .init("partner_refuses", .notPermittedHere) }
            if case .online = op, !spec.online { return .init("partner_refuses", .notPermittedHere) }
            if case .failure(let refusal) = choose(card: card, partner: spec, requested: code, amount: amount, partial: false) {
                return refusal
            }
            return nil
        case let .redeem(code, terminal, _):
            guard let voucher = vouchers.first(where: { $0.code == code }) else { return .init("unknown_voucher", .recordNotFound) }
            if voucher.partner != PartnerSpec.of(terminal: terminal).id { return .init("voucher_of_another_partner", .notPermittedToTerminal) }
            return voucherRefusal(effectiveStatus(voucher))
        case let .cancelPrepayment(card, code):
            if card >= cards.count { return Self.unknownCard }
            guard let voucher = vouchers.first(where: { $0.code == code }) else { return .init("unknown_voucher", .recordNotFound) }
            if voucher.card != card { return .init("voucher_of_another_card", .notPermittedToTerminal) }
            return voucherRefusal(effectiveStatus(voucher))
        case let .checkVoucher(code, partner):
            guard let voucher = vouchers.first(where: { $0.code == code }) else { return .init("unknown_voucher", .recordNotFound) }
            if voucher.partner != partner { return .init("voucher_of_another_partner", .notPermittedToTerminal) }
            return nil
        case let .block(card, _):
            return card >= cards.count ? Self.unknownCard : nil
        case let .unblock(card):
            if card >= cards.count { return Self.unknownCard }
            return cards[card].status == .active ? Self.invalid : nil
        }
    }

    // MARK: - Running an operation on the ledger

    func execute(_ op: ModelOp, _ tx: LedgerTransaction) throws -> ModelOutcome {
        switch op {
        case let .load(card, code, amount, months):
            return .wallet(try tx.loadWallet(pan: pan(card), code: code, amountCents: amount, validMonths: months))
        case let .purchase(card, terminal, amount, wallet, partial, stan):
            let record = try tx.card(pan: pan(card))
            return .purchase(try tx.purchase(card: record, partnerID: PartnerSpec.of(terminal: terminal).id, terminalID: terminal,
                                             stan: stan, amountCents: amount, wallet: wallet, allowPartial: partial))
        case let .reverse(terminal, stan):
            return .reversal(try tx.reversePayment(terminalID: terminal, stan: stan))
        case let .cancel(txn, terminal, stan):
            return .cancellation(try tx.cancelPayment(txn: txn, partnerID: PartnerSpec.of(terminal: terminal).id,
                                                      terminalID: terminal, stan: stan))
        case let .prepay(card, partner, code, amount):
            return .voucher(try tx.prepay(pan: pan(card), partnerID: partner, wallet: code, amountCents: amount))
        case let .redeem(code, terminal, stan):
            return .redemption(try tx.redeemVoucher(code: code, partnerID: PartnerSpec.of(terminal: terminal).id,
                                                    terminalID: terminal, stan: stan))
        case let .cancelPrepayment(card, code):
            return .voucher(try tx.cancelPrepayment(pan: pan(card), code: code))
        case let .checkVoucher(code, partner):
            return .voucher(try tx.checkVoucher(code: code, partnerID: partner))
        case let .online(card, partner, code, amount):
            return .payment(try tx.payOnline(pan: pan(card), partnerID: partner, wallet: code, amountCents: amount))
        case let .block(card, reason):
            try tx.setCardStatus(pan: pan(card), status: reason.cardStatus)
            return .none
        case let .unblock(card):
            try tx.setCardStatus(pan: pan(card), status: .active)
            return .none
        }
    }

    /// Checks what the ledger answered against the model, then moves the model on.
    func apply(_ op: ModelOp, _ outcome: ModelOutcome) {
        approved[op.name, default: 0] += 1
        switch (op, outcome) {
        case let (.load(card, code, amount, months), .wallet(record)):
            let expires = today.adding(months: months ?? code.defaultValidityMonths)
            var wallet = cards[card].wallets[code] ?? Wallet(available: 0, expires: expires)
            wallet.available += amount
            wallet.expires = max(wallet.expires, expires)
            cards[card].wallets[code] = wallet
            loadedCents += amount
            if record.code != code || record.availableCents != wallet.available || record.expiresOn != wallet.expires {
                fail("load answered \(record), model \(wallet)")
            }
        case let (.purchase(card, terminal, amount, wallet, partial, stan), .purchase(approval)):
            let partner = PartnerSpec.of(terminal: terminal)
            guard case .success(let (code, approved)) = choose(card: card, partner: partner, requested: wallet, amount: amount, partial: partial) else {
                return fail("the model refuses a purchase it predicted")
            }
            if approved < amount { self.approved["purchase:partial", default: 0] += 1 }
            if wallet == nil {
                let candidates = cards[card].wallets.filter { partner.wallets.contains($0.key) && today <= $0.value.expires && $0.value.available >= amount }
                let first = candidates.values.map(\.expires).min()
                if candidates.values.filter({ $0.expires == first }).count > 1 { self.approved["purchase:tie", default: 0] += 1 }
            }
            cards[card].wallets[code]!.available -= approved
            payments.append(Payment(txn: approval.txn, kind: .purchase, card: card, wallet: code, partner: partner.id,
                                    terminal: terminal, stan: stan, amount: approved, status: .approved, voucher: nil, created: now))
            if approval.wallet != code || approval.approvedCents != approved || approval.isPartial != (approved < amount)
                || approval.balanceAfterCents != cards[card].wallets[code]!.available || approval.authCode.count != 6 {
                fail("purchase answered \(approval), model \(code.rawValue) \(approved) balance \(cards[card].wallets[code]!.available)")
            }
        case let (.reverse(terminal, stan), .reversal(record)):
            // Past the stan retention the stan is new: only a payment made under it since then can be undone.
            let retained = now.addingTimeInterval(-Double(LedgerTransaction.stanRetention.components.seconds))
            let index = payments.lastIndex { $0.terminal == terminal && $0.stan == stan && $0.kind != .online && $0.created >= retained }
            guard let index, payments[index].status == .approved else {
                if record != nil { fail("reversal undid \(record!.txn), the model has nothing to undo") }
                return
            }
            let payment = payments[index]
            if record?.txn != payment.txn { return fail("reversal undid \(record?.txn ?? "nothing"), model \(payment.txn)") }
            payments[index].status = .reversed
            if payment.kind == .voucher {
                // The redemption never happened: the voucher is issued again and holds its money again.
                let v = vouchers.firstIndex { $0.code == payment.voucher }!
                vouchers[v].status = .issued
            } else {
                cards[payment.card].wallets[payment.wallet]!.available += payment.amount
            }
        case let (.cancel(txn, _, _), .cancellation(result)):
            let index = payments.firstIndex { $0.txn == txn }!
            payments[index].status = .cancelled
            cards[payments[index].card].wallets[payments[index].wallet]!.available += payments[index].amount
            if result.originalTxn != txn || result.amountCents != payments[index].amount || result.txn == txn {
                fail("cancellation answered \(result)")
            }
        case let (.prepay(card, partner, code, amount), .voucher(record)):
            let wallet = cards[card].wallets[code]!
            cards[card].wallets[code]!.available -= amount
            vouchers.append(Voucher(code: record.code, card: card, wallet: code, partner: partner, amount: amount,
                                    status: .issued, expires: wallet.expires))
            if record.status != .issued || record.amountCents != amount || record.wallet != code || record.partnerID != partner
                || record.expiresOn != wallet.expires || record.cardID != cards[card].id {
                fail("prepay answered \(record)")
            }
        case let (.redeem(code, terminal, stan), .redemption(result)):
            let v = vouchers.firstIndex { $0.code == code }!
            vouchers[v].status = .redeemed
            let voucher = vouchers[v]
            payments.append(Payment(txn: result.txn, kind: .voucher, card: voucher.card, wallet: voucher.wallet,
                                    partner: voucher.partner, terminal: terminal, stan: stan, amount: voucher.amount,
                                    status: .approved, voucher: code, created: now))
            if result.amountCents != voucher.amount { fail("redemption answered \(result)") }
        case let (.cancelPrepayment(_, code), .voucher(record)):
            let v = vouchers.firstIndex { $0.code == code }!
            vouchers[v].status = .cancelled
            cards[vouchers[v].card].wallets[vouchers[v].wallet]!.available += vouchers[v].amount
            if record.status != .cancelled { fail("cancelPrepayment answered \(record)") }
        case let (.checkVoucher(code, _), .voucher(record)):
            let v = vouchers.firstIndex { $0.code == code }!
            let status = effectiveStatus(vouchers[v])
            if status == .expired && vouchers[v].status == .issued {
                approved["checkVoucher:released", default: 0] += 1
                // Reading an expired voucher releases its money back to the wallet.
                vouchers[v].status = .expired
                cards[vouchers[v].card].wallets[vouchers[v].wallet]!.available += vouchers[v].amount
            }
            if record.status != status || record.amountCents != vouchers[v].amount || record.expiresOn != vouchers[v].expires {
                fail("checkVoucher answered \(record), model \(status)")
            }
        case let (.online(card, partner, code, amount), .payment(record)):
            cards[card].wallets[code]!.available -= amount
            payments.append(Payment(txn: record.txn, kind: .online, card: card, wallet: code, partner: partner, terminal: nil,
                                    stan: nil, amount: amount, status: .approved, voucher: nil, created: now))
            if record.kind != .online || record.amountCents != amount || record.wallet != code || record.partnerID != partner
                || record.status != .approved || record.label != LedgerTransaction.onlinePaymentLabel || record.terminalID != nil {
                fail("online answered \(record)")
            }
        case let (.block(card, reason), .none):
            cards[card].status = reason.cardStatus
        case let (.unblock(card), .none):
            cards[card].status = .active
        default:
            fail("unexpected outcome \(outcome)")
        }
    }

    /// Predicts, runs inside the open transaction, checks and applies. Rethrows the ledger's refusal (so that
    /// the enclosing write or savepoint rolls back) after checking it is the one the model expects.
    func perform(_ op: ModelOp, _ tx: LedgerTransaction) throws {
        let expected = predict(op)
        let outcome: ModelOutcome
        do {
            outcome = try execute(op, tx)
        } catch let error as LedgerError {
            refused[op.name, default: 0] += 1
            refused[op.name + ":" + error.code, default: 0] += 1
            if let expected {
                if error.code != expected.code || error.responseCode != expected.response {
                    fail("refused with \(error.code)/\(error.responseCode.rawValue) (\(error)), model expects \(expected)")
                }
            } else {
                fail("refused with \(error) but the model approves")
            }
            throw error
        } catch {
            fail("failed with a non-ledger error \(error)")
            throw error
        }
        if let expected { return fail("approved but the model expects \(expected)") }
        apply(op, outcome)
    }

    // MARK: - A step

    /// Runs one step; returns false once the ledger and the model disagree.
    func run(_ step: ModelStep, index: Int) -> Bool {
        defer { stepsRun += failed ? 0 : 1 }
        context = "step \(index) \(step)"
        do {
            if let op = resolve(step) {
                context += " \(op)"
                let before = try LedgerSnapshot(ledger.connection)
                let expected = predict(op)
                var refused = false
                do {
                    try ledger.write(now: now) { tx in try perform(op, tx) }
                } catch {
                    refused = true
                }
                if failed { return false }
                if refused != (expected != nil) { fail("refused: \(refused), model: \(expected.map(String.init(describing:)) ?? "approve")") }
                if refused {
                    let after = try LedgerSnapshot(ledger.connection)
                    if after != before { fail("a refused operation changed the ledger: \(after.difference(from: before))") }
                }
            } else if step.kind == 97 {
                try runBatch(step)
            } else {
                now = now.addingTimeInterval(Double(1 + step.a % 45) * 86_400)
                context += " advance to \(today)"
            }
            if failed { return false }
            try compareWithLedger()
        } catch {
            fail("unexpected error \(error)")
        }
        return !failed
    }

    /// Two to four operations in one `writeBatch` commit: each refused one is rolled back alone.
    func runBatch(_ step: ModelStep) throws {
        var generator = SplitMix(seed: UInt64(step.a) << 40 ^ UInt64(step.b) << 20 ^ UInt64(step.c))
        var ops: [ModelStep] = []
        for _ in 0..<(2 + step.d % 3) {
            let next = { Int(generator.next() % 1_000_001) }
            ops.append(ModelStep(kind: Int(generator.next() % 97), a: next(), b: next(), c: next(), d: next()))
        }
        context += " batch \(ops)"
        var predictions: [ExpectedRefusal?] = []
        let results = try ledger.writeBatch(now: now, count: ops.count) { index, tx in
            // Resolved and predicted at its turn: it sees what the earlier operations of the batch did.
            guard let op = resolve(ops[index]) else { return }
            predictions.append(predict(op))
            try perform(op, tx)
        }
        for (index, result) in results.enumerated() where index < predictions.count {
            switch (result, predictions[index]) {
            case (.success, nil), (.failure, .some): break
            default: fail("batch operation \(index): \(result), model \(String(describing: predictions[index]))")
            }
        }
    }

    // MARK: - The ledger says what the model says

    func compareWithLedger() throws {
        let db = ledger.connection
        let violations = try ledger.read(now: now) { try $0.checkInvariants() }
        if !violations.isEmpty { return fail("invariants broken: \(violations)") }
        try ledger.read(now: now) { tx in
            for (index, card) in cards.enumerated() {
                let record = try tx.card(pan: card.pan)
                if record.status != card.status { fail("card \(index) is \(record.status), model \(card.status)") }
                var wallets: [WalletCode: Wallet] = [:]
                for wallet in try tx.wallets(cardID: record.id) {
                    wallets[wallet.code] = Wallet(available: wallet.availableCents, expires: wallet.expiresOn)
                    if wallet.availableCents < 0 { fail("wallet below zero: \(wallet)") }
                }
                if wallets != card.wallets { fail("card \(index) wallets \(wallets), model \(card.wallets)") }
            }
            if (try? tx.card(pan: unknownPAN)) != nil { fail("the unknown card exists") }
        }
        var ledgerVouchers: [String: String] = [:]
        try db.forEach("SELECT code, status, amount_cents, partner_id FROM vouchers", []) {
            ledgerVouchers[$0.text(0)] = "\($0.text(1)) \($0.int(2)) \($0.text(3))"
        }
        let modelVouchers = Dictionary(uniqueKeysWithValues: vouchers.map {
            ($0.code.canonical, "\($0.status.rawValue) \($0.amount) \($0.partner)")
        })
        if ledgerVouchers != modelVouchers { fail("vouchers \(ledgerVouchers), model \(modelVouchers)") }

        var ledgerPayments: [String: String] = [:]
        try db.forEach("""
            SELECT p.txn, p.kind, p.status, p.amount_cents, p.partner_id, w.code FROM payments p JOIN wallets w ON w.id = p.wallet_id
            """, []) { ledgerPayments[$0.text(0)] = "\($0.text(1)) \($0.text(2)) \($0.int(3)) \($0.text(4)) \($0.text(5))" }
        let modelPayments = Dictionary(uniqueKeysWithValues: payments.map {
            ($0.txn, "\($0.kind.rawValue) \($0.status.rawValue) \($0.amount) \($0.partner) \($0.wallet.rawValue)")
        })
        if ledgerPayments != modelPayments { fail("payments \(ledgerPayments), model \(modelPayments)") }

        let cancellations = try db.scalarInt("SELECT COUNT(*) FROM cancellations") ?? -1
        if cancellations != Int64(payments.filter { $0.status == .cancelled }.count) { fail("\(cancellations) cancellations") }

        // Where the money is: partners hold their live payments (posted) and their issued vouchers (pending).
        for spec in PartnerSpec.all {
            let posted = try db.scalarInt("SELECT credits_posted - debits_posted FROM accounts WHERE name = ?", "partner:\(spec.id)")
            let pending = try db.scalarInt("SELECT credits_pending FROM accounts WHERE name = ?", "partner:\(spec.id)")
            let live = payments.filter { $0.partner == spec.id && $0.status == .approved }.reduce(0) { $0 + $1.amount }
            let held = vouchers.filter { $0.partner == spec.id && $0.status == .issued }.reduce(0) { $0 + $1.amount }
            if posted != live || pending != held { fail("partner \(spec.id) holds \(posted ?? -1)/\(pending ?? -1), model \(live)/\(held)") }
        }
        let funded = try db.scalarInt("SELECT debits_posted FROM accounts WHERE kind = 'funding'")
        if funded != loadedCents { fail("the region paid out \(funded ?? -1), model \(loadedCents)") }
    }
}

/// A small deterministic generator for the operations of a batch.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
