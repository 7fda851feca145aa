import Foundation
import HDFDomain
import Ledger
import PropertyBased
import Testing

/// Random sequences of purchases, voucher redemptions, online payments, cancellations, reversals and
/// cutoffs on a real ledger, against a model of what each batch must pay. After every sequence, for each
/// of its partners: paid + still owed = received − refunded (all four from the model and from the
/// ledger), no operation paid twice, no negative transfer, a repeated cutoff pays nothing again, and
/// refused cutoffs change nothing.
@Suite("reimbursement against a model (property-based)")
struct ReimbursementPropertyTests {
    static let sequences = 10_000
    /// A fresh ledger file every this many sequences: each batch scans the ledger's payments, so a
    /// ledger kept small keeps every step fast.
    static let sequencesPerLedger = 40
    /// `gateway check` (every invariant, whole ledger) after every this many sequences.
    static let sequencesPerFullCheck = 100

    static let stepGenerator = zip(Gen.int(in: 0...99), Gen.int(in: 0...1_000_000), Gen.int(in: 0...1_000_000))
        .map { ReimbursementStep(kind: $0.0, a: $0.1, b: $0.2) }

    @Test("random sequences: every partner's money adds up, nothing paid twice, no negative transfer", .shrinking(false))
    func randomSequences() async throws {
        let harness = try ReimbursementHarness()
        await propertyCheck(count: Self.sequences, input: Self.stepGenerator.array(of: 2...7)) { steps in
            try harness.run(steps)
        }
        try harness.finish()
        // Not vacuous: every kind of step happened, including the refusals and the carried debts.
        for kind in ["purchase", "online", "voucher", "cancel", "cancel-after-payment", "reverse", "batch", "batch-repeated",
                     "refused-future", "refused-before-last", "paid", "settled-at-zero", "carried-forward"] {
            #expect(harness.counts[kind, default: 0] > 0, "no \(kind): \(harness.counts)")
        }
    }
}

struct ReimbursementStep: Sendable, CustomStringConvertible {
    let kind: Int
    let a: Int
    let b: Int
    var description: String { "(\(kind) \(a) \(b))" }
}

/// The ledger (renewed every `sequencesPerLedger` sequences), the clock, and the model.
final class ReimbursementHarness: @unchecked Sendable {
    var ledger: Ledger!
    var directory: URL!
    var sequencesOnLedger = 0
    var sequenceNumber = 0
    var now = Date(timeIntervalSince1970: 1_780_000_000) // 2026-05-28, a fixed start: the run replays from its seed
    var counts: [String: Int] = [:]
    var lastCutoff: LocalDate?
    var cutoffs: Set<LocalDate> = []

    struct ModelPayment {
        let txn: String
        let partner: String
        let amount: Int64
        let terminal: String
        let stan: String
        let kind: String
        var status: String
        /// When the payment was made: past the stan retention, its stan is new and a reversal finds nothing.
        let at: Date
    }

    init() throws { try renewLedger() }

    func renewLedger() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
        // tmpfs when there is one: the ledger keeps synchronous=FULL, and fsync on tmpfs costs nothing.
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? URL(fileURLWithPath: "/dev/shm") : FileManager.default.temporaryDirectory
        directory = base.appendingPathComponent("hdf-reimb-prop-\(UUID().uuidString.prefix(12))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        ledger = try Ledger(path: directory.appendingPathComponent("ledger.sqlite").path, actor: "test")
        try ledger.write(now: now) { tx in
            try tx.setRegionAccount(BankAccountRecord(name: "Région Hauts-de-France", iban: try IBAN.make(country: "FR", bban: "30001005900000071234567"),
                                                      bic: try BIC("BDFEFRPPCCT")))
        }
        sequencesOnLedger = 0
        lastCutoff = nil
        cutoffs = []
    }

    func finish() throws {
        let violations = try ledger.read { try $0.checkInvariants() }
        #expect(violations.isEmpty, "\(violations)")
        try? FileManager.default.removeItem(at: directory)
    }

    func advance(minutes: Int) { now = now.addingTimeInterval(Double(minutes) * 60) }

    /// At least 24 hours on, and on a later Paris business day: the autumn's 25-hour day can leave 24 hours
    /// later on the same date (then a "next day" batch would be the same cutoff again).
    func advanceToNextDay() {
        let day = today
        advance(minutes: 24 * 60)
        while today <= day { advance(minutes: 60) }
    }
    var today: LocalDate { ParisCalendar.businessDay(of: now) }

