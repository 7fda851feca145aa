import Foundation
import HDFDomain
import Ledger

/// One clear French sentence ("tu", as the guide) for each refusal a beneficiary can meet on a page.
/// The web space shows it next to the field it concerns; nothing was changed when it is shown.
public enum FrenchRefusals {
    public static func sentence(for error: Error, partnerName: String? = nil) -> String {
        let partner = partnerName.map { "« \($0) »" } ?? "ce partenaire"
        if let refusal = error as? BeneficiaryRefusal {
            switch refusal {
            case .cancelByPartnerOnly(let name):
                return "Seul le partenaire peut annuler un paiement en ligne : adresse-toi à « \(name) »."
            }
        }
        guard let ledgerError = error as? LedgerError else {
            return "L'opération n'a pas pu être faite ; rien n'a été modifié. Réessaie dans un instant."
        }
        switch ledgerError {
        case .insufficientFunds(let wallet, let available, _):
            return "Le solde de ton porte-monnaie \(wallet.label) est insuffisant : il reste \(Money.display(cents: available))."
        case .walletExpired(let wallet, let day):
            return "Ton porte-monnaie \(wallet.label) a expiré le \(FrenchDates.display(day)) : il ne peut plus être utilisé."
        case .walletNotUsableHere(let wallet, _):
            return "Le porte-monnaie \(wallet.label) n'est pas accepté par \(partner)."
        case .noWalletUsableHere:
            return "Aucun de tes porte-monnaie n'est accepté par \(partner)."
        case .partnerRefuses(_, let what):
            return what.contains("online")
                ? "\(partner.prefix(1).uppercased() + partner.dropFirst()) n'accepte pas les paiements en ligne."
                : "\(partner.prefix(1).uppercased() + partner.dropFirst()) n'accepte pas les prépaiements."
        case .unknownWallet(_, let wallet):
            return "Ta carte n'a pas de porte-monnaie \(wallet.label)."
        case .unknownPartner:
            return "Ce partenaire n'existe pas : choisis-en un dans la liste."
        case .voucherAlreadyRedeemed:
            return "Ce prépaiement a déjà été utilisé chez le partenaire : il ne peut plus être annulé."
        case .voucherCancelled:
            return "Ce prépaiement est déjà annulé."
        case .voucherExpired(let day):
            return "Ce prépaiement a expiré le \(FrenchDates.display(day)) ; son montant est revenu sur ton porte-monnaie."
        case .unknownVoucher, .voucherOfAnotherCard:
            return "Ce prépaiement est introuvable."
        case .unknownPayment:
            return "Cette transaction est introuvable."
        case .cardBlocked:
            return "Ta carte est bloquée."
        case .invalid(let why) where why.contains("not blocked"):
            return "Ta carte n'est pas bloquée."
        case .busy:
            return "Le service est très chargé : rien n'a été modifié, réessaie dans un instant."
        default:
            return "L'opération a été refusée ; rien n'a été modifié."
        }
    }
}

/// Dates as a French reader writes them ("26/05/2027").
public enum FrenchDates {
    public static func display(_ day: LocalDate) -> String {
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(day.day))/\(two(day.month))/\(day.year)"
    }

    /// "26/05/2027" (or "2027-05-26") to a date; nil for anything else.
    public static func parse(_ text: String) -> LocalDate? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let iso = LocalDate(iso: trimmed) { return iso }
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, let day = Int(parts[0]), let month = Int(parts[1]), let year = Int(parts[2]),
              parts[2].count == 4 else { return nil }
        return LocalDate(year: year, month: month, day: day)
    }
}
