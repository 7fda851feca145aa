import BeneficiaryOperations
import Crypto
import Foundation
import HDFDomain
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ledger
import Provisioning
import Testing
@testable import WebSpace

/// "Créer mon compte" and "Demande de carte" through the router (contract §9): every rule that does not need
/// a browser. The browser tests (Tests/Browser) walk the same pages in Chromium.
@Suite("Web space: account creation, activation, SMS code, card application")
struct SignupTests {
    static let password = "Motdepasse-2027"

    static func challenge(_ page: Visitor.Page) throws -> String {
        let range = try #require(page.body.range(of: #"name="defi" value="[^"]+""#, options: .regularExpression))
        return String(page.body[range].dropFirst(#"name="defi" value=""#.count).dropLast())
    }

    static func fields(email: String, overrides: [String: String] = [:]) -> [(String, String)] {
        var values = ["nom": "Durand", "prenom": "Zoé", "naissance": "12/05/2009", "email": email, "portable": "06 11 22 33 44",
                      "mot_de_passe": password, "confirmation": password, "reglement": "1"]
        for (key, value) in overrides { values[key] = value }
        return values.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }
    }

    /// Fills "Créer mon compte" as the page's script would (the proof of work solved); returns the answer.
    static func createAccount(_ visitor: inout Visitor, email: String, overrides: [String: String] = [:], solve: Bool = true) async throws -> Visitor.Page {
        let form = try await visitor.get("/creer-mon-compte/informations")
        let challenge = try challenge(form)
        let answer = solve ? AntiRobot.solve(challenge, bits: WebFixture.antiRobotBits) : ""
        return try await visitor.post("/creer-mon-compte/informations",
                                      fields(email: email, overrides: overrides) + [("defi", challenge), ("preuve", answer)])
    }

    static func dossier(_ page: Visitor.Page) -> String? {
        guard let range = page.body.range(of: #"class="code">HDF-[0-9]{4}-[0-9]{6}<"#, options: .regularExpression) else { return nil }
        return String(page.body[range].dropFirst(#"class="code">"#.count).dropLast())
    }

    static func activationLink(_ text: String) -> String? {
        guard let range = text.range(of: #"/activer-mon-compte\?lien=[0-9a-f]{64}"#, options: .regularExpression) else { return nil }
        return String(text[range])
    }

    static func accountCount(_ fixture: WebFixture) throws -> Int64 {
        try fixture.ledger().read { try $0.ledger.connection.scalarInt("SELECT COUNT(*) FROM web_accounts") ?? -1 }
    }

    @Test("the form: every field refused at once, each tied to its field; the anti-robot step required; nothing created")
    func formRefusals() async throws {
        let fixture = try WebFixture("signup-refusals")
        let before = try Self.accountCount(fixture)
        try await fixture.application().test(.router) { client in
            var visitor = Visitor(client)
            let empty = try await visitor.post("/creer-mon-compte/informations", [("defi", "x"), ("preuve", "1")], token: false)
            #expect(empty.status == .forbidden, "no form token: 403")
            _ = try await visitor.get("/creer-mon-compte/informations")
            let refused = try await visitor.post("/creer-mon-compte/informations", [("portable", "01 23 45 67 89"), ("naissance", "31/02/2009")])
            for field in ["nom", "prenom", "naissance", "email", "portable", "mot_de_passe", "reglement"] {
                #expect(refused.body.contains(#"id="\#(field)-erreur""#), "\(field)")
                #expect(refused.body.contains(#"aria-describedby="\#(field)-erreur""#) || field == "mot_de_passe", "\(field) tied to its error")
            }
            let mismatch = try await Self.createAccount(&visitor, email: "zoe@example.fr", overrides: ["confirmation": "autre-chose-1"])
            #expect(mismatch.body.contains(#"id="confirmation-erreur""#))
            let tooOld = try await Self.createAccount(&visitor, email: "zoe@example.fr", overrides: ["naissance": "01/01/1970"])
            #expect(tooOld.text.contains("pour les jeunes de 11 à 35 ans"))
            let robot = try await Self.createAccount(&visitor, email: "zoe@example.fr", solve: false)
            #expect(robot.text.contains("La vérification anti-robot n'est pas terminée") && Self.dossier(robot) == nil)
            // A wrong answer and a forged challenge.
            let page = try await visitor.get("/creer-mon-compte/informations")
            let challenge = try Self.challenge(page)
            var wrong = 0
            while AntiRobot.leadingZeroBitsOf("\(challenge):\(wrong)") >= WebFixture.antiRobotBits { wrong += 1 }
            let wrongAnswer = try await visitor.post("/creer-mon-compte/informations",
                                                     Self.fields(email: "zoe@example.fr") + [("defi", challenge), ("preuve", "\(wrong)")])
            #expect(wrongAnswer.text.contains("La vérification anti-robot a échoué"))
            let forged = challenge.replacingOccurrences(of: ".\(WebFixture.antiRobotBits).", with: ".1.")
            let forgedAnswer = try await visitor.post("/creer-mon-compte/informations",
                                                      Self.fields(email: "zoe@example.fr") + [("defi", forged), ("preuve", AntiRobot.solve(forged, bits: 1))])
            #expect(forgedAnswer.text.contains("La vérification anti-robot a échoué"))
        }
        #expect(try Self.accountCount(fixture) == before, "nothing created")
        #expect(await fixture.mailbox.mails.isEmpty)
    }

    @Test("the proof of work: single use, expiring, signed")
    func proofOfWork() throws {
        let robot = AntiRobot(difficultyBits: 8)
        let now: Int64 = 1_800_000_000_000
        let challenge = robot.challenge(nowMillis: now)
        let answer = AntiRobot.solve(challenge, bits: 8)
        try robot.verify(challenge: challenge, answer: answer, nowMillis: now + 1_000)
        #expect(throws: AntiRobot.Refusal.alreadyUsed) { try robot.verify(challenge: challenge, answer: answer, nowMillis: now + 2_000) }
        let late = robot.challenge(nowMillis: now)
        #expect(throws: AntiRobot.Refusal.expired) {
            try robot.verify(challenge: late, answer: AntiRobot.solve(late, bits: 8), nowMillis: now + AntiRobot.challengeLifetimeMillis + 1)
        }
        let other = AntiRobot(difficultyBits: 8).challenge(nowMillis: now)
        #expect(throws: AntiRobot.Refusal.forged) { try robot.verify(challenge: other, answer: AntiRobot.solve(other, bits: 8), nowMillis: now) }
        #expect(throws: AntiRobot.Refusal.missing) { try robot.verify(challenge: "", answer: "", nowMillis: now) }
    }

    @Test("create → activation link (single use, expiring) → login → SMS code (5 tries, resend throttled) → Faire ma demande de carte")
    func accountLifecycle() async throws {
        let fixture = try WebFixture("signup")
        try await fixture.application().test(.router) { client in
            var visitor = Visitor(client)
            let created = try await Self.createAccount(&visitor, email: "Zoe.Durand@example.fr")
            #expect(created.status == .ok)
            let dossier = try #require(Self.dossier(created), "\(created.text)")
            let mails = await fixture.mailbox.mails
            #expect(mails.count == 1 && mails[0].to == "Zoe.Durand@example.fr" && mails[0].text.contains(dossier))
            #expect(mails[0].text.contains("Confirmer mon adresse e-mail : http"), "an absolute link")
            let link = try #require(Self.activationLink(mails[0].text))

            // The same e-mail (case aside) cannot make a second account.
            var other = Visitor(client)
            let duplicate = try await Self.createAccount(&other, email: "zoe.durand@EXAMPLE.fr")
            #expect(duplicate.text.contains("Un compte existe déjà avec cette adresse e-mail") && Self.dossier(duplicate) == nil)

            // Not activated: the right password is not enough.
            let early = try await visitor.login(dossier, Self.password)
            #expect(early.text.contains("Ton compte n'est pas encore activé"))
            // "Renvoyer le lien d'activation" just after creation: throttled, no mail.
            _ = try await visitor.get("/renvoyer-le-lien-d-activation")
            let resend = try await visitor.post("/renvoyer-le-lien-d-activation", [("email", "zoe.durand@example.fr"), ("naissance", "12/05/2009")])
            #expect(resend.status == .ok && resend.text.contains("au plus un toutes les 5 minutes"))
            #expect(await fixture.mailbox.mails.count == 1, "throttled: no second link within 5 minutes")

            // Opening the link (a mail scanner does too) changes nothing: its page's button does.
            let opened = try await visitor.get(link)
            #expect(opened.body.contains(">Confirmer mon adresse e-mail</button>"))
            let token = String(link.split(separator: "=").last!)
            #expect(try await visitor.post("/activer-mon-compte", [("lien", token)], token: false).status == .forbidden)
            let activated = try await visitor.post("/activer-mon-compte", [("lien", token)])
            #expect(activated.status == .ok && activated.text.contains("ton compte est activé"))
            _ = try await visitor.get(link)
            #expect(try await visitor.post("/activer-mon-compte", [("lien", token)]).status == .notFound, "a link works once")

            let login = try await visitor.login(dossier, Self.password)
            #expect(login.status == .seeOther)
            let home = try await visitor.get("/accueil")
            #expect(home.body.contains(#"href="/confirmer-mon-portable">Recevoir le code par SMS</a>"#))
            #expect(try await visitor.get("/demande-de-carte").status == .forbidden, "no application before the phone is confirmed")
            #expect(try await visitor.post("/demande-de-carte", [("situation", "lyceen")]).status == .forbidden, "nor a POST")

            _ = try await visitor.get("/confirmer-mon-portable")
            let sent = try await visitor.post("/confirmer-mon-portable/envoyer", [])
            #expect(sent.text.contains("Un code vient de t'être envoyé"))
            let again = try await visitor.post("/confirmer-mon-portable/envoyer", [])
            #expect(again.text.contains("attends") && again.text.contains("secondes"), "resend throttled")
            let sms = try fixture.smsOutbox()
            #expect(sms.count == 1 && sms[0].phone == "0611223344")
            let code = try #require(sms[0].text.split(separator: " ").map { String($0.filter(\.isNumber)) }.first { $0.count == 6 })
            let wrongCode = code == "000000" ? "111111" : "000000"
            for left in stride(from: 4, through: 1, by: -1) {
                let wrong = try await visitor.post("/confirmer-mon-portable", [("code", wrongCode)])
                #expect(wrong.text.contains("il te reste \(left) essai"), "\(left)")
            }
            let fifth = try await visitor.post("/confirmer-mon-portable", [("code", wrongCode)])
            #expect(fifth.text.contains("ce code ne marche plus"))
            let deadCode = try await visitor.post("/confirmer-mon-portable", [("code", String(code))])
            #expect(deadCode.text.contains("ce code ne marche plus"), "after 5 wrong tries even the right code is refused")
        }
        // A new code (after the resend interval) confirms the phone.
        let ledger = try fixture.ledger()
        let id = try ledger.read { try $0.ledger.connection.scalarInt("SELECT beneficiary_id FROM web_accounts WHERE email = 'Zoe.Durand@example.fr'") }
        let beneficiary = try #require(id)
        let later = Date().addingTimeInterval(Double(AccountCreation.smsResendIntervalMillis) / 1000 + 1)
        let (code, _) = try AccountCreation(ledger: ledger).issueSMSCode(beneficiaryID: beneficiary, now: later)
        #expect(throws: AccountCreation.SMSRefusal.expired) {
            try AccountCreation(ledger: ledger).confirmSMSCode(beneficiaryID: beneficiary, code: code,
                                                               now: later.addingTimeInterval(Double(AccountCreation.smsCodeLifetimeMillis) / 1000 + 1))
        }
        try AccountCreation(ledger: ledger).confirmSMSCode(beneficiaryID: beneficiary, code: code, now: later)
        #expect(try AccountCreation(ledger: ledger).standing(beneficiaryID: beneficiary).phoneConfirmed)
        let unknown = try AccountCreation(ledger: ledger).resendActivation(email: "nobody@example.fr", birthDate: LocalDate(year: 2009, month: 5, day: 12)!)
        #expect(unknown == nil, "unknown e-mail: nothing sent")
        // Every step in the audit trail, done by the beneficiary: creation, the throttled resend, activation, a
        // code sent, 5 wrong tries (the right code after them is refused before any check), a second code, the
        // right code.
        let dossier = try ledger.read { try $0.beneficiary(id: beneficiary).dossier }
        let steps = try ledger.read { tx in
            try tx.ledger.connection.rows("SELECT action, result FROM audit WHERE actor = ? ORDER BY id", "beneficiary:" + dossier) {
                "\($0.text(0)):\($0.text(1))"
            }
        }
        #expect(steps == ["web.account_create:ok", "web.activation_resend:throttled", "web.account_activate:ok", "web.sms_code_send:ok"]
                + Array(repeating: "web.sms_code_confirm:wrong_code", count: 5) + ["web.sms_code_send:ok", "web.sms_code_confirm:ok"],
                "\(steps)")
    }

    @Test("an activation link expires after 48 hours")
    func activationExpiry() throws {
        let fixture = try WebFixture("activation-expiry")
        let ledger = try fixture.ledger()
        var form = AccountCreation.Form()
        form.lastName = "Martin"; form.firstName = "Léo"; form.birthDate = "01/02/2008"; form.email = "leo@example.fr"
        form.phone = "+33 7 12 34 56 78"; form.password = Self.password; form.passwordConfirmation = Self.password; form.rulesAccepted = true
        let checked = try AccountCreation.check(form, today: ParisCalendar.today()).get()
        #expect(checked.phone == "0712345678")
        let created = try AccountCreation(ledger: ledger).create(checked, passwordHash: WebAccounts.hash(password: Self.password, cost: 4))
        let late = Date().addingTimeInterval(Double(AccountCreation.activationLinkLifetimeMillis) / 1000 + 60)
        #expect(try AccountCreation(ledger: ledger).activate(token: created.activationToken, now: late) == .invalidLink)
        // A resend after the interval gives a new link, and the old one stops working.
        let resent = try #require(try AccountCreation(ledger: ledger).resendActivation(email: "LEO@example.fr", birthDate: checked.birthDate, now: late))
        #expect(try AccountCreation(ledger: ledger).activate(token: created.activationToken, now: late) == .invalidLink)
        #expect(try AccountCreation(ledger: ledger).activate(token: resent.created.activationToken, now: late) == .activated(dossier: created.dossier))
        #expect(try WebAccounts(ledger: ledger).login(identifier: created.dossier, password: Self.password).isSuccess)
    }

    @Test("Demande de carte: situation → address from the référentiel → establishment → photo by content → Recadrer → récapitulatif → Confirmer")
    func cardApplication() async throws {
        let fixture = try WebFixture("application")
        let account = try #require(fixture.manifest.accounts?.first { $0.state == "new" })
        try await fixture.application().test(.router) { client in
            var visitor = Visitor(client)
            try await visitor.login(account.dossier, account.password)
            _ = try await visitor.get("/demande-de-carte")
            #expect(try await visitor.post("/demande-de-carte", []).text.contains("Choisis ta situation"))
            #expect(try await visitor.post("/demande-de-carte", [("situation", "lyceen")]).location == "/demande-de-carte/coordonnees")
            let unknown = try await visitor.get("/demande-de-carte/coordonnees?cp=99999")
            #expect(unknown.text.contains("Ce code postal n'est pas dans notre référentiel"))
            let communes = try await visitor.get("/demande-de-carte/coordonnees?cp=80000")
            #expect(communes.body.contains(#"<option value="80021" selected>Amiens</option>"#), "one commune: chosen at once")
            let refused = try await visitor.post("/demande-de-carte/coordonnees", [("numero", "80021_nope"), ("cp", "80000")])
            #expect(refused.text.contains("Choisis le numéro de ta rue dans la liste"))
            #expect(try await visitor.post("/demande-de-carte/coordonnees", [("numero", "80021_3150_00012"), ("complement", "chez Mme Roussel")]).status == .seeOther)
            #expect(try await visitor.get("/demande-de-carte/coordonnees").text.contains("chez Mme Roussel"))
            _ = try await visitor.get("/demande-de-carte/etablissement?ville=Amiens")
            let cfa = try await visitor.postMultipart("/demande-de-carte/etablissement", [("etablissement", "0800103C"), ("niveau", "seconde")], files: [])
            #expect(cfa.text.contains("Choisis ton établissement dans la liste"), "a CFA is not a lycée")
            #expect(cfa.text.contains("Indique le libellé de ta formation"))
            #expect(try await visitor.postMultipart("/demande-de-carte/etablissement",
                                                   [("etablissement", "0800101A"), ("niveau", "seconde"), ("formation", "Seconde générale")],
                                                   files: []).location == "/demande-de-carte/photo")
            _ = try await visitor.get("/demande-de-carte/photo")
            // A multipart body is read only for a logged-in beneficiary, on an upload form.
            var anonymous = Visitor(client)
            _ = try await anonymous.get("/connexion")
            #expect(try await anonymous.postMultipart("/demande-de-carte/photo", [], files: [("photo", "p.png", Self.png(width: 10, height: 10))]).status == .forbidden)
            #expect(try await visitor.postMultipart("/mon-compte", [], files: [("photo", "p.png", Self.png(width: 10, height: 10))]).status == .forbidden)
            let tooLarge = try await visitor.postMultipart("/demande-de-carte/photo", [],
                                                           files: [("photo", "big.png", [UInt8](repeating: 0x89, count: 6 * 1024 * 1024))])
            #expect(tooLarge.status == .contentTooLarge && tooLarge.text.contains("dépasse 5 Mo"))
            let uploadsBefore = try FileManager.default.contentsOfDirectory(atPath: fixture.directory + "/uploads").count
            let notImage = try await visitor.postMultipart("/demande-de-carte/photo", [], files: [("photo", "photo.jpg", Array("not an image".utf8))])
            #expect(notImage.status == .unprocessableContent && notImage.text.contains("n'est pas une photo JPEG ou PNG"), "checked by content, not by name")
            let pdf = try await visitor.postMultipart("/demande-de-carte/photo", [], files: [("photo", "photo.png", Array("%PDF-1.4\n%%EOF\n".utf8))])
            #expect(pdf.status == .unprocessableContent, "a PDF is not a photo")
            var headerOnly = Self.png(width: 10, height: 10)
            headerOnly[16...23] = [0, 0, 0, 0, 0, 0, 0, 0]   // a PNG whose size cannot be read
            #expect(try await visitor.postMultipart("/demande-de-carte/photo", [], files: [("photo", "p.png", headerOnly)]).status == .unprocessableContent)
            #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.directory + "/uploads").count == uploadsBefore,
                    "a refused photo leaves no file")
            _ = try await visitor.postMultipart("/demande-de-carte/photo", [], files: [("photo", "first.png", Self.png(width: 70, height: 90))])
            let png = try await visitor.postMultipart("/demande-de-carte/photo", [], files: [("photo", "moi.png", Self.png(width: 700, height: 900))])
            #expect(png.location == "/demande-de-carte/recadrer")
            #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.directory + "/uploads").count == uploadsBefore + 1,
                    "the replaced photo is deleted")
            let crop = try await visitor.get("/demande-de-carte/recadrer")
            #expect(crop.body.contains(#"viewBox="0 0 700 900""#), "the whole photo at first")
            _ = try await visitor.post("/demande-de-carte/recadrer", [("zoom", "200"), ("x", "50"), ("y", "30")])
            let cropped = try await visitor.get("/demande-de-carte/recadrer?fait=1")
            #expect(cropped.body.contains(#"viewBox="175 45 350 450""#), "\(cropped.body)")
            #expect(try await visitor.post("/demande-de-carte/recadrer", [("zoom", "50"), ("x", "50"), ("y", "30")]).status == .unprocessableContent)
            let photo = try await visitor.get("/demande-de-carte/photo.img")
            #expect(photo.status == .ok && photo.headers[.contentType] == "image/png")
            var stranger = Visitor(client)
            #expect(try await stranger.get("/demande-de-carte/photo.img").status == .notFound, "nobody else's upload is served")

