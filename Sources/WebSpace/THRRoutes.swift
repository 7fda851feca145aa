import BeneficiaryOperations
import Foundation
import HDFDomain
import HTTPTypes
import Hummingbird
import Ledger
import Provisioning
import Referentials

/// "Demande de THR" (contract §9): for an apprenti with a card, the transport part (the distance home →
/// CFA computed from the référentiels and shown), restauration, hébergement, the supporting documents, then
/// "Valider ma demande" → to the establishment. The submission is `ApplicationDesk.submitTHR`.
extension Site {
    /// What the THR pages and "Accueil" need to know of a card holder.
    struct THRContext: Sendable {
        /// The approved apprenti application the request builds on (home and CFA), nil when there is none.
        let application: ApplicationRecord?
        let requests: [THRRequestRecord]
        var isEligible: Bool { application != nil }
        var hasOpenRequest: Bool { requests.contains { $0.status == .submitted || $0.status == .validated } }
        /// One request granted per school year (`ApplicationDesk.submitTHR`).
        var grantedThisYear: Bool {
            let start = ApplicationDesk.schoolYearStart(of: ParisCalendar.today())
            return requests.contains {
                $0.status == .approved && ParisCalendar.businessDay(of: Date(timeIntervalSince1970: Double($0.submittedAtMillis) / 1000)) >= start
            }
        }
        var canRequest: Bool { isEligible && !hasOpenRequest && !grantedThisYear }
    }

    func thrContext(pan: PAN, dossier: String) async throws -> THRContext {
        try await pool.run { ledger in
            try ledger.read { tx in
                let card = try tx.card(pan: pan)
                let approved = try tx.applications(dossier: dossier).first {
                    $0.status == .approved && $0.answers.situation == ApplicantSituation.apprenti.rawValue
                }
                return THRContext(application: approved, requests: try tx.thrRequests(cardID: card.id))
            }
        }
    }

    /// "Accueil": the THR requests of the card, each with its status and, once approved, the amounts.
    static func thrValues(_ context: THRContext) -> [String: Any]? {
        guard context.isEligible else { return nil }
        let requests = context.requests.map { request -> [String: Any] in
            var values: [String: Any] = ["status": request.status.label, "date": Display.dateTime(millis: request.submittedAtMillis)]
            if let reason = request.reason { values["reason"] = reason }
            if request.status == .approved {
                values["amounts"] = [("Transport", request.transportCents), ("Hébergement", request.hebergementCents),
                                     ("Restauration", request.restaurationCents)]
                    .compactMap { label, cents in cents.flatMap { $0 > 0 ? "\(label) : \(Display.amount($0))" : nil } }
                    .joined(separator: ", ")
            }
            return values
        }
        return ["requests": requests, "canRequest": context.canRequest]
    }

