import Foundation
import HDFDomain

/// Where a card application or a THR request stands (contract §9). The beneficiary reads the French label on
/// "Accueil".
public enum ReviewStatus: String, CaseIterable, Sendable, Codable {
    case submitted, validated, approved, rejected

    public var label: String {
        switch self {
        case .submitted: return "Demande envoyée"
        case .validated: return "Validée par ton établissement"
        case .approved: return "Carte émise"
        case .rejected: return "Refusée"
        }
    }
}

/// Why a review step or a submission was refused. Nothing changed.
public struct ReviewError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A short machine-readable name for `--json` errors.
    public let code: String
    public let description: String
    public init(_ code: String, _ description: String) {
        self.code = code
        self.description = description
    }
}

/// The answers of a card application as the ledger keeps them (already checked against the référentiels
/// and the rights by the caller: `Referentials.check`).
public struct ApplicationAnswersRecord: Sendable, Equatable {
    public var situation: String
    public var level: String
    public var addressID: String
    public var addressLabel: String
    public var addressComplement: String
    public var postcode: String
    public var inseeCode: String
    public var latitudeMicrodegrees: Int64
    public var longitudeMicrodegrees: Int64
    public var establishmentUAI: String
    public var establishmentName: String
    public var boursier: Bool
    public var cfaInHautsDeFrance: Bool?
    public var contractSignedOn: LocalDate?
    public var contractEndsOn: LocalDate?
    public var apprenticeLastYear: Bool?
    public var differentDiplomaLastYear: Bool?
    public var photoUpload: String
    public var contractUpload: String?
    public var notification: String

    public init(situation: String, level: String, addressID: String, addressLabel: String, addressComplement: String,
                postcode: String, inseeCode: String, latitudeMicrodegrees: Int64, longitudeMicrodegrees: Int64,
                establishmentUAI: String, establishmentName: String, boursier: Bool, cfaInHautsDeFrance: Bool?,
                contractSignedOn: LocalDate?, contractEndsOn: LocalDate?, apprenticeLastYear: Bool?,
                differentDiplomaLastYear: Bool?, photoUpload: String, contractUpload: String?, notification: String) {
        self.situation = situation
        self.level = level
        self.addressID = addressID
        self.addressLabel = addressLabel
        self.addressComplement = addressComplement
        self.postcode = postcode
        self.inseeCode = inseeCode
        self.latitudeMicrodegrees = latitudeMicrodegrees
        self.longitudeMicrodegrees = longitudeMicrodegrees
        self.establishmentUAI = establishmentUAI
        self.establishmentName = establishmentName
        self.boursier = boursier
        self.cfaInHautsDeFrance = cfaInHautsDeFrance
        self.contractSignedOn = contractSignedOn
        self.contractEndsOn = contractEndsOn
        self.apprenticeLastYear = apprenticeLastYear
        self.differentDiplomaLastYear = differentDiplomaLastYear
        self.photoUpload = photoUpload
        self.contractUpload = contractUpload
        self.notification = notification
    }
}

public struct ApplicationRecord: Sendable, Equatable {
    public let id: String
    public let beneficiaryID: Int64
    public let dossier: String
    public let answers: ApplicationAnswersRecord
    public let status: ReviewStatus
    public let reason: String?
    public let cardID: Int64?
    public let submittedAtMillis: Int64
    public let validatedBy: String?
    public let decidedBy: String?
}

/// What a THR request carries into the ledger (distance already computed from the référentiels).
public struct THRRequestInput: Sendable, Equatable {
    public var homeAddressID: String
    public var homeLatitudeMicrodegrees: Int64
    public var homeLongitudeMicrodegrees: Int64
    public var establishmentUAI: String
    public var distanceMetres: Int64
    public var transport: Bool
    public var hebergement: Bool
    public var restauration: Bool
    public var documents: [String]

