import CardApplication
import Foundation
import HDFDomain
import Ledger
import Testing

/// The operator's `gateway` CLI run as an operator would: a separate process, its exit status, its one line on
/// stderr, its one JSON object on stdout (contract §1, §2, §7).
@Suite("gateway: the operator's CLI")
struct OperatorCLITests {
    // MARK: - demo and check

    @Test("demo then check exit 0; demo.json holds what contract §2 asks; a second demo needs --force")
    func demoEnvironment() throws {
        let dir = try CLI.temporaryDirectory("demo")
        defer { CLI.remove(dir) }
        let demo = try CLI.gateway(["demo", "--dir", dir])
        #expect(demo.status == 0, "\(demo.stderr)")
        let check = try CLI.gateway(["check", "--dir", dir])
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")

        try checkManifest(dir)

        // A second demo over the same DIR is refused, changes nothing, says why in one line.
        let dump = try CLI.dump(dir)
        let manifest = try Data(contentsOf: URL(fileURLWithPath: dir + "/demo.json"))
        let masterKey = try Data(contentsOf: URL(fileURLWithPath: dir + "/keys/issuer-master.key"))
        for json in [false, true] {
            let again = try CLI.gateway(["demo", "--dir", dir] + (json ? ["--json"] : []))
            #expect(again.status != 0)
            CLI.expectRefusal(again, json: json)
        }
        #expect(try CLI.dump(dir) == dump)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/demo.json")) == manifest)
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/keys/issuer-master.key")) == masterKey)

        // With --force: a whole new environment, consistent again.
        let forced = try CLI.gateway(["demo", "--dir", dir, "--force", "--json"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(forced.jsonObject != nil, "one JSON object: \(forced.stdout)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/keys/issuer-master.key")) != masterKey, "new keys")
        #expect(try CLI.gateway(["check", "--dir", dir]).status == 0)
        try checkManifest(dir)
    }

    /// Contract §2, read as an outsider: raw JSON keys, files on disk, keys derived from the master key, and the
    /// ledger agreeing with the manifest.
    func checkManifest(_ dir: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/demo.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(root.keys) == ["gateway", "partners", "cards", "accounts"])
        let gateway = try #require(root["gateway"] as? [String: Any])
        #expect(gateway["host"] as? String == "127.0.0.1")
        #expect(gateway["port"] as? Int == 8583)
        let ca = try #require(gateway["ca"] as? String)
        #expect(!ca.hasPrefix("/"), "paths are relative to DIR")
        #expect(FileManager.default.fileExists(atPath: dir + "/" + ca))