    func run(_ steps: [ReimbursementStep]) throws {
        if sequencesOnLedger == ReimbursementPropertyTests.sequencesPerLedger {
            let violations = try ledger.read { try $0.checkInvariants() }
            #expect(violations.isEmpty, "\(violations)")
            try renewLedger()
        }
        sequencesOnLedger += 1
        sequenceNumber += 1
        // A new day after the last cutoff, with three partners of its own (the first takes vouchers and
        // online payments), one terminal each, and a card with money.
        advanceToNextDay()
        let partners = (0..<3).map { "S\(sequenceNumber)P\($0)" }
        let terminals = partners.map { "T" + $0 }
        let pan: PAN = try ledger.write(now: now) { tx in
            for (index, partner) in partners.enumerated() {
                try tx.addPartner(PartnerRecord(id: partner, name: "Librairie Élan & Cie \(index)", category: .librairie, city: "Lille",
                                                acceptsPrepayment: index == 0, acceptsOnline: index == 0, wallets: [.manuels]))
                try tx.enrollTerminal(id: terminals[index], partnerID: partner, certificateSHA256: String(repeating: "ab", count: 32))
                try tx.setPartnerBankAccount(partnerID: partner, iban: try IBAN.make(country: "FR", bban: "300040082300010234501" + String(format: "%02d", index)),
                                             bic: try BIC("BNPAFRPP"))
            }
            let card = try tx.issueCard(beneficiary: BeneficiaryRecord(dossier: "D\(sequenceNumber)", firstName: "Zoé", lastName: "Martin"))
            _ = try tx.loadWallet(pan: card.pan, code: .manuels, amountCents: 1_000_000)
            return card.pan
        }
        var payments: [ModelPayment] = []
        var received: [String: Int64] = [:], refunded: [String: Int64] = [:], paid: [String: Int64] = [:]
        // Operations not yet settled: key → (partner, signed amount).
        var open: [String: (partner: String, amount: Int64)] = [:]
        var settledKeys: Set<String> = []
        var stan = 0
        func nextStan() -> String { stan += 1; return String(format: "%06d", stan) }

        func makeBatch(cutoff: LocalDate) throws {
            let settlementBefore = try settlementBalance()
            if cutoffs.contains(cutoff) {
                let outcome = try ledger.write(now: now) { try $0.makeReimbursementBatch(cutoff: cutoff, executionDate: nil) }
                #expect(!outcome.isNew)
                #expect(try settlementBalance() == settlementBefore, "a repeated cutoff moved money")
                counts["batch-repeated", default: 0] += 1
                return
            }
            // What the model says each of this sequence's partners gets.
            var net: [String: Int64] = [:], operations: [String: Int] = [:]
            for (_, op) in open { net[op.partner, default: 0] += op.amount; operations[op.partner, default: 0] += 1 }
            let outcome = try ledger.write(now: now) { try $0.makeReimbursementBatch(cutoff: cutoff, executionDate: nil) }
            #expect(outcome.isNew)
            let byPartner = Dictionary(uniqueKeysWithValues: outcome.batch.partners.map { ($0.partnerID, $0) })
            for partner in byPartner.keys { #expect(partners.contains(partner), "batch pays \(partner), not of this sequence") }
            for partner in partners {
                let expected = net[partner, default: 0]
                let got = byPartner[partner]
                if operations[partner, default: 0] == 0 {
                    #expect(got == nil)
                } else if expected < 0 {
                    #expect(got == nil, "\(partner) owes \(expected) but was settled")
                    #expect(outcome.carriedForward.contains { $0.partnerID == partner && $0.netCents == expected })
                    counts["carried-forward", default: 0] += 1
                } else {
                    #expect(got?.amountCents == expected, "\(partner): batch \(String(describing: got?.amountCents)), model \(expected)")
                    #expect(got?.lines.count == operations[partner])
                    #expect((got?.lines.reduce(0) { $0 + $1.amountCents }) == expected)
                    counts[expected > 0 ? "paid" : "settled-at-zero", default: 0] += 1
                    paid[partner, default: 0] += expected
                    for line in got?.lines ?? [] {
                        #expect(settledKeys.insert(line.operation).inserted, "operation \(line.operation) paid twice")
                        #expect(open.removeValue(forKey: line.operation) != nil, "operation \(line.operation) was not owed")
                    }
                }
            }
            // No negative transfer: every amount in the batch is ≥ 0 and the file's are > 0.
            #expect(outcome.batch.partners.allSatisfy { $0.amountCents >= 0 })
            #expect(outcome.batch.paidPartners.allSatisfy { $0.endToEndID != nil && $0.amountCents > 0 })
            #expect(try settlementBalance() == settlementBefore + outcome.batch.totalCents)
            cutoffs.insert(cutoff)
            lastCutoff = cutoff
            counts["batch", default: 0] += 1
        }

        func expectRefused(cutoff: LocalDate, _ kind: String) throws {
            let before = try settlementBalance()
            let batches = try ledger.read { try $0.reimbursementCutoffs() }
            #expect(throws: LedgerError.self) { try self.ledger.write(now: self.now) { try $0.makeReimbursementBatch(cutoff: cutoff, executionDate: nil) } }
            #expect(try settlementBalance() == before)
            #expect(try ledger.read { try $0.reimbursementCutoffs() } == batches)
            counts[kind, default: 0] += 1
        }

        for step in steps {
            advance(minutes: 1 + step.a % 90)
            let approved = payments.indices.filter { payments[$0].status == "approved" }
            switch step.kind {
            case 0..<30, 30..<38, 38..<46:
                let amount = Int64(100 + step.b % 5_000)
                let (partnerIndex, kind) = step.kind < 30 ? (step.a % 3, "purchase") : (0, step.kind < 38 ? "online" : "voucher")
                let partner = partners[partnerIndex], terminal = terminals[partnerIndex], s = nextStan()
                let txn: String = try ledger.write(now: now) { tx in
                    switch kind {
                    case "purchase":
                        return try tx.purchase(card: try tx.card(pan: pan), partnerID: partner, terminalID: terminal, stan: s,
                                               amountCents: amount, wallet: .manuels, allowPartial: false).txn
                    case "online":
                        return try tx.payOnline(pan: pan, partnerID: partner, wallet: .manuels, amountCents: amount).txn
                    default:
                        let voucher = try tx.prepay(pan: pan, partnerID: partner, wallet: .manuels, amountCents: amount)
                        return try tx.redeemVoucher(code: voucher.code, partnerID: partner, terminalID: terminal, stan: s).txn
                    }
                }
                payments.append(ModelPayment(txn: txn, partner: partner, amount: amount, terminal: terminal, stan: s, kind: kind, status: "approved",
                                             at: now))
                received[partner, default: 0] += amount
                open["payment:" + txn] = (partner, amount)
                counts[kind, default: 0] += 1
            case 46..<60 where !approved.isEmpty:
                let index = approved[step.b % approved.count]
                let payment = payments[index]
                let wasPaid = settledKeys.contains("payment:" + payment.txn)
                _ = try ledger.write(now: now) {
                    try $0.cancelPayment(txn: payment.txn, partnerID: payment.partner, terminalID: payment.terminal, stan: nextStan())
                }
                payments[index].status = "cancelled"
                refunded[payment.partner, default: 0] += payment.amount
                open["undo:" + payment.txn] = (payment.partner, -payment.amount)
                counts[wasPaid ? "cancel-after-payment" : "cancel", default: 0] += 1
            case 60..<68:
                let reversible = approved.filter { payments[$0].kind != "online" }
                guard !reversible.isEmpty else { continue }
                let index = reversible[step.b % reversible.count]
                let payment = payments[index]
                let undone = try ledger.write(now: now) { try $0.reversePayment(terminalID: payment.terminal, stan: payment.stan) }
                if now.timeIntervalSince(payment.at) > Double(LedgerTransaction.stanRetention.components.seconds) {
                    // (issue 8) Past the stan retention the stan is new: the reversal undoes nothing.
                    #expect(undone == nil, "a reversal past the stan retention undid \(payment.txn)")
                    counts["reverse-past-retention", default: 0] += 1
                    continue
                }
                #expect(undone?.txn == payment.txn)
                payments[index].status = "reversed"
                refunded[payment.partner, default: 0] += payment.amount
                open["undo:" + payment.txn] = (payment.partner, -payment.amount)
                counts["reverse", default: 0] += 1
            case 68..<88:
                // Sometimes a later day, sometimes the same one again (then the same batch is answered).
                if step.a % 3 != 0 || lastCutoff == today { advance(minutes: (step.a % 3) * 24 * 60) }
                try makeBatch(cutoff: today)
            case 88..<94:
                try expectRefused(cutoff: today.adding(days: 1 + step.b % 30), "refused-future")
            default:
                guard let lastCutoff else { continue }
                let earlier = lastCutoff.adding(days: -1 - step.b % 3)
                guard !cutoffs.contains(earlier) else { continue }
                try expectRefused(cutoff: earlier, "refused-before-last")
            }
        }
        // The sequence ends with a batch on a later day: everything is settled or carried as a debt.
        advanceToNextDay()
        try makeBatch(cutoff: today)
        // What stays open after it is, for each partner, a debt (a negative net), never money owed to it.
        for (partner, operations) in Dictionary(grouping: open.values, by: \.partner) {
            #expect(operations.reduce(0) { $0 + $1.amount } < 0, "\(partner) still owed after the last batch")
        }

        // For every partner: paid + still owed = received − refunded, in the model and in the ledger.
        let positions = try ledger.read { tx in try tx.partnerPositions() }.filter { partners.contains($0.partnerID) }
        #expect(positions.count == partners.count)
        for position in positions {
            let p = position.partnerID
            let owedInModel = open.values.filter { $0.partner == p }.reduce(0) { $0 + $1.amount }
            #expect(position.receivedCents == received[p, default: 0])
            #expect(position.refundedCents == refunded[p, default: 0])
            #expect(position.reimbursedCents == paid[p, default: 0])
            #expect(position.owedCents == owedInModel)
            #expect(position.reimbursedCents + position.owedCents == position.receivedCents - position.refundedCents)
        }
        if sequenceNumber % ReimbursementPropertyTests.sequencesPerFullCheck == 0 {
            let violations = try ledger.read { try $0.checkInvariants() }
            #expect(violations.isEmpty, "\(violations)")
        }
    }

    func settlementBalance() throws -> Int64 {
        try ledger.connection.scalarInt("SELECT credits_posted - debits_posted FROM accounts WHERE kind = 'settlement'") ?? -1
    }
}
