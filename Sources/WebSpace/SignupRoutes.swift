import BeneficiaryOperations
import Documents
import Foundation
import HDFDomain
import HTTPTypes
import Hummingbird
import Ledger
import Mailer

/// "Créer mon compte" (contract §9): the steps page, the form with its anti-robot proof of work, the
/// activation link, "Renvoyer le lien d'activation", and the SMS code that finalises the account.
extension Site {
    func addSignupRoutes(to router: Router<WebContext>) {
        router.get("/anti-robot.js") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: AntiRobot.script)))
        }
        // The règlement is read before an account exists (step 2 asks to accept it).
        router.get("/reglement-general.pdf") { _, _ -> Response in
            guard let bytes = DocumentSources.reglementGeneral() else { return pages.notFound() }
            return Response(status: .ok, headers: [.contentType: "application/pdf"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.get("/creer-mon-compte") { _, context -> Response in
            pages.page("creer-compte-etapes", title: "Créer mon compte", values: [:], user: nil, formToken: ensureSession(context).formToken)
        }
        router.get("/creer-mon-compte/informations") { _, context -> Response in
            signupForm(context, form: [:], errors: [:])
        }
        router.post("/creer-mon-compte/informations") { request, context -> Response in
            let fields = try await Self.form(request)
            var form = AccountCreation.Form()
            form.lastName = fields.text("nom"); form.firstName = fields.text("prenom"); form.birthDate = fields.text("naissance")
            form.email = fields.text("email"); form.phone = fields.text("portable")
            form.password = fields["mot_de_passe"] ?? ""; form.passwordConfirmation = fields["confirmation"] ?? ""
            form.rulesAccepted = fields.isChecked("reglement")
            let echo: [String: Any] = ["nom": form.lastName, "prenom": form.firstName, "naissance": form.birthDate, "email": form.email,
                                       "portable": form.phone, "reglement": form.rulesAccepted]
            let checked: AccountCreation.CheckedForm
            switch AccountCreation.check(form, today: ParisCalendar.today()) {
            case .failure(let refusal): return signupForm(context, form: echo, errors: refusal.errors)
            case .success(let value): checked = value
            }
            do throws(AntiRobot.Refusal) {
                try antiRobot.verify(challenge: fields.text(AntiRobot.fieldChallenge), answer: fields.text(AntiRobot.fieldAnswer))
            } catch {
                return signupForm(context, form: echo, errors: ["defi": error.description])
            }
            let created: AccountCreation.Created
            do {
                // bcrypt runs on the pool's thread, before the (short) write transaction.
                created = try await pool.run { ledger in
                    try AccountCreation(ledger: ledger).create(checked, passwordHash: WebAccounts.hash(password: checked.password))
                }
            } catch let refusal as AccountCreation.CreationRefusal {
                return signupForm(context, form: echo, errors: ["email": refusal.description])
            }
            var values: [String: Any] = ["firstName": checked.firstName, "dossier": created.dossier, "email": checked.email]
            do {
                try await sendMail(checked.email, "Génération #HDF : active ton compte (dossier \(created.dossier))",
                                   activationMail(firstName: checked.firstName, dossier: created.dossier, token: created.activationToken))
                values["mailSent"] = true
            } catch {
                // The account stays; the throttle is lifted so that "Renvoyer le lien d'activation" works at once.
                let id = created.beneficiaryID
                try await pool.run { try AccountCreation(ledger: $0).activationMailFailed(beneficiaryID: id) }
            }
            return pages.page("compte-cree", title: "Ton compte est créé", values: values,
                              user: nil, formToken: ensureSession(context).formToken)
        }
        // The mail's link opens a page with one button: a GET never activates, so a mail scanner that opens
        // links does not use the link up.
        router.get("/activer-mon-compte") { request, context -> Response in
            let token = request.uri.queryParameters.get("lien") ?? ""
            return pages.page("activation", title: "Confirmer mon adresse e-mail", values: ["link": token], user: nil,
                              formToken: ensureSession(context).formToken)
        }
        router.post("/activer-mon-compte") { request, context -> Response in
            let token = try await Self.form(request).text("lien")
            switch try await pool.run({ try AccountCreation(ledger: $0).activate(token: token) }) {
            case .activated(let dossier):
                return pages.page("message", title: "Compte activé", values: [
                    "lines": ["Ton adresse e-mail est confirmée : ton compte est activé.",
                              "Connecte-toi avec ton numéro de dossier \(dossier) et ton mot de passe pour finaliser ton compte (code par SMS), puis faire ta demande de carte."],
                    "okHref": "/connexion", "okLabel": "Me connecter"], user: nil, formToken: ensureSession(context).formToken)
            case .invalidLink:
                return pages.page("message", title: "Lien d'activation", values: [
                    "lines": ["Ce lien d'activation a expiré ou a déjà servi. Si ton compte n'est pas encore activé, demande un nouveau lien."],
                    "okHref": "/renvoyer-le-lien-d-activation", "okLabel": "Renvoyer le lien d'activation"],
                                  user: nil, formToken: ensureSession(context).formToken, status: .notFound)
            }
        }
        router.get("/renvoyer-le-lien-d-activation") { _, context -> Response in
            pages.page("renvoyer-activation", title: "Renvoyer le lien d'activation", values: [:], user: nil,
                       formToken: ensureSession(context).formToken)
        }
        router.post("/renvoyer-le-lien-d-activation") { request, context -> Response in
            let (email, birth, birthDate, errors) = Self.emailAndBirthDate(try await Self.form(request))
            guard errors.isEmpty, let birthDate else {
                return pages.page("renvoyer-activation", title: "Renvoyer le lien d'activation",
                                  values: ["form": ["email": email, "naissance": birth], "errors": errors],
                                  user: nil, formToken: ensureSession(context).formToken)
            }
            if let (created, to) = try await pool.run({ try AccountCreation(ledger: $0).resendActivation(email: email, birthDate: birthDate) }) {
                try await sendMail(to.email, "Génération #HDF : active ton compte (dossier \(created.dossier))",
                                   activationMail(firstName: to.firstName, dossier: created.dossier, token: created.activationToken))
            }
            return pages.page("message", title: "Renvoyer le lien d'activation", values: [
                "lines": ["Si un compte non activé correspond à ces informations, un nouveau lien d'activation vient de t'être envoyé (au plus un toutes les \(AccountCreation.activationResendIntervalMillis / 60_000) minutes). Pense à vérifier tes courriers indésirables."],
                "okHref": "/connexion", "okLabel": "OK"], user: nil, formToken: ensureSession(context).formToken)
        }
        router.get("/confirmer-mon-portable") { _, context -> Response in
            try await withUser(context) { identity, session, user in
                try await phonePage(identity: identity, session: session, user: user, values: [:])
            }
        }
        router.post("/confirmer-mon-portable/envoyer") { _, context -> Response in
            try await withUser(context) { identity, session, user in
                let id = identity.beneficiaryID
                do {
                    let (code, phone) = try await pool.run { try AccountCreation(ledger: $0).issueSMSCode(beneficiaryID: id) }
                    do {
                        try sendSMS(phone, "Génération #HDF : ton code de validation est \(code). Il est valable \(AccountCreation.smsCodeLifetimeMillis / 60_000) minutes. Ne le communique à personne.")
                    } catch {
                        try await pool.run { try AccountCreation(ledger: $0).smsCodeFailed(beneficiaryID: id) }
                        return try await phonePage(identity: identity, session: session, user: user,
                                                   values: ["sendError": "Le SMS n'a pas pu être envoyé : réessaie dans un instant ou appelle le 0800 026 080."])
                    }
                } catch let refusal as AccountCreation.SMSRefusal {
                    if refusal == .alreadyConfirmed { return Self.redirect("/accueil") }
                    return try await phonePage(identity: identity, session: session, user: user, values: ["sendError": refusal.description])
                }
                return try await phonePage(identity: identity, session: session, user: user,
                                           values: ["sent": "Un code vient de t'être envoyé par SMS. Saisis-le ci-dessous, puis clique sur « Confirmer »."])
            }
        }
        router.post("/confirmer-mon-portable") { request, context -> Response in
            try await withUser(context) { identity, session, user in
                let fields = try await Self.form(request)
                let code = fields.text("code"), id = identity.beneficiaryID
                do {
                    try await pool.run { try AccountCreation(ledger: $0).confirmSMSCode(beneficiaryID: id, code: code) }
                } catch let refusal as AccountCreation.SMSRefusal {
                    if refusal == .alreadyConfirmed { return Self.redirect("/accueil") }
                    return try await phonePage(identity: identity, session: session, user: user,
                                               values: ["errors": ["code": refusal.description]])
                }
                return pages.page("message", title: "Compte finalisé", values: [
                    "lines": ["Ton numéro de portable est confirmé : ton compte est finalisé.",
                              "Tu peux maintenant faire ta demande de carte Génération #HDF."],
                    "okHref": "/demande-de-carte", "okLabel": "Faire ma demande de carte"],
                                  user: user, formToken: session.formToken, menuItem: "/accueil")
            }
        }
    }

    func signupForm(_ context: WebContext, form: [String: Any], errors: [String: String]) -> Response {
        pages.page("creer-compte", title: "Créer mon compte",
                   values: ["form": form, "errors": errors, "challenge": antiRobot.challenge()],
                   user: nil, formToken: ensureSession(context).formToken)
    }

    func phonePage(identity: WebAccounts.Identity, session: WebSession, user: UserView, values: [String: Any]) async throws -> Response {
        let id = identity.beneficiaryID
        let standing = try await pool.run { try AccountCreation(ledger: $0).standing(beneficiaryID: id) }
        if standing.phoneConfirmed { return Self.redirect("/accueil") }
        var values = values
        values["maskedPhone"] = standing.maskedPhone
        return pages.page("portable", title: "Confirmer mon numéro de portable", values: values, user: user,
                          formToken: session.formToken, menuItem: "/accueil")
    }

    func activationMail(firstName: String, dossier: String, token: String) -> String {
        """
        Bonjour \(firstName),

        Ton compte Génération #HDF est créé. Ton numéro de dossier, ton identifiant pour te connecter : \(dossier)

        Pour activer ton compte, clique sur « Confirmer mon adresse e-mail » (lien valable \(AccountCreation.activationLinkLifetimeMillis / 3_600_000) heures) :
        Confirmer mon adresse e-mail : \(configuration.publicURL)/activer-mon-compte?lien=\(token)

        Ensuite, connecte-toi : un code par SMS finalise ton compte, puis tu pourras faire ta demande de carte.
        Si tu n'as pas créé de compte, ignore ce mail.
        Pour toute question : 0800 026 080 (numéro vert).
        """
    }

    /// One SMS to the outbox (contract §8: `DIR/outbox/sms/`, the number then the text); there is no SMS relay.
    func sendSMS(_ phone: String, _ text: String) throws {
        do {
            _ = try Mailer(environmentDirectory: configuration.directory, smtp: nil, from: Mailer.programmeSender)
                .send(SMSMessage(phone: phone, text: text))
        } catch {
            throw HTTPError(.serviceUnavailable, message: "Le SMS n'a pas pu être envoyé : réessaie plus tard ou appelle le 0800 026 080.")
        }
    }
}
