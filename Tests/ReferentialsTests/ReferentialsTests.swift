import Foundation
import HDFDomain
import Referentials
import Testing

/// The shipped demo extracts, the real formats' lines, and what a malformed line does.
enum Fixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static var shipped: String { packageRoot.appendingPathComponent("referentiels").path }

    static let banHeader = "id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;code_insee_ancienne_commune;nom_ancienne_commune;x;y;lon;lat;type_position;alias;nom_ld;libelle_acheminement;nom_afnor;source_position;source_nom_voie;certification_commune;cadastre_parcelles"

    static func banLine(id: String, numero: String, rep: String = "", street: String, postcode: String, insee: String,
                        commune: String, lon: String, lat: String) -> String {
        "\(id);\(insee)_0001;\(numero);\(rep);\(street);\(postcode);\(insee);\(commune);;;649481.91;6977423.57;\(lon);\(lat);entrée;;;\(commune.uppercased());\(street.uppercased());commune;commune;1;\(insee)000AB0001"
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "hdf-ref-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func write(_ dir: String, _ name: String, _ lines: [String]) throws -> String {
        let path = dir + "/" + name
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let tinyPNG = Array(Data(base64Encoded: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGOoaOoBAAL8AYfNyRkeAAAAAElFTkSuQmCC")!)
    /// A real 2×2 JPEG (written by Pillow once, kept here as a fixture).
    static let tinyJPEG = Array(Data(base64Encoded: "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAoHBwgHBgoICAgLCgoLDhgQDg0NDh0VFhEYIx8lJCIfIiEmKzcvJik0KSEiMEExNDk7Pj4+JS5ESUM8SDc9Pjv/2wBDAQoLCw4NDhwQEBw7KCIoOzs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozv/wAARCAACAAIDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwAooorYyP/Z")!)

    /// A one-page PDF with its cross-reference table; `padding` bytes of comment make it as big as wanted.
    static func pdf(padding: Int = 0) -> [UInt8] {
        var out = "%PDF-1.4\n%" + String(repeating: "x", count: padding) + "\n"
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

@Suite("Référentiels: the BAN and the directory of establishments")
struct ReferentialLoaderTests {
    @Test("BAN lines in the real format load; lookups go code postal → communes → voies → numéros")
    func banLinesAndSteps() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try Fixtures.write(dir, "adresses-80.csv", [
            Fixtures.banHeader,
            Fixtures.banLine(id: "80021_3150_00012", numero: "12", street: "Rue des Trois Cailloux", postcode: "80000",
                             insee: "80021", commune: "Amiens", lon: "2.297500", lat: "49.893500"),
            Fixtures.banLine(id: "80021_3150_00012_bis", numero: "12", rep: "bis", street: "Rue des Trois Cailloux",
                             postcode: "80000", insee: "80021", commune: "Amiens", lon: "2.297510", lat: "49.893510"),
            Fixtures.banLine(id: "80021_3150_00002", numero: "2", street: "Rue des Trois Cailloux", postcode: "80000",
                             insee: "80021", commune: "Amiens", lon: "2.297400", lat: "49.893400"),
            Fixtures.banLine(id: "80021_0100_00001", numero: "1", street: "Allée des Écoles", postcode: "80000", insee: "80021",
                             commune: "Amiens", lon: "2.3", lat: "49.9"),
            // A quoted field holding the separator, as a CSV writer may produce.
            Fixtures.banLine(id: "80001_0001_00003", numero: "3", street: "\"Chemin du Bois; dit du Roi\"", postcode: "80000",
                             insee: "80001", commune: "Abbeville-Test", lon: "1.83", lat: "50.1"),
        ])
        let referential = try AddressReferential.load(files: [path])
        #expect(referential.addressCount == 5)
        #expect(referential.communes(postcode: "80000").map(\.name) == ["Abbeville-Test", "Amiens"])
        #expect(referential.streets(postcode: "80000", inseeCode: "80021") == ["Allée des Écoles", "Rue des Trois Cailloux"],
                "sorted the French way: É as E")
        let numbers = referential.numbers(postcode: "80000", inseeCode: "80021", street: "Rue des Trois Cailloux")
        #expect(numbers.map(\.number) == ["2", "12", "12 bis"])
        #expect(referential.streets(postcode: "80000", inseeCode: "80001") == ["Chemin du Bois; dit du Roi"])
        let picked = try #require(referential.address(id: "80021_3150_00012_bis"))
        #expect(picked.label == "12 bis Rue des Trois Cailloux, 80000 Amiens")
        #expect(picked.coordinates == Coordinates(latitudeMicrodegrees: 49_893_510, longitudeMicrodegrees: 2_297_510))
        #expect(referential.communes(postcode: "99999").isEmpty)
        #expect(referential.numbers(postcode: "80000", inseeCode: "80021", street: "Rue inconnue").isEmpty)
    }

    @Test("a malformed BAN line refuses the file with its name and line number",
          arguments: [
            (Fixtures.banLine(id: "x1", numero: "douze", street: "Rue A", postcode: "80000", insee: "80021", commune: "Amiens",
                              lon: "2.3", lat: "49.9"), "numero"),
            (Fixtures.banLine(id: "x1", numero: "12", street: "Rue A", postcode: "8000", insee: "80021", commune: "Amiens",
                              lon: "2.3", lat: "49.9"), "code_postal"),
            (Fixtures.banLine(id: "x1", numero: "12", street: "Rue A", postcode: "80000", insee: "80021", commune: "Amiens",
                              lon: "2.3", lat: "91.5"), "lat"),
            (Fixtures.banLine(id: "x1", numero: "12", street: "", postcode: "80000", insee: "80021", commune: "Amiens",
                              lon: "2.3", lat: "49.9"), "nom_voie"),
            ("x1;80021_0001;12;;Rue A;80000;80021;Amiens", "fields"),
            (Fixtures.banLine(id: "x1", numero: "12", street: "Rue A", postcode: "80000", insee: "80021", commune: "Amiens",
                              lon: "2.3", lat: "49.9").replacingOccurrences(of: ";Rue A;", with: ";\"Rue A;"), "quoted"),
          ])
    func malformedBANLine(line: String, named: String) throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = Fixtures.banLine(id: "ok1", numero: "1", street: "Rue A", postcode: "80000", insee: "80021", commune: "Amiens",
                                    lon: "2.3", lat: "49.9")
        let path = try Fixtures.write(dir, "adresses-80.csv", [Fixtures.banHeader, good, "", line, good.replacingOccurrences(of: "ok1", with: "ok2")])
        do {
            _ = try AddressReferential.load(files: [path])
            Issue.record("a malformed line must refuse the file")
        } catch let error as ReferentialError {
            #expect(error.file == "adresses-80.csv")
            #expect(error.line == 4, "the header is line 1, the empty line 3 counts: \(error)")
            #expect(error.description.hasPrefix("adresses-80.csv, line 4: "))
            #expect(error.reason.contains(named), "\(error)")
        }
    }

    @Test("a BAN file without a needed column, or empty, is refused naming the column")
    func badHeader() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try Fixtures.write(dir, "adresses-80.csv", [Fixtures.banHeader.replacingOccurrences(of: ";lat;", with: ";latitude;")])
        #expect(throws: ReferentialError(file: "adresses-80.csv", line: 1, reason: "the header has no column 'lat'")) {
            try AddressReferential.load(files: [path])
        }
        let empty = try Fixtures.write(dir, "adresses-62.csv", [])
        #expect(throws: ReferentialError.self) { try AddressReferential.load(files: [empty]) }
    }

    @Test("the directory's lines in its real format load; kinds and commune filter; a bad UAI names its line")
    func establishments() throws {
        let referentials = try Referentials.load(directory: Fixtures.shipped)
        let lille = referentials.establishments.establishments(kind: .cfa, commune: "lille")
        #expect(lille.map(\.uai) == ["0590203A"], "\(lille.map(\.name))")
        #expect(referentials.establishments.establishments(kind: .lycee, commune: "Amiens").count == 2)
        #expect(referentials.establishments.establishments(kind: .ecoleProduction).count == 3)
        #expect(referentials.establishments.establishments(kind: .postBac, commune: "59350").count == 2, "by INSEE code too")
        let paris = try #require(referentials.establishments.establishment(uai: "0750501M"))
        #expect(!paris.isInHautsDeFrance)
        #expect(referentials.establishments.establishment(uai: "0590203a")?.name == "CFA Lille Métropole Industrie")

        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lines = try String(contentsOfFile: Fixtures.shipped + "/fr-en-annuaire-education-demo.csv", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        var broken = Array(lines.prefix(6))
        broken[3] = broken[3].replacingOccurrences(of: "0800103C", with: "080103C")
        let path = try Fixtures.write(dir, "fr-en-annuaire-education.csv", broken)
        do {
            _ = try EstablishmentReferential.load(files: [path])
            Issue.record("a bad UAI must refuse the file")
        } catch let error as ReferentialError {
            #expect(error.line == 4 && error.reason.contains("080103C"), "\(error)")
        }
    }

    @Test("the shipped demo extracts load and cover the demo's communes")
    func shippedExtracts() throws {
        let referentials = try Referentials.load(directory: Fixtures.shipped)
        for (postcode, commune) in [("80000", "Amiens"), ("59000", "Lille"), ("62000", "Arras"), ("60000", "Beauvais"), ("62100", "Calais")] {
            let communes = referentials.addresses.communes(postcode: postcode)
            #expect(communes.map(\.name).contains(commune), "\(postcode)")
            let insee = try #require(communes.first { $0.name == commune }?.inseeCode)
            let street = try #require(referentials.addresses.streets(postcode: postcode, inseeCode: insee).first)
            #expect(!referentials.addresses.numbers(postcode: postcode, inseeCode: insee, street: street).isEmpty)
        }
    }

    @Test("haversine distance in whole metres: Lille–Amiens about 99 km as the crow flies, symmetric, zero on itself")
    func distance() throws {
        let lille = Coordinates(latitudeMicrodegrees: 50_636_600, longitudeMicrodegrees: 3_063_500) // Lille, Grand'Place
        let amiens = Coordinates(latitudeMicrodegrees: 49_894_100, longitudeMicrodegrees: 2_295_800) // Amiens, centre
        let metres = Distance.metres(lille, amiens)
        // The centres are 98.96 km apart on the mean sphere (the road is about 120 km).
        #expect((98_500...99_500).contains(metres), "\(metres) m")
        #expect(Distance.metres(amiens, lille) == metres)
        #expect(Distance.metres(lille, lille) == 0)
        // One micro-degree of latitude is about 11 cm: 1,000 of them about 111 m.
        let north = Coordinates(latitudeMicrodegrees: 50_637_600, longitudeMicrodegrees: 3_063_500)
        #expect((110...112).contains(Distance.metres(lille, north)))
        #expect(Coordinates(latitude: "49.8941004", longitude: "2,2958") == Coordinates(latitudeMicrodegrees: 49_894_100, longitudeMicrodegrees: 2_295_800))
        #expect(Coordinates(latitude: "-0.0000005", longitude: "0") == Coordinates(latitudeMicrodegrees: -1, longitudeMicrodegrees: 0))
        #expect(Coordinates(latitude: "1e5", longitude: "2") == nil)
    }
}

