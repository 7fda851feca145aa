import Foundation

/// What a card application needs to know of an establishment's kind. One establishment may be several
/// (a lycée with BTS classes is also post-bac; a lycée with an apprentices' unit also takes apprentis).
public enum EstablishmentKind: String, CaseIterable, Sendable, Codable {
    case lycee
    case cfa
    case ecoleProduction = "ecole_production"
    case postBac = "post_bac"

    public var label: String {
        switch self {
        case .lycee: return "Lycée"
        case .cfa: return "CFA"
        case .ecoleProduction: return "École de production"
        case .postBac: return "Formation post-bac"
        }
    }
}

/// One establishment of the national directory ("Annuaire de l'éducation").
public struct Establishment: Hashable, Sendable {
    /// The UAI (Unité administrative immatriculée): 7 digits and a check letter, `0801234A`.
    public let uai: String
    public let name: String
    /// `Type_etablissement` as the directory writes it ("Lycée", "Autres", ...).
    public let directoryType: String
    public let nature: String
    public let postcode: String
    public let inseeCode: String
    public let commune: String
    /// `Code_region` ("32" is Hauts-de-France).
    public let regionCode: String
    public let kinds: Set<EstablishmentKind>
    /// Some directory lines have no position; such an establishment can be chosen, but no distance computed.
    public let coordinates: Coordinates?

    public var isInHautsDeFrance: Bool { regionCode == EstablishmentReferential.hautsDeFranceRegionCode }
}

/// The establishment référentiel: files in the Annuaire de l'éducation's CSV format (`;`-separated, its own
/// column names), filtered by kind and commune for the "Mon établissement" step.
///
/// Same loading policy as the addresses: a malformed line refuses the file, naming the line.
public final class EstablishmentReferential: @unchecked Sendable {
    public static let requiredColumns = ["Identifiant_de_l_etablissement", "Nom_etablissement", "Type_etablissement",
                                         "Code_postal", "Nom_commune", "latitude", "longitude"]
    public static let maximumEstablishments = 200_000
    public static let hautsDeFranceRegionCode = "32"

    public private(set) var all: [Establishment] = []
    private var byUAI: [String: Int] = [:]

    public init() {}

    /// A UAI is 7 digits then one letter (the directory writes the letter upper case).
    public static func isValidUAI(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        return scalars.count == 8 && scalars.prefix(7).allSatisfy { ("0"..."9").contains($0) }
            && ("A"..."Z").contains(scalars[7])
    }