        let partners = try #require(root["partners"] as? [[String: Any]])
        #expect(partners.count >= 4)
        var covered = Set<String>()
        var partnerWallets: [String: Set<String>] = [:]
        var twoTerminalPartners: [String] = []
        var terminalIDs = Set<String>()
        for partner in partners {
            #expect(Set(partner.keys).isSuperset(of: ["id", "name", "city", "category", "accepts_prepayment", "accepts_online",
                                                       "wallets", "terminals"]), "\(partner.keys)")
            let id = try #require(partner["id"] as? String)
            #expect(!(partner["name"] as? String ?? "").isEmpty && !(partner["city"] as? String ?? "").isEmpty)
            #expect(PartnerCategory(rawValue: partner["category"] as? String ?? "") != nil)
            #expect(partner["accepts_prepayment"] is Bool && partner["accepts_online"] is Bool)
            let wallets = Set(try #require(partner["wallets"] as? [String]))
            #expect(wallets.allSatisfy { WalletCode(rawValue: $0) != nil })
            partnerWallets[id] = wallets
            covered.formUnion(wallets)
            let terminals = try #require(partner["terminals"] as? [[String: Any]])
            #expect(!terminals.isEmpty)
            if terminals.count >= 2 { twoTerminalPartners.append(id) }
            for terminal in terminals {
                #expect(Set(terminal.keys) == ["id", "cert", "key"])
                let tid = try #require(terminal["id"] as? String)
                terminalIDs.insert(tid)
                let cert = try #require(terminal["cert"] as? String), key = try #require(terminal["key"] as? String)
                #expect(cert == "certs/\(tid).pem" && key == "certs/\(tid).key")
                #expect(FileManager.default.fileExists(atPath: dir + "/" + cert))
                #expect(CLI.mode(dir + "/" + key) == 0o600, "a terminal's private key is readable by its owner only")
            }
        }
        #expect(terminalIDs.count == partners.reduce(0) { $0 + (($1["terminals"] as? [Any])?.count ?? 0) }, "terminal ids are unique")
        #expect(covered.isSuperset(of: ["MANUELS", "TRANSPORT", "HEBERGEMENT", "RESTAURATION"]))
        #expect(partners.contains { $0["accepts_prepayment"] as? Bool == false && $0["accepts_online"] as? Bool == false })
        #expect(partners.filter { $0["accepts_prepayment"] as? Bool == true }.count >= 2)
        #expect(partners.filter { $0["accepts_online"] as? Bool == true }.count >= 2)
        #expect(!twoTerminalPartners.isEmpty, "one partner with two terminals")

        let masterKey = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/keys/issuer-master.key")))
        #expect(masterKey.count == 32)
        #expect(CLI.mode(dir + "/keys/issuer-master.key") == 0o600)
        let today = ParisCalendar.today()
        let cards = try #require(root["cards"] as? [[String: Any]])
        var usable: [String: Int] = [:] // partner → active cards with money usable there
        var activeWithTwo = 0, onlyWalletExpired = 0, allEmpty = 0
        var statuses: [String: Int] = [:]
        let ledger = try Ledger.open(directory: dir, actor: "test")
        var pans = Set<String>()
        for card in cards {
            #expect(Set(card.keys).isSuperset(of: ["pan", "key", "status", "beneficiary", "wallets"]), "\(card.keys)")
            let panText = try #require(card["pan"] as? String)
            let pan = try PAN(validating: panText)
            pans.insert(panText)
            let key = try #require(card["key"] as? String)
            #expect(key.count == 32 && key.allSatisfy { $0.isHexDigit })
            #expect(key.lowercased() == CLI.hex(try CardKeyDerivation.deriveCardKey(masterKey: masterKey, pan: pan)),
                    "K derives from the issuer master key and the PAN")
            let status = try #require(card["status"] as? String)
            #expect(["active", "lost", "stolen", "damaged"].contains(status))
            statuses[status, default: 0] += 1
            let beneficiary = try #require(card["beneficiary"] as? [String: Any])
            #expect(Set(beneficiary.keys).isSuperset(of: ["dossier", "first_name", "last_name"]))
            let wallets = try #require(card["wallets"] as? [[String: Any]])
            var live: [(code: String, balance: Int)] = []
            var expired = 0
            for wallet in wallets {
                #expect(Set(wallet.keys).isSuperset(of: ["code", "balance", "expires"]))
                let code = try #require(wallet["code"] as? String)
                let balance = try #require(wallet["balance"] as? Int)
                let expires = try #require(LocalDate(iso: wallet["expires"] as? String ?? ""))
                #expect(WalletCode(rawValue: code) != nil && balance >= 0)
                if expires < today { expired += 1 } else if balance > 0 { live.append((code, balance)) }
            }
            if status == "active" {
                if live.count >= 2 { activeWithTwo += 1 }
                if wallets.count == 1 && expired == 1 { onlyWalletExpired += 1 }
                if !wallets.isEmpty && wallets.allSatisfy({ $0["balance"] as? Int == 0 }) { allEmpty += 1 }
                for (partner, accepted) in partnerWallets where live.contains(where: { accepted.contains($0.code) }) {
                    usable[partner, default: 0] += 1
                }
            }
            // The ledger agrees with the manifest.
            try ledger.read { tx in
                let record = try tx.card(pan: pan)
                #expect(record.status.rawValue == status)
                let inLedger = try tx.wallets(cardID: record.id).map { "\($0.code.rawValue) \($0.availableCents) \($0.expiresOn.iso)" }
                let inManifest = wallets.map { "\($0["code"] as? String ?? "") \($0["balance"] as? Int ?? -1) \($0["expires"] as? String ?? "")" }
                #expect(inLedger.sorted() == inManifest.sorted())
            }
        }
        #expect(pans.count == cards.count, "PANs are unique")
        #expect(activeWithTwo >= 20, "20 active cards with money in at least two wallets")
        #expect(statuses["lost", default: 0] >= 1 && statuses["stolen", default: 0] >= 1)
        #expect(onlyWalletExpired >= 1, "one card whose only wallet has expired")
        #expect(allEmpty >= 1, "one card whose wallets are empty")
        for partner in twoTerminalPartners { #expect(usable[partner, default: 0] >= 8, "partner \(partner): \(usable)") }
        for partner in partners where partner["accepts_prepayment"] as? Bool == true || partner["accepts_online"] as? Bool == true {
            let id = partner["id"] as? String ?? ""
            #expect(usable[id, default: 0] >= 4, "partner \(id): \(usable)")
        }
    }

    @Test("check names a broken invariant and exits non-zero")
    func checkFindsBreakage() throws {
        let dir = try CLI.temporaryDirectory("check")
        defer { CLI.remove(dir) }
        #expect(try CLI.gateway(["demo", "--dir", dir]).status == 0)
        let db = try SQLiteConnection(path: dir + "/ledger.sqlite")
        try db.execute("PRAGMA ignore_check_constraints = ON")
        try db.execute("UPDATE accounts SET credits_posted = credits_posted + 1 WHERE id = (SELECT MAX(id) FROM accounts WHERE kind = 'wallet')")
        let check = try CLI.gateway(["check", "--dir", dir])
        #expect(check.status != 0)
        #expect(check.stderr.contains("double-entry-balanced"), "\(check.stderr)")
    }

    // MARK: - The operator's verbs with --json

    @Test("every operator verb with --json prints exactly one JSON object with the contract's keys")
    func verbsWithJSON() throws {
        let dir = try CLI.temporaryDirectory("verbs")
        defer { CLI.remove(dir) }
        #expect(try CLI.gateway(["demo", "--dir", dir]).status == 0)
        let today = ParisCalendar.today()

        // partner add
        let partner = try CLI.gateway(["partner", "add", "--dir", dir, "--id", "P100", "--name", "Vélos du Nord", "--city", "Lille",
                                       "--category", "transport", "--wallets", "TRANSPORT,MANUELS", "--online", "--json"])
        #expect(partner.status == 0, "\(partner.stderr)")
        let p = try #require(partner.single("partner"))
        #expect(Set(p.keys).isSuperset(of: ["id", "name", "city", "category", "accepts_prepayment", "accepts_online", "wallets"]))
        #expect(p["id"] as? String == "P100")
        #expect(p["name"] as? String == "Vélos du Nord")
        #expect(p["city"] as? String == "Lille")
        #expect(p["category"] as? String == "transport")
        #expect(p["accepts_prepayment"] as? Bool == false)
        #expect(p["accepts_online"] as? Bool == true)
        #expect(Set(p["wallets"] as? [String] ?? []) == ["TRANSPORT", "MANUELS"])

        // terminal enroll: files written, key 0600, paths relative to DIR
        let enroll = try CLI.gateway(["terminal", "enroll", "--dir", dir, "--partner", "P100", "--id", "T100", "--json"])
        #expect(enroll.status == 0, "\(enroll.stderr)")
        let t = try #require(enroll.single("terminal"))
        #expect(Set(t.keys).isSuperset(of: ["id", "partner", "cert", "key"]))
        #expect(t["id"] as? String == "T100" && t["partner"] as? String == "P100")
        #expect(t["cert"] as? String == "certs/T100.pem" && t["key"] as? String == "certs/T100.key")
        #expect(FileManager.default.fileExists(atPath: dir + "/certs/T100.pem"))
        #expect(CLI.mode(dir + "/certs/T100.key") == 0o600)
        let pem = try String(contentsOfFile: dir + "/certs/T100.pem", encoding: .utf8)
        #expect(pem.contains("BEGIN CERTIFICATE"))

        // terminal list
        let list = try CLI.gateway(["terminal", "list", "--dir", dir, "--json"])
        #expect(list.status == 0)
        let terminals = try #require(list.jsonObject?["terminals"] as? [[String: Any]])
        #expect(list.jsonObject?.count == 1)
        for terminal in terminals {
            #expect(Set(terminal.keys).isSuperset(of: ["id", "partner", "status"]))
            #expect(["active", "revoked"].contains(terminal["status"] as? String ?? ""))
        }
        #expect(terminals.contains { $0["id"] as? String == "T100" && $0["partner"] as? String == "P100" && $0["status"] as? String == "active" })
        #expect(terminals.count >= 7)

        // terminal revoke
        let revoke = try CLI.gateway(["terminal", "revoke", "--dir", dir, "--id", "T100", "--json"])
        #expect(revoke.status == 0, "\(revoke.stderr)")
        let r = try #require(revoke.single("terminal"))
        #expect(r["id"] as? String == "T100")
        #expect(r["status"] as? String == "revoked")
        let listed = try CLI.gateway(["terminal", "list", "--dir", dir, "--json"]).jsonObject?["terminals"] as? [[String: Any]]
        #expect(listed?.first { $0["id"] as? String == "T100" }?["status"] as? String == "revoked")

        // card issue: PAN and K for personalisation
        let issue = try CLI.gateway(["card", "issue", "--dir", dir, "--dossier", "HDF-TEST-1", "--first-name", "Élodie",
                                     "--last-name", "Vandenbussche", "--json"])
        #expect(issue.status == 0, "\(issue.stderr)")
        let c = try #require(issue.single("card"))
        let panText = try #require(c["pan"] as? String)
        let pan = try PAN(validating: panText)
        let key = try #require(c["key"] as? String)
        let masterKey = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/keys/issuer-master.key")))
        #expect(key == CLI.hex(try CardKeyDerivation.deriveCardKey(masterKey: masterKey, pan: pan)))
        #expect(key.count == 32)

        // wallet load: MANUELS 6 months by default, --valid-months overrides
        let load = try CLI.gateway(["wallet", "load", "--dir", dir, "--card", panText, "--wallet", "MANUELS", "--amount", "12500", "--json"])
        #expect(load.status == 0, "\(load.stderr)")
        let w = try #require(load.single("wallet"))
        #expect(Set(w.keys).isSuperset(of: ["code", "balance", "expires"]))
        #expect(w["code"] as? String == "MANUELS")
        #expect(w["balance"] as? Int == 12_500)
        #expect(w["expires"] as? String == today.adding(months: 6).iso)
        let again = try CLI.gateway(["wallet", "load", "--dir", dir, "--card", panText, "--wallet", "manuels", "--amount", "500", "--json"])
        #expect(again.single("wallet")?["balance"] as? Int == 13_000)
        let transport = try CLI.gateway(["wallet", "load", "--dir", dir, "--card", panText, "--wallet", "TRANSPORT", "--amount", "3000",
                                         "--valid-months", "2", "--json"])
        #expect(transport.single("wallet")?["expires"] as? String == today.adding(months: 2).iso)
        #expect(transport.single("wallet")?["balance"] as? Int == 3_000)

        // card block / unblock
        let block = try CLI.gateway(["card", "block", "--dir", dir, "--card", panText, "--reason", "stolen", "--json"])
        #expect(block.status == 0, "\(block.stderr)")
        #expect(block.single("card")?["status"] as? String == "stolen")
        #expect(try Ledger.open(directory: dir, actor: "test").read { try $0.card(pan: pan) }.status == .stolen)
        let unblock = try CLI.gateway(["card", "unblock", "--dir", dir, "--card", panText, "--json"])
        #expect(unblock.status == 0, "\(unblock.stderr)")
        #expect(unblock.single("card")?["status"] as? String == "active")

        // The ledger saw all of it, and still holds together.
        try Ledger.open(directory: dir, actor: "test").read { tx in
            let card = try tx.card(pan: pan)
            #expect(card.status == .active)
            #expect(try tx.wallets(cardID: card.id).map(\.availableCents) == [13_000, 3_000])
            #expect(try tx.partner(id: "P100").acceptsOnline)
            #expect(try tx.terminal(id: "T100").status == .revoked)
        }
        #expect(try CLI.gateway(["check", "--dir", dir]).status == 0)
        // Without --json, a success prints no JSON error and nothing on stderr.
        let plain = try CLI.gateway(["terminal", "list", "--dir", dir])
        #expect(plain.status == 0 && plain.stderr.isEmpty && plain.stdout.contains("T100"))
    }

    // MARK: - Refusals

    @Test("bad input: non-zero exit, one line on stderr, {\"error\"} with --json, nothing changed, no full PAN")
    func refusals() throws {
        let dir = try CLI.temporaryDirectory("refusals")
        defer { CLI.remove(dir) }
        #expect(try CLI.gateway(["demo", "--dir", dir]).status == 0)
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/demo.json"))) as? [String: Any])
        let cards = try #require(manifest["cards"] as? [[String: Any]])
        let active = try #require(cards.first { $0["status"] as? String == "active" }?["pan"] as? String)
        let unknown = PAN(appendingCheckDigitTo: "925099999999999").digits
        #expect(!cards.contains { $0["pan"] as? String == unknown })
        let badLuhn = String(active.dropLast()) + String((Int(String(active.last!))! + 1) % 10)

        let load = ["wallet", "load", "--dir", dir, "--card", active, "--wallet", "MANUELS", "--amount"]
        let cases: [(name: String, arguments: [String], card: String?)] = [
            ("amount 0", load + ["0"], nil),
            ("amount -5", load + ["-5"], nil),
            ("amount=-5", ["wallet", "load", "--dir", dir, "--card", active, "--wallet", "MANUELS", "--amount=-5"], nil),
            ("amount 12.5", load + ["12.5"], nil),
            ("amount 12,50", load + ["12,50"], nil),
            ("amount overflowing Int64", load + ["99999999999999999999"], nil),
            ("amount above the maximum", load + ["100000001"], nil),
            ("amount +5", load + ["+5"], nil),
            ("amount empty", load + [""], nil),
            ("amount missing", Array(load.dropLast()), nil),
            ("valid months 0", load + ["100", "--valid-months", "0"], nil),
            ("valid months 61", load + ["100", "--valid-months", "61"], nil),
            ("valid months text", load + ["100", "--valid-months", "six"], nil),
            ("unknown card", ["wallet", "load", "--dir", dir, "--card", unknown, "--wallet", "MANUELS", "--amount", "100"], unknown),
            ("card failing Luhn", ["wallet", "load", "--dir", dir, "--card", badLuhn, "--wallet", "MANUELS", "--amount", "100"], badLuhn),
            ("card of 15 digits", ["wallet", "load", "--dir", dir, "--card", String(active.dropLast()), "--wallet", "MANUELS", "--amount", "100"], nil),
            ("card of 17 digits", ["wallet", "load", "--dir", dir, "--card", active + "0", "--wallet", "MANUELS", "--amount", "100"], active + "0"),
            ("card with spaces", ["wallet", "load", "--dir", dir, "--card", CLI.spaced(active), "--wallet", "MANUELS", "--amount", "100"], nil),
            ("unknown wallet code", ["wallet", "load", "--dir", dir, "--card", active, "--wallet", "CANTINE", "--amount", "100"], nil),
            ("partner: unknown category", CLI.partnerAdd(dir, id: "P200", category: "boulangerie"), nil),
            ("partner: duplicate id", CLI.partnerAdd(dir, id: "P001"), nil),
            ("partner: unknown wallet", CLI.partnerAdd(dir, id: "P201", wallets: "MANUELS,CANTINE"), nil),
            ("partner: no wallet", CLI.partnerAdd(dir, id: "P202", wallets: ""), nil),
            ("partner: bad id", CLI.partnerAdd(dir, id: "P 203"), nil),
            ("partner: empty name", CLI.partnerAdd(dir, id: "P204", name: " "), nil),
            ("enroll: unknown partner", ["terminal", "enroll", "--dir", dir, "--partner", "P999", "--id", "T900"], nil),
            ("enroll: duplicate terminal", ["terminal", "enroll", "--dir", dir, "--partner", "P002", "--id", "T001"], nil),
            ("enroll: bad terminal id", ["terminal", "enroll", "--dir", dir, "--partner", "P002", "--id", "../T901"], nil),
            ("revoke: unknown terminal", ["terminal", "revoke", "--dir", dir, "--id", "T999"], nil),
            ("block: bad reason", ["card", "block", "--dir", dir, "--card", active, "--reason", "broken"], active),
            ("block: no reason", ["card", "block", "--dir", dir, "--card", active], active),
            ("block: unknown card", ["card", "block", "--dir", dir, "--card", unknown, "--reason", "lost"], unknown),
            ("block: card failing Luhn", ["card", "block", "--dir", dir, "--card", badLuhn, "--reason", "lost"], badLuhn),
            ("unblock: card not blocked", ["card", "unblock", "--dir", dir, "--card", active], active),
            ("unblock: unknown card", ["card", "unblock", "--dir", dir, "--card", unknown], unknown),
            ("issue: dossier of another beneficiary", ["card", "issue", "--dir", dir, "--dossier", "HDF-2026-1000",
                                                       "--first-name", "Autre", "--last-name", "Personne"], nil),
            ("issue: missing dossier", ["card", "issue", "--dir", dir, "--first-name", "A", "--last-name", "B"], nil),
            ("unknown verb", ["wallet", "drain", "--dir", dir], nil),
        ]

        let dump = try CLI.dump(dir)
        let files = try CLI.files(dir)
        for (name, arguments, card) in cases {
            for json in [false, true] {
                let outcome = try CLI.gateway(arguments + (json ? ["--json"] : []))
                #expect(outcome.status != 0, "\(name): exit \(outcome.status)")
                CLI.expectRefusal(outcome, json: json, name)
                if let card {
                    #expect(!outcome.stderr.contains(card) && !outcome.stdout.contains(card), "\(name): the full PAN is printed")
                }
                for pan in [active, unknown, badLuhn] {
                    #expect(!outcome.stderr.contains(pan), "\(name): a full PAN on stderr: \(outcome.stderr)")
                }
                if card == unknown || card == badLuhn {
                    #expect(outcome.stderr.contains(PAN.mask(card!)), "\(name): masked as first 4 + last 4: \(outcome.stderr)")
                }
            }
        }
        #expect(try CLI.dump(dir) == dump, "a refused operation changes nothing in the ledger")
        #expect(try CLI.files(dir) == files, "nor in DIR (no certificate of a refused enrollment)")
        #expect(try CLI.gateway(["check", "--dir", dir]).status == 0)

        // A DIR without a ledger: refused, and no ledger is created there.
        let empty = try CLI.temporaryDirectory("empty")
        defer { CLI.remove(empty) }
        for verb in [["terminal", "list"], ["check"], ["wallet", "load", "--card", active, "--wallet", "MANUELS", "--amount", "1"]] {
            let outcome = try CLI.gateway(verb + ["--dir", empty, "--json"])
            #expect(outcome.status != 0)
            CLI.expectRefusal(outcome, json: true, "\(verb) on an empty DIR")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty).isEmpty)
    }
}