    public init(homeAddressID: String, homeLatitudeMicrodegrees: Int64, homeLongitudeMicrodegrees: Int64, establishmentUAI: String,
                distanceMetres: Int64, transport: Bool, hebergement: Bool, restauration: Bool, documents: [String]) {
        self.homeAddressID = homeAddressID
        self.homeLatitudeMicrodegrees = homeLatitudeMicrodegrees
        self.homeLongitudeMicrodegrees = homeLongitudeMicrodegrees
        self.establishmentUAI = establishmentUAI
        self.distanceMetres = distanceMetres
        self.transport = transport
        self.hebergement = hebergement
        self.restauration = restauration
        self.documents = documents
    }
}

public struct THRRequestRecord: Sendable, Equatable {
    public let id: String
    public let cardID: Int64
    public let beneficiaryID: Int64
    public let dossier: String
    public let input: THRRequestInput
    public let status: ReviewStatus
    public let reason: String?
    /// Set at approval: what was loaded into each wallet.
    public let transportCents: Int64?
    public let hebergementCents: Int64?
    public let restaurationCents: Int64?
    public let submittedAtMillis: Int64
}

extension LedgerTransaction {
    /// The most rows a list verb returns at once.
    public static let maximumReviewListRows = 10_000
    /// A rejection's reason, on one line.
    public static let maximumReasonLength = 300
    /// Who did a review step, as the audit trail names them.
    public static let maximumActorLength = 64

    static func newReviewID(prefix: String) -> String { prefix + randomCharacters(10) }

    static func checkActor(_ actor: String?) throws -> String? {
        guard let actor else { return nil }
        guard !actor.isEmpty, actor.count <= maximumActorLength, !actor.contains(where: { $0.isNewline }) else {
            throw ReviewError("invalid", "who acts must be 1 to \(maximumActorLength) characters on one line")
        }
        return actor
    }

    // MARK: - Beneficiaries without a card

    /// Adds a beneficiary known by their dossier (a web account before any card). The same dossier with the same
    /// names is the same beneficiary; with other names it is refused.
    @discardableResult
    public func registerBeneficiary(_ beneficiary: BeneficiaryRecord) throws -> Int64 {
        try Self.validateIdentifier(beneficiary.dossier, what: "dossier")
        try Self.validateText(beneficiary.firstName, what: "first name", maximumLength: 80)
        try Self.validateText(beneficiary.lastName, what: "last name", maximumLength: 80)
        if let existing = try db.row("SELECT id, first_name, last_name FROM beneficiaries WHERE dossier = ?", beneficiary.dossier,
                                     map: { (id: $0.int(0), first: $0.text(1), last: $0.text(2)) }) {
            guard existing.first == beneficiary.firstName, existing.last == beneficiary.lastName else {
                throw LedgerError.invalid("dossier '\(beneficiary.dossier)' belongs to another beneficiary")
            }
            return existing.id
        }
        try db.run("""
            INSERT INTO beneficiaries(dossier, first_name, last_name, birth_date, situation, boursier) VALUES (?, ?, ?, ?, ?, ?)
            """, beneficiary.dossier, beneficiary.firstName, beneficiary.lastName, beneficiary.birthDate?.iso,
                   beneficiary.situation?.rawValue, beneficiary.boursier)
        // Read before the audit row is written: `lastInsertRowID` is the connection's last insert, whatever its table.
        let id = db.lastInsertRowID
        try audit(action: "beneficiary.register", subject: beneficiary.dossier, result: "ok")
        return id
    }

    public func beneficiaryID(dossier: String) throws -> Int64 {
        guard let id = try db.scalarInt("SELECT id FROM beneficiaries WHERE dossier = ?", dossier) else {
            throw ReviewError("unknown_dossier", "unknown dossier '\(dossier)'")
        }
        return id
    }

    // MARK: - Card applications

