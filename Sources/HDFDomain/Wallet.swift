/// The advantages a card can hold. Each is a wallet of its own with a French label.
public enum WalletCode: String, CaseIterable, Sendable, Codable, Comparable {
    case manuels = "MANUELS"
    case transport = "TRANSPORT"
    case hebergement = "HEBERGEMENT"
    case restauration = "RESTAURATION"

    /// The label a beneficiary and a shop read.
    public var label: String {
        switch self {
        case .manuels: return "Manuels et équipement"
        case .transport: return "Aide au transport"
        case .hebergement: return "Aide à l'hébergement"
        case .restauration: return "Aide à la restauration"
        }
    }

    /// How long a load stays usable when the operator does not say (`MANUELS`: 6 months, contract §1).
    public var defaultValidityMonths: Int {
        switch self {
        case .manuels: return 6
        case .transport, .hebergement, .restauration: return 12
        }
    }

    public static func < (lhs: WalletCode, rhs: WalletCode) -> Bool { lhs.rawValue < rhs.rawValue }

    public struct Unknown: Error, CustomStringConvertible {
        public let text: String
        public var description: String {
            "unknown wallet '\(text)' (expected one of \(WalletCode.allCases.map(\.rawValue).joined(separator: ", ")))"
        }
    }

    public init(parsing text: String) throws(Unknown) {
        guard let code = WalletCode(rawValue: text.uppercased()) else { throw Unknown(text: text) }
        self = code
    }
}

public enum CardStatus: String, CaseIterable, Sendable, Codable {
    case active, lost, stolen, damaged
}

/// Why a beneficiary or an operator blocks a card.
public enum BlockReason: String, CaseIterable, Sendable, Codable {
    case lost, stolen, damaged
    public var cardStatus: CardStatus {
        switch self {
        case .lost: return .lost
        case .stolen: return .stolen
        case .damaged: return .damaged
        }
    }
}

public enum BeneficiarySituation: String, CaseIterable, Sendable, Codable {
    case lyceen = "lyceen"
    case apprenti = "apprenti"
    case ecoleDeProduction = "ecole-de-production"
    case postBac = "post-bac"

    public var label: String {
        switch self {
        case .lyceen: return "Lycéen"
        case .apprenti: return "Apprenti"
        case .ecoleDeProduction: return "Élève d'école de production"
        case .postBac: return "Post-bac"
        }
    }
}

public enum PartnerCategory: String, CaseIterable, Sendable, Codable {
    case librairie = "librairie"
    case equipement = "equipement"
    case transport = "transport"
    case hebergement = "hebergement"
    case restauration = "restauration"

    public var label: String {
        switch self {
        case .librairie: return "Librairie"
        case .equipement: return "Équipement"
        case .transport: return "Transport"
        case .hebergement: return "Hébergement"
        case .restauration: return "Restauration"
        }
    }
}
