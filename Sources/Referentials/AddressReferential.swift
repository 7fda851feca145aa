import Foundation

/// One commune as the address picker offers it after a code postal.
public struct Commune: Hashable, Sendable, Codable {
    public let inseeCode: String
    public let name: String
    public let postcode: String
}

/// One numbered address of the Base Adresse Nationale.
public struct AddressPoint: Hashable, Sendable {
    /// The BAN's `id` (`80021_3150_00012`): what a form sends back once a number is picked.
    public let id: String
    /// `numero` and `rep` together, as shown: "12", "12 bis".
    public let number: String
    public let street: String
    public let commune: Commune
    public let coordinates: Coordinates

    /// "12 bis rue des Jacobins, 80000 Amiens".
    public var label: String { "\(number) \(street), \(commune.postcode) \(commune.name)" }
}

/// The address référentiel: files in the Base Adresse Nationale's CSV format (`adresses-XX.csv`), looked up
/// step by step as the "Demande de carte" asks: code postal → communes → voies → numéros.
///
/// Loading policy: a malformed line refuses the whole file with an error naming the file and the line
/// (docs/referentiels.md): a half-loaded référentiel would offer wrong choices without anyone knowing.
public final class AddressReferential: @unchecked Sendable {
    /// The columns read; the others of the BAN format are allowed and ignored.
    public static let requiredColumns = ["id", "numero", "rep", "nom_voie", "code_postal", "code_insee", "nom_commune", "lon", "lat"]
    /// A guard against a wrong file: a whole département is about a million lines, France about 26 million.
    public static let maximumAddresses = 5_000_000
    /// BAN numbers go from 0 to 99999 (99999 marks a lieu-dit without a number in some files).
    static let maximumNumber = 99_999

    struct Street {
        let commune: Int32
        let name: String
    }
    struct Point {
        let id: String
        let numero: Int32
        let rep: String
        let street: Int32
        let coordinates: Coordinates
    }

    private(set) var communes: [Commune] = []
    private(set) var streets: [Street] = []
    private(set) var points: [Point] = []
    private var communesByPostcode: [String: [Int32]] = [:]
    private var streetsByCommune: [Int32: [Int32]] = [:]
    private var pointsByStreet: [Int32: [Int32]] = [:]
    private var pointByID: [String: Int32] = [:]

    public var addressCount: Int { points.count }

    public init() {}

