import BeneficiaryOperations
import Foundation
import HDFDomain
import HTTPTypes
import Hummingbird
import Ledger

/// Accueil, Mon compte, Gestion mot de passe.
extension Site {
    func walletValues(_ pan: PAN) async throws -> (card: [String: Any], wallets: [CardOperations.WalletLine]) {
        let (wallets, status) = try await pool.cards { (try $0.wallets(pan: pan), try $0.cardStatus(pan: pan)) }
        let card: [String: Any] = [
            "masked": Display.lastFour(pan), "statusLabel": Display.cardStatus(status),
            "wallets": wallets.map { ["label": $0.label, "balance": Display.amount($0.balanceCents),
                                      "expires": Display.date($0.expiresOn), "expired": $0.isExpired] as [String: Any] },
        ]
        return (card, wallets)
    }

    func addAccountRoutes(to router: Router<WebContext>) {
        router.get("/accueil") { _, context -> Response in
            try await withUser(context) { identity, session, user in
                var values: [String: Any] = ["firstName": identity.firstName]
                if let pan = identity.pan {
                    values["card"] = try await walletValues(pan).card
                    // A card from an approved application (contract §9): "Carte émise", above the amounts granted.
                    let dossier = identity.dossier
                    if let standing = try await pool.run({ try ApplicationStanding.newest(dossier: dossier, ledger: $0) }),
                       standing.status == .approved {
                        values["cardApplication"] = standing.label
                    }
                    if let thr = Self.thrValues(try await thrContext(pan: pan, dossier: identity.dossier)) { values["thr"] = Self.withShownFlags(thr) }
                } else {
                    let id = identity.beneficiaryID
                    if !(try await pool.run { try AccountCreation(ledger: $0).standing(beneficiaryID: id) }).phoneConfirmed {
                        values["confirmPhone"] = true
                    }
                    // No card yet (contract §9): where the application stands, or the way to make one.
                    let dossier = identity.dossier
                    if let standing = try await pool.run({ try ApplicationStanding.newest(dossier: dossier, ledger: $0) }) {
                        var application: [String: Any] = ["status": standing.label, "rejected": standing.status == .rejected]
                        if let reason = standing.reason { application["reason"] = reason }
                        values["application"] = application
                    }
                }
                return pages.page("accueil", title: "Accueil", values: values, user: user, formToken: session.formToken, menuItem: "/accueil")
            }
        }
        router.get("/mon-compte") { request, context -> Response in
            try await withUser(context) { identity, session, user in
                let details = try await pool.accounts { try $0.details(beneficiaryID: identity.beneficiaryID) }
                return pages.page("mon-compte", title: "Mon compte", values: accountValues(details, saved: request.uri.queryParameters.get("enregistre") != nil),
                                  user: user, formToken: session.formToken, menuItem: "/mon-compte")
            }
        }
        router.post("/mon-compte") { request, context -> Response in
            try await withUser(context) { identity, _, _ in
                let form = try await Self.form(request)
                let preferences = WebAccounts.Preferences(
                    consentRegionNews: form.isChecked("actualites"), consentPartnerOffers: form.isChecked("offres"),
                    notifyByEmail: form.isChecked("par_mail"), notifyBySMS: form.isChecked("par_sms"))
                try await pool.accounts { try $0.save(preferences: preferences, beneficiaryID: identity.beneficiaryID) }
                return Self.redirect("/mon-compte?enregistre=1")
            }
        }
        router.get("/gestion-mot-de-passe") { _, context -> Response in
            try await withUser(context) { _, session, user in
                pages.page("mot-de-passe", title: "Gestion mot de passe", values: [:], user: user, formToken: session.formToken,
                           menuItem: "/gestion-mot-de-passe")
            }
        }
        router.post("/gestion-mot-de-passe") { request, context -> Response in
            try await withUser(context) { identity, session, user in
                let form = try await Self.form(request)
                do {
                    try await pool.accounts {
                        try $0.changePassword(beneficiaryID: identity.beneficiaryID, current: form["actuel"] ?? "",
                                              new: form["nouveau"] ?? "", confirmation: form["confirmation"] ?? "")
                    }
                } catch let refusal as WebAccounts.PasswordRefusal {
                    let field = refusal.field == "current" ? "actuel" : refusal.field == "confirmation" ? "confirmation" : "nouveau"
                    return pages.page("mot-de-passe", title: "Gestion mot de passe", values: ["errors": [field: refusal.description]],
                                      user: user, formToken: session.formToken, menuItem: "/gestion-mot-de-passe")
                }
                // The guide: "OK" leads back to the connection page, where the new password is used.
                context.sessions.clearSession()
                return pages.page("message", title: "Gestion mot de passe",
                                  values: ["lines": ["Ton mot de passe est modifié."], "okHref": "/connexion?fait=mot-de-passe", "okLabel": "OK"],
                                  user: nil, formToken: nil)
            }
        }
    }

    func accountValues(_ details: WebAccounts.AccountDetails, saved: Bool) -> [String: Any] {
        [
            "firstName": details.identity.firstName, "lastName": details.identity.lastName,
            "birthDate": details.birthDate.map(Display.date) ?? "—", "dossier": details.identity.dossier,
            "email": details.email, "phone": details.phone, "situation": details.situation?.label ?? "—",
            "establishment": details.establishment.isEmpty ? "—" : details.establishment,
            "prefs": ["consentRegionNews": details.preferences.consentRegionNews,
                      "consentPartnerOffers": details.preferences.consentPartnerOffers,
                      "notifyByEmail": details.preferences.notifyByEmail, "notifyBySMS": details.preferences.notifyBySMS],
            "saved": saved,
        ]
    }
}
