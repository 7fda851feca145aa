import CardApplication
import Foundation
import HDFDomain
import Ledger
import Provisioning
import Referentials
import Testing

/// Contract §9's review verbs run as an operator runs them (separate processes on the demo's ledger), the
/// submissions the pages will make through the library, and an approved card that pays.
@Suite("Card applications and THR requests: submission, review, the card that pays", .serialized)
struct ApplicationReviewTests {
    @Test("list, validate, approve (card + MANUELS in one go), reject; every refusal clean and changing nothing")
    func applicationReview() throws {
        let dir = try Gateway.demo()
        defer { try? FileManager.default.removeItem(atPath: dir) }

        let listed = try Gateway.run(["application", "list", "--dir", dir, "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let everything = try #require(listed.json?["applications"] as? [[String: Any]])
        // The demo's apprentis with a card have the approved application their card came from.
        let approvedAtStart = everything.filter { $0["status"] as? String == "approved" }
        #expect(!approvedAtStart.isEmpty && approvedAtStart.allSatisfy { $0["situation"] as? String == "apprenti" })
        let applications = everything.filter { $0["status"] as? String != "approved" }
        #expect(applications.count == 2)
        for application in applications { #expect(Set(application.keys) == ["id", "dossier", "situation", "status"]) }
        let submitted = try #require(applications.first { $0["status"] as? String == "submitted" })
        let validated = try #require(applications.first { $0["status"] as? String == "validated" })
        #expect(submitted["situation"] as? String == "lyceen" && validated["situation"] as? String == "apprenti")
        let lyceen = try #require(submitted["id"] as? String)
        let apprenti = try #require(validated["id"] as? String)

        let onlySubmitted = try Gateway.run(["application", "list", "--dir", dir, "--status", "submitted", "--json"])
        #expect((onlySubmitted.json?["applications"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [lyceen])
        try Gateway.expectRefusal(["application", "list", "--dir", dir, "--status", "pending"], code: "invalid_status", dir: dir)

        // Refusals: approving an unvalidated one, an unknown id.
        try Gateway.expectRefusal(["application", "approve", "--dir", dir, "--id", lyceen], code: "not_validated", dir: dir)
        try Gateway.expectRefusal(["application", "approve", "--dir", dir, "--id", "APP-NOPE"], code: "unknown_application", dir: dir)

        let validation = try Gateway.run(["application", "validate", "--dir", dir, "--id", lyceen, "--by", "etablissement:0800101A", "--json"])
        #expect(validation.status == 0, "\(validation.stderr)")
        #expect((validation.json?["application"] as? [String: Any])?["status"] as? String == "validated")
        try Gateway.expectRefusal(["application", "validate", "--dir", dir, "--id", lyceen], code: "already_validated", dir: dir)

        let approval = try Gateway.run(["application", "approve", "--dir", dir, "--id", lyceen, "--by", "region:instructeur-1", "--json"])
        #expect(approval.status == 0, "\(approval.stderr)")
        let object = try #require(approval.json)
        #expect(Set(object.keys) == ["card", "wallets"])
        let card = try #require(object["card"] as? [String: Any])
        #expect(Set(card.keys) == ["pan", "key"])
        let pan = try PAN(validating: try #require(card["pan"] as? String))
        let key = try #require(card["key"] as? String)
        #expect(key.count == 32)
        let wallets = try #require(object["wallets"] as? [[String: Any]])
        #expect(wallets.count == 1)
        #expect(wallets.first?["code"] as? String == "MANUELS")
        #expect(wallets.first?["balance"] as? Int == 10_000, "lycéen in seconde: 100 €")
        #expect(wallets.first?["expires"] as? String == ParisCalendar.today().adding(months: 6).iso, "MANUELS: 6 months")

        // The beneficiary is told by mail and SMS (the application asked for both), in the outbox, at the
        // addresses of their web-space account (contract §8's outbox format).
        let manifest = try DemoManifest.load(layout: EnvironmentLayout(directory: dir))
        let account = try #require(manifest.accounts?.first { $0.dossier == "HDF-2026-2001" })
        let mails = try FileManager.default.contentsOfDirectory(atPath: dir + "/outbox/mail").filter { $0.hasSuffix(".eml") }
        #expect(mails.count == 1)
        let mail = try String(contentsOfFile: dir + "/outbox/mail/" + (mails.first ?? ""), encoding: .utf8)
        #expect(mail.contains("To: <\(account.email)>") && mail.contains("Subject:"), "\(mail)")
        let smsFiles = try FileManager.default.contentsOfDirectory(atPath: dir + "/outbox/sms")
        #expect(smsFiles.count == 1)
        let sms = try String(contentsOfFile: dir + "/outbox/sms/" + (smsFiles.first ?? ""), encoding: .utf8).split(separator: "\n")
        #expect(sms.first.map(String.init) == account.phone && sms.dropFirst().first?.contains("Manuels et équipement : 100,00") == true,
                "\(sms)")

        try Gateway.expectRefusal(["application", "approve", "--dir", dir, "--id", lyceen], code: "already_approved", dir: dir)
        try Gateway.expectRefusal(["application", "reject", "--dir", dir, "--id", lyceen, "--reason", "trop tard"], code: "already_approved", dir: dir)

        let rejection = try Gateway.run(["application", "reject", "--dir", dir, "--id", apprenti, "--reason", "Contrat illisible", "--json"])
        #expect(rejection.status == 0, "\(rejection.stderr)")
        #expect((rejection.json?["application"] as? [String: Any])?["reason"] as? String == "Contrat illisible")
        try Gateway.expectRefusal(["application", "approve", "--dir", dir, "--id", apprenti], code: "already_rejected", dir: dir)
        try Gateway.expectRefusal(["application", "reject", "--dir", dir, "--id", lyceen, "--reason", ""], code: nil, dir: dir)

        // The card issued is the card `card issue` makes: its key is the master key's, it is the beneficiary's.
        let ledger = try Ledger.open(directory: dir, actor: "test")
        let masterKey = try IssuerMasterKey.load(layout: EnvironmentLayout(directory: dir))
        #expect(Hex.encode(masterKey.cardKey(for: pan)) == key)
        let (holder, record) = try ledger.read { tx in
            (try tx.beneficiary(id: try tx.card(pan: pan).beneficiaryID), try tx.application(id: lyceen))
        }
        #expect(holder.dossier == "HDF-2026-2001" && record.status == .approved && record.validatedBy == "etablissement:0800101A")
        #expect(record.decidedBy == "region:instructeur-1")

        // Every step in the audit trail, with who did it.
        let audit = try ledger.connection.rows("SELECT actor, action FROM audit WHERE subject IN (?, ?) ORDER BY id", lyceen, apprenti) {
            "\($0.text(0)) \($0.text(1))"
        }
        #expect(audit == ["operator application.submit", "operator application.submit", "etablissement:0590203A application.validate",
                          "etablissement:0800101A application.validate", "region:instructeur-1 application.approve",
                          "operator application.reject"])

        // The approved card pays a purchase through the ledger API, as the gateway's authoriser calls it once the
        // cryptogram checked out (the key above is the one it derives): counter accepted, then the purchase.
        let approvalOfPurchase = try ledger.write { tx in
            let card = try tx.card(pan: pan)
            try tx.acceptATC(cardID: card.id, atc: 1)
            return try tx.purchase(card: card, partnerID: "P001", terminalID: "T001", stan: "000001", amountCents: 2_350,
                                   wallet: .manuels, allowPartial: false)
        }
        #expect(approvalOfPurchase.approvedCents == 2_350 && approvalOfPurchase.balanceAfterCents == 7_650)
        #expect(try Gateway.run(["check", "--dir", dir]).status == 0)
    }

    @Test("submission through the library: French errors per field, nothing written; a good one is 'Demande envoyée'")
    func submission() throws {
        let dir = try Gateway.demo()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let desk = try ApplicationDesk(directory: dir, actor: "beneficiary")
        let referentials = try desk.referentials()
        let rights = try desk.rights()
        try desk.ledger.write { tx in
            _ = try tx.registerBeneficiary(BeneficiaryRecord(dossier: "HDF-2026-3001", firstName: "Inès", lastName: "Hennebert"))
        }
        var answers = ApplicationAnswers()
        answers.situation = .apprenti
        answers.level = "annee_1"
        answers.addressID = "80021_9999_00001"
        answers.establishmentUAI = "0800101A" // a lycée, not a CFA
        do {
            _ = try desk.submitApplication(dossier: "HDF-2026-3001", answers: answers, referentials: referentials, rights: rights)
            Issue.record("incomplete answers must be refused")
        } catch let refused as AnswersRefused {
            #expect(Set(refused.errors.map(\.field)) == ["address", "establishment", "photo", "notification", "cfa_region",
                                                         "contract_signed_on", "contract", "apprentice_last_year"])
            #expect(refused.errors.first { $0.field == "establishment" }?.message
                    == "Cet établissement n'accueille pas la situation choisie (CFA) : choisis-en un autre.")
        }
        #expect(try desk.ledger.read { try $0.applications(dossier: "HDF-2026-3001") }.isEmpty)

        answers.addressID = "59350_6950_00011"
        answers.establishmentUAI = "0590203A"
        answers.photoUpload = try desk.uploads.store(Fixtures.tinyJPEG, allowed: [.jpeg, .png]).name
        answers.contractUpload = try desk.uploads.store(Fixtures.pdf()).name
        answers.cfaInHautsDeFrance = true
        answers.contractSignedOn = ParisCalendar.today().adding(days: -10)
        answers.apprenticeLastYear = false
        answers.notification = .email
        let (application, advantages) = try desk.submitApplication(dossier: "HDF-2026-3001", answers: answers,
                                                                   referentials: referentials, rights: rights)
        #expect(application.status == .submitted && application.status.label == "Demande envoyée")
        #expect(advantages.map(\.sentence) == ["Ton avantage Manuels et équipement : 200 €"])
        #expect(application.answers.addressLabel == "11 Rue Pierre Legrand, 59800 Lille")
        #expect { try desk.submitApplication(dossier: "HDF-2026-3001", answers: answers, referentials: referentials, rights: rights) }
            throws: { ($0 as? ReviewError)?.code == "application_open" }
        #expect { try desk.submitApplication(dossier: "HDF-2026-1000", answers: answers, referentials: referentials, rights: rights) }
            throws: { ($0 as? ReviewError)?.code == "has_card" }
    }

    @Test("THR: an apprenti card holder's request, distance from the référentiels, approval loads the scale's wallets")
    func thr() throws {
        let dir = try Gateway.demo()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let manifest = try DemoManifest.load(layout: EnvironmentLayout(directory: dir))
        let desk = try ApplicationDesk(directory: dir, actor: "beneficiary")
        let referentials = try desk.referentials()
        // The demo's second card holder is an apprenti (every fourth from the second).
        let apprentiPAN = try PAN(validating: manifest.cards[1].pan)
        let lyceenPAN = try PAN(validating: manifest.cards[0].pan)
        #expect(try desk.ledger.read { try $0.beneficiary(id: try $0.card(pan: apprentiPAN).beneficiaryID).situation } == .apprenti)

        var answers = THRAnswers()
        answers.transport = true
        answers.restauration = true
        answers.addressID = "80021_3150_00001"      // Amiens, rue des Trois Cailloux
        answers.establishmentUAI = "0590203A"       // CFA in Lille
        #expect { try desk.submitTHR(pan: apprentiPAN, answers: answers, referentials: referentials) } throws: {
            ($0 as? AnswersRefused)?.errors.map(\.field) == ["documents"]
        }
        answers.documents = [try desk.uploads.store(Fixtures.pdf()).name]
        #expect { try desk.submitTHR(pan: lyceenPAN, answers: answers, referentials: referentials) } throws: {
            ($0 as? ReviewError)?.code == "not_apprenti"
        }
        let request = try desk.submitTHR(pan: apprentiPAN, answers: answers, referentials: referentials)
        #expect((95_000...115_000).contains(request.input.distanceMetres), "Amiens → Lille: \(request.input.distanceMetres) m")

        let listed = try Gateway.run(["thr", "list", "--dir", dir, "--json"])
        let requests = try #require(listed.json?["thr_requests"] as? [[String: Any]])
        #expect(requests.count == 1 && requests.first?["id"] as? String == request.id)
        try Gateway.expectRefusal(["thr", "approve", "--dir", dir, "--id", request.id], code: "not_validated", dir: dir)
        #expect(try Gateway.run(["thr", "validate", "--dir", dir, "--id", request.id, "--by", "etablissement:0590203A"]).status == 0)
        let before = try desk.ledger.read { try $0.wallets(cardID: try $0.card(pan: apprentiPAN).id) }
        let approval = try Gateway.run(["thr", "approve", "--dir", dir, "--id", request.id, "--json"])
        #expect(approval.status == 0, "\(approval.stderr)")
        let loaded = try #require(approval.json?["wallets"] as? [[String: Any]])
        #expect(loaded.compactMap { $0["code"] as? String } == ["TRANSPORT", "RESTAURATION"])
        let after = try desk.ledger.read { try $0.wallets(cardID: try $0.card(pan: apprentiPAN).id) }
        func balance(_ wallets: [WalletRecord], _ code: WalletCode) -> Int64 { wallets.first { $0.code == code }?.availableCents ?? 0 }
        #expect(balance(after, .transport) - balance(before, .transport) == 30_000, "over 60 km: the last band")
        #expect(balance(after, .restauration) - balance(before, .restauration) == 15_000)
        #expect(balance(after, .hebergement) == balance(before, .hebergement), "hébergement not asked")
        try Gateway.expectRefusal(["thr", "approve", "--dir", dir, "--id", request.id], code: "already_approved", dir: dir)
        try Gateway.expectRefusal(["thr", "validate", "--dir", dir, "--id", "THR-NOPE"], code: "unknown_thr", dir: dir)
        #expect(try Gateway.run(["check", "--dir", dir]).status == 0)
    }
}

