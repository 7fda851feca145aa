import BeneficiaryOperations
import Foundation
import HDFDomain
import HTTPTypes
import Hummingbird
import Ledger
import Provisioning
import Referentials

/// "Demande de carte" (contract §9): situation → coordonnées (address picked from the BAN référentiel) →
/// établissement (and, for apprentis, the contract) → photo and "Recadrer" → récapitulatif with the
/// advantages and the notification preference → "Envoyer" → "Confirmer" → "J'ai compris".
///
/// The answers live in the session until "Confirmer"; the checks are the référentiels' (`Referentials.check`)
/// and the submission is `ApplicationDesk.submitApplication`, the same as everywhere else.
extension Site {
    static let applicationBase = "/demande-de-carte"

    /// Runs `body` for a logged-in beneficiary who may apply now: phone confirmed, no card, no application open.
    func withApplicant(_ context: WebContext,
                       _ body: (WebAccounts.Identity, WebSession, UserView, ApplicationDraft) async throws -> Response) async throws -> Response {
        try await withUser(context) { identity, session, user in
            let id = identity.beneficiaryID, dossier = identity.dossier
            let (standing, open) = try await pool.run { ledger in
                (try AccountCreation(ledger: ledger).standing(beneficiaryID: id),
                 try ledger.read { tx in try tx.applications(dossier: dossier).contains { $0.status == .submitted || $0.status == .validated } })
            }
            if !standing.phoneConfirmed {
                return pages.page("message", title: "Faire ma demande de carte", values: [
                    "lines": ["Avant de faire ta demande de carte, confirme ton numéro de portable avec le code reçu par SMS."],
                    "okHref": "/confirmer-mon-portable", "okLabel": "Confirmer mon numéro de portable"],
                                  user: user, formToken: session.formToken, menuItem: "/accueil", status: .forbidden)
            }
            if identity.pan != nil || open { return Self.redirect("/accueil") }
            guard referentials != nil else {
                return pages.page("message", title: "Faire ma demande de carte", values: [
                    "lines": ["La demande de carte n'est pas disponible pour le moment : réessaie plus tard ou appelle le 0800 026 080."],
                    "okHref": "/accueil", "okLabel": "OK"], user: user, formToken: session.formToken, menuItem: "/accueil",
                                  status: .serviceUnavailable)
            }
            return try await body(identity, session, user, session.application ?? ApplicationDraft())
        }
    }

    func saveDraft(_ context: WebContext, _ draft: ApplicationDraft?) {
        context.sessions.withLockedSession { data in data?.application = draft }
    }

    func applicationPage(_ template: String, title: String, step: Int, values: [String: Any], session: WebSession, user: UserView,
                         status: HTTPResponse.Status = .ok) -> Response {
        var values = values
        values["steps"] = Self.applicationSteps.enumerated().map { index, label -> [String: Any] in
            ["label": label, "current": index + 1 == step, "number": index + 1]
        }
        values["stepNumber"] = step
        values["stepCount"] = Self.applicationSteps.count
        return pages.page(template, title: title, values: Self.withShownFlags(values), user: user, formToken: session.formToken,
                          menuItem: "/accueil", status: status)
    }

    /// `xShown` for each non-empty list `x`: the templates wrap a list's heading in it (Mustache has no "is
    /// not empty" of its own).
    static func withShownFlags(_ values: [String: Any]) -> [String: Any] {
        var values = values
        for (key, value) in values {
            if let list = value as? [Any], !list.isEmpty { values[key + "Shown"] = true }
        }
        return values
    }


    static let maximumTrainingLabelCharacters = 100
    /// Codes postaux suggested at most (a région has about 1,500).
    static let maximumListedPostcodes = 3_000

    static let applicationSteps = ["Ma situation", "Mes coordonnées", "Mon établissement", "Ma photo", "Récapitulatif"]

