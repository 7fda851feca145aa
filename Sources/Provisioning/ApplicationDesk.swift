import CardApplication
import Foundation
import HDFDomain
import Ledger
import Referentials

/// The card applications and THR requests of an environment: submission (the beneficiary's pages call it),
/// and the review verbs (`gateway application|thr list|validate|approve|reject`).
///
/// Approval issues the card exactly as `card issue` does and loads the rights' wallets, all in ONE ledger
/// transaction: a failure anywhere leaves no card, no load and the application still validated.
public struct ApplicationDesk {
    public let layout: EnvironmentLayout
    public let ledger: Ledger

    public init(directory: String, actor: String = "operator") throws {
        layout = EnvironmentLayout(directory: directory)
        ledger = try Ledger.open(directory: layout.directory, actor: actor)
    }

    public init(layout: EnvironmentLayout, ledger: Ledger) {
        self.layout = layout
        self.ledger = ledger
    }

    public var rightsPath: String { layout.path(RightsFile.fileName) }
    public var referentialsDirectory: String { layout.path(Referentials.directoryName) }
    public var uploads: UploadStore { UploadStore(environmentDirectory: layout.directory) }

    public func rights() throws -> RightsFile { try RightsFile.load(path: rightsPath) }
    public func referentials() throws -> Referentials { try Referentials.load(directory: referentialsDirectory) }

    // MARK: - Submission (the beneficiary's side)

    /// Checks the answers (French messages per field, all at once: `AnswersRefused`) and records the
    /// application as "Demande envoyée". Returns it with the advantages the récapitulatif states.
    public func submitApplication(dossier: String, answers: ApplicationAnswers, referentials: Referentials,
                                  rights: RightsFile, photoCrop: String? = nil, trainingLabel: String? = nil,
                                  now: Date = Date()) throws -> (ApplicationRecord, [Advantage]) {
        let checked = try referentials.check(answers, rights: rights, uploads: uploads, today: ParisCalendar.businessDay(of: now))
        let record = Self.answersRecord(checked)
        let application = try ledger.write(now: now) { tx in
            let application = try tx.submitApplication(dossier: dossier, answers: record)
            // "Recadrer" (the web space): the frame kept for the card's printing, in the same transaction.
            if let photoCrop {
                try tx.ledger.connection.run("UPDATE applications SET photo_crop = ? WHERE id = ?", photoCrop, application.id)
            }
            if let trainingLabel {
                try tx.ledger.connection.run("UPDATE applications SET training_label = ? WHERE id = ?", trainingLabel, application.id)
            }
            return application
        }
        return (application, checked.advantages)
    }

    /// Checked answers as the ledger keeps them.
    public static func answersRecord(_ checked: CheckedApplication) -> ApplicationAnswersRecord {
        ApplicationAnswersRecord(
            situation: checked.situation.rawValue, level: checked.level, addressID: checked.address.id,
            addressLabel: checked.address.label, addressComplement: checked.addressComplement,
            postcode: checked.address.commune.postcode, inseeCode: checked.address.commune.inseeCode,
            latitudeMicrodegrees: Int64(checked.address.coordinates.latitudeMicrodegrees),
            longitudeMicrodegrees: Int64(checked.address.coordinates.longitudeMicrodegrees),
            establishmentUAI: checked.establishment.uai, establishmentName: checked.establishment.name,
            boursier: checked.boursier, cfaInHautsDeFrance: checked.cfaInHautsDeFrance,
            contractSignedOn: checked.contractSignedOn, contractEndsOn: checked.contractEndsOn,
            apprenticeLastYear: checked.apprenticeLastYear, differentDiplomaLastYear: checked.differentDiplomaLastYear,
            photoUpload: checked.photoUpload, contractUpload: checked.contractUpload, notification: checked.notification.rawValue)
    }