/// The `gateway` executable as its own process.
enum Gateway {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    struct Outcome {
        let status: Int32
        let stdout: String
        let stderr: String
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any] }
    }

    static func run(_ arguments: [String]) throws -> Outcome {
        let process = Process()
        process.executableURL = packageRoot.appendingPathComponent(".build/debug/gateway")
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func demo() throws -> String {
        let dir = NSTemporaryDirectory() + "hdf-apply-\(UUID().uuidString.prefix(8))"
        let outcome = try run(["demo", "--dir", dir])
        guard outcome.status == 0 else { throw ReviewError("demo", outcome.stderr) }
        return dir
    }

    /// Every row of the tables a review touches.
    static func snapshot(_ dir: String) throws -> [String] {
        let db = try SQLiteConnection(path: dir + "/ledger.sqlite")
        var rows: [String] = []
        for table in ["applications", "thr_requests", "cards", "wallets", "loads", "transfers", "beneficiaries", "audit"] {
            let columns = try db.rows("SELECT name FROM pragma_table_info(?) ORDER BY cid", table) { $0.text(0) }
            let row = columns.map { "quote(\"\($0)\")" }.joined(separator: " || '|' || ")
            rows += try db.rows("SELECT '\(table): ' || \(row) FROM \"\(table)\" ORDER BY 1") { $0.text(0) }
        }
        return rows
    }

    /// A refusal: non-zero exit, one line on stderr, `{"error": {"code", "message"}}` with `--json`, nothing changed.
    static func expectRefusal(_ arguments: [String], code: String?, dir: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try snapshot(dir)
        let outcome = try run(arguments + ["--json"])
        #expect(outcome.status != 0, "\(arguments) must be refused", sourceLocation: sourceLocation)
        #expect(outcome.stderr.split(separator: "\n").count == 1, "one line: \(outcome.stderr)", sourceLocation: sourceLocation)
        let error = outcome.json?["error"] as? [String: Any]
        if let code { #expect(error?["code"] as? String == code, "\(outcome.stdout)", sourceLocation: sourceLocation) }
        let message = error?["message"] as? String
        #expect(!(message ?? "").isEmpty, sourceLocation: sourceLocation)
        #expect(try snapshot(dir) == before, "a refusal changes nothing", sourceLocation: sourceLocation)
    }
}

enum Fixtures {
    static let tinyJPEG = Array(Data(base64Encoded: "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAoHBwgHBgoICAgLCgoLDhgQDg0NDh0VFhEYIx8lJCIfIiEmKzcvJik0KSEiMEExNDk7Pj4+JS5ESUM8SDc9Pjv/2wBDAQoLCw4NDhwQEBw7KCIoOzs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozv/wAARCAACAAIDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwAooorYyP/Z")!)

    static func pdf() -> [UInt8] {
        var out = "%PDF-1.4\n"
        var offsets: [Int] = []
        for object in ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                       "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] {
            offsets.append(out.utf8.count)
            out += "\(offsets.count) 0 obj\n\(object)\nendobj\n"
        }
        let xref = out.utf8.count
        out += "xref\n0 4\n0000000000 65535 f \n" + offsets.map { String(format: "%010d 00000 n \n", $0) }.joined()
        out += "trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        return Array(out.utf8)
    }
}
