import BeneficiaryOperations
import Foundation
import HDFDomain
import HTTPTypes
import Hummingbird
import Ledger

/// Before login: the connection page, logout, the password and identifier recovery, the footer's pages,
/// the stylesheet, and the links of issue 10 that open later.
extension Site {
    func addPublicRoutes(to router: Router<WebContext>) {
        router.get("/") { _, context -> Response in
            context.sessions.session?.beneficiaryID == nil ? Self.redirect("/connexion") : Self.redirect("/accueil")
        }
        router.get("/style.css") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: Stylesheet.css)))
        }
        router.get("/connexion") { request, context -> Response in
            if context.sessions.session?.beneficiaryID != nil { return Self.redirect("/accueil") }
            let session = ensureSession(context)
            var values: [String: Any] = [:]
            if request.uri.queryParameters.get("fait") == "mot-de-passe" {
                values["done"] = "Ton mot de passe est modifié : connecte-toi avec le nouveau."
            }
            return pages.page("connexion", title: "Connexion", values: values, user: nil, formToken: session.formToken)
        }
        router.post("/connexion") { request, context -> Response in
            let form = try await Self.form(request)
            let identifier = form.text("identifiant"), password = form["mot_de_passe"] ?? ""
            var errors: [String: String] = [:]
            if identifier.isEmpty { errors["identifiant"] = "Saisis ton numéro de carte ou ton numéro de dossier." }
            if password.isEmpty { errors["mot_de_passe"] = "Saisis ton mot de passe." }
            if errors.isEmpty {
                switch try await pool.accounts({ try $0.login(identifier: identifier, password: password) }) {
                case .success(let identity):
                    // A new session id at login (the visitor's old one is dropped): a session id planted
                    // before login is worth nothing after it.
                    _ = try? await sessionStorage.delete(request: request)
                    context.sessions.createSession(WebSession(beneficiaryID: identity.beneficiaryID, formToken: FormToken.generate()),
                                                   expiresIn: WebLimits.sessionLifetime)
                    return Self.redirect("/accueil")
                case .wrongCredentials:
                    errors["mot_de_passe"] = "Numéro ou mot de passe incorrect. Après \(WebAccounts.maximumFailedLogins) erreurs, ton compte est bloqué \(WebAccounts.lockoutMinutes) minutes."
                case .notActivated:
                    errors["mot_de_passe"] = "Ton compte n'est pas encore activé : clique sur « Confirmer mon adresse e-mail » dans le mail reçu à la création de ton compte, ou demande un nouveau lien avec « Renvoyer le lien d'activation »."
                case .locked(let until):
                    errors["mot_de_passe"] = "Ton compte est bloqué \(WebAccounts.lockoutMinutes) minutes après \(WebAccounts.maximumFailedLogins) mots de passe erronés : réessaie après \(Self.parisTime(millis: until))."
                }
            }
            let session = ensureSession(context)
            return pages.page("connexion", title: "Connexion", values: ["form": ["identifiant": identifier], "errors": errors],
                              user: nil, formToken: session.formToken)
        }
        router.post("/deconnexion") { _, context -> Response in
            context.sessions.clearSession()
            return Self.redirect("/connexion")
        }
        router.get("/infos/:page") { _, context -> Response in
            guard let slug = context.parameters.get("page"), let info = InfoPages.all[slug] else { return pages.notFound() }
            let user = try await currentUser(context).map { UserView(firstName: $0.identity.firstName, lastName: $0.identity.lastName) }
            return pages.page("message", title: info.title,
                              values: ["lines": info.lines, "okHref": "/", "okLabel": "Retour à l'accueil"],
                              user: user, formToken: context.sessions.session?.formToken)
        }
        addRecoveryRoutes(to: router)
    }

    /// Sends a mail; a failure answers 503 with one French sentence (nothing else was changed but the reset link).
    func sendMail(_ to: String, _ subject: String, _ text: String) async throws {
        do {
            try await configuration.sendMail(to, subject, text)
        } catch {
            throw HTTPError(.serviceUnavailable, message: "Le mail n'a pas pu être envoyé : réessaie plus tard ou appelle le 0800 026 080.")
        }
    }

    /// "Adresse e-mail" and "Date de naissance" as typed, the date read, and the refusals by field.
    static func emailAndBirthDate(_ form: FormFields) -> (email: String, birth: String, birthDate: LocalDate?, errors: [String: String]) {
        let email = form.text("email"), birth = form.text("naissance")
        var errors: [String: String] = [:]
        if !email.contains("@") || email.count > WebAccounts.maximumFieldCharacters {
            errors["email"] = "Saisis ton adresse e-mail, par exemple prenom.nom@exemple.fr."
        }
        let birthDate = Display.parseDate(birth)
        if birthDate == nil { errors["naissance"] = "Saisis ta date de naissance sous la forme jj/mm/aaaa, par exemple 14/03/2008." }
        return (email, birth, birthDate, errors)
    }

    static func parisTime(millis: Int64) -> String {
        let formatter = DateFormatter()
        formatter.timeZone = ParisCalendar.timeZone
        formatter.locale = Locale(identifier: "fr_FR")
        formatter.dateFormat = "HH:mm"
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }

    /// "Mot de passe oublié ?" and "Identifiant oublié ?": the answer is the same whether an account
    /// matched or not (nobody learns who has an account); the mail goes only to the account's address.
    func addRecoveryRoutes(to router: Router<WebContext>) {
        let sentText = "Si ces informations correspondent à un compte, un mail vient de t'être envoyé. Pense à vérifier tes courriers indésirables."
        router.get("/mot-de-passe-oublie") { _, context -> Response in
            pages.page("mot-de-passe-oublie", title: "Mot de passe oublié ?", values: [:], user: nil,
                       formToken: ensureSession(context).formToken)
        }
        router.post("/mot-de-passe-oublie") { request, context -> Response in
            let form = try await Self.form(request)
            let identifier = form.text("identifiant"), birth = form.text("naissance")
            var errors: [String: String] = [:]
            if identifier.isEmpty { errors["identifiant"] = "Saisis ton numéro de carte ou ton numéro de dossier." }
            let birthDate = Display.parseDate(birth)
            if birthDate == nil { errors["naissance"] = "Saisis ta date de naissance sous la forme jj/mm/aaaa, par exemple 14/03/2008." }
            guard errors.isEmpty, let birthDate else {
                return pages.page("mot-de-passe-oublie", title: "Mot de passe oublié ?",
                                  values: ["form": ["identifiant": identifier, "naissance": birth], "errors": errors],
                                  user: nil, formToken: ensureSession(context).formToken)
            }
            if let (token, to) = try await pool.accounts({ try $0.requestPasswordReset(identifier: identifier, birthDate: birthDate) }) {
                let link = "\(configuration.publicURL)/mot-de-passe-oublie/nouveau?lien=\(token)"
                try await sendMail(to.email, "Génération #HDF : ton nouveau mot de passe", """
                    Bonjour \(to.firstName),

                    Tu as demandé à définir un nouveau mot de passe pour ton espace Génération #HDF.
                    Clique sur ce lien (valable \(WebAccounts.resetLinkLifetimeMillis / 60_000) minutes) :
                    \(link)

                    Si tu n'as rien demandé, ignore ce mail : ton mot de passe reste le même.
                    Pour toute question : 0800 026 080 (numéro vert).
                    """)
            }
            return pages.page("message", title: "Mot de passe oublié ?",
                              values: ["lines": [sentText], "okHref": "/connexion", "okLabel": "OK"], user: nil,
                              formToken: ensureSession(context).formToken)
        }
        router.get("/mot-de-passe-oublie/nouveau") { request, context -> Response in
            let token = request.uri.queryParameters.get("lien") ?? ""
            guard try await pool.accounts({ try $0.isValidResetToken(token) }) else {
                return pages.page("message", title: "Nouveau mot de passe",
                                  values: ["lines": [WebAccounts.PasswordRefusal.invalidLink.description],
                                           "okHref": "/mot-de-passe-oublie", "okLabel": "Mot de passe oublié ?"],
                                  user: nil, formToken: nil, status: .notFound)
            }
            return pages.page("nouveau-mot-de-passe", title: "Nouveau mot de passe", values: ["link": token], user: nil,
                              formToken: ensureSession(context).formToken)
        }
        router.post("/mot-de-passe-oublie/nouveau") { request, context -> Response in
            let form = try await Self.form(request)
            let token = form.text("lien"), new = form["nouveau"] ?? "", confirmation = form["confirmation"] ?? ""
            do {
                try await pool.accounts { try $0.resetPassword(token: token, new: new, confirmation: confirmation) }
            } catch let refusal as WebAccounts.PasswordRefusal {
                if refusal == .invalidLink {
                    return pages.page("message", title: "Nouveau mot de passe",
                                      values: ["lines": [refusal.description], "okHref": "/mot-de-passe-oublie", "okLabel": "Mot de passe oublié ?"],
                                      user: nil, formToken: nil)
                }
                let field = refusal.field == "confirmation" ? "confirmation" : "nouveau"
                return pages.page("nouveau-mot-de-passe", title: "Nouveau mot de passe",
                                  values: ["link": token, "errors": [field: refusal.description]], user: nil,
                                  formToken: ensureSession(context).formToken)
            }
            return pages.page("message", title: "Nouveau mot de passe",
                              values: ["lines": ["Ton nouveau mot de passe est enregistré."], "okHref": "/connexion", "okLabel": "OK"],
                              user: nil, formToken: nil)
        }
        router.get("/identifiant-oublie") { _, context -> Response in
            pages.page("identifiant-oublie", title: "Identifiant oublié ?", values: [:], user: nil,
                       formToken: ensureSession(context).formToken)
        }
        router.post("/identifiant-oublie") { request, context -> Response in
            let (email, birth, birthDate, errors) = Self.emailAndBirthDate(try await Self.form(request))
            guard errors.isEmpty, let birthDate else {
                return pages.page("identifiant-oublie", title: "Identifiant oublié ?",
                                  values: ["form": ["email": email, "naissance": birth], "errors": errors],
                                  user: nil, formToken: ensureSession(context).formToken)
            }
            if let to = try await pool.accounts({ try $0.findIdentifier(email: email, birthDate: birthDate) }) {
                try await sendMail(to.email, "Génération #HDF : ton identifiant", """
                    Bonjour \(to.firstName),

                    Ton identifiant pour ton espace Génération #HDF est ton numéro de dossier : \(to.dossier)
                    (tu peux aussi te connecter avec ton numéro de carte).
                    Connecte-toi ici : \(configuration.publicURL)/connexion

                    Pour toute question : 0800 026 080 (numéro vert).
                    """)
            }
            return pages.page("message", title: "Identifiant oublié ?",
                              values: ["lines": [sentText], "okHref": "/connexion", "okLabel": "Fermer"], user: nil,
                              formToken: ensureSession(context).formToken)
        }
    }
}