    static let applicationColumns = """
        a.id, a.beneficiary_id, b.dossier, a.situation, a.level, a.address_id, a.address_label, a.address_complement,
        a.postcode, a.insee_code, a.lat_microdeg, a.lon_microdeg, a.establishment_uai, a.establishment_name, a.boursier,
        a.cfa_in_hdf, a.contract_signed_on, a.contract_ends_on, a.apprentice_last_year, a.different_diploma_last_year,
        a.photo_upload, a.contract_upload, a.notification, a.status, a.reason, a.card_id, a.submitted_at_ms,
        a.validated_by, a.decided_by
        """

    static func applicationRecord(_ row: SQLRow) throws -> ApplicationRecord {
        func flag(_ column: Int32) -> Bool? { row.optionalInt(column).map { $0 != 0 } }
        let answers = ApplicationAnswersRecord(
            situation: row.text(3), level: row.text(4), addressID: row.text(5), addressLabel: row.text(6),
            addressComplement: row.text(7), postcode: row.text(8), inseeCode: row.text(9),
            latitudeMicrodegrees: row.int(10), longitudeMicrodegrees: row.int(11), establishmentUAI: row.text(12),
            establishmentName: row.text(13), boursier: row.int(14) != 0, cfaInHautsDeFrance: flag(15),
            contractSignedOn: row.optionalText(16).flatMap(LocalDate.init(iso:)),
            contractEndsOn: row.optionalText(17).flatMap(LocalDate.init(iso:)),
            apprenticeLastYear: flag(18), differentDiplomaLastYear: flag(19), photoUpload: row.text(20),
            contractUpload: row.optionalText(21), notification: row.text(22))
        guard let status = ReviewStatus(rawValue: row.text(23)) else {
            throw LedgerError.storage("application \(row.text(0)) has an unknown status")
        }
        return ApplicationRecord(id: row.text(0), beneficiaryID: row.int(1), dossier: row.text(2), answers: answers,
                                 status: status, reason: row.optionalText(24), cardID: row.optionalInt(25),
                                 submittedAtMillis: row.int(26), validatedBy: row.optionalText(27), decidedBy: row.optionalText(28))
    }

    /// Records a submitted application ("Demande envoyée"). Refused when the dossier is unknown, already has an
    /// application waiting, or already holds an active card.
    public func submitApplication(dossier: String, answers: ApplicationAnswersRecord) throws -> ApplicationRecord {
        let beneficiaryID = try beneficiaryID(dossier: dossier)
        if let open = try db.scalarText("SELECT id FROM applications WHERE beneficiary_id = ? AND status IN ('submitted', 'validated')", beneficiaryID) {
            throw ReviewError("application_open", "dossier '\(dossier)' already has an application waiting (\(open))")
        }
        if try db.scalarInt("SELECT 1 FROM cards WHERE beneficiary_id = ? AND status = 'active'", beneficiaryID) != nil {
            throw ReviewError("has_card", "dossier '\(dossier)' already holds an active card")
        }
        let id = try insertSubmittedApplication(beneficiaryID: beneficiaryID, answers: answers)
        try audit(action: "application.submit", subject: id, result: "ok", detail: "dossier \(dossier) \(answers.situation)/\(answers.level)")
        return try application(id: id)
    }

    /// Records, for a card already issued, the approved application it came from (the demo's card holders, or
    /// an operator moving a card made with `card issue` into the review's history): the home address and the
    /// establishment that a THR request builds on. Refused when the card is not the dossier's.
    public func recordApprovedApplication(dossier: String, answers: ApplicationAnswersRecord, cardID: Int64,
                                          by actor: String?) throws -> ApplicationRecord {
        let actor = try Self.checkActor(actor) ?? ledger.actor
        let beneficiaryID = try beneficiaryID(dossier: dossier)
        guard try db.scalarInt("SELECT beneficiary_id FROM cards WHERE id = ?", cardID) == beneficiaryID else {
            throw ReviewError("not_their_card", "card \(cardID) is not dossier '\(dossier)''s")
        }
        let id = try insertSubmittedApplication(beneficiaryID: beneficiaryID, answers: answers)
        try db.run("""
            UPDATE applications SET status = 'approved', card_id = ?, validated_at_ms = ?, validated_by = ?, decided_at_ms = ?,
                decided_by = ? WHERE id = ?
            """, cardID, nowMillis, actor, nowMillis, actor, id)
        try audit(actor: actor, action: "application.record_approved", subject: id, result: "ok",
                  detail: "dossier \(dossier) card \(cardID) \(answers.situation)/\(answers.level)")
        return try application(id: id)
    }

