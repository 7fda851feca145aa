import BeneficiaryOperations
import Foundation
import HDFDomain
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ledger
import Testing
@testable import WebSpace

/// The flows of Ma carte and of the password pages, through the pages' own forms; every refusal is one
/// French sentence tied to its field, and changes nothing.
@Suite("Web space: Ma carte and password flows, refusals", .serialized)
struct FlowTests {
    @Test("prepayment: only prepayment partners are offered; 12,50 € leaves the wallet; the voucher is listed, printed, cancelled")
    func prepaymentFlow() async throws {
        let fixture = try WebFixture("prepay")
        let card = fixture.fundedCards[0]
        try await fixture.application().test(.router) { client in
            var visitor = Visitor(client)
            try await visitor.login(card.beneficiary.dossier, card.beneficiary.password!)
            let search = try await visitor.get("/ma-carte/prepaiement?nom=&ville=&type=")
            #expect(search.body.contains("/ma-carte/prepaiement/P001") && search.body.contains("/ma-carte/prepaiement/P002"))
            #expect(!search.body.contains("/ma-carte/prepaiement/P003") && !search.body.contains("/ma-carte/prepaiement/P004"))
            #expect(try await visitor.get("/ma-carte/prepaiement/P003").status == .notFound)
            let form = try await visitor.get("/ma-carte/prepaiement/P001")
            #expect(form.body.contains(#"<label for="porte_monnaie">Porte-monnaie</label>"#) && form.body.contains(#"<label for="montant">Montant</label>"#))
            let before = try fixture.available(card.pan, .manuels)
            let made = try await visitor.post("/ma-carte/prepaiement/P001", [("porte_monnaie", "MANUELS"), ("montant", "12,50")])
            let location = try #require(made.location)
            #expect(try fixture.available(card.pan, .manuels) == before - 1_250)
            let confirmation = try await visitor.get(location)
            #expect(confirmation.body.contains("12,50 €") && confirmation.body.contains(">OK</a>"))
            let list = try await visitor.get("/ma-carte/prepaiements")
            #expect(list.body.contains("Librairie du Beffroi") && list.body.contains("à utiliser") && list.body.contains("Imprimer"))
            let code = String(location.split(separator: "/")[2])
            let cancelled = try await visitor.post("/ma-carte/prepaiements/\(code)/annuler", [])
            #expect(cancelled.status == .seeOther)
            #expect(try fixture.available(card.pan, .manuels) == before)
            let after = try await visitor.get(try #require(cancelled.location))
            #expect(after.body.contains("annulé"))
            // Cancelling twice: one sentence, nothing changes.
            let counts = try fixture.counts()
            let twice = try await visitor.post("/ma-carte/prepaiements/\(code)/annuler", [])
            #expect(twice.status == .unprocessableContent && twice.body.contains("Ce prépaiement est déjà annulé."))
            #expect(try fixture.counts() == counts)
        }
    }

    @Test("refusals: bad amount, balance too low, a wallet the partner does not take — one sentence by the field, nothing changed")
    func paymentRefusals() async throws {
        let fixture = try WebFixture("refusals")
        let card = try #require(fixture.fundedCards.first { card in !card.wallets.contains { $0.code == "RESTAURATION" } })
        try await fixture.application().test(.router) { client in
            var visitor = Visitor(client)
            try await visitor.login(card.beneficiary.dossier, card.beneficiary.password!)
            _ = try await visitor.get("/ma-carte/prepaiement/P001")
            let before = try fixture.counts()
            let cases: [(String, String, String, String)] = [
                ("MANUELS", "douze", "montant", "Saisis un montant en euros, par exemple 12,50."),
                ("MANUELS", "0", "montant", "Le montant doit être compris entre"),
                ("MANUELS", "5000,00", "montant", "Le solde de ton porte-monnaie Manuels et équipement est insuffisant"),
                ("RESTAURATION", "1,00", "porte_monnaie", "Ta carte n'a pas de porte-monnaie"),
                ("TRANSPORT", "1,00", "porte_monnaie", "n'est pas accepté par « Librairie du Beffroi »"),
            ]
            for (wallet, amount, field, sentence) in cases {
                let page = try await visitor.post("/ma-carte/prepaiement/P001", [("porte_monnaie", wallet), ("montant", amount)])
                #expect(page.status == .unprocessableContent, "\(wallet) \(amount)")
                #expect(page.text.contains(sentence), "\(wallet) \(amount): \(page.body)")
                #expect(page.body.contains(#"id="\#(field)-erreur""#) && page.body.contains(#"aria-describedby="\#(field)-erreur""#))
            }
            #expect(try fixture.counts() == before)
        }
    }

    @Test("online payment: only online partners; labelled Extranet Bénéficiaire in Mes transactions; only the partner can cancel it")
    func onlinePayment() async throws {
        let fixture = try WebFixture("online")
        let card = fixture.fundedCards[0]
        try await fixture.application().test(.router) { client in
            var visitor = Visitor(client)
            try await visitor.login(card.beneficiary.dossier, card.beneficiary.password!)
            let search = try await visitor.get("/ma-carte/paiement-en-ligne?nom=&ville=&type=")
            #expect(search.body.contains("/ma-carte/paiement-en-ligne/P001") && !search.body.contains("/ma-carte/paiement-en-ligne/P002"))
            #expect(try await visitor.get("/ma-carte/paiement-en-ligne/P002").status == .notFound)
            _ = try await visitor.get("/ma-carte/paiement-en-ligne/P001")
            let before = try fixture.available(card.pan, .manuels)
            let paid = try await visitor.post("/ma-carte/paiement-en-ligne/P001", [("porte_monnaie", "MANUELS"), ("montant", "7.5")])
            let location = try #require(paid.location)
            #expect(try fixture.available(card.pan, .manuels) == before - 750)
            let confirmation = try await visitor.get(location)
            #expect(confirmation.body.contains("7,50 €") && confirmation.body.contains(">OK</a>")
                    && confirmation.body.contains("Seul le partenaire peut annuler un paiement en ligne"))
            #expect(!confirmation.body.contains("annuler\"") && !confirmation.body.contains("<button type=\"submit\" class=\"secondaire\""))
            let history = try await visitor.get("/ma-carte/transactions")
            #expect(history.body.contains("Extranet Bénéficiaire") && history.body.contains("-7,50 €"))
        }
    }