            let summary = try await visitor.get("/demande-de-carte/recapitulatif")
            #expect(summary.text.contains("Ton avantage Manuels et équipement : 100 €"))
            let noPreference = try await visitor.post("/demande-de-carte/recapitulatif", [])
            #expect(noPreference.text.contains("Indique comment tu souhaites être notifié(e)"))
            let confirm = try await visitor.post("/demande-de-carte/recapitulatif", [("notification", "email")])
            #expect(confirm.body.contains(">Confirmer</button>") && confirm.body.contains(">Modifier</a>"))
            let sent = try await visitor.post("/demande-de-carte/confirmer", [])
            #expect(sent.text.contains("J'ai compris"))
            #expect(try await visitor.post("/demande-de-carte/confirmer", []).location == "/accueil", "a second click sends nothing more")
            #expect(try await visitor.get("/accueil").text.contains("Demande envoyée"))
            #expect(try await visitor.get("/demande-de-carte").location == "/accueil", "one application at a time")
        }
        let stored = try fixture.ledger().read { tx in
            try tx.ledger.connection.row("""
                SELECT a.situation, a.level, a.address_id, a.address_complement, a.establishment_uai, a.photo_crop, a.notification,
                    a.training_label
                FROM applications a JOIN beneficiaries b ON b.id = a.beneficiary_id WHERE b.dossier = ?
                """, account.dossier) { row in (0..<8).map { row.optionalText(Int32($0)) ?? "" } }
        }
        #expect(stored == ["lyceen", "seconde", "80021_3150_00012", "chez Mme Roussel", "0800101A", "zoom=200;x=50;y=30", "email",
                           "Seconde générale"])
    }

    @Test("SMS codes: 5 a day at most; activation links: 5 a day at most; a failed send lifts the throttle")
    func dailyQuotas() throws {
        let fixture = try WebFixture("quotas")
        let ledger = try fixture.ledger()
        var form = AccountCreation.Form()
        form.lastName = "Petit"; form.firstName = "Noé"; form.birthDate = "02/03/2008"; form.email = "noe@example.fr"
        form.phone = "0612121212"; form.password = Self.password; form.passwordConfirmation = Self.password; form.rulesAccepted = true
        let checked = try AccountCreation.check(form, today: ParisCalendar.today()).get()
        let accounts = AccountCreation(ledger: ledger)
        // Noon, Paris, on a fixed day: every step below stays on that day.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = ParisCalendar.timeZone
        let noon = calendar.date(from: DateComponents(year: 2027, month: 3, day: 10, hour: 12))!
        let created = try accounts.create(checked, passwordHash: WebAccounts.hash(password: Self.password, cost: 4), now: noon)
        let gap = Double(AccountCreation.activationResendIntervalMillis) / 1000 + 1
        for step in 1..<AccountCreation.maximumActivationSendsPerDay {
            #expect(try accounts.resendActivation(email: checked.email, birthDate: checked.birthDate, now: noon.addingTimeInterval(gap * Double(step))) != nil)
        }
        let sixth = noon.addingTimeInterval(gap * Double(AccountCreation.maximumActivationSendsPerDay))
        #expect(try accounts.resendActivation(email: checked.email, birthDate: checked.birthDate, now: sixth) == nil, "5 links a day")
        // A mail that could not be sent gives its place back.
        try accounts.activationMailFailed(beneficiaryID: created.beneficiaryID, now: sixth)
        #expect(try accounts.resendActivation(email: checked.email, birthDate: checked.birthDate, now: sixth) != nil)

        let smsGap = Double(AccountCreation.smsResendIntervalMillis) / 1000 + 1
        for step in 0..<AccountCreation.maximumSMSCodesPerDay {
            _ = try accounts.issueSMSCode(beneficiaryID: created.beneficiaryID, now: noon.addingTimeInterval(smsGap * Double(step)))
        }
        let after = noon.addingTimeInterval(smsGap * Double(AccountCreation.maximumSMSCodesPerDay))
        #expect(throws: AccountCreation.SMSRefusal.dailyQuota) { try accounts.issueSMSCode(beneficiaryID: created.beneficiaryID, now: after) }
        try accounts.smsCodeFailed(beneficiaryID: created.beneficiaryID, now: after)
        _ = try accounts.issueSMSCode(beneficiaryID: created.beneficiaryID, now: after)
        // The next day, codes again.
        _ = try accounts.issueSMSCode(beneficiaryID: created.beneficiaryID, now: noon.addingTimeInterval(24 * 3600))
    }

    @Test("image sizes are read from PNG and JPEG headers; the crop frame stays inside the image")
    func imageSizeAndCrop() {
        #expect(ImageSize.of(Self.png(width: 640, height: 480))! == (640, 480))
        // A JPEG's start: SOI, an APP0 segment, then SOF0 with height 300 and width 200.
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x4A, 0x46, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x01, 0x2C, 0x00, 0xC8, 0x03, 0, 0, 0, 0]
        #expect(ImageSize.of(jpeg)! == (200, 300))
        #expect(ImageSize.of(Array("GIF89a".utf8)) == nil)
        let frame = PhotoCrop(zoomPercent: 300, centreXPercent: 100, centreYPercent: 0).frame(imageWidth: 700, imageHeight: 900)
        #expect(frame.x + frame.width <= 700 && frame.y == 0 && frame.width > 0)
    }

    /// A real PNG header of the given size (the body is not needed to read its size, and the store checks
    /// only the signature).
    static func png(width: Int, height: Int) -> [UInt8] {
        func be32(_ value: Int) -> [UInt8] { [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8) + be32(width) + be32(height)
            + [8, 6, 0, 0, 0, 0, 0, 0, 0] + [0, 0, 0, 0] + Array("IEND".utf8) + [0xAE, 0x42, 0x60, 0x82]
    }
}

extension AntiRobot {
    static func leadingZeroBitsOf(_ text: String) -> Int { leadingZeroBits(SHA256.hash(data: Array(text.utf8))) }
}

extension WebAccounts.LoginOutcome {
    var isSuccess: Bool { if case .success = self { return true } else { return false } }
}