/// The footer's pages (short texts of our own).
enum InfoPages {
    static let all: [String: (title: String, lines: [String])] = [
        "generation-hdf": ("Génération #HDF", [
            "Génération #HDF est la carte des jeunes des Hauts-de-France : lycéens, apprentis, élèves des écoles de production et étudiants post-bac.",
            "Elle porte tes aides (manuels et équipement, transport, hébergement, restauration), utilisables chez les partenaires."]),
        "ma-region": ("Ma Région", ["La Région Hauts-de-France finance la carte Génération #HDF et ses aides. Site de la Région : hautsdefrance.fr."]),
        "contact": ("Contact", ["Numéro vert : 0800 026 080 (appel gratuit).", "E-mail : beneficiaires.hdf@hautsdefrance.fr"]),
        "foire-aux-questions": ("Foire aux questions", [
            "Ma carte est perdue : déclare-la dans « Ma carte », « Un problème de carte ? ». Elle est bloquée aussitôt.",
            "Mon porte-monnaie « Manuels et équipement » est valable 6 mois après son chargement.",
            "Un paiement en ligne ne peut être annulé que par le partenaire."]),
        "mentions-legales": ("Mentions légales", ["Site édité par la Région Hauts-de-France (démonstration)."]),
        "politique-de-confidentialite": ("Politique de confidentialité", [
            "Tes données servent uniquement à gérer ta carte et tes aides. Ton mot de passe n'est jamais conservé en clair.",
            "Ton numéro de carte n'est jamais affiché en entier."]),
        "politique-de-gestion-des-cookies": ("Politique de gestion des cookies", [
            "Ce site n'utilise qu'un seul cookie, nécessaire à ta connexion (« hdf_session ») : il disparaît quand tu te déconnectes. Aucun cookie de mesure d'audience ni de publicité."]),
    ]
}