    /// Every upload an application or a THR request names (what a sweep of abandoned drafts' files keeps).
    public func referencedUploads() throws -> Set<String> {
        var names = Set(try db.rows("SELECT photo_upload FROM applications UNION SELECT contract_upload FROM applications WHERE contract_upload IS NOT NULL") { $0.text(0) })
        for list in try db.rows("SELECT documents FROM thr_requests", map: { $0.text(0) }) {
            for name in list.split(separator: ",") { names.insert(String(name)) }
        }
        return names
    }

    /// The row of a new application, "submitted"; returns its id.
    func insertSubmittedApplication(beneficiaryID: Int64, answers: ApplicationAnswersRecord) throws -> String {
        var id = Self.newReviewID(prefix: "APP-")
        while try db.scalarInt("SELECT 1 FROM applications WHERE id = ?", id) != nil { id = Self.newReviewID(prefix: "APP-") }
        func flag(_ value: Bool?) -> Int? { value.map { $0 ? 1 : 0 } }
        try db.run("""
            INSERT INTO applications(id, beneficiary_id, situation, level, address_id, address_label, address_complement, postcode,
                insee_code, lat_microdeg, lon_microdeg, establishment_uai, establishment_name, boursier, cfa_in_hdf,
                contract_signed_on, contract_ends_on, apprentice_last_year, different_diploma_last_year, photo_upload,
                contract_upload, notification, status, submitted_at_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'submitted', ?)
            """, id, beneficiaryID, answers.situation, answers.level, answers.addressID, answers.addressLabel,
                   answers.addressComplement, answers.postcode, answers.inseeCode, answers.latitudeMicrodegrees,
                   answers.longitudeMicrodegrees, answers.establishmentUAI, answers.establishmentName, answers.boursier,
                   flag(answers.cfaInHautsDeFrance), answers.contractSignedOn?.iso, answers.contractEndsOn?.iso,
                   flag(answers.apprenticeLastYear), flag(answers.differentDiplomaLastYear), answers.photoUpload,
                   answers.contractUpload, answers.notification, nowMillis)
        return id
    }

    public func application(id: String) throws -> ApplicationRecord {
        guard let record = try db.row("SELECT \(Self.applicationColumns) FROM applications a JOIN beneficiaries b ON b.id = a.beneficiary_id WHERE a.id = ?",
                                      id, map: Self.applicationRecord) else {
            throw ReviewError("unknown_application", "unknown application '\(id)'")
        }
        return record
    }

    /// Oldest first (the order a desk works in), at most `maximumReviewListRows`.
    public func applications(status: ReviewStatus? = nil) throws -> [ApplicationRecord] {
        let base = "SELECT \(Self.applicationColumns) FROM applications a JOIN beneficiaries b ON b.id = a.beneficiary_id"
        if let status {
            return try db.rows(base + " WHERE a.status = ? ORDER BY a.submitted_at_ms, a.id LIMIT ?", status.rawValue,
                               Self.maximumReviewListRows, map: Self.applicationRecord)
        }
        return try db.rows(base + " ORDER BY a.submitted_at_ms, a.id LIMIT ?", Self.maximumReviewListRows, map: Self.applicationRecord)
    }

