import HDFDomain

/// What each verb prints: an `Encodable` object for `--json` (named by `jsonName`), and the French lines
/// of the shop's display otherwise. Amounts are cents in JSON and "12,50 €" on the display.
public protocol PosOutcome: Encodable, Sendable {
    /// The one key of the JSON object `pos --json` prints.
    static var jsonName: String { get }
    var displayLines: [String] { get }
}

func walletLabel(_ code: String) -> String {
    WalletCode(rawValue: code)?.label ?? code
}

public struct PurchaseOutcome: PosOutcome {
    public static let jsonName = "purchase"
    /// `00`, or `10` for a partial approval.
    public let code: String
    public let message: String
    public let txn: String
    public let authCode: String
    /// Approved.
    public let amount: Int64
    /// Asked for.
    public let requested: Int64
    public let wallet: String
    public let balance: Int64
    public let stan: String
    /// Masked.
    public let card: String
    public let atc: Int

    enum CodingKeys: String, CodingKey {
        case code, message, txn, amount, requested, wallet, balance, stan, card, atc
        case authCode = "auth_code"
    }

    public var partial: Bool { code == ResponseCode.partialApproval.rawValue }

    public var displayLines: [String] {
        var lines: [String] = []
        if partial {
            lines.append("Accepté partiellement : \(Money.display(cents: amount)) sur \(Money.display(cents: requested)), reste à payer \(Money.display(cents: requested - amount))")
        } else {
            lines.append("Paiement accepté : \(Money.display(cents: amount))")
        }
        lines.append("\(walletLabel(wallet)) : solde restant \(Money.display(cents: balance))")
        lines.append("Carte \(card), autorisation \(authCode), transaction \(txn)")
        return lines
    }
}

public struct BalanceOutcome: PosOutcome {
    public static let jsonName = "balance"
    public struct Wallet: Codable, Sendable {
        public let code: String
        public let label: String
        public let balance: Int64
        public let expires: String
        public let usableHere: Bool
        enum CodingKeys: String, CodingKey {
            case code, label, balance, expires
            case usableHere = "usable_here"
        }
    }
    public let card: String
    public let stan: String
    public let wallets: [Wallet]

    public var displayLines: [String] {
        var lines = ["Carte \(card)"]
        if wallets.isEmpty { lines.append("Aucun porte-monnaie") }
        for wallet in wallets {
            let here = wallet.usableHere ? "" : " (non utilisable ici)"
            lines.append("\(wallet.label) : \(Money.display(cents: wallet.balance)), valable jusqu'au \(wallet.expires)\(here)")
        }
        return lines
    }
}

public struct CancelOutcome: PosOutcome {
    public static let jsonName = "cancel"
    public let code: String
    public let message: String
    /// The cancellation's own.
    public let txn: String
    /// The payment cancelled.
    public let original: String
    public let amount: Int64
    public let stan: String

    public var displayLines: [String] {
        ["Annulation effectuée : \(Money.display(cents: amount)) rendus au porte-monnaie",
         "Paiement \(original) annulé (transaction \(txn))"]
    }
}

public struct VoucherOutcome: PosOutcome {
    public static let jsonName = "voucher"
    public let code: String
    public let amount: Int64
    public let wallet: String
    public let status: String
    public let expires: String

    public var displayLines: [String] {
        ["Bon \(code) valable : \(Money.display(cents: amount)) (\(walletLabel(wallet))), jusqu'au \(expires)"]
    }
}

public struct RedemptionOutcome: PosOutcome {
    public static let jsonName = "redemption"
    public let code: String
    public let message: String
    public let txn: String
    public let amount: Int64
    public let voucher: String
    public let stan: String

    public var displayLines: [String] {
        ["Bon encaissé : \(Money.display(cents: amount)) (transaction \(txn))"]
    }
}

public struct OnlineOutcome: PosOutcome {
    public static let jsonName = "online"
    public struct Payment: Codable, Sendable {
        public let txn: String
        public let amount: Int64
        public let wallet: String
        public let created: String
        public let status: String
    }
    public let stan: String
    public let payments: [Payment]

    public var displayLines: [String] {
        if payments.isEmpty { return ["Aucun paiement en ligne"] }
        return payments.map {
            "\($0.created) \(Money.display(cents: $0.amount)) \(walletLabel($0.wallet)) \($0.txn) (\(PosFrench.status($0.status)))"
        }
    }
}

public struct TotalsOutcome: PosOutcome {
    public static let jsonName = "totals"
    public struct Line: Codable, Sendable {
        public let count: Int64
        public let amount: Int64
    }
    public let date: String
    public let purchases: Line
    public let cancellations: Line
    public let vouchers: Line
    public let online: Line

    public var displayLines: [String] {
        func line(_ label: String, _ value: Line) -> String {
            "\(label) : \(value.count), \(Money.display(cents: value.amount))"
        }
        return ["Totaux du \(date)", line("Achats", purchases), line("Annulations", cancellations),
                line("Bons encaissés", vouchers), line("Paiements en ligne", online)]
    }
}

enum PosFrench {
    static func status(_ status: String) -> String {
        switch status {
        case "approved": return "accepté"
        case "cancelled": return "annulé"
        case "reversed": return "annulé par le terminal"
        case "issued": return "émis"
        case "redeemed": return "utilisé"
        case "expired": return "expiré"
        default: return status
        }
    }
}