    public static func load(files: [String]) throws -> EstablishmentReferential {
        let referential = EstablishmentReferential()
        for path in files {
            let file = (path as NSString).lastPathComponent
            var column: [String: Int] = [:]
            var columnCount = 0
            try SemicolonCSV.read(path: path, header: { names in
                column = try SemicolonCSV.columns(names, required: requiredColumns, file: file)
                columnCount = names.count
            }, body: { record in
                func fail(_ reason: String) -> ReferentialError { ReferentialError(file: file, line: record.line, reason: reason) }
                guard record.count == columnCount else { throw fail("\(record.count) fields where the header has \(columnCount)") }
                func text(_ name: String) -> String {
                    column[name].map { record.string($0).trimmingCharacters(in: .whitespaces) } ?? ""
                }
                let uai = text("Identifiant_de_l_etablissement")
                guard isValidUAI(uai) else { throw fail("'Identifiant_de_l_etablissement' is '\(uai)', expected a UAI (7 digits and a letter)") }
                guard referential.byUAI[uai] == nil else { throw fail("UAI \(uai) appears twice") }
                let name = text("Nom_etablissement")
                guard !name.isEmpty, name.count <= 200 else { throw fail("'Nom_etablissement' is empty or longer than 200 characters") }
                let postcode = text("Code_postal")
                guard postcode.utf8.count == 5, postcode.utf8.allSatisfy({ (48...57).contains($0) }) else {
                    throw fail("'Code_postal' is '\(postcode)', expected 5 digits")
                }
                let commune = text("Nom_commune")
                guard !commune.isEmpty else { throw fail("'Nom_commune' is empty") }
                let latitude = text("latitude"), longitude = text("longitude")
                var coordinates: Coordinates?
                if !(latitude.isEmpty && longitude.isEmpty) {
                    guard let parsed = Coordinates(latitude: latitude, longitude: longitude) else {
                        throw fail("'latitude'/'longitude' are '\(latitude)'/'\(longitude)', expected decimal degrees or both empty")
                    }
                    coordinates = parsed
                }
                let type = text("Type_etablissement")
                let nature = text("libelle_nature")
                let upperNature = nature.uppercased()
                var kinds: Set<EstablishmentKind> = []
                if type == "Lycée" { kinds.insert(.lycee) }
                if upperNature.contains("APPRENTI") || text("Apprentissage") == "1" { kinds.insert(.cfa) }
                if upperNature.contains("ECOLE DE PRODUCTION") || upperNature.contains("ÉCOLE DE PRODUCTION") { kinds.insert(.ecoleProduction) }
                if text("Post_BAC") == "1" { kinds.insert(.postBac) }
                guard referential.all.count < maximumEstablishments else { throw fail("more than \(maximumEstablishments) establishments") }
                referential.byUAI[uai] = referential.all.count
                referential.all.append(Establishment(
                    uai: uai, name: name, directoryType: type, nature: nature, postcode: postcode,
                    inseeCode: text("Code_commune"), commune: commune, regionCode: text("Code_region"),
                    kinds: kinds, coordinates: coordinates))
            })
        }
        let locale = Locale(identifier: "fr_FR")
        referential.all.sort {
            $0.name.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: locale)
                < $1.name.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: locale)
        }
        referential.byUAI = Dictionary(uniqueKeysWithValues: referential.all.enumerated().map { ($1.uai, $0) })
        return referential
    }

    public func establishment(uai: String) -> Establishment? {
        byUAI[uai.uppercased()].map { all[$0] }
    }

    /// The establishments of a kind, optionally in one commune (by name, accents and case ignored, or by INSEE
    /// code) or under one code postal; sorted by name.
    public func establishments(kind: EstablishmentKind? = nil, commune: String? = nil, postcode: String? = nil) -> [Establishment] {
        let locale = Locale(identifier: "fr_FR")
        let wanted = commune.map { $0.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: locale) }
        return all.filter { establishment in
            if let kind, !establishment.kinds.contains(kind) { return false }
            if let postcode, establishment.postcode != postcode { return false }
            if let wanted, let commune {
                let name = establishment.commune.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: locale)
                if name != wanted && establishment.inseeCode != commune { return false }
            }
            return true
        }
    }

    /// The communes that have at least one establishment of that kind (the "ville de l'établissement" choices).
    public func communes(kind: EstablishmentKind? = nil) -> [String] {
        Array(Set(establishments(kind: kind).map(\.commune))).sorted()
    }
}

/// Distance on the ground between two points, in whole metres.
///
/// Method (docs/referentiels.md): the haversine formula on a sphere of the Earth's mean radius (IUGG,
/// 6,371,008.8 m), from the référentiels' WGS 84 coordinates, rounded to the nearest metre. As the crow
/// flies: it is what the THR scale's distance bands are written against, not a road distance. The error
/// against the ellipsoid is under 0.5 % at the region's scale.
public enum Distance {
    public static let earthMeanRadiusMetres = 6_371_008.8

    public static func metres(_ a: Coordinates, _ b: Coordinates) -> Int {
        let toRadians = Double.pi / 180
        let lat1 = a.latitude * toRadians, lat2 = b.latitude * toRadians
        let dLat = lat2 - lat1
        let dLon = (b.longitude - a.longitude) * toRadians
        let h = sin(dLat / 2) * sin(dLat / 2) + cos(lat1) * cos(lat2) * sin(dLon / 2) * sin(dLon / 2)
        let central = 2 * asin(min(1, sqrt(h)))
        return Int((earthMeanRadiusMetres * central).rounded())
    }
}