    /// A beneficiary's applications, newest first ("Accueil").
    public func applications(dossier: String) throws -> [ApplicationRecord] {
        try db.rows("SELECT \(Self.applicationColumns) FROM applications a JOIN beneficiaries b ON b.id = a.beneficiary_id WHERE b.dossier = ? ORDER BY a.submitted_at_ms DESC, a.id LIMIT ?",
                    dossier, Self.maximumReviewListRows, map: Self.applicationRecord)
    }

    static func refuseStep(_ what: String, _ id: String, _ status: ReviewStatus, wanted: ReviewStatus) -> ReviewError {
        switch status {
        case .approved: return ReviewError("already_approved", "\(what) \(id) is already approved")
        case .rejected: return ReviewError("already_rejected", "\(what) \(id) was rejected")
        case .validated where wanted == .validated: return ReviewError("already_validated", "\(what) \(id) is already validated")
        case .submitted where wanted == .approved:
            return ReviewError("not_validated", "\(what) \(id) is not validated by the establishment yet")
        default: return ReviewError("invalid_step", "\(what) \(id) is \(status.rawValue)")
        }
    }

    /// The establishment's validation: submitted → validated.
    public func validateApplication(id: String, by actor: String?) throws -> ApplicationRecord {
        let actor = try Self.checkActor(actor)
        let record = try application(id: id)
        guard record.status == .submitted else { throw Self.refuseStep("application", id, record.status, wanted: .validated) }
        try db.run("UPDATE applications SET status = 'validated', validated_at_ms = ?, validated_by = ? WHERE id = ? AND status = 'submitted'",
                   nowMillis, actor ?? ledger.actor, id)
        try audit(actor: actor, action: "application.validate", subject: id, result: "ok", detail: "dossier \(record.dossier)")
        return try application(id: id)
    }

    /// Checks that an application may be approved now (validated); the caller then issues the card and loads it
    /// in this same transaction, then calls `markApplicationApproved`.
    public func applicationToApprove(id: String) throws -> ApplicationRecord {
        let record = try application(id: id)
        guard record.status == .validated else { throw Self.refuseStep("application", id, record.status, wanted: .approved) }
        return record
    }

    public func markApplicationApproved(id: String, cardID: Int64, by actor: String?, detail: String) throws -> ApplicationRecord {
        let actor = try Self.checkActor(actor)
        let changed = try db.run("""
            UPDATE applications SET status = 'approved', card_id = ?, decided_at_ms = ?, decided_by = ? WHERE id = ? AND status = 'validated'
            """, cardID, nowMillis, actor ?? ledger.actor, id)
        guard changed == 1 else { throw ReviewError("invalid_step", "application \(id) is not validated") }
        // The beneficiary's situation and boursier flag become the approved application's (the ledger's older
        // spelling of the situations: `BeneficiarySituation`).
        let approved = try application(id: id)
        let situation: BeneficiarySituation? = switch approved.answers.situation {
        case "lyceen": .lyceen
        case "apprenti": .apprenti
        case "ecole_production": .ecoleDeProduction
        case "post_bac": .postBac
        default: nil
        }
        try db.run("UPDATE beneficiaries SET situation = ?, boursier = ? WHERE id = ?",
                   situation?.rawValue, approved.answers.boursier, approved.beneficiaryID)
        try audit(actor: actor, action: "application.approve", subject: id, result: "ok", detail: detail)
        return try application(id: id)
    }

    public func rejectApplication(id: String, reason: String, by actor: String?) throws -> ApplicationRecord {
        let actor = try Self.checkActor(actor)
        try Self.validateText(reason, what: "reason", maximumLength: Self.maximumReasonLength)
        let record = try application(id: id)
        guard record.status == .submitted || record.status == .validated else {
            throw Self.refuseStep("application", id, record.status, wanted: .rejected)
        }
        try db.run("UPDATE applications SET status = 'rejected', reason = ?, decided_at_ms = ?, decided_by = ? WHERE id = ?",
                   reason, nowMillis, actor ?? ledger.actor, id)
        try audit(actor: actor, action: "application.reject", subject: id, result: "ok", detail: reason)
        return try application(id: id)
    }

