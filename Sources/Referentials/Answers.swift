import Foundation
import HDFDomain

/// How the beneficiary wants to hear of their application ("Indique de quelle manière tu souhaites être notifié(e)").
public enum NotificationPreference: String, CaseIterable, Sendable, Codable {
    case email
    case sms
    case emailAndSMS = "email_sms"
}

/// One answer refused, for its field: the pages tie `message` (French, "tu") to the field named `field`.
public struct FieldError: Error, Equatable, Sendable, CustomStringConvertible {
    public let field: String
    public let message: String
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
    public var description: String { "\(field): \(message)" }
}

/// The refused answers of a submission, all at once (a form shows every error beside its field).
public struct AnswersRefused: Error, Equatable, Sendable, CustomStringConvertible {
    public let errors: [FieldError]
    public init(errors: [FieldError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "; ") }
}

/// What a "Demande de carte" answers (contract §9, the guide's pages for each situation).
public struct ApplicationAnswers: Sendable, Equatable {
    public var situation: ApplicantSituation?
    /// The level ("niveau de formation"): one of `situation.levels`.
    public var level: String?
    /// The BAN id of the address picked (code postal → ville → rue → numéro).
    public var addressID: String?
    /// "complément d'adresse, boîte postale" (optional).
    public var addressComplement: String = ""
    public var establishmentUAI: String?
    public var boursier: Bool = false
    /// Apprentis: is the CFA in the Hauts-de-France region?
    public var cfaInHautsDeFrance: Bool?
    /// Apprentis: the contract's signature date and end date.
    public var contractSignedOn: LocalDate?
    public var contractEndsOn: LocalDate?
    /// Apprentis: in apprenticeship the previous year? With a different diploma then?
    public var apprenticeLastYear: Bool?
    public var differentDiplomaLastYear: Bool?
    /// Stored names of the uploads (UploadStore).
    public var photoUpload: String?
    public var contractUpload: String?
    public var notification: NotificationPreference?

    public init() {}
}

/// Answers checked against the référentiels and the rights: what the ledger stores.
public struct CheckedApplication: Sendable, Equatable {
    public let situation: ApplicantSituation
    public let level: String
    public let address: AddressPoint
    public let addressComplement: String
    public let establishment: Establishment
    public let boursier: Bool
    public let cfaInHautsDeFrance: Bool?
    public let contractSignedOn: LocalDate?
    public let contractEndsOn: LocalDate?
    public let apprenticeLastYear: Bool?
    public let differentDiplomaLastYear: Bool?
    public let photoUpload: String
    public let contractUpload: String?
    public let notification: NotificationPreference
    /// What the récapitulatif states and the approval loads.
    public let advantages: [Advantage]
}

/// The référentiels an environment serves, read from `DIR/referentiels/` (docs/referentiels.md).
public struct Referentials: Sendable {
    public static let directoryName = "referentiels"
    public let addresses: AddressReferential
    public let establishments: EstablishmentReferential

    public init(addresses: AddressReferential, establishments: EstablishmentReferential) {
        self.addresses = addresses
        self.establishments = establishments
    }

    /// Loads `adresses-*.csv` (the BAN's files) and `fr-en-annuaire-education*.csv` or `etablissements*.csv` (the
    /// directory's export) from `directory`.
    public static func load(directory: String) throws -> Referentials {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let addressFiles = names.filter { $0.hasPrefix("adresses-") && $0.hasSuffix(".csv") }.sorted().map { directory + "/" + $0 }
        let establishmentFiles = names.filter { ($0.hasPrefix("fr-en-annuaire-education") || $0.hasPrefix("etablissements")) && $0.hasSuffix(".csv") }
            .sorted().map { directory + "/" + $0 }
        guard !addressFiles.isEmpty else {
            throw ReferentialError(file: directory, line: 0, reason: "no address file (adresses-XX.csv)")
        }
        guard !establishmentFiles.isEmpty else {
            throw ReferentialError(file: directory, line: 0, reason: "no establishment file (fr-en-annuaire-education*.csv)")
        }
        return Referentials(addresses: try AddressReferential.load(files: addressFiles),
                            establishments: try EstablishmentReferential.load(files: establishmentFiles))
    }

    /// The longest free text accepted in an answer.
    public static let maximumComplementLength = 100
    /// An apprenticeship contract signed more than this many years ago is not this year's.
    public static let maximumContractAgeYears = 3