@Suite("Rights: the file an operator edits, and what the answers give")
struct RightsTests {
    @Test("contract §9's defaults per situation, and the récapitulatif's sentence")
    func defaults() throws {
        let rights = RightsFile.defaults
        try rights.validate(file: "defaults")
        #expect(rights.cardAdvantages(situation: .lyceen, level: "seconde") == [Advantage(wallet: .manuels, amountCents: 10_000)])
        #expect(rights.cardAdvantages(situation: .lyceen, level: "premiere") == [Advantage(wallet: .manuels, amountCents: 5_500)])
        #expect(rights.cardAdvantages(situation: .lyceen, level: "terminale") == [Advantage(wallet: .manuels, amountCents: 5_500)])
        #expect(rights.cardAdvantages(situation: .apprenti, level: "annee_1") == [Advantage(wallet: .manuels, amountCents: 20_000)])
        #expect(rights.cardAdvantages(situation: .apprenti, level: "annee_2") == [])
        #expect(rights.cardAdvantages(situation: .lyceen, level: "annee_1") == nil)
        for situation in ApplicantSituation.allCases {
            for level in situation.levels { #expect(rights.cardAdvantages(situation: situation, level: level) != nil, "\(situation) \(level)") }
        }
        #expect(Advantage(wallet: .manuels, amountCents: 10_000).sentence == "Ton avantage Manuels et équipement : 100 €")
        #expect(Advantage(wallet: .manuels, amountCents: 5_550).sentence == "Ton avantage Manuels et équipement : 55,50 €")
        #expect(Advantage(wallet: .manuels, amountCents: 100).validityNote == "Ton avantage Manuels et équipement est valable 6 mois à compter de la date de chargement de ta carte")
    }

    @Test("the THR scale: TRANSPORT by distance band, HEBERGEMENT and RESTAURATION for the parts asked")
    func thrScale() {
        let rights = RightsFile.defaults
        #expect(rights.transportCents(distanceMetres: 0) == 5_000)
        #expect(rights.transportCents(distanceMetres: 9_999) == 5_000)
        #expect(rights.transportCents(distanceMetres: 10_000) == 10_000)
        #expect(rights.transportCents(distanceMetres: 59_999) == 20_000)
        #expect(rights.transportCents(distanceMetres: 250_000) == 30_000)
        #expect(rights.thrAdvantages(transport: true, hebergement: false, restauration: true, distanceMetres: 12_000)
                == [Advantage(wallet: .transport, amountCents: 10_000), Advantage(wallet: .restauration, amountCents: 15_000)])
        #expect(rights.thrAdvantages(transport: false, hebergement: true, restauration: false, distanceMetres: 0)
                == [Advantage(wallet: .hebergement, amountCents: 30_000)])
    }

    @Test("the file round-trips; an edited file is read; a broken one is refused naming the file and the entry")
    func file() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/rights.json"
        try RightsFile.defaults.encoded().write(to: URL(fileURLWithPath: path))
        #expect(try RightsFile.load(path: path) == RightsFile.defaults)

        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"amount_cents\" : 10000", with: "\"amount_cents\" : 12000")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try RightsFile.load(path: path).cardAdvantages(situation: .lyceen, level: "seconde")?.first?.amountCents == 12_000)

        let gap = text.replacingOccurrences(of: "\"from_metres\" : 10000", with: "\"from_metres\" : 11000")
        try gap.write(toFile: path, atomically: true, encoding: .utf8)
        #expect { try RightsFile.load(path: path) } throws: { "\($0)".contains("rights.json") && "\($0)".contains("transport_bands[0]") }

        let unknownWallet = text.replacingOccurrences(of: "\"MANUELS\"", with: "\"LIVRES\"")
        try unknownWallet.write(toFile: path, atomically: true, encoding: .utf8)
        #expect { try RightsFile.load(path: path) } throws: { "\($0)".hasPrefix("rights.json: not a rights file") }

        #expect { try RightsFile.load(path: dir + "/none.json") } throws: { "\($0)".contains("no rights file") }
    }
}

