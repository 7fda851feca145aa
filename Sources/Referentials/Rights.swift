import Foundation
import HDFDomain

/// The situation at the next school year, as a card application states it (contract §2 and §9 spell them).
public enum ApplicantSituation: String, CaseIterable, Sendable, Codable {
    case lyceen
    case apprenti
    case ecoleProduction = "ecole_production"
    case postBac = "post_bac"

    /// The choice on the first page of "Demande de carte".
    public var choice: String {
        switch self {
        case .lyceen: return "Je suis lycéen"
        case .apprenti: return "Je suis apprenti"
        case .ecoleProduction: return "Je suis élève de l'école de production"
        case .postBac: return "Je suis en formation post-bac"
        }
    }

    /// The levels ("niveau de formation") a rule of the rights file can name, in the order a form offers them.
    public var levels: [String] {
        switch self {
        case .lyceen: return ["seconde", "premiere", "terminale", "cap_1", "cap_2"]
        case .apprenti: return ["annee_1", "annee_2", "annee_3"]
        case .ecoleProduction: return ["annee_1", "annee_2"]
        case .postBac: return ["annee_1", "annee_2", "annee_3"]
        }
    }

    /// The establishments a beneficiary in this situation picks from.
    public var establishmentKind: EstablishmentKind {
        switch self {
        case .lyceen: return .lycee
        case .apprenti: return .cfa
        case .ecoleProduction: return .ecoleProduction
        case .postBac: return .postBac
        }
    }

    /// The ledger's older spelling of the same situation (`beneficiaries.situation`, `card issue --situation`).
    public var beneficiarySituation: BeneficiarySituation {
        switch self {
        case .lyceen: return .lyceen
        case .apprenti: return .apprenti
        case .ecoleProduction: return .ecoleDeProduction
        case .postBac: return .postBac
        }
    }

    /// Reads either spelling ("ecole_production" or "ecole-de-production").
    public init?(parsing text: String) {
        if let value = ApplicantSituation(rawValue: text) { self = value; return }
        if let older = BeneficiarySituation(rawValue: text),
           let value = ApplicantSituation.allCases.first(where: { $0.beneficiarySituation == older }) {
            self = value
            return
        }
        return nil
    }
}

/// One advantage a card or a THR request gives: a wallet and an amount in cents.
public struct Advantage: Hashable, Sendable, Codable {
    public let wallet: WalletCode
    public let amountCents: Int64

    enum CodingKeys: String, CodingKey {
        case wallet
        case amountCents = "amount_cents"
    }

    public init(wallet: WalletCode, amountCents: Int64) {
        self.wallet = wallet
        self.amountCents = amountCents
    }

    /// "Ton avantage Manuels et équipement : 100 €": the récapitulatif's sentence (French, "tu").
    public var sentence: String { "Ton avantage \(wallet.label) : \(Self.euros(amountCents))" }

    /// Whole euros without decimals ("100 €"), otherwise with them ("12,50 €"). The space before € is a
    /// no-break space in print; here a plain space, as the rest of the project writes amounts.
    public static func euros(_ cents: Int64) -> String {
        cents % 100 == 0 ? "\(cents / 100) €" : Money.display(cents: cents)
    }

    /// What the guide adds under a MANUELS advantage.
    public var validityNote: String? {
        wallet == .manuels
            ? "Ton avantage \(wallet.label) est valable \(wallet.defaultValidityMonths) mois à compter de la date de chargement de ta carte"
            : nil
    }
}

/// Why the rights file was refused: the file and what is wrong, in one line.
public struct RightsFileError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let reason: String
    public var description: String { "\(file): \(reason)" }
}

/// The rights: ONE file an operator edits (`DIR/rights.json`, docs/rights.md), read by the récapitulatif and
/// by the approvals. Which advantages each (situation, level) gives, and the THR scale.
public struct RightsFile: Codable, Sendable, Equatable {
    public static let fileName = "rights.json"
    /// A rights file is a page of JSON; anything much bigger is not one.
    public static let maximumFileBytes = 256 * 1024

    public struct CardRule: Codable, Sendable, Equatable {
        public let situation: ApplicantSituation
        public let level: String
        public let advantages: [Advantage]
    }