    @Test("Un problème de carte ?: the card is blocked at once; no motif is refused by its field; blocking twice is refused")
    func declareProblem() async throws {
        let fixture = try WebFixture("problem")
        let card = fixture.fundedCards[4]
        try await fixture.application().test(.router) { client in
            var visitor = Visitor(client)
            try await visitor.login(card.beneficiary.dossier, card.beneficiary.password!)
            _ = try await visitor.get("/ma-carte/probleme")
            let before = try fixture.counts()
            let none = try await visitor.post("/ma-carte/probleme", [("motif", "")])
            #expect(none.status == .unprocessableContent && none.body.contains(#"aria-describedby="motif-erreur""#))
            #expect(try fixture.counts() == before)
            let declared = try await visitor.post("/ma-carte/probleme", [("motif", "stolen")])
            #expect(declared.status == .seeOther)
            #expect(try CardOperations(ledger: fixture.ledger()).cardStatus(pan: PAN(validating: card.pan)) == .stolen)
            let again = try await visitor.post("/ma-carte/probleme", [("motif", "lost")])
            #expect(again.body.contains("Ta carte est déjà bloquée"))
            #expect(try CardOperations(ledger: fixture.ledger()).cardStatus(pan: PAN(validating: card.pan)) == .stolen)
        }
    }

