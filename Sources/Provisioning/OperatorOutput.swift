import HDFDomain
import Ledger

/// The JSON objects the operator's verbs print with `--json` (contract §1). Keys are the contract's.
public struct PartnerOutput: Codable, Sendable {
    public let id: String
    public let name: String
    public let city: String
    public let category: String
    public let address: String
    public let phone: String
    public let email: String
    public let website: String
    public let acceptsPrepayment: Bool
    public let acceptsOnline: Bool
    public let wallets: [String]

    enum CodingKeys: String, CodingKey {
        case id, name, city, category, address, phone, email, website, wallets
        case acceptsPrepayment = "accepts_prepayment"
        case acceptsOnline = "accepts_online"
    }

    public init(_ partner: PartnerRecord) {
        id = partner.id
        name = partner.name
        city = partner.city
        category = partner.category.rawValue
        address = partner.address
        phone = partner.phone
        email = partner.email
        website = partner.website
        acceptsPrepayment = partner.acceptsPrepayment
        acceptsOnline = partner.acceptsOnline
        wallets = partner.wallets.map(\.rawValue)
    }
}

public struct TerminalOutput: Codable, Sendable {
    public let id: String
    public let partner: String
    public let status: String?
    public let cert: String?
    public let key: String?
}

public struct CardOutput: Codable, Sendable {
    public let pan: String
    public let key: String?
    public let status: String
}

public struct WalletOutput: Codable, Sendable {
    public let code: String
    public let label: String
    public let balance: Int64
    public let expires: String

    public init(_ wallet: WalletRecord) {
        code = wallet.code.rawValue
        label = wallet.code.label
        balance = wallet.availableCents
        expires = wallet.expiresOn.iso
    }
}
