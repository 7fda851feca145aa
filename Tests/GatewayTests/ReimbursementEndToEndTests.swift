import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import HDFDomain
import Ledger
import Provisioning
import Testing

/// (issue 12) Paying the partners, end to end: purchases over mutual TLS at three partners, `gateway
/// reimburse` as its own process, the SEPA file through `xmllint --schema` and the checks a bank makes
/// that the XSD does not, the statements, a cancellation after payment netted in the next batch, a
/// partner whose net goes negative carried forward, and the refusals.
@Suite("reimbursement end to end (gateway over mTLS, the gateway CLI, xmllint)")
struct ReimbursementEndToEndTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let schema = packageRoot.appendingPathComponent("var/third_party/sepaxml/pain.001.001.03.xsd").path

    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any] }
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func gateway(_ arguments: [String]) throws -> Run {
        for candidate in [".build/debug/gateway", ".build/x86_64-unknown-linux-gnu/debug/gateway"] {
            let path = packageRoot.appendingPathComponent(candidate).path
            if FileManager.default.isExecutableFile(atPath: path) { return try run(path, arguments) }
        }
        throw CocoaError(.fileNoSuchFile)
    }

    /// What a bank checks in a pain.001 that the XSD does not. Returns the file's EndToEndIds.
    static func bankChecks(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> (ids: [String], amounts: [String: Int64]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let text = String(decoding: data, as: UTF8.self)
        // Only the SEPA character set in every value (the markup itself is ASCII too).
        let document = try XMLDocument(data: data)
        func values(_ name: String) throws -> [String] { try document.nodes(forXPath: "//*[local-name()='\(name)']").compactMap(\.stringValue) }
        for value in try values("Nm") + values("Ustrd") + values("EndToEndId") + values("MsgId") + values("PmtInfId") {
            #expect(value.allSatisfy(SEPAText.isAllowed), "outside the SEPA set: \(value)", sourceLocation: sourceLocation)
        }
        #expect(text.allSatisfy { $0.isASCII }, sourceLocation: sourceLocation)
        // NbOfTxs and CtrlSum recomputed to the cent, in the group header and the payment block.
        let amounts = try values("InstdAmt")
        func cents(_ decimal: String) -> Int64 {
            let parts = decimal.split(separator: ".")
            #expect(parts.count == 2 && parts[1].count == 2, "amount \(decimal) is not euros with 2 decimals", sourceLocation: sourceLocation)
            return Int64(parts[0])! * 100 + Int64(parts[1])!
        }
        let sum = amounts.map(cents).reduce(0, +)
        for count in try values("NbOfTxs") { #expect(Int(count) == amounts.count, sourceLocation: sourceLocation) }
        for control in try values("CtrlSum") { #expect(cents(control) == sum, sourceLocation: sourceLocation) }
        #expect(amounts.map(cents).allSatisfy { $0 > 0 }, "a transfer of zero or less", sourceLocation: sourceLocation)
        // Every IBAN passes mod 97 (and has its country's length).
        for iban in try values("IBAN") { #expect((try? IBAN(iban)) != nil, "IBAN \(iban) fails", sourceLocation: sourceLocation) }
        for bic in try values("BIC") { #expect((try? BIC(bic)) != nil, sourceLocation: sourceLocation) }
        let ids = try values("EndToEndId")
        #expect(Set(ids).count == ids.count, sourceLocation: sourceLocation)
        var byName: [String: Int64] = [:]
        for transaction in try document.nodes(forXPath: "//*[local-name()='CdtTrfTxInf']") {
            let name = try transaction.nodes(forXPath: ".//*[local-name()='Cdtr']/*[local-name()='Nm']").first?.stringValue ?? "?"
            let amount = try transaction.nodes(forXPath: ".//*[local-name()='InstdAmt']").first?.stringValue ?? "0.00"
            byName[name] = cents(amount)
        }
        return (ids, byName)
    }

    static func xmllint(_ path: String) throws -> Run {
        try run("/usr/bin/env", ["xmllint", "--noout", "--schema", schema, path])
    }

    /// A CSV's amounts (French decimal commas) in cents.
    static func csvAmounts(_ path: String) throws -> [Int64] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\r\n").dropFirst()
        return lines.map { line in
            let fields = line.split(separator: ";", omittingEmptySubsequences: false)
            #expect(fields.count == 5)
            let amount = fields[4].replacingOccurrences(of: ",", with: "")
            return Int64(amount)!
        }
    }

    @Test("three partners paid, the file valid and bank-clean, a cancellation netted next time, a debt carried, refusals")
    func payThePartners() async throws {
        #expect(FileManager.default.fileExists(atPath: Self.schema), "run scripts/install-deps.sh: the XSD is fetched there")
        let gateway = try await RunningGateway.start("reimburse")
        let dir = gateway.directory
        var reader = CardReader(manifest: gateway.manifest)
        let card = gateway.manifest.fundedCards.first { $0.balance(.manuels) >= 10_000 }!
        var stan = 0
        func pay(_ terminal: String, _ amount: Int64) async throws -> String {
            let connection = try await gateway.connect(terminal)
            stan += 1
            let answer = try await connection.ask(purchaseRequest(stan: "R\(stan)", amount: amount, card: reader.tap(card.pan, amount: amount), wallet: "MANUELS"))
            #expect(answer.code == "00", "\(answer)")
            return answer.string("txn")!
        }
        // P001 (T001), P002 (T002), P005 (T006) all take MANUELS.
        let p1a = try await pay("T001", 1_000)
        _ = try await pay("T001", 2_050)
        _ = try await pay("T002", 1_599)
        let p5 = try await pay("T006", 700)

        let today = ParisCalendar.today()
        let first = try Self.gateway(["reimburse", "--dir", dir, "--cutoff", today.iso, "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let batch = try #require(first.json?["batch"] as? [String: Any])
        #expect(batch["cutoff"] as? String == today.iso)
        #expect(batch["total"] as? Int == 5_349)
        let partners = try #require(batch["partners"] as? [[String: Any]])
        #expect(partners.map { $0["id"] as? String } == ["P001", "P002", "P005"])
        #expect(partners.map { $0["amount"] as? Int } == [3_050, 1_599, 700])
        #expect(partners.map { $0["operations"] as? Int } == [2, 1, 1])
        let file = try #require(batch["file"] as? String)
        let lint = try Self.xmllint(dir + "/" + file)
        #expect(lint.status == 0, "xmllint: \(lint.stderr)")
        let (firstIDs, firstAmounts) = try Self.bankChecks(dir + "/" + file)
        #expect(firstAmounts["Equipement Pro Lille"] == 1_599) // "Équipement": transliterated
        let folder = dir + "/" + (batch["folder"] as! String)
        for partner in ["P001", "P002", "P005"] {
            let amounts = try Self.csvAmounts(folder + "/\(partner).csv")
            #expect(amounts.reduce(0, +) == Int64(partners.first { $0["id"] as? String == partner }!["amount"] as! Int))
            let pdf = try Data(contentsOf: URL(fileURLWithPath: folder + "/\(partner).pdf"))
            #expect(pdf.starts(with: Data("%PDF-1.4".utf8)))
        }
        let text = try Self.run("/usr/bin/env", ["pdftotext", "-layout", folder + "/P001.pdf", "-"])
        #expect(text.stdout.contains("Relevé de remboursement") && text.stdout.contains("30,50"), "\(text.stdout)")

        // The same cutoff again: the same batch, the files byte for byte the same.
        let before = try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map { try Data(contentsOf: URL(fileURLWithPath: folder + "/" + $0)) }
        let again = try Self.gateway(["reimburse", "--dir", dir, "--cutoff", today.iso, "--json"])
        #expect(again.status == 0)
        #expect((again.json?["batch"] as? [String: Any])?["total"] as? Int == 5_349)
        #expect((again.json?["batch"] as? [String: Any])?["new"] as? Bool == false)
        let after = try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map { try Data(contentsOf: URL(fileURLWithPath: folder + "/" + $0)) }
        #expect(before == after)

        // Refusals: a cutoff in the future, one before the last batch's; each one line, nothing written.
        let future = try Self.gateway(["reimburse", "--dir", dir, "--cutoff", today.adding(days: 1).iso])
        #expect(future.status != 0 && future.stderr.contains("after today") && future.stderr.split(separator: "\n").count == 1, "\(future.stderr)")
        let earlier = try Self.gateway(["reimburse", "--dir", dir, "--cutoff", today.adding(days: -1).iso, "--json"])
        #expect(earlier.status != 0 && earlier.stderr.contains("before the last batch"), "\(earlier.stderr)")
        #expect(((earlier.json?["error"] as? [String: Any])?["code"] as? String) != nil)
        let badDate = try Self.gateway(["reimburse", "--dir", dir, "--cutoff", "2026-13-01"])
        #expect(badDate.status != 0 && badDate.stderr.contains("YYYY-MM-DD"))

        // After payment: P001 cancels 10.00 € and sells 4.00 € (net +3.00 € next time); P005 cancels all
        // of its 7.00 € (net −7.00 €: no transfer, carried forward).
        let cancel1 = try await gateway.connect("T001").ask(#"{"type":"cancel","id":"c1","stan":"C1","txn":"\#(p1a)"}"#)
        #expect(cancel1.code == "00", "\(cancel1)")
        let cancel5 = try await gateway.connect("T006").ask(#"{"type":"cancel","id":"c5","stan":"C5","txn":"\#(p5)"}"#)
        #expect(cancel5.code == "00", "\(cancel5)")
        _ = try await pay("T001", 1_300)
        expectLedgerChecks(directory: dir) // the partner below zero is a debt, not a broken invariant

        // The next day's batch (the operator's library with tomorrow's clock: the gateway's own is today's).
        let tomorrow = Date().addingTimeInterval(86_400)
        let second = try Operator(directory: dir).reimburse(cutoff: ParisCalendar.businessDay(of: tomorrow), executionDate: nil, now: tomorrow)
        #expect(second.partners.map(\.id) == ["P001"])
        #expect(second.partners.first?.amount == 300)
        #expect(second.carriedForward.map(\.id) == ["P005"] && second.carriedForward.first?.amount == -700)
        let secondFile = dir + "/" + second.file!
        #expect(try Self.xmllint(secondFile).status == 0)
        let (secondIDs, _) = try Self.bankChecks(secondFile)
        #expect(Set(firstIDs).isDisjoint(with: secondIDs), "EndToEndId reused across batches")
        let lines = try String(contentsOfFile: dir + "/" + second.folder + "/P001.csv", encoding: .utf8)
        #expect(lines.contains(";annulation;") && lines.contains(";-10,00\r\n"), "\(lines)")
        #expect(try Self.csvAmounts(dir + "/" + second.folder + "/P001.csv").reduce(0, +) == 300)
        #expect(!FileManager.default.fileExists(atPath: dir + "/" + second.folder + "/P005.csv"))

        // gateway check, as its own process: reimbursed + owed = received − refunded for every partner.
        let check = try Self.gateway(["check", "--dir", dir])
        #expect(check.status == 0, "\(check.stderr)")
        let positions = try Ledger.open(directory: dir, actor: "test").read { try $0.partnerPositions() }
        let p5Position = try #require(positions.first { $0.partnerID == "P005" })
        #expect(p5Position.reimbursedCents == 700 && p5Position.owedCents == -700)
        await gateway.stop()
    }

    @Test("bad bank details refused with one clear line, nothing written")
    func badBankDetails() throws {
        let (dir, _) = try makeDemoDirectory("reimburse-bank")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let common = ["partner", "add", "--dir", dir, "--id", "P100", "--name", "Librairie Élan & Cie", "--city", "Lille",
                      "--category", "librairie", "--wallets", "MANUELS"]
        let badIBAN = try Self.gateway(common + ["--iban", "FR7630006000011234567890188", "--bic", "AGRIFRPP", "--json"])
        #expect(badIBAN.status != 0)
        #expect(badIBAN.stderr.contains("mod 97") && badIBAN.stderr.split(separator: "\n").count == 1, "\(badIBAN.stderr)")
        #expect(((badIBAN.json?["error"] as? [String: Any])?["code"] as? String) == "invalid_iban")
        let badBIC = try Self.gateway(common + ["--iban", "FR7630006000011234567890189", "--bic", "AGRI-FRPP"])
        #expect(badBIC.status != 0 && badBIC.stderr.contains("BIC"), "\(badBIC.stderr)")
        let shortIBAN = try Self.gateway(common + ["--iban", "FR76300060000112345678901", "--bic", "AGRIFRPP"])
        #expect(shortIBAN.status != 0 && shortIBAN.stderr.contains("27 characters"), "\(shortIBAN.stderr)")
        let ledger = try Ledger.open(directory: dir, actor: "test")
        #expect(throws: LedgerError.self) { try ledger.read { try $0.partner(id: "P100") } }

        let good = try Self.gateway(common + ["--iban", "FR76 3000 6000 0112 3456 7890 189", "--bic", "agrifrpp", "--json"])
        #expect(good.status == 0, "\(good.stderr)")
        #expect((good.json?["partner"] as? [String: Any])?["iban"] as? String == "FR7630006000011234567890189")
        // Changing them: a bad one changes nothing; a good one is audited.
        let refused = try Self.gateway(["partner", "bank", "--dir", dir, "--id", "P100", "--iban", "DE89370400440532013001", "--bic", "COBADEFF"])
        #expect(refused.status != 0)
        #expect(try ledger.read { try $0.partnerBankAccount(partnerID: "P100") }?.iban.electronic == "FR7630006000011234567890189")
        let changed = try Self.gateway(["partner", "bank", "--dir", dir, "--id", "P100", "--iban", "DE89370400440532013000", "--bic", "COBADEFFXXX"])
        #expect(changed.status == 0, "\(changed.stderr)")
        #expect(try ledger.read { try $0.partnerBankAccount(partnerID: "P100") }?.bic.code == "COBADEFFXXX")
        let audit = try ledger.connection.scalarText("SELECT detail FROM audit WHERE action = 'partner.bank' ORDER BY id DESC LIMIT 1")
        #expect(audit == "FR76…0189 -> DE89…3000 COBADEFFXXX")
        // The demo's partners carry valid French IBANs, in the ledger and in demo.json.
        let manifest = try DemoManifest.load(layout: EnvironmentLayout(directory: dir))
        for partner in manifest.partners {
            let iban = try IBAN(try #require(partner.iban))
            #expect(iban.electronic.hasPrefix("FR"))
            _ = try BIC(try #require(partner.bic))
            #expect(try ledger.read { try $0.partnerBankAccount(partnerID: partner.id) }?.iban == iban)
        }
        #expect(try ledger.read { try $0.regionAccount() } != nil)
    }
}