    /// Checks every answer; all refusals at once, each tied to its field, in French.
    public func check(_ answers: ApplicationAnswers, rights: RightsFile, uploads: UploadStore, today: LocalDate) throws(AnswersRefused) -> CheckedApplication {
        var errors: [FieldError] = []
        func refuse(_ field: String, _ message: String) { errors.append(FieldError(field: field, message: message)) }

        let situation = answers.situation
        if situation == nil { refuse("situation", "Choisis ta situation à la rentrée prochaine.") }
        var advantages: [Advantage] = []
        if let situation {
            if let level = answers.level, situation.levels.contains(level) {
                if let found = rights.cardAdvantages(situation: situation, level: level) { advantages = found } else {
                    refuse("level", "Ce niveau de formation n'ouvre pas de droit cette année : contacte-nous au 0800 026 080.")
                }
            } else {
                refuse("level", "Choisis ton niveau de formation.")
            }
        }
        let address = answers.addressID.flatMap { addresses.address(id: $0) }
        if address == nil {
            refuse("address", answers.addressID == nil
                   ? "Choisis ton adresse : code postal, ville, rue puis numéro."
                   : "Cette adresse n'est pas dans notre référentiel : choisis-la à nouveau, code postal, ville, rue puis numéro.")
        }
        if answers.addressComplement.count > Self.maximumComplementLength || answers.addressComplement.contains(where: \.isNewline) {
            refuse("address_complement", "Le complément d'adresse tient sur une ligne de \(Self.maximumComplementLength) caractères au plus.")
        }
        let establishment = answers.establishmentUAI.flatMap { establishments.establishment(uai: $0) }
        if establishment == nil {
            refuse("establishment", "Choisis ton établissement dans la liste.")
        } else if let situation, let establishment, !establishment.kinds.contains(situation.establishmentKind) {
            refuse("establishment", "Cet établissement n'accueille pas la situation choisie (\(situation.establishmentKind.label)) : choisis-en un autre.")
        }
        if let photo = answers.photoUpload, uploads.exists(photo) {} else { refuse("photo", "Ajoute ta photo.") }
        if answers.notification == nil { refuse("notification", "Indique comment tu souhaites être notifié(e).") }

        if situation == .apprenti {
            if answers.cfaInHautsDeFrance == nil { refuse("cfa_region", "Indique si ton CFA se situe en Région Hauts-de-France.") }
            if let signed = answers.contractSignedOn {
                if signed > today { refuse("contract_signed_on", "La date de signature de ton contrat ne peut pas être dans le futur.") }
                else if signed < today.adding(months: -12 * Self.maximumContractAgeYears) {
                    refuse("contract_signed_on", "La date de signature de ton contrat date de plus de \(Self.maximumContractAgeYears) ans : vérifie-la.")
                }
                if let ends = answers.contractEndsOn, ends <= signed {
                    refuse("contract_ends_on", "La date de fin de ton contrat doit être après sa date de signature.")
                }
            } else {
                refuse("contract_signed_on", "Indique la date de signature de ton contrat d'apprentissage.")
            }
            if let contract = answers.contractUpload, uploads.exists(contract) {} else {
                refuse("contract", "Dépose ton contrat d'apprentissage (PDF, JPEG ou PNG).")
            }
            if answers.apprenticeLastYear == nil { refuse("apprentice_last_year", "Précise si tu étais en apprentissage l'année précédente.") }
        }
        guard errors.isEmpty, let situation, let level = answers.level, let address, let establishment,
              let photo = answers.photoUpload, let notification = answers.notification else {
            throw AnswersRefused(errors: errors)
        }
        let apprenti = situation == .apprenti
        return CheckedApplication(
            situation: situation, level: level, address: address,
            addressComplement: answers.addressComplement.trimmingCharacters(in: .whitespaces),
            establishment: establishment, boursier: answers.boursier,
            cfaInHautsDeFrance: apprenti ? answers.cfaInHautsDeFrance : nil,
            contractSignedOn: apprenti ? answers.contractSignedOn : nil,
            contractEndsOn: apprenti ? answers.contractEndsOn : nil,
            apprenticeLastYear: apprenti ? answers.apprenticeLastYear : nil,
            differentDiplomaLastYear: apprenti ? answers.differentDiplomaLastYear : nil,
            photoUpload: photo, contractUpload: apprenti ? answers.contractUpload : nil,
            notification: notification, advantages: advantages)
    }
}

/// What a "Demande de THR" answers.
public struct THRAnswers: Sendable, Equatable {
    public var transport: Bool = false
    public var hebergement: Bool = false
    public var restauration: Bool = false
    /// Stored names of the supporting documents (at least one).
    public var documents: [String] = []
    /// Home and establishment: taken from the beneficiary's approved application when these are nil.
    public var addressID: String?
    public var establishmentUAI: String?
    public init() {}

    /// At most this many supporting documents in one request.
    public static let maximumDocuments = 10
}
