import BeneficiaryOperations
import CardApplication
import Foundation
import HDFDomain
import Ledger
import PartnerPKI

/// `DIR/demo.json` (contract §2). Paths are relative to DIR.
public struct DemoManifest: Codable, Sendable {
    public struct Gateway: Codable, Sendable {
        public let host: String
        public let port: Int
        public let ca: String
    }
    public struct Terminal: Codable, Sendable {
        public let id: String
        public let cert: String
        public let key: String
    }
    public struct Partner: Codable, Sendable {
        public let id: String
        public let name: String
        public let city: String
        public let category: String
        public let acceptsPrepayment: Bool
        public let acceptsOnline: Bool
        public let wallets: [String]
        public let terminals: [Terminal]
        /// (issue 12) The partner's bank account: IBAN (electronic form) and BIC.
        public var iban: String?
        public var bic: String?
        // What "Où utiliser ma carte" shows (issue 9); optional so that older manifests still read.
        public var address: String? = nil
        public var postcode: String? = nil
        public var phone: String? = nil
        public var email: String? = nil
        public var website: String? = nil
        public var lat: Double? = nil
        public var lon: Double? = nil
        enum CodingKeys: String, CodingKey {
            case id, name, city, category, wallets, terminals
            case iban, bic
            case acceptsPrepayment = "accepts_prepayment"
            case acceptsOnline = "accepts_online"
            case address, postcode, phone, email, website, lat, lon
        }
    }
    public struct Beneficiary: Codable, Sendable {
        public let dossier: String
        public let firstName: String
        public let lastName: String
        // The web-space account (issue 9): `password` is the demo's own, printed for trying the demo.
        public var birthDate: String? = nil
        public var email: String? = nil
        public var phone: String? = nil
        public var password: String? = nil
        public var situation: String? = nil
        enum CodingKeys: String, CodingKey {
            case dossier
            case firstName = "first_name"
            case lastName = "last_name"
            case birthDate = "birth_date"
            case email, phone, password, situation
        }
    }
    public struct Wallet: Codable, Sendable {
        public let code: String
        public let balance: Int64
        public let expires: String
    }
    public struct Card: Codable, Sendable {
        public let pan: String
        public let key: String
        public let status: String
        public let beneficiary: Beneficiary
        public let wallets: [Wallet]
    }
    public let gateway: Gateway
    public let partners: [Partner]
    public let cards: [Card]
    /// (contract §2, issue 10) The web-space accounts that have no card yet, with where they stand.
    public var accounts: [Account]? = nil

    public struct Account: Codable, Sendable {
        public let dossier: String
        public let password: String
        public let birthDate: String
        public let email: String
        public let phone: String
        /// `new` (no application), `submitted` (waiting for the establishment), `validated` (waiting for approval).
        public let state: String
        enum CodingKeys: String, CodingKey {
            case dossier, password, email, phone, state
            case birthDate = "birth_date"
        }
    }

    public static func load(layout: EnvironmentLayout) throws -> DemoManifest {
        guard let data = FileManager.default.contents(atPath: layout.manifestPath) else {
            throw DemoError.noManifest(layout.manifestPath)
        }
        return try JSONDecoder().decode(DemoManifest.self, from: data)
    }
}

public enum DemoError: Error, CustomStringConvertible {
    case ledgerExists(String)
    case noManifest(String)
    public var description: String {
        switch self {
        case .ledgerExists(let dir): return "\(dir) already holds a ledger; use --force to replace the whole environment"
        case .noManifest(let path): return "no demo manifest at \(path)"
        }
    }
}

/// Builds the demo environment of contract §2: the ledger, the keys, the partner CA, the server's and the
/// terminals' certificates, partners, cards and wallets, and `demo.json`.
public enum DemoEnvironment {
    public static let defaultHost = "127.0.0.1"
    public static let defaultPort = 8583

    struct PartnerSeed {
        let record: PartnerRecord
        let terminals: [String]
    }

