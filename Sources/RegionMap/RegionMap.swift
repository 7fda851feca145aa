/// The Hauts-de-France map of "Où utiliser ma carte": an SVG string drawn here, nothing loaded from outside. API:
///   let markers = [try MapMarker(label: "Librairie du Beffroi, Lille", latitude: 50.63, longitude: 3.06, url: "/partenaires/P001")]
///   let svg = try RegionMap.svg(markers: markers, title: "Carte des partenaires")   // inline in the page; throws RegionMapError
///   MapMarker.init refuses coordinates outside RegionMap.bounds (the region's box) with a clear error.
///   RegionMap.project(latitude:longitude:) -> (x, y) in the viewBox; RegionMap.contains(latitude:longitude:) -> point in the outline.
///   Styling: classes `region-outline`, `region-marker` (override in the site's stylesheet); every marker is a keyboard-focusable link.
public enum RegionMap {
    /// A simplified outline of the Hauts-de-France region (Nord, Pas-de-Calais, Somme, Oise, Aisne as one polygon), as
    /// (longitude, latitude) in degrees, clockwise from the Belgian border on the North Sea. Written down from general
    /// geographic knowledge (coast towns, river borders, neighbouring départements), not traced from a survey: a rough
    /// but recognisable shape, good to a few kilometres, enough to place partners by town, not to settle a border.
    public static let outline: [(longitude: Double, latitude: Double)] = [
        (2.546, 51.089),  // Bray-Dunes, the Belgian border on the coast
        (2.376, 51.051),  // Dunkerque
        (2.128, 51.010),  // Gravelines
        (1.850, 50.970),  // Calais
        (1.740, 50.950),  // Sangatte
        (1.580, 50.870),  // Cap Gris-Nez
        (1.590, 50.740),  // Boulogne-sur-Mer
        (1.570, 50.580),  // Hardelot, Étaples
        (1.560, 50.460),  // Le Touquet, Berck
        (1.550, 50.360),  // the Authie's mouth
        (1.620, 50.230),  // Le Crotoy, the Baie de Somme
        (1.600, 50.200),  // Saint-Valery-sur-Somme
        (1.480, 50.180),  // Cayeux-sur-Mer
        (1.420, 50.100),  // Ault
        (1.380, 50.065),  // Le Tréport and Mers-les-Bains: the Bresle, border with Normandy
        (1.560, 49.980),  // up the Bresle, Blangy-sur-Bresle
        (1.700, 49.880),
        (1.750, 49.760),  // Aumale
        (1.720, 49.600),  // Formerie
        (1.780, 49.450),  // near Gournay-en-Bray
        (1.730, 49.300),  // the Epte
        (1.700, 49.230),  // the Oise's south-west corner
        (1.900, 49.170),  // border with the Val-d'Oise
        (2.200, 49.170),
        (2.450, 49.120),  // south of Chantilly
        (2.650, 49.080),
        (2.900, 49.080),  // Nanteuil-le-Haudouin, border with Seine-et-Marne
        (3.070, 49.090),
        (3.170, 49.020),  // the Aisne's south-west
        (3.300, 48.950),
        (3.480, 48.840),  // the Aisne's southern tip, south of Château-Thierry
        (3.600, 48.960),  // border with the Marne
        (3.650, 49.130),
        (3.620, 49.300),  // between Braine and Fismes
        (3.850, 49.340),  // Berry-au-Bac
        (4.050, 49.400),  // Neufchâtel-sur-Aisne, border with the Ardennes
        (4.050, 49.550),
        (4.150, 49.720),  // Rozoy-sur-Serre
        (4.230, 49.850),  // Aubenton
        (4.250, 49.960),  // the Thiérache meets Belgium
        (4.200, 50.060),  // Fourmies, Trélon (Nord)
        (4.230, 50.200),
        (4.100, 50.310),  // Jeumont, the Sambre
        (3.800, 50.320),  // Bavay
        (3.680, 50.400),  // Quiévrain crossing
        (3.610, 50.490),  // Condé-sur-l'Escaut
        (3.450, 50.520),  // Mortagne-du-Nord
        (3.280, 50.560),  // towards Tournai
        (3.230, 50.700),  // Wattrelos
        (3.130, 50.790),  // Halluin
        (2.950, 50.760),  // Comines, the Lys
        (2.870, 50.700),  // Armentières
        (2.720, 50.760),  // Bailleul
        (2.590, 50.850),  // Steenvoorde
        (2.630, 50.960),  // Hondschoote
    ]