    /// Loads every file; the first malformed line refuses the load (nothing is kept from it).
    public static func load(files: [String]) throws -> AddressReferential {
        let referential = AddressReferential()
        var communeIndex: [String: Int32] = [:]   // postcode|insee|name
        var streetIndex: [String: Int32] = [:]    // commune|street name
        for path in files {
            let file = (path as NSString).lastPathComponent
            var column: [String: Int] = [:]
            var columnCount = 0
            try SemicolonCSV.read(path: path, header: { names in
                column = try SemicolonCSV.columns(names, required: requiredColumns, file: file)
                columnCount = names.count
            }, body: { record in
                func fail(_ reason: String) -> ReferentialError { ReferentialError(file: file, line: record.line, reason: reason) }
                guard record.count == columnCount else {
                    throw fail("\(record.count) fields where the header has \(columnCount)")
                }
                let id = record.string(column["id"]!)
                guard !id.isEmpty, id.count <= 40 else { throw fail("empty or too long 'id'") }
                let numeroText = record.string(column["numero"]!)
                guard let numero = Int32(numeroText), (0...Int32(maximumNumber)).contains(numero) else {
                    throw fail("'numero' is '\(numeroText)', expected a whole number from 0 to \(maximumNumber)")
                }
                let rep = record.string(column["rep"]!).trimmingCharacters(in: .whitespaces)
                guard rep.count <= 10 else { throw fail("'rep' is longer than 10 characters") }
                let street = record.string(column["nom_voie"]!).trimmingCharacters(in: .whitespaces)
                guard !street.isEmpty, street.count <= 200 else { throw fail("'nom_voie' is empty or longer than 200 characters") }
                let postcode = record.string(column["code_postal"]!)
                guard postcode.utf8.count == 5, postcode.utf8.allSatisfy({ (48...57).contains($0) }) else {
                    throw fail("'code_postal' is '\(postcode)', expected 5 digits")
                }
                let insee = record.string(column["code_insee"]!)
                guard insee.utf8.count == 5, insee.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "A" || $0 == "B") }) else {
                    throw fail("'code_insee' is '\(insee)', expected 5 characters (digits, 2A or 2B)")
                }
                let communeName = record.string(column["nom_commune"]!).trimmingCharacters(in: .whitespaces)
                guard !communeName.isEmpty, communeName.count <= 100 else { throw fail("'nom_commune' is empty or too long") }
                let latText = record.string(column["lat"]!), lonText = record.string(column["lon"]!)
                guard let coordinates = Coordinates(latitude: latText, longitude: lonText) else {
                    throw fail("'lat'/'lon' are '\(latText)'/'\(lonText)', expected decimal degrees")
                }
                guard referential.points.count < maximumAddresses else {
                    throw fail("more than \(maximumAddresses) addresses")
                }
                guard referential.pointByID[id] == nil else { throw fail("'id' \(id) appears twice") }

                let communeKey = postcode + "|" + insee + "|" + communeName
                let communeID: Int32
                if let known = communeIndex[communeKey] { communeID = known } else {
                    communeID = Int32(referential.communes.count)
                    referential.communes.append(Commune(inseeCode: insee, name: communeName, postcode: postcode))
                    communeIndex[communeKey] = communeID
                    referential.communesByPostcode[postcode, default: []].append(communeID)
                }
                let streetKey = String(communeID) + "|" + street
                let streetID: Int32
                if let known = streetIndex[streetKey] { streetID = known } else {
                    streetID = Int32(referential.streets.count)
                    referential.streets.append(Street(commune: communeID, name: street))
                    streetIndex[streetKey] = streetID
                    referential.streetsByCommune[communeID, default: []].append(streetID)
                }
                let pointID = Int32(referential.points.count)
                referential.points.append(Point(id: id, numero: numero, rep: rep, street: streetID, coordinates: coordinates))
                referential.pointsByStreet[streetID, default: []].append(pointID)
                referential.pointByID[id] = pointID
            })
        }
        referential.sortChoices()
        return referential
    }

    /// Choices come sorted once, at load: communes and streets by name (French order, accents ignored),
    /// numbers by number then repetition index.
    private func sortChoices() {
        let locale = Locale(identifier: "fr_FR")
        func key(_ text: String) -> String { text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: locale) }
        let communeKeys = communes.map { key($0.name) }
        for (postcode, ids) in communesByPostcode {
            communesByPostcode[postcode] = ids.sorted { communeKeys[Int($0)] < communeKeys[Int($1)] }
        }
        let streetKeys = streets.map { key($0.name) }
        for (commune, ids) in streetsByCommune {
            streetsByCommune[commune] = ids.sorted { streetKeys[Int($0)] < streetKeys[Int($1)] }
        }
        for (street, ids) in pointsByStreet {
            pointsByStreet[street] = ids.sorted {
                let a = points[Int($0)], b = points[Int($1)]
                return a.numero != b.numero ? a.numero < b.numero : a.rep < b.rep
            }
        }
    }

    func point(_ index: Int32) -> AddressPoint {
        let point = points[Int(index)]
        let street = streets[Int(point.street)]
        let number = point.rep.isEmpty ? String(point.numero) : "\(point.numero) \(point.rep)"
        return AddressPoint(id: point.id, number: number, street: street.name, commune: communes[Int(street.commune)],
                            coordinates: point.coordinates)
    }

    // MARK: - The picker's steps

    /// Step 1 → 2: the communes served by a code postal.
    public func communes(postcode: String) -> [Commune] {
        (communesByPostcode[postcode] ?? []).map { communes[Int($0)] }
    }

    /// Step 2 → 3: the streets of one commune under that code postal.
    public func streets(postcode: String, inseeCode: String) -> [String] {
        guard let commune = communeID(postcode: postcode, inseeCode: inseeCode) else { return [] }
        return (streetsByCommune[commune] ?? []).map { streets[Int($0)].name }
    }

    /// Step 3 → 4: the numbered addresses of one street.
    public func numbers(postcode: String, inseeCode: String, street: String) -> [AddressPoint] {
        guard let commune = communeID(postcode: postcode, inseeCode: inseeCode),
              let streetID = (streetsByCommune[commune] ?? []).first(where: { streets[Int($0)].name == street }) else { return [] }
        return (pointsByStreet[streetID] ?? []).map(point)
    }

    /// The address a form sent back, by its BAN id.
    public func address(id: String) -> AddressPoint? {
        pointByID[id].map(point)
    }

    /// The postcodes known, sorted (the first step's choices).
    public var postcodes: [String] { communesByPostcode.keys.sorted() }

    private func communeID(postcode: String, inseeCode: String) -> Int32? {
        communesByPostcode[postcode]?.first { communes[Int($0)].inseeCode == inseeCode }
    }
}