    static let partners: [PartnerSeed] = [
        PartnerSeed(record: PartnerRecord(
            id: "P001", name: "Librairie du Beffroi", category: .librairie, address: "12 rue des Trois Cailloux",
            city: "Amiens", phone: "03 22 00 00 01", email: "contact@librairie-beffroi.example",
            website: "https://librairie-beffroi.example", acceptsPrepayment: true, acceptsOnline: true, wallets: [.manuels]),
            terminals: ["T001"]),
        PartnerSeed(record: PartnerRecord(
            id: "P002", name: "Équipement Pro Lille", category: .equipement, address: "45 rue Nationale",
            city: "Lille", phone: "03 20 00 00 02", email: "bonjour@equipement-pro.example",
            website: "https://equipement-pro.example", acceptsPrepayment: true, acceptsOnline: false, wallets: [.manuels]),
            terminals: ["T002", "T003"]),
        PartnerSeed(record: PartnerRecord(
            id: "P003", name: "Transports Hauts-de-France", category: .transport, address: "Gare Lille-Flandres",
            city: "Lille", phone: "03 20 00 00 03", email: "abonnements@transports-hdf.example",
            website: "https://transports-hdf.example", acceptsPrepayment: false, acceptsOnline: true, wallets: [.transport]),
            terminals: ["T004"]),
        PartnerSeed(record: PartnerRecord(
            id: "P004", name: "Résidence Les Hortillonnages", category: .hebergement, address: "3 chemin de Halage",
            city: "Amiens", phone: "03 22 00 00 04", email: "accueil@hortillonnages.example",
            website: "https://hortillonnages.example", acceptsPrepayment: false, acceptsOnline: false, wallets: [.hebergement]),
            terminals: ["T005"]),
        PartnerSeed(record: PartnerRecord(
            id: "P005", name: "Le Bistrot d'Arras", category: .restauration, address: "8 Grand'Place",
            city: "Arras", phone: "03 21 00 00 05", email: "table@bistrot-arras.example",
            website: "https://bistrot-arras.example", acceptsPrepayment: true, acceptsOnline: true,
            wallets: [.restauration, .manuels]),
            terminals: ["T006"]),
    ]

    static let firstNames = ["Léa", "Hugo", "Chloé", "Lucas", "Manon", "Nathan", "Inès", "Théo", "Camille", "Louis",
                             "Jade", "Enzo", "Zoé", "Mathis", "Lina", "Noah", "Emma", "Tom", "Sarah", "Jules",
                             "Anaïs", "Maxime", "Eva", "Rayan", "Clara", "Yanis"]
    static let lastNames = ["Martin", "Bernard", "Dubois", "Lefebvre", "Leroy", "Moreau", "Lambert", "Dupont", "Fontaine",
                            "Delattre", "Vasseur", "Lemaire", "Deschamps", "Carpentier", "Caron", "Dumont", "Lecomte",
                            "Dufour", "Boulanger", "Desmet", "Poulain", "Cousin", "Hennebert", "Wattel", "Duhamel", "Bouchez"]