    /// The box a marker must fall in: the outline's extremes plus a margin of 0.05° (about 4–5 km) for a partner
    /// whose town sits right on a border the outline simplifies.
    public static let marginDegrees = 0.05
    public static let bounds: (minimumLongitude: Double, maximumLongitude: Double, minimumLatitude: Double, maximumLatitude: Double) = {
        let longitudes = outline.map(\.longitude)
        let latitudes = outline.map(\.latitude)
        return (longitudes.min()! - marginDegrees, longitudes.max()! + marginDegrees,
                latitudes.min()! - marginDegrees, latitudes.max()! + marginDegrees)
    }()

    /// The drawing's width in viewBox units; its height follows from the projection.
    public static let viewBoxWidth = 600.0
    /// Space kept around the outline in viewBox units, so that a marker on the coast is drawn whole.
    public static let paddingUnits = 12.0
    public static let markerRadiusUnits = 7.0
    /// More markers than this is a runaway list: the page should filter first.
    public static let maximumMarkers = 2_000

    /// Equirectangular projection with longitudes shrunk by cos(latitude) at the box's middle latitude, so that
    /// a kilometre east and a kilometre north are the same length on the map (within 2 % over the region).
    static let longitudeScale: Double = {
        let middleLatitude = (bounds.minimumLatitude + bounds.maximumLatitude) / 2
        return cosine(degrees: middleLatitude)
    }()

    static let unitsPerDegree: Double = {
        let spanX = (bounds.maximumLongitude - bounds.minimumLongitude) * longitudeScale
        return (viewBoxWidth - 2 * paddingUnits) / spanX
    }()

    public static let viewBoxHeight: Double = {
        ((bounds.maximumLatitude - bounds.minimumLatitude) * unitsPerDegree + 2 * paddingUnits).rounded(.up)
    }()

    public static func project(latitude: Double, longitude: Double) -> (x: Double, y: Double) {
        let x = paddingUnits + (longitude - bounds.minimumLongitude) * longitudeScale * unitsPerDegree
        let y = paddingUnits + (bounds.maximumLatitude - latitude) * unitsPerDegree
        return (x, y)
    }

    /// Whether a point lies inside the outline (even-odd ray casting on longitude/latitude).
    public static func contains(latitude: Double, longitude: Double) -> Bool {
        var inside = false
        var previous = outline[outline.count - 1]
        for current in outline {
            if (current.latitude > latitude) != (previous.latitude > latitude) {
                let crossing = previous.longitude + (latitude - previous.latitude) / (current.latitude - previous.latitude)
                    * (current.longitude - previous.longitude)
                if longitude < crossing { inside.toggle() }
            }
            previous = current
        }
        return inside
    }