    /// The THR request of an apprenti card holder: home and establishment from the answers or, when absent, from
    /// their approved application; the distance computed (haversine, whole metres) and stored.
    public func submitTHR(pan: PAN, answers: THRAnswers, referentials: Referentials, now: Date = Date()) throws -> THRRequestRecord {
        var errors: [FieldError] = []
        if !(answers.transport || answers.hebergement || answers.restauration) {
            errors.append(FieldError(field: "parts", message: "Choisis au moins une aide : transport, hébergement ou restauration."))
        }
        if answers.documents.isEmpty {
            errors.append(FieldError(field: "documents", message: "Joins au moins un justificatif."))
        } else if answers.documents.count > THRAnswers.maximumDocuments {
            errors.append(FieldError(field: "documents", message: "Joins au plus \(THRAnswers.maximumDocuments) justificatifs."))
        } else if !answers.documents.allSatisfy(uploads.exists) {
            errors.append(FieldError(field: "documents", message: "Un justificatif est introuvable : dépose-le à nouveau."))
        }
        let (holder, approved) = try ledger.read { tx -> (BeneficiaryRecord, ApplicationRecord?) in
            let card = try tx.card(pan: pan)
            let beneficiary = try tx.beneficiary(id: card.beneficiaryID)
            return (beneficiary, try tx.applications(dossier: beneficiary.dossier).first { $0.status == .approved })
        }
        let isApprenti = approved.map { $0.answers.situation == ApplicantSituation.apprenti.rawValue } ?? (holder.situation == .apprenti)
        guard isApprenti else {
            throw ReviewError("not_apprenti", "the THR request is for apprentis; dossier '\(holder.dossier)' is not one")
        }
        let addressID = answers.addressID ?? approved?.answers.addressID
        let uai = answers.establishmentUAI ?? approved?.answers.establishmentUAI
        let home = addressID.flatMap { referentials.addresses.address(id: $0) }
        let establishment = uai.flatMap { referentials.establishments.establishment(uai: $0) }
        if home == nil { errors.append(FieldError(field: "address", message: "Choisis ton adresse : code postal, ville, rue puis numéro.")) }
        if establishment == nil {
            errors.append(FieldError(field: "establishment", message: "Choisis ton CFA dans la liste."))
        } else if establishment?.coordinates == nil {
            errors.append(FieldError(field: "establishment", message: "La position de ton CFA est inconnue : contacte-nous au 0800 026 080."))
        }
        guard errors.isEmpty, let home, let establishment, let place = establishment.coordinates else {
            throw AnswersRefused(errors: errors)
        }
        let distance = Distance.metres(home.coordinates, place)
        let today = ParisCalendar.businessDay(of: now)
        let yearStart = Self.schoolYearStart(of: today)
        let input = THRRequestInput(
            homeAddressID: home.id, homeLatitudeMicrodegrees: Int64(home.coordinates.latitudeMicrodegrees),
            homeLongitudeMicrodegrees: Int64(home.coordinates.longitudeMicrodegrees), establishmentUAI: establishment.uai,
            distanceMetres: Int64(distance), transport: answers.transport, hebergement: answers.hebergement,
            restauration: answers.restauration, documents: answers.documents)
        let outsideRegion = !establishment.isInHautsDeFrance
        return try ledger.write(now: now) { tx in
            // One THR request granted per card and school year (September to August): a refused one may be made again.
            let card = try tx.card(pan: pan)
            let granted = try tx.thrRequests(cardID: card.id).contains { request in
                request.status == .approved
                    && ParisCalendar.businessDay(of: Date(timeIntervalSince1970: Double(request.submittedAtMillis) / 1000)) >= yearStart
            }
            if granted {
                throw ReviewError("thr_granted_this_year", "card \(pan.masked) already has a THR request granted this school year")
            }
            let submitted = try tx.submitTHR(pan: pan, input: input)
            // The guide: a CFA outside the region has no establishment step; the request goes to the Région at once.
            return outsideRegion ? try tx.validateTHR(id: submitted.id, by: Self.outsideRegionValidator) : submitted
        }
    }

    /// Who "validates" a THR request whose CFA is outside the region (it goes straight to the Région).
    public static let outsideRegionValidator = "region:cfa-hors-region"

    /// The first day of the school year `day` is in: 1 September.
    public static func schoolYearStart(of day: LocalDate) -> LocalDate {
        LocalDate(year: day.month >= 9 ? day.year : day.year - 1, month: 9, day: 1)!
    }

    // MARK: - Review (the operator's verbs)

    public func listApplications(status: ReviewStatus?) throws -> [ApplicationRecord] {
        try ledger.read { try $0.applications(status: status) }
    }

    public func validateApplication(id: String, by actor: String?) throws -> ApplicationRecord {
        try ledger.write { try $0.validateApplication(id: id, by: actor) }
    }