    // MARK: - THR requests

    static let thrColumns = """
        t.id, t.card_id, t.beneficiary_id, b.dossier, t.home_address_id, t.home_lat_microdeg, t.home_lon_microdeg,
        t.establishment_uai, t.distance_m, t.transport, t.hebergement, t.restauration, t.documents, t.status, t.reason,
        t.transport_cents, t.hebergement_cents, t.restauration_cents, t.submitted_at_ms
        """

    static func thrRecord(_ row: SQLRow) throws -> THRRequestRecord {
        let input = THRRequestInput(
            homeAddressID: row.text(4), homeLatitudeMicrodegrees: row.int(5), homeLongitudeMicrodegrees: row.int(6),
            establishmentUAI: row.text(7), distanceMetres: row.int(8), transport: row.int(9) != 0,
            hebergement: row.int(10) != 0, restauration: row.int(11) != 0,
            documents: row.text(12).split(separator: ",").map(String.init))
        guard let status = ReviewStatus(rawValue: row.text(13)) else {
            throw LedgerError.storage("THR request \(row.text(0)) has an unknown status")
        }
        return THRRequestRecord(id: row.text(0), cardID: row.int(1), beneficiaryID: row.int(2), dossier: row.text(3), input: input,
                                status: status, reason: row.optionalText(14), transportCents: row.optionalInt(15),
                                hebergementCents: row.optionalInt(16), restaurationCents: row.optionalInt(17),
                                submittedAtMillis: row.int(18))
    }

    /// Records a THR request ("Valider ma demande" → to the establishment) for a card's holder.
    public func submitTHR(pan: PAN, input: THRRequestInput) throws -> THRRequestRecord {
        let card = try card(pan: pan)
        guard card.status == .active else { throw ReviewError("card_blocked", "card \(pan.masked) is blocked (\(card.status.rawValue))") }
        guard input.transport || input.hebergement || input.restauration else {
            throw ReviewError("invalid", "a THR request asks for at least one of transport, hébergement, restauration")
        }
        guard input.distanceMetres >= 0, !input.documents.isEmpty, input.documents.allSatisfy({ !$0.contains(",") }) else {
            throw ReviewError("invalid", "a THR request needs a distance and at least one supporting document")
        }
        if let open = try db.scalarText("SELECT id FROM thr_requests WHERE card_id = ? AND status IN ('submitted', 'validated')", card.id) {
            throw ReviewError("thr_open", "card \(pan.masked) already has a THR request waiting (\(open))")
        }
        var id = Self.newReviewID(prefix: "THR-")
        while try db.scalarInt("SELECT 1 FROM thr_requests WHERE id = ?", id) != nil { id = Self.newReviewID(prefix: "THR-") }
        try db.run("""
            INSERT INTO thr_requests(id, card_id, beneficiary_id, home_address_id, home_lat_microdeg, home_lon_microdeg, establishment_uai,
                distance_m, transport, hebergement, restauration, documents, status, submitted_at_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'submitted', ?)
            """, id, card.id, card.beneficiaryID, input.homeAddressID, input.homeLatitudeMicrodegrees, input.homeLongitudeMicrodegrees,
                   input.establishmentUAI, input.distanceMetres, input.transport, input.hebergement, input.restauration,
                   input.documents.joined(separator: ","), nowMillis)
        try audit(action: "thr.submit", subject: id, result: "ok", detail: "card \(pan.masked) distance \(input.distanceMetres) m")
        return try thrRequest(id: id)
    }

    public func thrRequest(id: String) throws -> THRRequestRecord {
        guard let record = try db.row("SELECT \(Self.thrColumns) FROM thr_requests t JOIN beneficiaries b ON b.id = t.beneficiary_id WHERE t.id = ?",
                                      id, map: Self.thrRecord) else {
            throw ReviewError("unknown_thr", "unknown THR request '\(id)'")
        }
        return record
    }

