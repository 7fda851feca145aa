import BeneficiaryOperations
import Foundation
import HDFDomain
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ledger
import Provisioning
import Testing
@testable import WebSpace

/// The web space's rules that need no browser (contract §8), through Hummingbird's test client on a
/// fresh demo ledger each.
@Suite("Web space: sessions, form tokens, headers, ownership, refusals", .serialized)
struct WebSpaceTests {
    @Test("every answer carries the CSP (scripts only from the site, none inline; no framing), Referrer-Policy and nosniff; the cookie is HttpOnly and SameSite=Lax")
    func securityHeaders() async throws {
        let fixture = try WebFixture("headers")
        try await fixture.application().test(.router) { client in
            var visitor = Visitor(client)
            for uri in ["/connexion", "/style.css", "/nulle-part", "/ma-carte"] {
                let page = try await visitor.get(uri)
                let csp = try #require(page.headers[.contentSecurityPolicy], "\(uri)")
                #expect(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), "\(uri): \(csp)")
                #expect(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval") && csp.contains("script-src 'self';"), "\(uri): \(csp)")
                #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
                #expect(page.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            }
            #expect(try await visitor.get("/nulle-part").status == .notFound)
            var newcomer = Visitor(client)
            let login = try await newcomer.get("/connexion")
            let cookie = try #require(login.headers[values: .setCookie].first { $0.hasPrefix("hdf_session=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"), "\(cookie)")
            #expect(!login.body.contains("<script"))
        }
        try await fixture.application(publicURL: "https://beneficiaires.example").test(.router) { client in
            var visitor = Visitor(client)
            let page = try await visitor.get("/connexion")
            let cookie = try #require(page.headers[values: .setCookie].first)
            #expect(cookie.contains("Secure"), "\(cookie)")
        }
    }

    @Test("login renews the session id; the old id is worth nothing; logout drops the session")
    func sessionRenewedAtLogin() async throws {
        let fixture = try WebFixture("session")
        let card = fixture.fundedCards[0]
        try await fixture.application().test(.router) { client in
            var visitor = Visitor(client)
            _ = try await visitor.get("/connexion")
            let before = try #require(visitor.cookie)
            let answer = try await visitor.post("/connexion", [("identifiant", card.beneficiary.dossier),
                                                               ("mot_de_passe", try #require(card.beneficiary.password))])
            #expect(answer.status == .seeOther && answer.location == "/accueil", "\(answer.status) \(answer.body.prefix(300))")
            let after = try #require(visitor.cookie)
            #expect(before != after)
            let home = try await visitor.get("/accueil")
            #expect(home.status == .ok && home.body.contains(card.beneficiary.firstName))
            #expect(home.body.contains(#"href="/accueil" aria-current="page""#))
            var planted = Visitor(client)
            planted.cookie = before
            #expect(try await planted.get("/accueil").location == "/connexion")
            // Logout (a form with its token), then the session is gone.
            _ = try await visitor.get("/accueil")
            let session = after
            let out = try await visitor.post("/deconnexion", [])
            #expect(out.status == .seeOther && out.location == "/connexion")
            var replay = Visitor(client)
            replay.cookie = session
            #expect(try await replay.get("/ma-carte").location == "/connexion")
            // By card number too.
            var byCard = Visitor(client)
            #expect(try await byCard.login(card.pan, card.beneficiary.password!).location == "/accueil")
        }
    }

    @Test("a POST without its form token (or with another session's) is 403 and changes nothing")
    func formTokenRequired() async throws {
        let fixture = try WebFixture("csrf")
        let card = fixture.fundedCards[0], other = fixture.fundedCards[1]
        try await fixture.application().test(.router) { client in
            var visitor = Visitor(client), stranger = Visitor(client)
            try await visitor.login(card.beneficiary.dossier, card.beneficiary.password!)
            try await stranger.login(other.beneficiary.dossier, other.beneficiary.password!)
            _ = try await visitor.get("/ma-carte/prepaiement/P001")
            let before = try fixture.counts(), balance = try fixture.available(card.pan, .manuels)
            let attempts: [(String, [(String, String)])] = [
                ("/ma-carte/prepaiement/P001", [("porte_monnaie", "MANUELS"), ("montant", "10,00")]),
                ("/ma-carte/paiement-en-ligne/P001", [("porte_monnaie", "MANUELS"), ("montant", "10,00")]),
                ("/ma-carte/probleme", [("motif", "lost")]),
                ("/gestion-mot-de-passe", [("actuel", card.beneficiary.password!), ("nouveau", "Autre-1234"), ("confirmation", "Autre-1234")]),
                ("/mon-compte", [("par_sms", "on")]),
            ]
            for (uri, fields) in attempts {
                #expect(try await visitor.post(uri, fields, token: false).status == .forbidden, "\(uri) without token")
                #expect(try await visitor.post(uri, fields + [("jeton", stranger.formToken!)], token: false).status == .forbidden,
                        "\(uri) with another session's token")
            }
            #expect(try fixture.counts() == before)
            #expect(try fixture.available(card.pan, .manuels) == balance)
            // The login form too: no token, no login.
            var fresh = Visitor(client)
            _ = try await fresh.get("/connexion")
            let refused = try await fresh.post("/connexion", [("identifiant", card.beneficiary.dossier),
                                                              ("mot_de_passe", card.beneficiary.password!)], token: false)
            #expect(refused.status == .forbidden)
            // The password did not change: logging in with the old one still works.
            var again = Visitor(client)
            #expect(try await again.login(card.beneficiary.dossier, card.beneficiary.password!).location == "/accueil")
        }
    }

    @Test("5 wrong passwords lock the account for 15 minutes and the page says so; even the right password is refused then")
    func lockOutAfterFiveFailures() async throws {
        let fixture = try WebFixture("lockout")
        let card = fixture.fundedCards[2]
        try await fixture.application().test(.router) { client in
            var visitor = Visitor(client)
            for attempt in 1...4 {
                let page = try await visitor.login(card.beneficiary.dossier, "mauvais-\(attempt)")
                #expect(page.status == .ok && page.body.contains("Numéro ou mot de passe incorrect"), "attempt \(attempt)")
                #expect(page.body.contains(#"aria-describedby="mot_de_passe-erreur""#))
            }
            let fifth = try await visitor.login(card.beneficiary.dossier, "mauvais-5")
            #expect(fifth.body.contains("Ton compte est bloqué 15 minutes"), "\(fifth.body)")
            let right = try await visitor.login(card.beneficiary.dossier, card.beneficiary.password!)
            #expect(right.status == .ok && right.body.contains("Ton compte est bloqué 15 minutes"))
            #expect(try await visitor.get("/accueil").location == "/connexion")
            // An unknown identifier gets the same answer as a wrong password.
            var unknown = Visitor(client)
            #expect(try await unknown.login("HDF-0000-0000", "peu-importe").body.contains("Numéro ou mot de passe incorrect"))
        }
        // After 15 minutes the right password works again (the rule itself, with the clock moved).
        let accounts = WebAccounts(ledger: try fixture.ledger())
        let later = Date().addingTimeInterval(15 * 60 + 5)
        guard case .success = try accounts.login(identifier: card.beneficiary.dossier, password: card.beneficiary.password!, now: later)
        else { Issue.record("still locked after 15 minutes"); return }
    }

    @Test("another beneficiary's voucher, receipt or payment answers 404 and nothing changes; one's own works")
    func othersAreNotFound() async throws {
        let fixture = try WebFixture("ownership")
        let owner = fixture.fundedCards[0], other = fixture.fundedCards[1]
        let operations = CardOperations(ledger: try fixture.ledger())
        let voucher = try operations.prepay(pan: PAN(validating: owner.pan), partnerID: "P001", wallet: .manuels, amountCents: 1_000)
        let payment = try operations.payOnline(pan: PAN(validating: owner.pan), partnerID: "P001", wallet: .manuels, amountCents: 500)
        try await fixture.application().test(.router) { client in
            var stranger = Visitor(client)
            try await stranger.login(other.beneficiary.dossier, other.beneficiary.password!)
            _ = try await stranger.get("/ma-carte/prepaiements")
            let before = try fixture.counts()
            for uri in ["/ma-carte/prepaiements/\(voucher.code.canonical)/recu.pdf", "/ma-carte/prepaiements/\(voucher.code.canonical)/confirmation",
                        "/ma-carte/transactions/\(payment.txn)", "/ma-carte/prepaiements/AAAAAAAAAAAA/recu.pdf",
                        "/mes-documents/autre.pdf", "/ou-utiliser-ma-carte/P999"] {
                #expect(try await stranger.get(uri).status == .notFound, "\(uri)")
            }
            #expect(try await stranger.post("/ma-carte/prepaiements/\(voucher.code.canonical)/annuler", []).status == .notFound)
            #expect(try fixture.counts() == before)
            let status = try CardOperations(ledger: fixture.ledger()).voucher(pan: PAN(validating: owner.pan), code: voucher.code).voucher.status
            #expect(status == .issued)

            var visitor = Visitor(client)
            try await visitor.login(owner.beneficiary.dossier, owner.beneficiary.password!)
            let receipt = try await visitor.get("/ma-carte/prepaiements/\(voucher.code.canonical)/recu.pdf")
            #expect(receipt.status == .ok && receipt.headers[.contentType] == "application/pdf" && receipt.body.hasPrefix("%PDF"))
            let detail = try await visitor.get("/ma-carte/transactions/\(payment.txn)")
            #expect(detail.status == .ok && detail.body.contains("Seul le partenaire peut annuler un paiement en ligne"))
        }
    }

    @Test("no page shows a whole PAN; the last four digits are shown")
    func noFullPAN() async throws {
        let fixture = try WebFixture("pan")
        let card = fixture.fundedCards[3]
        try await fixture.application().test(.router) { client in
            var visitor = Visitor(client)
            let login = try await visitor.login(card.pan, card.beneficiary.password!)
            #expect(!login.body.contains(card.pan))
            _ = try await visitor.get("/ma-carte/prepaiement/P001")
            let made = try await visitor.post("/ma-carte/prepaiement/P001", [("porte_monnaie", "MANUELS"), ("montant", "3,00")])
            let confirmation = try #require(made.location)
            var seen: [String] = []
            for uri in ["/accueil", "/mon-compte", "/ma-carte", "/ma-carte/prepaiement?nom=", "/ma-carte/prepaiements",
                        "/ma-carte/paiement-en-ligne?nom=", "/ma-carte/transactions", "/ma-carte/probleme", "/mes-documents",
                        "/ou-utiliser-ma-carte", "/ou-utiliser-ma-carte/P001", "/gestion-mot-de-passe", confirmation,
                        "/infos/contact", "/connexion"] {
                let page = try await visitor.get(uri)
                #expect(!page.body.contains(card.pan), "\(uri) shows the whole PAN")
                seen.append(page.body)
            }
            #expect(seen[2].contains(String(card.pan.suffix(4))))
        }
    }
}
