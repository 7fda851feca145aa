import ArgumentParser
import CardApplication
import Foundation
import HDFDomain
import Ledger
import PartnerPKI
import Provisioning

/// What `prepare` wrote and every load run reads: the environment, the terminals (certificate, key)
/// and, for each terminal, the cards only it uses (so each card's ATC only goes up). Paths are absolute.
struct BenchPlan: Codable, Sendable {
    struct Card: Codable, Sendable {
        let pan: String
        let key: String
    }
    struct Terminal: Codable, Sendable {
        let id: String
        let partner: String
        let cert: String
        let key: String
        let cards: [Card]
    }
    let dir: String
    let ca: String
    let serverCert: String
    let serverKey: String
    let terminals: [Terminal]

    enum CodingKeys: String, CodingKey {
        case dir, ca, terminals
        case serverCert = "server_cert"
        case serverKey = "server_key"
    }

    static func load(_ path: String) throws -> BenchPlan {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("no bench plan at \(path) (run `bench-load prepare` first)")
        }
        return try JSONDecoder().decode(BenchPlan.self, from: data)
    }
}

/// Enrolls `--terminals` terminals of one partner and issues `--cards-per-terminal` cards each, loaded
/// with `--amount` cents of MANUELS: the same ledger operations as `gateway terminal enroll`, `card issue`
/// and `wallet load`, in one process and one transaction.
struct Prepare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Enroll the bench terminals and issue their cards in DIR; write the plan (JSON).")

    @Option(help: "An environment made by `gateway demo`.")
    var dir: String

    @Option(help: "How many terminals (ids PREFIX001...).")
    var terminals: Int = 64

    @Option(name: .customLong("cards-per-terminal"), help: "Cards owned by each terminal.")
    var cardsPerTerminal: Int = 4

    @Option(help: "The partner the terminals belong to (it must accept MANUELS).")
    var partner: String = "P002"

    @Option(help: "Terminal id prefix.")
    var prefix: String = "BT"

    @Option(help: "Cents loaded in each card's MANUELS wallet.")
    var amount: Int64 = 100_000_000

    @Option(help: "Where to write the plan.")
    var out: String

    func validate() throws {
        guard terminals >= 1, terminals <= 9_999 else { throw ValidationError("--terminals must be 1 to 9999") }
        guard cardsPerTerminal >= 1 else { throw ValidationError("--cards-per-terminal must be at least 1") }
    }

    func run() throws {
        let started = Date()
        let directory = URL(fileURLWithPath: dir).standardizedFileURL.path
        let layout = EnvironmentLayout(directory: directory)
        let ca = try PartnerCA.load(certificatePath: layout.path(EnvironmentLayout.caCertificateFile),
                                    keyPath: layout.path(EnvironmentLayout.caKeyFile))
        let masterKey = try IssuerMasterKey.load(layout: layout)
        let ledger = try Ledger(path: layout.ledgerPath, actor: "operator")

        // Certificates first (each terminal's files, never over existing ones), then one transaction.
        var issued: [(id: String, fingerprint: String)] = []
        for index in 1...terminals {
            let id = prefix + String(repeating: "0", count: max(0, 3 - String(index).count)) + String(index)
            let credential = try ca.issueTerminalCertificate(terminalID: id, partnerID: partner)
            try credential.write(certificatePath: layout.path(EnvironmentLayout.terminalCertificateFile(id)),
                                 keyPath: layout.path(EnvironmentLayout.terminalKeyFile(id)), replaceExisting: false)
            issued.append((id, credential.fingerprint))
        }
        let planTerminals: [BenchPlan.Terminal] = try ledger.write { tx in
            try issued.map { terminal in
                try tx.enrollTerminal(id: terminal.id, partnerID: partner, certificateSHA256: terminal.fingerprint)
                let cards = try (1...cardsPerTerminal).map { number -> BenchPlan.Card in
                    let card = try tx.issueCard(beneficiary: BeneficiaryRecord(
                        dossier: "BENCH-\(terminal.id)-\(number)", firstName: "Banc", lastName: "Essai \(terminal.id)"))
                    _ = try tx.loadWallet(pan: card.pan, code: .manuels, amountCents: amount, validMonths: nil)
                    return BenchPlan.Card(pan: card.pan.digits, key: Hex.encode(masterKey.cardKey(for: card.pan)))
                }
                return BenchPlan.Terminal(id: terminal.id, partner: partner,
                                          cert: layout.path(EnvironmentLayout.terminalCertificateFile(terminal.id)),
                                          key: layout.path(EnvironmentLayout.terminalKeyFile(terminal.id)), cards: cards)
            }
        }
        let plan = BenchPlan(dir: directory, ca: layout.path(EnvironmentLayout.caCertificateFile),
                             serverCert: layout.path(EnvironmentLayout.serverCertificateFile),
                             serverKey: layout.path(EnvironmentLayout.serverKeyFile), terminals: planTerminals)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // The plan names card keys: readable by its owner alone.
        try SecretFile.write(path: out, bytes: Array(try encoder.encode(plan)))
        let seconds = Date().timeIntervalSince(started)
        print("prepare: \(terminals) terminals of \(partner), \(terminals * cardsPerTerminal) cards with \(amount) cents of MANUELS each, "
              + "in \(String(format: "%.1f", seconds)) s; plan \(out)")
    }
}