    public func thrRequests(status: ReviewStatus? = nil) throws -> [THRRequestRecord] {
        let base = "SELECT \(Self.thrColumns) FROM thr_requests t JOIN beneficiaries b ON b.id = t.beneficiary_id"
        if let status {
            return try db.rows(base + " WHERE t.status = ? ORDER BY t.submitted_at_ms, t.id LIMIT ?", status.rawValue,
                               Self.maximumReviewListRows, map: Self.thrRecord)
        }
        return try db.rows(base + " ORDER BY t.submitted_at_ms, t.id LIMIT ?", Self.maximumReviewListRows, map: Self.thrRecord)
    }

    /// A card's THR requests, newest first ("Accueil").
    public func thrRequests(cardID: Int64) throws -> [THRRequestRecord] {
        try db.rows("SELECT \(Self.thrColumns) FROM thr_requests t JOIN beneficiaries b ON b.id = t.beneficiary_id WHERE t.card_id = ? ORDER BY t.submitted_at_ms DESC, t.id LIMIT ?",
                    cardID, Self.maximumReviewListRows, map: Self.thrRecord)
    }

    public func validateTHR(id: String, by actor: String?) throws -> THRRequestRecord {
        let actor = try Self.checkActor(actor)
        let record = try thrRequest(id: id)
        guard record.status == .submitted else { throw Self.refuseStep("THR request", id, record.status, wanted: .validated) }
        try db.run("UPDATE thr_requests SET status = 'validated', validated_at_ms = ?, validated_by = ? WHERE id = ? AND status = 'submitted'",
                   nowMillis, actor ?? ledger.actor, id)
        try audit(actor: actor, action: "thr.validate", subject: id, result: "ok", detail: "dossier \(record.dossier)")
        return try thrRequest(id: id)
    }

    public func thrToApprove(id: String) throws -> THRRequestRecord {
        let record = try thrRequest(id: id)
        guard record.status == .validated else { throw Self.refuseStep("THR request", id, record.status, wanted: .approved) }
        return record
    }

    public func markTHRApproved(id: String, transportCents: Int64, hebergementCents: Int64, restaurationCents: Int64,
                                by actor: String?) throws -> THRRequestRecord {
        let actor = try Self.checkActor(actor)
        let changed = try db.run("""
            UPDATE thr_requests SET status = 'approved', transport_cents = ?, hebergement_cents = ?, restauration_cents = ?,
                decided_at_ms = ?, decided_by = ? WHERE id = ? AND status = 'validated'
            """, transportCents, hebergementCents, restaurationCents, nowMillis, actor ?? ledger.actor, id)
        guard changed == 1 else { throw ReviewError("invalid_step", "THR request \(id) is not validated") }
        try audit(actor: actor, action: "thr.approve", subject: id, result: "ok",
                  detail: "TRANSPORT \(transportCents) HEBERGEMENT \(hebergementCents) RESTAURATION \(restaurationCents)")
        return try thrRequest(id: id)
    }

    public func rejectTHR(id: String, reason: String, by actor: String?) throws -> THRRequestRecord {
        let actor = try Self.checkActor(actor)
        try Self.validateText(reason, what: "reason", maximumLength: Self.maximumReasonLength)
        let record = try thrRequest(id: id)
        guard record.status == .submitted || record.status == .validated else {
            throw Self.refuseStep("THR request", id, record.status, wanted: .rejected)
        }
        try db.run("UPDATE thr_requests SET status = 'rejected', reason = ?, decided_at_ms = ?, decided_by = ? WHERE id = ?",
                   reason, nowMillis, actor ?? ledger.actor, id)
        try audit(actor: actor, action: "thr.reject", subject: id, result: "ok", detail: reason)
        return try thrRequest(id: id)
    }
}