    static func levelLabel(_ level: String) -> String {
        switch level {
        case "seconde": return "Seconde"
        case "premiere": return "Première"
        case "terminale": return "Terminale"
        case "cap_1": return "CAP, 1re année"
        case "cap_2": return "CAP, 2e année"
        case "annee_1": return "1re année"
        case "annee_2": return "2e année"
        case "annee_3": return "3e année"
        default: return level
        }
    }

    func addApplicationRoutes(to router: Router<WebContext>) {
        let base = Self.applicationBase
        // 1. Ma situation
        router.get(RouterPath(base)) { _, context -> Response in
            try await withApplicant(context) { _, session, user, draft in
                situationPage(draft: draft, errors: [:], session: session, user: user)
            }
        }
        router.post(RouterPath(base)) { request, context -> Response in
            try await withApplicant(context) { _, session, user, draft in
                let form = try await Self.form(request)
                guard let situation = ApplicantSituation(rawValue: form.text("situation")) else {
                    return situationPage(draft: draft, errors: ["situation": "Choisis ta situation à la rentrée prochaine."], session: session, user: user)
                }
                var draft = draft
                if draft.situation != situation.rawValue {
                    // Another situation: its level, establishment and apprentice answers no longer apply.
                    if let contract = draft.contractUpload { uploads.remove(contract) }
                    draft.level = nil; draft.establishmentUAI = nil; draft.cfaInHautsDeFrance = nil; draft.contractSignedOn = nil
                    draft.contractEndsOn = nil; draft.apprenticeLastYear = nil; draft.differentDiplomaLastYear = nil; draft.contractUpload = nil
                }
                draft.situation = situation.rawValue
                saveDraft(context, draft)
                return Self.redirect(base + "/coordonnees")
            }
        }
        // 2. Mes coordonnées: code postal → ville → rue → numéro, each step a GET offering the référentiel's choices.
        router.get(RouterPath(base + "/coordonnees")) { request, context -> Response in
            try await withApplicant(context) { _, session, user, draft in
                coordinatesPage(draft: draft, query: FormFields(text: request.uri.query ?? ""), errors: [:], session: session, user: user,
                                saved: request.uri.queryParameters.get("enregistre") != nil)
            }
        }
        router.post(RouterPath(base + "/coordonnees")) { request, context -> Response in
            try await withApplicant(context) { _, session, user, draft in
                let form = try await Self.form(request)
                if form["suivant"] != nil {
                    guard draft.addressID != nil else {
                        return coordinatesPage(draft: draft, query: FormFields(values: [:]),
                                               errors: ["adresse": "Choisis ton adresse : code postal, ville, rue puis numéro, et clique sur « Enregistrer »."],
                                               session: session, user: user, saved: false)
                    }
                    return Self.redirect(base + "/etablissement")
                }
                let id = form.text("numero"), complement = form.text("complement")
                var errors: [String: String] = [:]
                if referentials?.addresses.address(id: id) == nil { errors["numero"] = "Choisis le numéro de ta rue dans la liste." }
                if complement.count > Referentials.maximumComplementLength {
                    errors["complement"] = "Le complément d'adresse tient en \(Referentials.maximumComplementLength) caractères au plus."
                }
                guard errors.isEmpty else {
                    return coordinatesPage(draft: draft, query: form, errors: errors, session: session, user: user, saved: false)
                }
                var draft = draft
                draft.addressID = id
                draft.addressComplement = complement
                saveDraft(context, draft)
                return Self.redirect(base + "/coordonnees?enregistre=1")
            }
        }
        // 3. Mon établissement (and the apprentice's contract)
        router.get(RouterPath(base + "/etablissement")) { request, context -> Response in
            try await withApplicant(context) { _, session, user, draft in
                guard draft.applicantSituation != nil else { return Self.redirect(base) }
                return establishmentPage(draft: draft, town: request.uri.queryParameters.get("ville").map { String($0) }, errors: [:],
                                         session: session, user: user)
            }
        }
        router.post(RouterPath(base + "/etablissement")) { request, context -> Response in
            try await withApplicant(context) { _, session, user, draft in
                guard let situation = draft.applicantSituation, let referentials else { return Self.redirect(base) }
                let parsed = try await uploadForm(request)
                let form = parsed.form
                var draft = draft, errors: [String: String] = [:]
                let uai = form.text("etablissement")
                if let establishment = referentials.establishments.establishment(uai: uai), establishment.kinds.contains(situation.establishmentKind) {
                    draft.establishmentUAI = establishment.uai
                } else {
                    errors["etablissement"] = "Choisis ton établissement dans la liste."
                }
                let level = form.text("niveau")
                if situation.levels.contains(level) { draft.level = level } else { errors["niveau"] = "Choisis ton niveau de formation." }
                let training = form.text("formation")
                draft.trainingLabel = training
                if training.isEmpty || training.count > Self.maximumTrainingLabelCharacters || training.contains(where: \.isNewline) {
                    errors["formation"] = "Indique le libellé de ta formation (par exemple « Bac pro Métiers de l'électricité »), \(Self.maximumTrainingLabelCharacters) caractères au plus."
                }
                draft.boursier = form.isChecked("boursier")
                if situation == .apprenti {
                    draft.cfaInHautsDeFrance = Self.yesNo(form.text("cfa_hdf"))
                    if draft.cfaInHautsDeFrance == nil { errors["cfa_hdf"] = "Indique si ton CFA se situe en Région Hauts-de-France." }
                    let signed = Display.parseDate(form.text("signature")), ends = Display.parseDate(form.text("fin"))
                    draft.contractSignedOn = signed?.iso
                    draft.contractEndsOn = ends?.iso
                    if signed == nil { errors["signature"] = "Saisis la date de signature de ton contrat sous la forme jj/mm/aaaa." }
                    if !form.text("fin").isEmpty, ends == nil { errors["fin"] = "Saisis la date de fin de ton contrat sous la forme jj/mm/aaaa." }
                    draft.apprenticeLastYear = Self.yesNo(form.text("apprenti_avant"))
                    if draft.apprenticeLastYear == nil { errors["apprenti_avant"] = "Précise si tu étais en apprentissage l'année précédente." }
                    draft.differentDiplomaLastYear = draft.apprenticeLastYear == true ? Self.yesNo(form.text("diplome_different")) : nil
                    if draft.apprenticeLastYear == true, draft.differentDiplomaLastYear == nil {
                        errors["diplome_different"] = "Précise si le diplôme préparé était différent l'année précédente."
                    }
                    if let bytes = parsed.files["contrat"] {
                        do {
                            let stored = try uploads.store(bytes).name
                            if let previous = draft.contractUpload { uploads.remove(previous) }
                            draft.contractUpload = stored
                        } catch let refusal as UploadRefusal {
                            errors["contrat"] = refusal.message
                        }
                    } else if draft.contractUpload == nil {
                        errors["contrat"] = "Dépose ton contrat d'apprentissage (PDF, JPEG ou PNG, 5 Mo au plus)."
                    }
                }
                saveDraft(context, draft)
                guard errors.isEmpty else {
                    return establishmentPage(draft: draft, town: form.text("ville"), errors: errors, session: session, user: user,
                                             echo: form.values)
                }
                return Self.redirect(base + "/photo")
            }
        }
        // 4. Ma photo, then "Recadrer"
        router.get(RouterPath(base + "/photo")) { _, context -> Response in
            try await withApplicant(context) { _, session, user, draft in
                applicationPage("demande-photo", title: "Ma photo", step: 4, values: ["hasPhoto": draft.photoUpload != nil],
                                session: session, user: user)
            }
        }
        router.post(RouterPath(base + "/photo")) { request, context -> Response in
            try await withApplicant(context) { _, session, user, draft in
                let parsed = try await uploadForm(request)
                var error: String?
                if let bytes = parsed.files["photo"] {
                    do {
                        _ = try UploadStore.check(bytes, allowed: [.jpeg, .png])
                        if ImageSize.of(bytes) == nil {
                            // Refused before anything is written.
                            error = "Cette image n'a pas pu être lue : choisis une autre photo (JPEG ou PNG)."
                        } else {
                            let stored = try uploads.store(bytes, allowed: [.jpeg, .png])
                            var draft = draft
                            if let previous = draft.photoUpload { uploads.remove(previous) }
                            draft.photoUpload = stored.name
                            draft.photoCrop = .whole
                            saveDraft(context, draft)
                            return Self.redirect(base + "/recadrer")
                        }
                    } catch let refusal as UploadRefusal {
                        error = refusal.message
                    }
                } else {
                    error = draft.photoUpload == nil ? "Choisis ta photo (JPEG ou PNG, 5 Mo au plus)." : nil
                    if error == nil { return Self.redirect(base + "/recadrer") }
                }
                return applicationPage("demande-photo", title: "Ma photo", step: 4,
                                       values: ["hasPhoto": draft.photoUpload != nil, "errors": ["photo": error ?? ""]],
                                       session: session, user: user, status: .unprocessableContent)
            }
        }
        router.get(RouterPath(base + "/photo.img")) { _, context -> Response in
            // Only the photo of this session's own draft: nobody else's upload is ever served here.
            guard let session = context.sessions.session, session.beneficiaryID != nil, let name = session.application?.photoUpload,
                  let bytes = try? uploads.read(name) else { return pages.notFound() }
            let type = bytes.first == 0x89 ? "image/png" : "image/jpeg"
            return Response(status: .ok, headers: [.contentType: type, .cacheControl: "private, no-store"],
                            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.get(RouterPath(base + "/recadrer")) { request, context -> Response in
            try await withApplicant(context) { _, session, user, draft in
                guard draft.photoUpload != nil else { return Self.redirect(base + "/photo") }
                return cropPage(draft: draft, errors: [:], done: request.uri.queryParameters.get("fait") != nil, session: session, user: user)
            }
        }
        router.post(RouterPath(base + "/recadrer")) { request, context -> Response in
            try await withApplicant(context) { _, session, user, draft in
                guard draft.photoUpload != nil else { return Self.redirect(base + "/photo") }
                let form = try await Self.form(request)
                guard let crop = PhotoCrop(zoom: form.text("zoom"), x: form.text("x"), y: form.text("y")) else {
                    return cropPage(draft: draft, errors: ["zoom": "Choisis un zoom entre 100 et 300 % et une position entre 0 et 100 %."],
                                    done: false, session: session, user: user)
                }
                var draft = draft
                draft.photoCrop = crop
                saveDraft(context, draft)
                return Self.redirect(base + "/recadrer?fait=1")
            }
        }
        // 5. Récapitulatif → "Envoyer" → "Confirmer" / "Modifier" → "J'ai compris"
        router.get(RouterPath(base + "/recapitulatif")) { _, context -> Response in
            try await withApplicant(context) { _, session, user, draft in
                try await summaryPage(draft: draft, errors: [:], session: session, user: user)
            }
        }
        router.post(RouterPath(base + "/recapitulatif")) { request, context -> Response in
            try await withApplicant(context) { _, session, user, draft in
                let form = try await Self.form(request)
                var draft = draft
                draft.notification = NotificationPreference(rawValue: form.text("notification"))?.rawValue
                saveDraft(context, draft)
                if let errors = try await checkDraft(draft) {
                    return try await summaryPage(draft: draft, errors: errors, session: session, user: user)
                }
                return applicationPage("demande-confirmer", title: "Récapitulatif de la demande", step: 5, values: [:], session: session, user: user)
            }
        }
        router.post(RouterPath(base + "/confirmer")) { _, context -> Response in
            try await withApplicant(context) { identity, session, user, draft in
                guard let referentials else { return Self.redirect(base) }
                let dossier = identity.dossier, directory = configuration.directory
                if draft.trainingLabel.isEmpty {
                    return try await summaryPage(draft: draft, errors: ["formation": "Indique le libellé de ta formation."], session: session, user: user)
                }
                do {
                    _ = try await pool.run { ledger in
                        let desk = ApplicationDesk(layout: EnvironmentLayout(directory: directory), ledger: ledger)
                        return try desk.submitApplication(dossier: dossier, answers: draft.answers, referentials: referentials,
                                                          rights: try desk.rights(), photoCrop: draft.photoCrop?.stored,
                                                          trainingLabel: draft.trainingLabel)
                    }
                } catch let refused as AnswersRefused {
                    return try await summaryPage(draft: draft, errors: Self.fieldErrors(refused), session: session, user: user)
                } catch let refusal as ReviewError where refusal.code == "application_open" || refusal.code == "has_card" {
                    // "Confirmer" clicked twice: the first one sent it.
                    saveDraft(context, nil)
                    return Self.redirect("/accueil")
                }
                saveDraft(context, nil)
                return applicationPage("demande-envoyee", title: "Demande envoyée", step: 5, values: [:], session: session, user: user)
            }
        }
    }

    static func yesNo(_ text: String) -> Bool? { text == "oui" ? true : text == "non" ? false : nil }

    /// A form of these pages: multipart when it carries a file, else URL-encoded (the token was checked by the middleware).
    func uploadForm(_ request: Request) async throws -> (form: FormFields, files: [String: [UInt8]]) {
        var request = request
        if MultipartFields.isMultipart(request) {
            let body = try await request.collectBody(upTo: WebLimits.maximumUploadRequestBytes)
            let parsed = try MultipartFields(body: body, contentType: request.headers[.contentType] ?? "")
            return (parsed.form, parsed.files)
        }
        return (try await Self.form(request), [:])
    }

    static func fieldErrors(_ refused: AnswersRefused) -> [String: String] {
        var errors: [String: String] = [:]
        for error in refused.errors where errors[error.field] == nil { errors[error.field] = error.message }
        return errors
    }

    /// The whole check of the référentiels, without submitting; nil when the draft would be accepted.
    func checkDraft(_ draft: ApplicationDraft) async throws -> [String: String]? {
        guard let referentials else { return ["situation": "La demande de carte n'est pas disponible pour le moment."] }
        let directory = configuration.directory
        return try await pool.run { ledger -> [String: String]? in
            let desk = ApplicationDesk(layout: EnvironmentLayout(directory: directory), ledger: ledger)
            let rights = try desk.rights()
            do throws(AnswersRefused) {
                _ = try referentials.check(draft.answers, rights: rights, uploads: desk.uploads, today: ParisCalendar.today())
                return nil
            } catch {
                return Self.fieldErrors(error)
            }
        }
    }

    // MARK: - The pages

    func situationPage(draft: ApplicationDraft, errors: [String: String], session: WebSession, user: UserView) -> Response {
        let choices = ApplicantSituation.allCases.map { ["value": $0.rawValue, "label": $0.choice, "checked": draft.situation == $0.rawValue] as [String: Any] }
        return applicationPage("demande-situation", title: "Faire ma demande de carte", step: 1,
                               values: ["choices": choices, "errors": errors], session: session, user: user,
                               status: errors.isEmpty ? .ok : .unprocessableContent)
    }

    func coordinatesPage(draft: ApplicationDraft, query: FormFields, errors: [String: String], session: WebSession, user: UserView,
                         saved: Bool) -> Response {
        guard let referentials else { return pages.notFound() }
        let addresses = referentials.addresses
        var values: [String: Any] = ["errors": errors, "saved": saved]
        if let id = draft.addressID, let address = addresses.address(id: id) {
            values["address"] = ["label": address.label, "complement": draft.addressComplement]
        }
        let postcode = query.text("cp").filter { !$0.isWhitespace }
        values["cp"] = postcode
        // The référentiel's codes postaux, offered as the field's suggestions (a list, no script).
        values["postcodes"] = addresses.postcodes.prefix(Self.maximumListedPostcodes).map { ["value": $0] }
        if !postcode.isEmpty {
            let communes = addresses.communes(postcode: postcode)
            if communes.isEmpty {
                values["cpError"] = "Ce code postal n'est pas dans notre référentiel : vérifie-le (5 chiffres), ou appelle le 0800 026 080."
            } else {
                let insee = query.text("commune").isEmpty && communes.count == 1 ? communes[0].inseeCode : query.text("commune")
                values["communes"] = communes.map { ["value": $0.inseeCode, "label": $0.name, "selected": $0.inseeCode == insee] as [String: Any] }
                if communes.contains(where: { $0.inseeCode == insee }) {
                    values["commune"] = insee
                    let street = query.text("voie")
                    let streets = addresses.streets(postcode: postcode, inseeCode: insee)
                    values["streets"] = streets.map { ["value": $0, "selected": $0 == street] as [String: Any] }
                    if streets.contains(street) {
                        values["voie"] = street
                        values["numbers"] = addresses.numbers(postcode: postcode, inseeCode: insee, street: street).map {
                            ["value": $0.id, "label": $0.number, "selected": $0.id == query.text("numero")] as [String: Any]
                        }
                        values["complement"] = query.text("complement").isEmpty ? draft.addressComplement : query.text("complement")
                    }
                }
            }
        }
        return applicationPage("demande-coordonnees", title: "Mes coordonnées", step: 2, values: values, session: session, user: user,
                               status: errors.isEmpty ? .ok : .unprocessableContent)
    }

    func establishmentPage(draft: ApplicationDraft, town: String?, errors: [String: String], session: WebSession, user: UserView,
                           echo: [String: String] = [:]) -> Response {
        guard let referentials, let situation = draft.applicantSituation else { return pages.notFound() }
        let kind = situation.establishmentKind
        let chosen = draft.establishmentUAI.flatMap { referentials.establishments.establishment(uai: $0) }
        let town = (town?.isEmpty == false ? town : nil) ?? chosen?.commune
        let towns = referentials.establishments.communes(kind: kind)
        let listed = town.map { referentials.establishments.establishments(kind: kind, commune: $0) } ?? []
        func yesNo(_ value: Bool?) -> [String: Any] { ["oui": value == true, "non": value == false] }
        var values: [String: Any] = [
            "errors": errors, "situationLabel": situation.choice, "kindLabel": kind.label,
            "towns": towns.map { ["value": $0, "selected": $0 == town] as [String: Any] },
            "town": town ?? "",
            "establishments": listed.map { ["value": $0.uai, "label": "\($0.name) (\($0.uai))", "selected": $0.uai == draft.establishmentUAI] as [String: Any] },
            "levels": situation.levels.map { ["value": $0, "label": Self.levelLabel($0), "selected": $0 == draft.level] as [String: Any] },
            "boursier": draft.boursier,
            "formation": echo["formation"] ?? draft.trainingLabel,
        ]
        if situation == .apprenti {
            values["apprenti"] = [
                "cfa": yesNo(draft.cfaInHautsDeFrance), "before": yesNo(draft.apprenticeLastYear), "different": yesNo(draft.differentDiplomaLastYear),
                "signature": echo["signature"] ?? draft.contractSignedOn.flatMap(LocalDate.init(iso:)).map(Display.date) ?? "",
                "fin": echo["fin"] ?? draft.contractEndsOn.flatMap(LocalDate.init(iso:)).map(Display.date) ?? "",
                "hasContract": draft.contractUpload != nil,
            ] as [String: Any]
        }
        return applicationPage("demande-etablissement", title: "Mon établissement", step: 3, values: values, session: session, user: user,
                               status: errors.isEmpty ? .ok : .unprocessableContent)
    }

    func cropPage(draft: ApplicationDraft, errors: [String: String], done: Bool, session: WebSession, user: UserView) -> Response {
        let crop = draft.photoCrop ?? .whole
        var values: [String: Any] = ["errors": errors, "done": done, "zoom": crop.zoomPercent, "x": crop.centreXPercent, "y": crop.centreYPercent,
                                     "imageHref": Self.applicationBase + "/photo.img"]
        if let name = draft.photoUpload, let bytes = try? uploads.read(name), let size = ImageSize.of(bytes) {
            let frame = crop.frame(imageWidth: size.width, imageHeight: size.height)
            values["preview"] = ["viewBox": "\(frame.x) \(frame.y) \(frame.width) \(frame.height)", "width": size.width, "height": size.height]
        }
        return applicationPage("demande-recadrer", title: "Recadrer ma photo", step: 4, values: values, session: session, user: user,
                               status: errors.isEmpty ? .ok : .unprocessableContent)
    }

    func summaryPage(draft: ApplicationDraft, errors: [String: String], session: WebSession, user: UserView) async throws -> Response {
        guard let referentials else { return pages.notFound() }
        let directory = configuration.directory
        let rights = try await pool.run { ledger in try ApplicationDesk(layout: EnvironmentLayout(directory: directory), ledger: ledger).rights() }
        var lines: [[String: String]] = []
        func add(_ label: String, _ value: String?, _ edit: String) { lines.append(["label": label, "value": value ?? "—", "edit": Self.applicationBase + edit]) }
        let situation = draft.applicantSituation
        add("Situation à la rentrée prochaine", situation?.choice, "")
        let address = draft.addressID.flatMap { referentials.addresses.address(id: $0) }
        add("Adresse", address.map { $0.label + (draft.addressComplement.isEmpty ? "" : " — " + draft.addressComplement) }, "/coordonnees")
        let establishment = draft.establishmentUAI.flatMap { referentials.establishments.establishment(uai: $0) }
        add("Établissement", establishment.map { "\($0.name), \($0.commune) (\($0.uai))" }, "/etablissement")
        add("Niveau de formation", draft.level.map(Self.levelLabel), "/etablissement")
        add("Libellé de la formation", draft.trainingLabel.isEmpty ? nil : draft.trainingLabel, "/etablissement")
        add("Boursier", draft.boursier ? "Oui" : "Non", "/etablissement")
        if situation == .apprenti {
            add("CFA en Région Hauts-de-France", draft.cfaInHautsDeFrance.map { $0 ? "Oui" : "Non" }, "/etablissement")
            add("Contrat signé le", draft.contractSignedOn.flatMap(LocalDate.init(iso:)).map(Display.date), "/etablissement")
            add("Fin du contrat", draft.contractEndsOn.flatMap(LocalDate.init(iso:)).map(Display.date), "/etablissement")
            add("Contrat d'apprentissage", draft.contractUpload == nil ? nil : "Déposé", "/etablissement")
            add("En apprentissage l'année précédente", draft.apprenticeLastYear.map { $0 ? "Oui" : "Non" }, "/etablissement")
        }
        add("Photo", draft.photoUpload == nil ? nil : "Ajoutée", "/photo")
        var advantages: [[String: String]] = []
        if let situation, let level = draft.level, let found = rights.cardAdvantages(situation: situation, level: level) {
            advantages = found.map { ["sentence": $0.sentence, "note": $0.validityNote ?? ""] }
        }
        let preference = draft.notification
        let notifications: [[String: Any]] = [
            ["value": NotificationPreference.email.rawValue, "label": "Par e-mail"],
            ["value": NotificationPreference.sms.rawValue, "label": "Par SMS"],
            ["value": NotificationPreference.emailAndSMS.rawValue, "label": "Par e-mail et par SMS"],
        ].map { choice in var choice = choice; choice["checked"] = (choice["value"] as? String) == preference; return choice }
        return applicationPage("demande-recapitulatif", title: "Récapitulatif de la demande", step: 5,
                               values: ["lines": lines, "advantages": advantages, "notifications": notifications, "errors": errors,
                                        "errorList": errors.sorted { $0.key < $1.key }.map { ["message": $0.value] }],
                               session: session, user: user, status: errors.isEmpty ? .ok : .unprocessableContent)
    }
}