    /// Creates the environment. Refuses a DIR holding a ledger unless `force`, which replaces it whole.
    @discardableResult
    /// `serverNames`: DNS names or IP addresses put in the server certificate besides `localhost` and `127.0.0.1`.
    public static func create(directory: String, force: Bool, serverNames: [String] = [], now: Date = Date()) throws -> DemoManifest {
        let layout = EnvironmentLayout(directory: directory)
        let fileManager = FileManager.default
        try PartnerCA.checkServerNames(serverNames)
        if layout.hasLedger {
            guard force else { throw DemoError.ledgerExists(layout.directory) }
            for name in [EnvironmentLayout.ledgerFile, EnvironmentLayout.ledgerFile + "-wal", EnvironmentLayout.ledgerFile + "-shm",
                         EnvironmentLayout.ledgerFile + "-writers",
                         EnvironmentLayout.manifestFile, "certs", "keys", "terminals",
                         "uploads", "referentiels", "rights.json"] { // (issue 10) the applications' files
                try? fileManager.removeItem(atPath: layout.path(name))
            }
        }
        try fileManager.createDirectory(atPath: layout.directory, withIntermediateDirectories: true)
        // The environment holds the ledger (full PANs, names) and keys: owner only, also for a DIR that
        // existed before (its parents keep their modes).
        try fileManager.setAttributes([.posixPermissions: EnvironmentLayout.directoryMode], ofItemAtPath: layout.directory)
        try fileManager.createDirectory(atPath: layout.path("certs"), withIntermediateDirectories: true)
        // Build under a temporary ledger name: a demo interrupted half-way leaves no ledger behind.
        let buildingPath = layout.path(EnvironmentLayout.ledgerFile + ".building")
        for suffix in ["", "-wal", "-shm", "-writers"] { try? fileManager.removeItem(atPath: buildingPath + suffix) }

        let masterKey = try IssuerMasterKey.create(layout: layout)
        let ca = try PKIFiles.createCA(layout: layout)
        try PKIFiles.issueServer(ca: ca, layout: layout, names: serverNames)
        let referentials = try prepareApplicationFiles(layout: layout) // (issue 10)

        var manifestPartners: [DemoManifest.Partner] = []
        var manifestCards: [DemoManifest.Card] = []
        var manifestAccounts: [DemoManifest.Account] = []
        do {
            let ledger = try Ledger(path: buildingPath, actor: "operator")
            try ledger.write(now: now) { tx in
                for seed in partners {
                    try tx.addPartner(seed.record)
                    var terminals: [DemoManifest.Terminal] = []
                    for terminalID in seed.terminals {
                        let issued = try PKIFiles.issueTerminal(ca: ca, terminalID: terminalID, partnerID: seed.record.id, layout: layout)
                        try tx.enrollTerminal(id: terminalID, partnerID: seed.record.id, certificateSHA256: issued.fingerprint)
                        terminals.append(.init(id: terminalID, cert: EnvironmentLayout.terminalCertificateFile(terminalID),
                                               key: EnvironmentLayout.terminalKeyFile(terminalID)))
                    }
                    let r = seed.record
                    var entry = DemoManifest.Partner(id: r.id, name: r.name, city: r.city, category: r.category.rawValue,
                                                     acceptsPrepayment: r.acceptsPrepayment, acceptsOnline: r.acceptsOnline,
                                                     wallets: r.wallets.map(\.rawValue), terminals: terminals)
                    // (issue 12) every demo partner has a bank account.
                    if let bank = DemoBankAccounts.partners[r.id] {
                        try tx.setPartnerBankAccount(partnerID: r.id, iban: bank.iban, bic: bank.bic)
                        entry.iban = bank.iban.electronic
                        entry.bic = bank.bic.code
                    }
                    // (issue 9) what "Où utiliser ma carte" shows.
                    if let location = partnerLocations[r.id] {
                        try PartnerLocation.set(location, partnerID: r.id, tx)
                        entry.address = r.address
                        entry.postcode = location.postcode
                        entry.phone = r.phone
                        entry.email = r.email
                        entry.website = r.website
                        entry.lat = location.latitude
                        entry.lon = location.longitude
                    }
                    manifestPartners.append(entry)
                }
                try tx.setRegionAccount(DemoBankAccounts.region) // (issue 12) the debtor of reimbursements
                manifestCards = try seedCards(tx, masterKey: masterKey)
                manifestCards = try seedWebAccounts(tx, cards: manifestCards)
                manifestAccounts = try seedApplications(tx, layout: layout, referentials: referentials) // (issue 10)
                try seedApprenticeApplications(tx, layout: layout, referentials: referentials, cards: manifestCards)
            }
            let violations = try ledger.read { try $0.checkInvariants() }
            precondition(violations.isEmpty, "the demo ledger breaks its own invariants: \(violations)")
        }
        var manifest = DemoManifest(
            gateway: .init(host: defaultHost, port: defaultPort, ca: EnvironmentLayout.caCertificateFile),
            partners: manifestPartners, cards: manifestCards)
        manifest.accounts = manifestAccounts
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // The manifest names card keys (demo only): readable by its owner alone.
        try SecretFile.write(path: layout.manifestPath, bytes: Array(try encoder.encode(manifest)))
        try fileManager.moveItem(atPath: buildingPath, toPath: layout.ledgerPath)
        try? fileManager.removeItem(atPath: buildingPath + "-writers") // the turnstile of the file being built
        return manifest
    }

    /// 20 active cards with money in two or three wallets, then one lost, one stolen, one whose only
    /// wallet has expired and one whose wallets are empty.
    static func seedCards(_ tx: LedgerTransaction, masterKey: IssuerMasterKey) throws -> [DemoManifest.Card] {
        let situations = BeneficiarySituation.allCases
        var cards: [DemoManifest.Card] = []
        func issue(_ index: Int) throws -> CardRecord {
            let beneficiary = BeneficiaryRecord(
                dossier: "HDF-2026-\(String(1000 + index))", firstName: firstNames[index % firstNames.count],
                lastName: lastNames[index % lastNames.count],
                birthDate: LocalDate(year: 2005 + index % 5, month: 1 + index % 12, day: 1 + index % 28),
                situation: situations[index % situations.count], boursier: index % 3 == 0)
            return try tx.issueCard(beneficiary: beneficiary)
        }
        func record(_ card: CardRecord, status: CardStatus) throws {
            let beneficiary = try tx.beneficiary(id: card.beneficiaryID)
            let wallets = try tx.wallets(cardID: card.id).map {
                DemoManifest.Wallet(code: $0.code.rawValue, balance: $0.availableCents, expires: $0.expiresOn.iso)
            }
            cards.append(.init(pan: card.pan.digits, key: Hex.encode(masterKey.cardKey(for: card.pan)), status: status.rawValue,
                               beneficiary: .init(dossier: beneficiary.dossier, firstName: beneficiary.firstName,
                                                  lastName: beneficiary.lastName),
                               wallets: wallets))
        }
        let others: [WalletCode] = [.transport, .hebergement, .restauration]
        for index in 0..<20 {
            let card = try issue(index)
            _ = try tx.loadWallet(pan: card.pan, code: .manuels, amountCents: 10_000, validMonths: nil)
            _ = try tx.loadWallet(pan: card.pan, code: others[index % 3], amountCents: 5_000 + Int64(index) * 250, validMonths: nil)
            if index % 4 == 0 {
                _ = try tx.loadWallet(pan: card.pan, code: others[(index + 1) % 3], amountCents: 3_000, validMonths: nil)
            }
            try record(card, status: .active)
        }
        for (offset, status) in [CardStatus.lost, .stolen].enumerated() {
            let card = try issue(20 + offset)
            _ = try tx.loadWallet(pan: card.pan, code: .manuels, amountCents: 8_000, validMonths: nil)
            _ = try tx.loadWallet(pan: card.pan, code: .transport, amountCents: 4_000, validMonths: nil)
            try tx.setCardStatus(pan: card.pan, status: status)
            try record(card, status: status)
        }
        let expired = try issue(22)
        _ = try tx.loadWallet(pan: expired.pan, code: .manuels, amountCents: 6_000, validMonths: nil)
        try tx.setWalletExpiry(pan: expired.pan, code: .manuels, expiresOn: tx.today.adding(days: -1))
        try record(expired, status: .active)
        let empty = try issue(23)
        try tx.openWallet(card: empty, code: .manuels, expires: tx.today.adding(months: 6))
        try tx.openWallet(card: empty, code: .restauration, expires: tx.today.adding(months: 12))
        try record(empty, status: .active)
        return cards
    }

