import BeneficiaryOperations
import Foundation
import HDFDomain
import Ledger
import PartnerPKI
import Referentials

/// (issue 10) The demo's référentiels, rights file, uploads and applications (contract §9, "In the demo
/// environment"): one application waiting for the establishment, one validated and waiting for approval.
/// The apprentis among the demo's card holders have the approved application their card came from (home and CFA on
/// record), so each can request THR on the web space.
extension DemoEnvironment {
    /// Where `gateway demo` reads the shipped extracts: `HDF_REFERENTIELS_SOURCE` if set, else the checkout's
    /// `referentiels/` (this source file's `../../referentiels`).
    public static var referentialsSource: String {
        if let path = ProcessInfo.processInfo.environment["HDF_REFERENTIELS_SOURCE"], !path.isEmpty { return path }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("referentiels").path
    }

    /// The environment's files of issue 10: `DIR/referentiels/` (copied from the shipped extracts),
    /// `DIR/rights.json` (the defaults) and `DIR/uploads/` (0700). Returns the loaded référentiels.
    static func prepareApplicationFiles(layout: EnvironmentLayout) throws -> Referentials {
        let fileManager = FileManager.default
        let source = referentialsSource
        let target = layout.path(Referentials.directoryName)
        try? fileManager.removeItem(atPath: target)
        try fileManager.createDirectory(atPath: target, withIntermediateDirectories: true)
        let names = (try? fileManager.contentsOfDirectory(atPath: source))?.filter { $0.hasSuffix(".csv") } ?? []
        guard !names.isEmpty else {
            throw ReferentialError(file: source, line: 0, reason: "no référentiel extracts to copy (set HDF_REFERENTIELS_SOURCE to the checkout's referentiels/)")
        }
        for name in names { try fileManager.copyItem(atPath: source + "/" + name, toPath: target + "/" + name) }
        try PublicFile.write(path: layout.path(RightsFile.fileName), bytes: Array(try RightsFile.defaults.encoded()))
        return try Referentials.load(directory: target)
    }