/// Running `gateway` and reading what it left behind.
private enum CLI {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static var gatewayPath: String { packageRoot.appendingPathComponent(".build/debug/gateway").path }

    struct Outcome {
        let arguments: [String]
        let status: Int32
        let stdout: String
        let stderr: String

        var jsonObject: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any]
        }

        /// `{"<name>": {...}}` and nothing else on stdout.
        func single(_ name: String) -> [String: Any]? {
            guard let object = jsonObject, object.count == 1 else { return nil }
            return object[name] as? [String: Any]
        }
    }

    static func gateway(_ arguments: [String]) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gatewayPath)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read stderr on another thread so that neither pipe can fill up and block the child.
        let stderrBox = DataBox()
        let stderrHandle = err.fileHandleForReading
        let reader = Thread { stderrBox.data = stderrHandle.readDataToEndOfFile(); stderrBox.done.signal() }
        reader.start()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        stderrBox.done.wait()
        process.waitUntilExit()
        return Outcome(arguments: arguments, status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderrBox.data, as: UTF8.self))
    }

    final class DataBox: @unchecked Sendable {
        var data = Data()
        let done = DispatchSemaphore(value: 0)
    }

    /// A refused operation: one clear line on stderr; with --json, exactly `{"error": {"code", "message"}}` on stdout.
    static func expectRefusal(_ outcome: Outcome, json: Bool, _ name: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
        let lines = outcome.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty && !lines[0].trimmingCharacters(in: .whitespaces).isEmpty,
                "\(name): stderr must be one line: \(outcome.stderr.debugDescription)", sourceLocation: sourceLocation)
        if json {
            let object = outcome.jsonObject
            let error = object?["error"] as? [String: Any]
            #expect(object?.count == 1 && error != nil, "\(name): stdout \(outcome.stdout.debugDescription)", sourceLocation: sourceLocation)
            #expect(error.map { Set($0.keys) } == ["code", "message"], "\(name)", sourceLocation: sourceLocation)
            #expect(!(error?["code"] as? String ?? "").isEmpty && !(error?["message"] as? String ?? "").isEmpty,
                    "\(name)", sourceLocation: sourceLocation)
            #expect(outcome.stdout.trimmingCharacters(in: .newlines).split(separator: "\n").count == 1, "\(name)",
                    sourceLocation: sourceLocation)
        } else {
            #expect(outcome.stdout.isEmpty, "\(name): stdout \(outcome.stdout.debugDescription)", sourceLocation: sourceLocation)
        }
    }

    static func partnerAdd(_ dir: String, id: String, name: String = "Boutique", category: String = "equipement",
                           wallets: String = "MANUELS") -> [String] {
        ["partner", "add", "--dir", dir, "--id", id, "--name", name, "--city", "Lille", "--category", category, "--wallets", wallets]
    }

    static func spaced(_ pan: String) -> String {
        let chars = Array(pan)
        return stride(from: 0, to: 16, by: 4).map { String(chars[$0..<$0 + 4]) }.joined(separator: " ")
    }

    static func temporaryDirectory(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "hdf-cli-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func remove(_ dir: String) { try? FileManager.default.removeItem(atPath: dir) }

    static func mode(_ path: String) -> Int? {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber)?.intValue
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// Every row of every table, as `sqlite3 .dump` would show them (schema included).
    static func dump(_ dir: String) throws -> [String] {
        let db = try SQLiteConnection(path: dir + "/ledger.sqlite")
        var lines = try db.rows("SELECT type || ' ' || name || ' ' || COALESCE(sql, '') FROM sqlite_master ORDER BY type, name") { $0.text(0) }
        let tables = try db.rows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") { $0.text(0) }
        for table in tables {
            let columns = try db.rows("SELECT name FROM pragma_table_info(?) ORDER BY cid", table) { $0.text(0) }
            let row = columns.map { "quote(\"\($0)\")" }.joined(separator: " || '|' || ")
            lines += try db.rows("SELECT '\(table): ' || \(row) FROM \"\(table)\" ORDER BY 1") { $0.text(0) }
        }
        lines.append("user_version \(try db.scalarInt("PRAGMA user_version") ?? -1)")
        return lines
    }

    /// The files of DIR (the ledger's WAL and shared-memory files aside).
    static func files(_ dir: String) throws -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: dir)
        var files: [String] = []
        while let path = enumerator?.nextObject() as? String {
            if path.hasPrefix("ledger.sqlite-") { continue }
            files.append(path)
        }
        return files.sorted()
    }
}