    // MARK: the beneficiary web space (issue 9)

    /// Where the demo partners are (postcode, coordinates in the region).
    static let partnerLocations: [String: PartnerLocation] = [
        "P001": PartnerLocation(postcode: "80000", latitudeMicrodegrees: 49_894_100, longitudeMicrodegrees: 2_302_500),
        "P002": PartnerLocation(postcode: "59000", latitudeMicrodegrees: 50_636_600, longitudeMicrodegrees: 3_063_500),
        "P003": PartnerLocation(postcode: "59000", latitudeMicrodegrees: 50_636_400, longitudeMicrodegrees: 3_070_600),
        "P004": PartnerLocation(postcode: "80000", latitudeMicrodegrees: 49_898_300, longitudeMicrodegrees: 2_318_900),
        "P005": PartnerLocation(postcode: "62000", latitudeMicrodegrees: 50_291_000, longitudeMicrodegrees: 2_777_500),
    ]

    static let establishments = ["Lycée Louis Thuillier, Amiens", "CFA de la Chambre de Métiers, Lille",
                                 "École de production de Roubaix", "Université d'Artois, Arras", "Lycée Faidherbe, Lille"]

    /// The demo's own password for a dossier (printed for trying the demo; a real environment never
    /// stores or prints one).
    public static func demoPassword(dossier: String) -> String { "Demo-" + (dossier.split(separator: "-").last.map(String.init) ?? dossier) }

    /// Contract §2's names for a situation.
    static func contractName(_ situation: BeneficiarySituation?) -> String? {
        switch situation {
        case .lyceen: return "lyceen"
        case .apprenti: return "apprenti"
        case .ecoleDeProduction: return "ecole_production"
        case .postBac: return "post_bac"
        case nil: return nil
        }
    }

    /// Every demo card's beneficiary gets a web-space account (bcrypt at the demo's cost: see
    /// `WebAccounts.demoPasswordHashCost`).
    static func seedWebAccounts(_ tx: LedgerTransaction, cards: [DemoManifest.Card]) throws -> [DemoManifest.Card] {
        let passwords = cards.map { demoPassword(dossier: $0.beneficiary.dossier) }
        let hashes = passwords.map { WebAccounts.hash(password: $0, cost: WebAccounts.demoPasswordHashCost) }
        var result: [DemoManifest.Card] = []
        for (index, card) in cards.enumerated() {
            let record = try tx.card(pan: try PAN(validating: card.pan))
            let beneficiary = try tx.beneficiary(id: record.beneficiaryID)
            let folded = (beneficiary.firstName + "." + beneficiary.lastName).lowercased()
                .folding(options: .diacriticInsensitive, locale: Locale(identifier: "fr_FR"))
                .filter { $0.isLetter || $0 == "." }
            let email = "\(folded).\(beneficiary.dossier.suffix(4))@demo.generation-hdf.example"
            let phone = "06 12 34 \(String(format: "%02d", index / 100 % 100)) \(String(format: "%02d", index % 100))"
            try WebAccounts.createAccount(tx, beneficiaryID: record.beneficiaryID, passwordHash: hashes[index],
                                          email: email, phone: phone, establishment: establishments[index % establishments.count])
            var person = card.beneficiary
            person.birthDate = beneficiary.birthDate?.iso
            person.email = email
            person.phone = phone
            person.password = passwords[index]
            person.situation = contractName(beneficiary.situation)
            result.append(DemoManifest.Card(pan: card.pan, key: card.key, status: card.status, beneficiary: person,
                                            wallets: card.wallets))
        }
        return result
    }
}