    func addTHRRoutes(to router: Router<WebContext>) {
        router.get("/demande-de-thr") { _, context -> Response in
            try await withCard(context) { pan, identity, session, user in
                let thr = try await thrContext(pan: pan, dossier: identity.dossier)
                guard thr.canRequest else { return Self.redirect("/accueil") }
                return try await thrPage(thr, draft: session.thr ?? THRDraft(), errors: [:], added: nil, session: session, user: user)
            }
        }
        router.post("/demande-de-thr") { request, context -> Response in
            try await withCard(context) { pan, identity, session, user in
                let thr = try await thrContext(pan: pan, dossier: identity.dossier)
                guard thr.canRequest, let referentials else { return Self.redirect("/accueil") }
                let (form, files) = try await uploadForm(request)
                var draft = session.thr ?? THRDraft(), errors: [String: String] = [:], added: String?
                draft.transport = form.isChecked("transport")
                draft.hebergement = form.isChecked("hebergement")
                draft.restauration = form.isChecked("restauration")
                if let bytes = files["justificatif"] {
                    if draft.documents.count >= THRAnswers.maximumDocuments {
                        errors["justificatif"] = "Tu as déjà joint \(THRAnswers.maximumDocuments) justificatifs : c'est le maximum."
                    } else {
                        do {
                            draft.documents.append(try uploads.store(bytes).name)
                            added = "Justificatif \(draft.documents.count) déposé."
                        } catch let refusal as UploadRefusal {
                            errors["justificatif"] = refusal.message
                        }
                    }
                } else if form.text("action") == "ajouter" {
                    errors["justificatif"] = "Choisis d'abord le fichier du justificatif (PDF, JPEG ou PNG, 5 Mo au plus)."
                }
                context.sessions.withLockedSession { data in data?.thr = draft }
                guard form.text("action") == "valider", errors.isEmpty else {
                    return try await thrPage(thr, draft: draft, errors: errors, added: added, session: session, user: user)
                }
                var answers = THRAnswers()
                answers.transport = draft.transport
                answers.hebergement = draft.hebergement
                answers.restauration = draft.restauration
                answers.documents = draft.documents
                let directory = configuration.directory, submitted = answers
                let request: THRRequestRecord
                do {
                    request = try await pool.run { ledger in
                        try ApplicationDesk(layout: EnvironmentLayout(directory: directory), ledger: ledger)
                            .submitTHR(pan: pan, answers: submitted, referentials: referentials)
                    }
                } catch let refused as AnswersRefused {
                    return try await thrPage(thr, draft: draft, errors: Self.fieldErrors(refused), added: nil, session: session, user: user)
                } catch let refusal as ReviewError where refusal.code == "thr_open" || refusal.code == "thr_granted_this_year" {
                    context.sessions.withLockedSession { data in data?.thr = nil }
                    return Self.redirect("/accueil")
                }
                context.sessions.withLockedSession { data in data?.thr = nil }
                return pages.page("thr-envoyee", title: "Demande de THR envoyée",
                                  values: ["toRegion": request.status == .validated], user: user, formToken: session.formToken,
                                  menuItem: "/accueil")
            }
        }
    }

    func thrPage(_ thr: THRContext, draft: THRDraft, errors: [String: String], added: String?, session: WebSession,
                 user: UserView) async throws -> Response {
        let directory = configuration.directory
        let rights = try await pool.run { try ApplicationDesk(layout: EnvironmentLayout(directory: directory), ledger: $0).rights() }
        var values: [String: Any] = [
            "draft": ["transport": draft.transport, "hebergement": draft.hebergement, "restauration": draft.restauration],
            "documents": draft.documents.indices.map { ["number": $0 + 1] },
            "errors": errors, "errorList": errors.sorted { $0.key < $1.key }.map { ["message": $0.value] },
            "hebergementAmount": Display.amount(rights.thr.hebergementCents),
            "restaurationAmount": Display.amount(rights.thr.restaurationCents),
        ]
        if let added { values["added"] = added }
        var transportCents: Int64?
        if let application = thr.application, let referentials,
           let home = referentials.addresses.address(id: application.answers.addressID),
           let school = referentials.establishments.establishment(uai: application.answers.establishmentUAI) {
            if let place = school.coordinates {
                let metres = Distance.metres(home.coordinates, place)
                values["distance"] = Self.kilometres(metres)
                transportCents = rights.transportCents(distanceMetres: metres)
            }
            values["home"] = home.label
            values["school"] = school.name
            values["outsideRegion"] = !school.isInHautsDeFrance
        }
        values["transportAmount"] = transportCents.map(Display.amount) ?? "montant selon la distance"
        return pages.page("demande-thr", title: "Demande de THR", values: Self.withShownFlags(values), user: user,
                          formToken: session.formToken, menuItem: "/accueil",
                          status: errors.isEmpty ? .ok : .unprocessableContent)
    }

    /// "12,4 km" (one decimal, French comma).
    static func kilometres(_ metres: Int) -> String {
        let tenths = (metres + 50) / 100
        return "\(tenths / 10),\(tenths % 10) km"
    }
}
