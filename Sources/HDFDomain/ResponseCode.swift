/// The response codes of the wire protocol (contract §3). Every decision of the gateway ends in one.
public enum ResponseCode: String, CaseIterable, Sendable, Codable {
    case approved = "00"
    case partialApproval = "10"
    case doNotHonour = "05"
    case invalidTransaction = "12"
    case invalidAmount = "13"
    case unknownCard = "14"
    case recordNotFound = "25"
    case formatError = "30"
    case lostCard = "41"
    case stolenCard = "43"
    case insufficientFunds = "51"
    case expired = "54"
    case notPermittedHere = "57"
    case notPermittedToTerminal = "58"
    case restrictedCard = "62"
    case securityViolation = "63"
    case duplicateTransmission = "94"
    case systemError = "96"
    case voucherAlreadyRedeemed = "A1"
    case voucherCancelled = "A2"
    case alreadyCancelled = "A3"

    public var isApproval: Bool { self == .approved || self == .partialApproval }

    /// The short French message a shop's terminal shows (at most 32 characters, two lines of 16).
    public var defaultMessage: String {
        switch self {
        case .approved: return "Accepté"
        case .partialApproval: return "Accepté partiellement"
        case .doNotHonour: return "Refusé"
        case .invalidTransaction: return "Opération invalide"
        case .invalidAmount: return "Montant invalide"
        case .unknownCard: return "Carte inconnue"
        case .recordNotFound: return "Introuvable"
        case .formatError: return "Erreur de format"
        case .lostCard: return "Carte perdue"
        case .stolenCard: return "Carte volée"
        case .insufficientFunds: return "Solde insuffisant"
        case .expired: return "Expiré"
        case .notPermittedHere: return "Non accepté ici"
        case .notPermittedToTerminal: return "Non autorisé"
        case .restrictedCard: return "Carte bloquée"
        case .securityViolation: return "Erreur de sécurité"
        case .duplicateTransmission: return "Doublon refusé"
        case .systemError: return "Erreur système"
        case .voucherAlreadyRedeemed: return "Bon déjà utilisé"
        case .voucherCancelled: return "Bon annulé"
        case .alreadyCancelled: return "Déjà annulé"
        }
    }
}
