import Foundation
import HDFDomain
import Ledger
import Testing

/// A ledger with the standard partners (`PALL` takes every wallet, terminal `TALL1`), for the rule tests.
final class RulesEnvironment {
    let temp: TempLedger
    var ledger: Ledger { temp.ledger }
    var now: Date
    private var stanCounter = 0
    private var cardCounter = 0

    static let allWallets = PartnerSpec.named("PALL")

    init(now: Date = parisInstant(2026, 3, 10)) throws {
        self.now = now
        temp = try TempLedger()
        try ledger.write(now: now) { tx in
            try tx.addStandardPartners()
        }
    }

    var today: LocalDate { ParisCalendar.businessDay(of: now) }

    func nextStan() -> String {
        stanCounter += 1
        return "R\(stanCounter)"
    }

    /// Issues a card and gives it wallets: `cents` loaded (0: the wallet is opened empty), then its expiry
    /// set when one is given.
    func card(_ wallets: [(WalletCode, Int64, String?)] = []) throws -> PAN {
        cardCounter += 1
        let index = cardCounter
        return try ledger.write(now: now) { tx in
            let card = try tx.issueTestCard(index)
            for (code, cents, expires) in wallets {
                if cents > 0 {
                    _ = try tx.loadWallet(pan: card.pan, code: code, amountCents: cents, validMonths: nil)
                } else {
                    try tx.openWallet(card: card, code: code, expires: tx.today.adding(months: code.defaultValidityMonths))
                }
                if let expires { try tx.setWalletExpiry(pan: card.pan, code: code, expiresOn: day(expires)) }
            }
            return card.pan
        }
    }

    @discardableResult
    func purchase(_ pan: PAN, terminal: String, amount: Int64, wallet: WalletCode? = nil, partial: Bool = false,
                  stan: String? = nil, at instant: Date? = nil) throws -> PurchaseApproval {
        let stan = stan ?? nextStan()
        return try ledger.write(now: instant ?? now) { tx in
            try tx.purchase(card: try tx.card(pan: pan), partnerID: PartnerSpec.of(terminal: terminal, extra: [Self.allWallets]).id,
                            terminalID: terminal, stan: stan, amountCents: amount, wallet: wallet, allowPartial: partial)
        }
    }

    /// A read at the environment's `now` (reading a voucher past its expiry releases it: the clock matters).
    func read<T>(_ body: (LedgerTransaction) throws -> T) throws -> T {
        try ledger.read(now: now, body)
    }

    func available(_ pan: PAN, _ code: WalletCode) throws -> Int64? {
        try read { try $0.availableCents(pan: pan, code) }
    }

    func violations() throws -> [InvariantViolation] {
        try read { try $0.checkInvariants() }
    }

    func snapshot() throws -> LedgerSnapshot { try LedgerSnapshot(ledger.connection) }
}

extension PartnerSpec {
    static func of(terminal: String, extra: [PartnerSpec]) -> PartnerSpec {
        (all + extra).first { $0.terminals.contains(terminal) }!
    }
}