    @Test("Gestion mot de passe: refusals by their field; Suivant, then OK back to the connection page; the new password works")
    func changePassword() async throws {
        let fixture = try WebFixture("password")
        let card = fixture.fundedCards[5]
        let old = card.beneficiary.password!
        try await fixture.application().test(.router) { client in
            var visitor = Visitor(client)
            try await visitor.login(card.beneficiary.dossier, old)
            _ = try await visitor.get("/gestion-mot-de-passe")
            let wrong = try await visitor.post("/gestion-mot-de-passe", [("actuel", "pas-le-bon"), ("nouveau", "Nouveau-2027"), ("confirmation", "Nouveau-2027")])
            #expect(wrong.body.contains(#"aria-describedby="actuel-erreur""#) && wrong.text.contains("Ton mot de passe actuel n'est pas le bon."))
            let short = try await visitor.post("/gestion-mot-de-passe", [("actuel", old), ("nouveau", "a1"), ("confirmation", "a1")])
            #expect(short.body.contains(#"aria-describedby="nouveau-erreur""#))
            let differ = try await visitor.post("/gestion-mot-de-passe", [("actuel", old), ("nouveau", "Nouveau-2027"), ("confirmation", "Nouveau-2028")])
            #expect(differ.body.contains(#"aria-describedby="confirmation-erreur""#))
            let done = try await visitor.post("/gestion-mot-de-passe", [("actuel", old), ("nouveau", "Nouveau-2027"), ("confirmation", "Nouveau-2027")])
            #expect(done.body.contains(#"href="/connexion?fait=mot-de-passe">OK</a>"#))
            var next = Visitor(client)
            #expect(try await next.login(card.beneficiary.dossier, old).location == nil)
            #expect(try await next.login(card.beneficiary.dossier, "Nouveau-2027").location == "/accueil")
        }
    }

    @Test("Mot de passe oublié ?: card number + birth date → a mail with an absolute link → the two new-password fields; Identifiant oublié ? mails the dossier")
    func recovery() async throws {
        let fixture = try WebFixture("recovery")
        let card = fixture.fundedCards[6]
        let birthISO = try #require(card.beneficiary.birthDate)
        let birth = try #require(LocalDate(iso: birthISO))
        let typedBirth = Display.date(birth)
        try await fixture.application(publicURL: "http://beneficiaires.example:8080").test(.router) { client in
            var visitor = Visitor(client)
            _ = try await visitor.get("/mot-de-passe-oublie")
            let bad = try await visitor.post("/mot-de-passe-oublie", [("identifiant", card.pan), ("naissance", "31/02/2008")])
            #expect(bad.body.contains(#"aria-describedby="naissance-erreur""#))
            let wrongBirth = try await visitor.post("/mot-de-passe-oublie", [("identifiant", card.pan), ("naissance", "01/01/1990")])
            #expect(wrongBirth.body.contains("Si ces informations correspondent à un compte"))
            #expect(await fixture.mailbox.mails.isEmpty)
            _ = try await visitor.get("/mot-de-passe-oublie")
            let sent = try await visitor.post("/mot-de-passe-oublie", [("identifiant", card.pan), ("naissance", typedBirth)])
            #expect(sent.body.contains("Si ces informations correspondent à un compte"))
            let mail = try #require(await fixture.mailbox.mails.last)
            #expect(mail.to == card.beneficiary.email)
            let link = try #require(mail.text.split(separator: "\n").first { $0.hasPrefix("http://beneficiaires.example:8080/mot-de-passe-oublie/nouveau?lien=") })
            let path = String(link.dropFirst("http://beneficiaires.example:8080".count))
            let form = try await visitor.get(path)
            #expect(form.body.contains("Nouveau mot de passe") && form.body.contains("Confirmer le nouveau mot de passe"))
            let token = String(path.split(separator: "=").last!)
            let set = try await visitor.post("/mot-de-passe-oublie/nouveau", [("lien", token), ("nouveau", "Retrouve-42"), ("confirmation", "Retrouve-42")])
            #expect(set.body.contains("Ton nouveau mot de passe est enregistré."))
            // The link is used up.
            #expect(try await visitor.get(path).status == .notFound)
            var next = Visitor(client)
            #expect(try await next.login(card.beneficiary.dossier, "Retrouve-42").location == "/accueil")

            var forgetful = Visitor(client)
            _ = try await forgetful.get("/identifiant-oublie")
            _ = try await forgetful.post("/identifiant-oublie", [("email", card.beneficiary.email!.uppercased()), ("naissance", typedBirth)])
            let identifierMail = try #require(await fixture.mailbox.mails.last)
            #expect(identifierMail.subject.contains("identifiant") && identifierMail.text.contains(card.beneficiary.dossier))
            #expect(!identifierMail.text.contains(card.pan))
        }
    }