    public func rejectApplication(id: String, reason: String, by actor: String?) throws -> ApplicationRecord {
        try ledger.write { try $0.rejectApplication(id: id, reason: reason, by: actor) }
    }

    public struct Approval: Sendable {
        public let application: ApplicationRecord
        public let card: CardOutput
        public let wallets: [WalletOutput]
    }

    /// validated → approved: issues the card as `card issue` does, loads the advantages the rights file gives
    /// for the application's situation and level (MANUELS valid 6 months), in one transaction.
    public func approveApplication(id: String, by actor: String?, now: Date = Date()) throws -> Approval {
        let rights = try rights()
        let masterKey = try IssuerMasterKey.load(layout: layout)
        let (application, card, wallets) = try ledger.write(now: now) { tx in try Self.approve(tx, id: id, rights: rights, by: actor) }
        return Approval(application: application,
                        card: CardOutput(pan: card.pan.digits, key: Hex.encode(masterKey.cardKey(for: card.pan)), status: card.status.rawValue),
                        wallets: wallets.map(WalletOutput.init))
    }

    /// The approval inside a transaction (the verb above, and the demo's approved application).
    static func approve(_ tx: LedgerTransaction, id: String, rights: RightsFile,
                        by actor: String?) throws -> (ApplicationRecord, CardRecord, [WalletRecord]) {
        let application = try tx.applicationToApprove(id: id)
        guard let situation = ApplicantSituation(rawValue: application.answers.situation),
              let advantages = rights.cardAdvantages(situation: situation, level: application.answers.level) else {
            throw ReviewError("no_rights", "the rights file has no rule for \(application.answers.situation)/\(application.answers.level)")
        }
        let beneficiary = try tx.beneficiary(id: application.beneficiaryID)
        let card = try tx.issueCard(beneficiary: beneficiary)
        var wallets: [WalletRecord] = []
        for advantage in advantages {
            wallets.append(try tx.loadWallet(pan: card.pan, code: advantage.wallet, amountCents: advantage.amountCents, validMonths: nil))
        }
        let detail = "card \(card.pan.masked) " + advantages.map { "\($0.wallet.rawValue) \($0.amountCents)" }.joined(separator: " ")
        return (try tx.markApplicationApproved(id: id, cardID: card.id, by: actor, detail: detail), card, wallets)
    }

    public func listTHR(status: ReviewStatus?) throws -> [THRRequestRecord] {
        try ledger.read { try $0.thrRequests(status: status) }
    }

    public func validateTHR(id: String, by actor: String?) throws -> THRRequestRecord {
        try ledger.write { try $0.validateTHR(id: id, by: actor) }
    }

    public func rejectTHR(id: String, reason: String, by actor: String?) throws -> THRRequestRecord {
        try ledger.write { try $0.rejectTHR(id: id, reason: reason, by: actor) }
    }

    /// validated → approved: loads TRANSPORT (by the distance band), HEBERGEMENT and RESTAURATION (for the parts
    /// asked) on the holder's card, by the rights file's scale, in one transaction.
    public func approveTHR(id: String, by actor: String?, now: Date = Date()) throws -> (THRRequestRecord, [WalletOutput]) {
        let rights = try rights()
        return try ledger.write(now: now) { tx in
            let request = try tx.thrToApprove(id: id)
            let card = try tx.card(id: request.cardID)
            guard card.status == .active else {
                throw ReviewError("card_blocked", "card \(card.pan.masked) is blocked (\(card.status.rawValue)): unblock it or reject the request")
            }
            let advantages = rights.thrAdvantages(transport: request.input.transport, hebergement: request.input.hebergement,
                                                  restauration: request.input.restauration,
                                                  distanceMetres: Int(request.input.distanceMetres))
            var wallets: [WalletOutput] = []
            for advantage in advantages {
                wallets.append(WalletOutput(try tx.loadWallet(pan: card.pan, code: advantage.wallet, amountCents: advantage.amountCents,
                                                              validMonths: nil)))
            }
            func amount(_ code: WalletCode) -> Int64 { advantages.first { $0.wallet == code }?.amountCents ?? 0 }
            let approved = try tx.markTHRApproved(id: id, transportCents: amount(.transport), hebergementCents: amount(.hebergement),
                                                  restaurationCents: amount(.restauration), by: actor)
            return (approved, wallets)
        }
    }
}