    /// A distance band of the transport scale: from `fromMetres` (included) up to `toMetres` (excluded;
    /// absent on the last band).
    public struct TransportBand: Codable, Sendable, Equatable {
        public let fromMetres: Int
        public let toMetres: Int?
        public let amountCents: Int64
        enum CodingKeys: String, CodingKey {
            case fromMetres = "from_metres"
            case toMetres = "to_metres"
            case amountCents = "amount_cents"
        }
    }

    public struct THRScale: Codable, Sendable, Equatable {
        public let transportBands: [TransportBand]
        /// Loaded into HEBERGEMENT when the request asks for the hébergement part.
        public let hebergementCents: Int64
        /// Loaded into RESTAURATION when the request asks for the restauration part.
        public let restaurationCents: Int64
        enum CodingKeys: String, CodingKey {
            case transportBands = "transport_bands"
            case hebergementCents = "hebergement_cents"
            case restaurationCents = "restauration_cents"
        }
    }

    public let card: [CardRule]
    public let thr: THRScale

    /// The defaults of contract §9 and the project's choices for the rest (docs/rights.md).
    public static let defaults = RightsFile(
        card: [
            CardRule(situation: .lyceen, level: "seconde", advantages: [Advantage(wallet: .manuels, amountCents: 10_000)]),
            CardRule(situation: .lyceen, level: "premiere", advantages: [Advantage(wallet: .manuels, amountCents: 5_500)]),
            CardRule(situation: .lyceen, level: "terminale", advantages: [Advantage(wallet: .manuels, amountCents: 5_500)]),
            CardRule(situation: .lyceen, level: "cap_1", advantages: [Advantage(wallet: .manuels, amountCents: 10_000)]),
            CardRule(situation: .lyceen, level: "cap_2", advantages: [Advantage(wallet: .manuels, amountCents: 5_500)]),
            CardRule(situation: .apprenti, level: "annee_1", advantages: [Advantage(wallet: .manuels, amountCents: 20_000)]),
            CardRule(situation: .apprenti, level: "annee_2", advantages: []),
            CardRule(situation: .apprenti, level: "annee_3", advantages: []),
            CardRule(situation: .ecoleProduction, level: "annee_1", advantages: [Advantage(wallet: .manuels, amountCents: 20_000)]),
            CardRule(situation: .ecoleProduction, level: "annee_2", advantages: [Advantage(wallet: .manuels, amountCents: 5_500)]),
            CardRule(situation: .postBac, level: "annee_1", advantages: [Advantage(wallet: .manuels, amountCents: 5_500)]),
            CardRule(situation: .postBac, level: "annee_2", advantages: [Advantage(wallet: .manuels, amountCents: 5_500)]),
            CardRule(situation: .postBac, level: "annee_3", advantages: [Advantage(wallet: .manuels, amountCents: 5_500)]),
        ],
        thr: THRScale(
            transportBands: [
                TransportBand(fromMetres: 0, toMetres: 10_000, amountCents: 5_000),
                TransportBand(fromMetres: 10_000, toMetres: 30_000, amountCents: 10_000),
                TransportBand(fromMetres: 30_000, toMetres: 60_000, amountCents: 20_000),
                TransportBand(fromMetres: 60_000, toMetres: nil, amountCents: 30_000),
            ],
            hebergementCents: 30_000,
            restaurationCents: 15_000))