    @Test("the pages before login of issue 10 answer with their forms; the footer is on every page")
    func soonAndFooter() async throws {
        let fixture = try WebFixture("soon")
        try await fixture.application().test(.router) { client in
            var visitor = Visitor(client)
            for uri in ["/creer-mon-compte", "/renvoyer-le-lien-d-activation", "/connexion", "/infos/mentions-legales"] {
                let page = try await visitor.get(uri)
                #expect(page.status == .ok, "\(uri)")
                for link in ["Génération #HDF", "Ma Région", "Contact", "Foire aux questions", "Mentions légales",
                             "Politique de confidentialité", "Politique de gestion des cookies"] {
                    #expect(page.body.contains(">\(link)</a>"), "\(uri): \(link)")
                }
            }
            #expect(try await visitor.get("/creer-mon-compte").body.contains(#"href="/creer-mon-compte/informations">Suivant</a>"#))
            let form = try await visitor.get("/creer-mon-compte/informations")
            for label in ["Nom", "Prénom", "Adresse e-mail", "Numéro de portable", "Mot de passe", "Confirmer le mot de passe"] {
                #expect(form.body.contains(">\(label)</label>"), "\(label)")
            }
            #expect(form.body.contains(#"<script src="/anti-robot.js"></script>"#) && form.body.contains("Créer le compte"))
            #expect(try await visitor.get("/renvoyer-le-lien-d-activation").body.contains(">Renvoyer le lien d'activation</button>"))
        }
    }

    @Test("the demo's accounts without a card log in; Accueil says where their application stands (contract §2, §9)")
    func accountsWithoutCard() async throws {
        let fixture = try WebFixture("accounts")
        let accounts = try #require(fixture.manifest.accounts)
        #expect(Set(accounts.map(\.state)) == ["new", "submitted", "validated"])
        try await fixture.application().test(.router) { client in
            for account in accounts {
                var visitor = Visitor(client)
                try await visitor.login(account.dossier, account.password)
                let home = try await visitor.get("/accueil")
                #expect(home.status == .ok, "\(account.dossier)")
                switch account.state {
                case "new":
                    #expect(home.text.contains("Tu n'as pas encore de carte") && home.body.contains(#"href="/demande-de-carte""#))
                case "submitted": #expect(home.text.contains("Demande envoyée"), "\(home.text)")
                default: #expect(home.text.contains("Validée par ton établissement"), "\(home.text)")
                }
                #expect(try await visitor.get("/ma-carte").status == .ok, "Ma carte without a card answers, it does not fail")
            }
            // The demo's apprentis with a card: the approved application their card came from is on record, so
            // "Demande de THR" is open to them; a lycéen's Accueil has no THR section.
            let apprenti = try #require(fixture.manifest.cards.first { $0.status == "active" && $0.beneficiary.situation == "apprenti" })
            var visitor = Visitor(client)
            try await visitor.login(apprenti.beneficiary.dossier, try #require(apprenti.beneficiary.password))
            let home = try await visitor.get("/accueil")
            #expect(home.text.contains("Carte émise") && home.body.contains(#"href="/demande-de-thr">Faire ma demande</a>"#), "\(home.text)")
            let lyceen = try #require(fixture.manifest.cards.first { $0.status == "active" && $0.beneficiary.situation == "lyceen" })
            var other = Visitor(client)
            try await other.login(lyceen.beneficiary.dossier, try #require(lyceen.beneficiary.password))
            #expect(!(try await other.get("/accueil")).body.contains("/demande-de-thr"))
            #expect(try await other.get("/demande-de-thr").location == "/accueil")
        }
    }
}