    /// A real 1×1 PNG (a grey pixel): the demo beneficiaries' photo.
    static let demoPhotoPNG: [UInt8] = Array(Data(base64Encoded:
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")!)

    /// A one-page PDF saying what it stands for (the demo's apprenticeship contract and THR documents).
    static func demoPDF(_ text: String) -> [UInt8] {
        let content = "BT /F1 14 Tf 72 720 Td (\(text)) Tj ET"
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            "<< /Length \(content.utf8.count) >>\nstream\n\(content)\nendstream",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
        var out = "%PDF-1.4\n"
        var offsets: [Int] = []
        for (index, object) in objects.enumerated() {
            offsets.append(out.utf8.count)
            out += "\(index + 1) 0 obj\n\(object)\nendobj\n"
        }
        let xref = out.utf8.count
        out += "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
        for offset in offsets { out += String(repeating: "0", count: 10 - String(offset).count) + "\(offset) 00000 n \n" }
        out += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        return Array(out.utf8)
    }

    struct ApplicationSeed {
        let beneficiary: BeneficiaryRecord
        let situation: ApplicantSituation
        let level: String
        let addressID: String
        let establishmentUAI: String
        let validatedBy: String?
    }

    static let applicationSeeds: [ApplicationSeed] = [
        ApplicationSeed(beneficiary: BeneficiaryRecord(dossier: "HDF-2026-2001", firstName: "Clémence", lastName: "Roussel",
                                                       birthDate: LocalDate(year: 2011, month: 4, day: 9)),
                        situation: .lyceen, level: "seconde", addressID: "80021_3150_00012", establishmentUAI: "0800101A",
                        validatedBy: nil),
        ApplicationSeed(beneficiary: BeneficiaryRecord(dossier: "HDF-2026-2002", firstName: "Kylian", lastName: "Vandamme",
                                                       birthDate: LocalDate(year: 2009, month: 11, day: 23)),
                        situation: .apprenti, level: "annee_1", addressID: "59350_6950_00010", establishmentUAI: "0590203A",
                        validatedBy: "etablissement:0590203A"),
    ]

    /// (contract §2) The account that has just been created: no application yet.
    static let newAccountSeed = BeneficiaryRecord(dossier: "HDF-2026-2003", firstName: "Inès", lastName: "Lefebvre",
                                                  birthDate: LocalDate(year: 2010, month: 6, day: 2))

    /// Inside the demo's one ledger transaction: the beneficiaries without a card, each with a web-space account
    /// (the demo's password, as for the card holders), and their applications, checked like any submission.
    /// Returns them as the manifest's `accounts`.
    static func seedApplications(_ tx: LedgerTransaction, layout: EnvironmentLayout,
                                 referentials: Referentials) throws -> [DemoManifest.Account] {
        let uploads = UploadStore(environmentDirectory: layout.directory)
        var accounts: [DemoManifest.Account] = []
        func account(_ beneficiary: BeneficiaryRecord, id: Int64, state: String, index: Int) throws {
            let password = demoPassword(dossier: beneficiary.dossier)
            let email = "compte.\(beneficiary.dossier.suffix(4))@demo.generation-hdf.example"
            let phone = "06 98 76 54 \(String(format: "%02d", index))"
            try WebAccounts.createAccount(tx, beneficiaryID: id,
                                          passwordHash: WebAccounts.hash(password: password, cost: WebAccounts.demoPasswordHashCost),
                                          email: email, phone: phone, establishment: "")
            accounts.append(.init(dossier: beneficiary.dossier, password: password, birthDate: beneficiary.birthDate?.iso ?? "",
                                  email: email, phone: phone, state: state))
        }
        for (index, seed) in applicationSeeds.enumerated() {
            let id = try tx.registerBeneficiary(seed.beneficiary)
            var answers = ApplicationAnswers()
            answers.situation = seed.situation
            answers.level = seed.level
            answers.addressID = seed.addressID
            answers.establishmentUAI = seed.establishmentUAI
            answers.photoUpload = try uploads.store(demoPhotoPNG, allowed: [.jpeg, .png]).name
            answers.notification = .emailAndSMS
            if seed.situation == .apprenti {
                answers.cfaInHautsDeFrance = true
                answers.contractSignedOn = tx.today.adding(months: -2)
                answers.contractEndsOn = tx.today.adding(months: 22)
                answers.apprenticeLastYear = false
                answers.contractUpload = try uploads.store(demoPDF("Contrat d'apprentissage (demo)")).name
            }
            let checked = try referentials.check(answers, rights: .defaults, uploads: uploads, today: tx.today)
            let application = try tx.submitApplication(dossier: seed.beneficiary.dossier, answers: ApplicationDesk.answersRecord(checked))
            if let validator = seed.validatedBy { _ = try tx.validateApplication(id: application.id, by: validator) }
            try account(seed.beneficiary, id: id, state: seed.validatedBy == nil ? "submitted" : "validated", index: index + 1)
        }
        let id = try tx.registerBeneficiary(newAccountSeed)
        try account(newAccountSeed, id: id, state: "new", index: 0)
        return accounts.sorted { $0.dossier < $1.dossier }
    }

    /// Homes and CFAs of the demo's apprentis (BAN ids and UAIs of the shipped extracts), in turn.
    static let apprenticeHomes: [(addressID: String, cfa: String)] = [
        ("59512_0400_00002", "0590203A"),   // Roubaix → CFA Lille Métropole Industrie
        ("62041_0450_00001", "0620302S"),   // Arras → CFA de l'Artois
        ("62193_0660_00001", "0620304U"),   // Calais → CFA du Calaisis
        ("80021_3150_00001", "0800103C"),   // Amiens → CFA des Métiers de la Somme
    ]

    /// For each active card of an apprenti, the approved application it came from, checked like any
    /// submission (`Referentials.check`), so that "Demande de THR" knows their home and their CFA.
    static func seedApprenticeApplications(_ tx: LedgerTransaction, layout: EnvironmentLayout, referentials: Referentials,
                                           cards: [DemoManifest.Card]) throws {
        let uploads = UploadStore(environmentDirectory: layout.directory)
        var next = 0
        for card in cards where card.status == CardStatus.active.rawValue {
            let record = try tx.card(pan: try PAN(validating: card.pan))
            let beneficiary = try tx.beneficiary(id: record.beneficiaryID)
            guard beneficiary.situation == .apprenti else { continue }
            let home = apprenticeHomes[next % apprenticeHomes.count]
            next += 1
            var answers = ApplicationAnswers()
            answers.situation = .apprenti
            answers.level = "annee_1"
            answers.addressID = home.addressID
            answers.establishmentUAI = home.cfa
            answers.boursier = beneficiary.boursier
            answers.cfaInHautsDeFrance = true
            answers.contractSignedOn = tx.today.adding(months: -3)
            answers.contractEndsOn = tx.today.adding(months: 21)
            answers.apprenticeLastYear = false
            answers.photoUpload = try uploads.store(demoPhotoPNG, allowed: [.jpeg, .png]).name
            answers.contractUpload = try uploads.store(demoPDF("Contrat d'apprentissage (demo)")).name
            answers.notification = .email
            let checked = try referentials.check(answers, rights: .defaults, uploads: uploads, today: tx.today)
            _ = try tx.recordApprovedApplication(dossier: beneficiary.dossier, answers: ApplicationDesk.answersRecord(checked),
                                                 cardID: record.id, by: "region:demo")
        }
    }
}