@Suite("Uploads: by content, at most 5 MB, stored 0600 under random names")
struct UploadTests {
    @Test("a real tiny PNG, JPEG and PDF are accepted; a renamed text file is refused in French")
    func contentChecks() throws {
        #expect(try UploadStore.check(Fixtures.tinyPNG) == .png)
        #expect(try UploadStore.check(Fixtures.tinyJPEG) == .jpeg)
        #expect(try UploadStore.check(Fixtures.pdf()) == .pdf)
        let text = Array("Bonjour, ceci est une photo.jpg en réalité du texte\n".utf8)
        #expect(throws: UploadRefusal(message: "Ce fichier n'est ni une photo (JPEG, PNG) ni un document PDF : choisis un autre fichier.")) {
            try UploadStore.check(text)
        }
        #expect(throws: UploadRefusal.self) { try UploadStore.check(Array(Fixtures.tinyPNG.dropLast(12))) }
        #expect(throws: UploadRefusal.self) { try UploadStore.check(Array(Fixtures.tinyJPEG.dropLast(2))) }
        #expect(throws: UploadRefusal.self) { try UploadStore.check(Array(Fixtures.pdf().dropLast(7))) }
        #expect(throws: UploadRefusal.self) { try UploadStore.check([]) }
        #expect { try UploadStore.check(Fixtures.pdf(), allowed: [.jpeg, .png]) } throws: {
            ($0 as? UploadRefusal)?.message == "Ta photo doit être une image JPEG ou PNG : choisis un autre fichier."
        }
    }

    @Test("5 MB is accepted, 5 MB + 1 byte refused")
    func sizeLimit() throws {
        func pdf(totalBytes: Int) -> [UInt8] {
            var padding = totalBytes - Fixtures.pdf().count
            var bytes = Fixtures.pdf(padding: padding)
            while bytes.count != totalBytes { // the xref offset's digits grow with the padding
                padding += totalBytes - bytes.count
                bytes = Fixtures.pdf(padding: padding)
            }
            return bytes
        }
        let exactly = pdf(totalBytes: UploadStore.maximumBytes)
        #expect(try UploadStore.check(exactly) == .pdf)
        let over = pdf(totalBytes: UploadStore.maximumBytes + 1)
        #expect(throws: UploadRefusal(message: "Ce fichier dépasse 5 Mo : choisis un fichier plus léger.")) { try UploadStore.check(over) }
    }

    @Test("stored 0600 in a 0700 directory under a random name; a refused file leaves nothing")
    func storage() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = UploadStore(environmentDirectory: dir)
        #expect(throws: UploadRefusal.self) { try store.store(Array("not an image".utf8)) }
        let leftBehind = (try? FileManager.default.contentsOfDirectory(atPath: store.directory)) ?? []
        #expect(leftBehind.isEmpty, "a refused file leaves nothing")
        let first = try store.store(Fixtures.tinyPNG, allowed: [.png, .jpeg])
        let second = try store.store(Fixtures.tinyPNG, allowed: [.png, .jpeg])
        #expect(first.name != second.name && first.name.hasSuffix(".png") && UploadStore.isStoredName(first.name))
        func mode(_ path: String) -> Int? { (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int }
        #expect(mode(store.directory + "/" + first.name) == 0o600)
        #expect(mode(store.directory) == 0o700)
        #expect(try store.read(first.name) == Fixtures.tinyPNG)
        #expect(!store.exists("../rights.json") && !UploadStore.isStoredName("../../etc/passwd"))
    }
}