    /// The map as one `<svg>` element to put inline in a page.
    ///
    /// The svg is `role="group"` with an `aria-label`, not `role="img"`: an image's children are presentational,
    /// so the partners' links inside it would be hidden from screen readers (axe-core `nested-interactive`, WCAG
    /// 4.1.2). With no marker it has nothing interactive and is `role="img"`. The outline is `aria-hidden`; each
    /// marker is a link with a `<title>` and an `aria-label` naming the partner.
    public static func svg(markers: [MapMarker], title: String = "Carte des partenaires en Hauts-de-France",
                           idPrefix: String = "carte") throws(RegionMapError) -> String {
        guard markers.count <= maximumMarkers else { throw .tooManyMarkers(markers.count) }
        guard !idPrefix.isEmpty, idPrefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw .invalidIdentifier(idPrefix)
        }
        let width = format(viewBoxWidth)
        let height = format(viewBoxHeight)
        let role = markers.isEmpty ? "img" : "group"
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"region-map\" viewBox=\"0 0 \(width) \(height)\" "
            + "role=\"\(role)\" aria-labelledby=\"\(idPrefix)-titre\" preserveAspectRatio=\"xMidYMid meet\">\n"
        out += "<title id=\"\(idPrefix)-titre\">\(escape(title))</title>\n"
        let points = outline.map { point -> String in
            let (x, y) = project(latitude: point.latitude, longitude: point.longitude)
            return "\(format(x)),\(format(y))"
        }.joined(separator: " ")
        out += "<polygon class=\"region-outline\" aria-hidden=\"true\" points=\"\(points)\" "
            + "fill=\"#e8f1f8\" stroke=\"#1d4f7a\" stroke-width=\"2\" stroke-linejoin=\"round\"/>\n"
        for marker in markers {
            let (x, y) = project(latitude: marker.latitude, longitude: marker.longitude)
            out += "<a class=\"region-marker\" href=\"\(escape(marker.url))\" aria-label=\"\(escape(marker.label))\">"
                + "<title>\(escape(marker.label))</title>"
                + "<circle cx=\"\(format(x))\" cy=\"\(format(y))\" r=\"\(format(markerRadiusUnits))\" "
                + "fill=\"#c8102e\" stroke=\"#ffffff\" stroke-width=\"2\"/></a>\n"
        }
        out += "</svg>"
        return out
    }

    /// Text and attribute values escaped for XML/HTML.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A coordinate with at most one decimal (a tenth of a unit is well under a pixel), no exponent.
    static func format(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        let magnitude = tenths.magnitude
        return magnitude % 10 == 0 ? "\(sign)\(magnitude / 10)" : "\(sign)\(magnitude / 10).\(magnitude % 10)"
    }

    /// cos of an angle in degrees, by a Taylor series (no Foundation needed; exact to 1e-12 for |angle| ≤ 90°).
    static func cosine(degrees: Double) -> Double {
        let x = degrees * Double.pi / 180
        var term = 1.0
        var sum = 1.0
        for n in 1...12 {
            term *= -x * x / Double((2 * n - 1) * (2 * n))
            sum += term
        }
        return sum
    }
}

/// One partner on the map: its label (name and town, read by screen readers and shown on hover), its position,
/// and where its link leads (the partner's details page, given by the caller).
public struct MapMarker: Sendable, Equatable {
    public let label: String
    public let latitude: Double
    public let longitude: Double
    public let url: String

    public static let maximumLabelCharacters = 200
    public static let maximumURLCharacters = 2_000

    public init(label: String, latitude: Double, longitude: Double, url: String) throws(RegionMapError) {
        guard !label.isEmpty, label.count <= MapMarker.maximumLabelCharacters else { throw .invalidLabel(label) }
        guard latitude.isFinite, longitude.isFinite,
              (RegionMap.bounds.minimumLatitude...RegionMap.bounds.maximumLatitude).contains(latitude),
              (RegionMap.bounds.minimumLongitude...RegionMap.bounds.maximumLongitude).contains(longitude) else {
            throw .outsideRegion(label: label, latitude: latitude, longitude: longitude)
        }
        let lowered = url.lowercased()
        guard !url.isEmpty, url.count <= MapMarker.maximumURLCharacters, !url.contains(where: { $0.isWhitespace }),
              url.hasPrefix("/") || lowered.hasPrefix("https://") || lowered.hasPrefix("http://") else {
            throw .invalidURL(url)
        }
        self.label = label
        self.latitude = latitude
        self.longitude = longitude
        self.url = url
    }
}

public enum RegionMapError: Error, Equatable, Sendable, CustomStringConvertible {
    case outsideRegion(label: String, latitude: Double, longitude: Double)
    case invalidLabel(String)
    case invalidURL(String)
    case tooManyMarkers(Int)
    case invalidIdentifier(String)

    public var description: String {
        switch self {
        case .outsideRegion(let label, let latitude, let longitude):
            return "\(label): latitude \(latitude), longitude \(longitude) is outside the Hauts-de-France box "
                + "(latitude \(RegionMap.bounds.minimumLatitude)...\(RegionMap.bounds.maximumLatitude), "
                + "longitude \(RegionMap.bounds.minimumLongitude)...\(RegionMap.bounds.maximumLongitude))"
        case .invalidLabel(let label): return "a marker's label must be 1 to \(MapMarker.maximumLabelCharacters) characters (got \(label.count))"
        case .invalidURL(let url): return "a marker's link must be a path or an http(s) URL without spaces (got '\(url.prefix(80))')"
        case .tooManyMarkers(let count): return "\(count) markers is above the limit of \(RegionMap.maximumMarkers)"
        case .invalidIdentifier(let text): return "the id prefix '\(text)' must be letters, digits and dashes"
        }
    }
}