    /// Checks what JSON cannot: every (situation, level) once and known, amounts within the ledger's bounds,
    /// bands contiguous from 0 m with an open last one.
    public func validate(file: String) throws {
        func fail(_ reason: String) -> RightsFileError { RightsFileError(file: file, reason: reason) }
        var seen: Set<String> = []
        for rule in card {
            guard rule.situation.levels.contains(rule.level) else {
                throw fail("card rule \(rule.situation.rawValue)/\(rule.level): unknown level (expected one of \(rule.situation.levels.joined(separator: ", ")))")
            }
            guard seen.insert(rule.situation.rawValue + "/" + rule.level).inserted else {
                throw fail("card rule \(rule.situation.rawValue)/\(rule.level) appears twice")
            }
            guard Set(rule.advantages.map(\.wallet)).count == rule.advantages.count else {
                throw fail("card rule \(rule.situation.rawValue)/\(rule.level) names a wallet twice")
            }
            for advantage in rule.advantages {
                guard (1...Money.maximumAmountCents).contains(advantage.amountCents) else {
                    throw fail("card rule \(rule.situation.rawValue)/\(rule.level): \(advantage.wallet.rawValue) amount must be 1 to \(Money.maximumAmountCents) cents")
                }
            }
        }
        guard !thr.transportBands.isEmpty, thr.transportBands.first?.fromMetres == 0 else {
            throw fail("thr.transport_bands must start at from_metres 0")
        }
        for (index, band) in thr.transportBands.enumerated() {
            guard (0...Money.maximumAmountCents).contains(band.amountCents) else {
                throw fail("thr.transport_bands[\(index)]: amount must be 0 to \(Money.maximumAmountCents) cents")
            }
            let isLast = index == thr.transportBands.count - 1
            if isLast {
                guard band.toMetres == nil else { throw fail("the last transport band has no to_metres (it is open-ended)") }
            } else {
                guard let to = band.toMetres, to > band.fromMetres, thr.transportBands[index + 1].fromMetres == to else {
                    throw fail("thr.transport_bands[\(index)]: to_metres must be above from_metres and equal the next band's from_metres")
                }
            }
        }
        for (name, amount) in [("hebergement_cents", thr.hebergementCents), ("restauration_cents", thr.restaurationCents)] {
            guard (0...Money.maximumAmountCents).contains(amount) else {
                throw fail("thr.\(name) must be 0 to \(Money.maximumAmountCents) cents")
            }
        }
    }

    /// Reads and checks `path`. A missing file is an error: approvals never guess the amounts.
    public static func load(path: String) throws -> RightsFile {
        let name = (path as NSString).lastPathComponent
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RightsFileError(file: path, reason: "no rights file (write one from docs/rights.md, or `gateway demo` writes the defaults)")
        }
        guard data.count <= maximumFileBytes else { throw RightsFileError(file: name, reason: "larger than \(maximumFileBytes) bytes") }
        let rights: RightsFile
        do { rights = try JSONDecoder().decode(RightsFile.self, from: data) } catch {
            throw RightsFileError(file: name, reason: "not a rights file: \(Self.describe(error))")
        }
        try rights.validate(file: name)
        return rights
    }

    /// The defaults, pretty-printed, as `gateway demo` writes them.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes, .sortedKeys]
        return try encoder.encode(self)
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context), DecodingError.typeMismatch(_, let context),
             DecodingError.valueNotFound(_, let context):
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return "\(path.isEmpty ? "" : path + ": ")\(context.debugDescription)"
        case DecodingError.keyNotFound(let key, let context):
            let path = (context.codingPath + [key]).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return "missing \(path)"
        default: return String(describing: error)
        }
    }

    // MARK: - What the answers entitle to

    /// The card's advantages for a situation and level; nil when the file has no rule for them (the
    /// application is then refused at submission, never approved with a guess).
    public func cardAdvantages(situation: ApplicantSituation, level: String) -> [Advantage]? {
        card.first { $0.situation == situation && $0.level == level }?.advantages
    }

    /// The transport amount for a distance, by the band it falls in.
    public func transportCents(distanceMetres: Int) -> Int64 {
        thr.transportBands.last { $0.fromMetres <= distanceMetres }?.amountCents ?? 0
    }

    /// The THR advantages of a request: TRANSPORT by distance band, HEBERGEMENT and RESTAURATION flat, each only
    /// for the parts asked and when above zero.
    public func thrAdvantages(transport: Bool, hebergement: Bool, restauration: Bool, distanceMetres: Int) -> [Advantage] {
        var advantages: [Advantage] = []
        if transport, transportCents(distanceMetres: distanceMetres) > 0 {
            advantages.append(Advantage(wallet: .transport, amountCents: transportCents(distanceMetres: distanceMetres)))
        }
        if hebergement, thr.hebergementCents > 0 { advantages.append(Advantage(wallet: .hebergement, amountCents: thr.hebergementCents)) }
        if restauration, thr.restaurationCents > 0 { advantages.append(Advantage(wallet: .restauration, amountCents: thr.restaurationCents)) }
        return advantages
    }
}