/// The figure of issue 10 (not in `make test`): load time of a département-sized BAN file and the address
/// lookup's p99. `python3 scripts/gen-ban-departement.py /tmp/adresses-99.csv` then
/// `HDF_BAN_FIGURE=/tmp/adresses-99.csv swift test --skip-build --filter BANFigure`.
@Suite("BAN figure")
struct BANFigure {
    @Test("load a département-sized BAN file; p99 of code postal → communes → voies → numéros",
          .enabled(if: ProcessInfo.processInfo.environment["HDF_BAN_FIGURE"] != nil))
    func figure() throws {
        let path = ProcessInfo.processInfo.environment["HDF_BAN_FIGURE"]!
        let clock = ContinuousClock()
        var referential: AddressReferential?
        let loading = try clock.measure { referential = try AddressReferential.load(files: [path]) }
        let addresses = try #require(referential)
        let postcodes = addresses.postcodes
        var durations: [Duration] = []
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let postcode = postcodes.randomElement(using: &generator)!
            durations.append(clock.measure {
                let commune = addresses.communes(postcode: postcode).randomElement(using: &generator)!
                let street = addresses.streets(postcode: postcode, inseeCode: commune.inseeCode).randomElement(using: &generator)!
                let numbers = addresses.numbers(postcode: postcode, inseeCode: commune.inseeCode, street: street)
                precondition(!numbers.isEmpty && addresses.address(id: numbers[0].id) != nil)
            })
        }
        durations.sort()
        func ms(_ duration: Duration) -> Double { Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1000 }
        let p50 = ms(durations[durations.count / 2]), p99 = ms(durations[durations.count * 99 / 100])
        print("ban-figure: addresses=\(addresses.addressCount) load_s=\(String(format: "%.1f", ms(loading) / 1000)) lookup_p50_ms=\(String(format: "%.3f", p50)) lookup_p99_ms=\(String(format: "%.3f", p99))")
        #expect(p99 <= 20, "goal: p99 ≤ 20 ms")
    }
}
