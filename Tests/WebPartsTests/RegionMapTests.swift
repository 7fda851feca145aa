import Foundation
import RegionMap
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("Region map: the Hauts-de-France outline, projection and partner markers as SVG")
struct RegionMapTests {
    /// Towns of the region, (latitude, longitude) from general knowledge, independent of the outline's points.
    static let towns: [(String, Double, Double)] = [
        ("Lille", 50.6292, 3.0573), ("Amiens", 49.8941, 2.2958), ("Beauvais", 49.4295, 2.0807),
        ("Calais", 50.9513, 1.8587), ("Laon", 49.5641, 3.6199), ("Arras", 50.2910, 2.7775),
        ("Dunkerque", 51.0344, 2.3768), ("Saint-Quentin", 49.8465, 3.2876), ("Compiègne", 49.4179, 2.8261),
        ("Valenciennes", 50.3570, 3.5235), ("Boulogne-sur-Mer", 50.7264, 1.6147), ("Soissons", 49.3817, 3.3236),
    ]
    /// Places outside the region but near it: Paris, Rouen, Reims, Brussels' suburbs, Le Havre.
    static let outsideInBox: [(String, Double, Double)] = [
        ("Paris", 48.8566, 2.3522), ("Reims", 49.2583, 4.0317), ("Charleville-Mézières", 49.7620, 4.7200 - 0.45),
        ("Tournai", 50.6056, 3.3875), ("Ypres", 50.8503, 2.8850), ("Dieppe", 49.9229, 1.4000),
    ]

    /// Even-odd point-in-polygon on the projected (x, y) points: an independent check of `contains` and of the
    /// projection together.
    static func insideProjectedOutline(latitude: Double, longitude: Double) -> Bool {
        let polygon = RegionMap.outline.map { RegionMap.project(latitude: $0.latitude, longitude: $0.longitude) }
        let point = RegionMap.project(latitude: latitude, longitude: longitude)
        var inside = false
        var j = polygon.count - 1
        for i in polygon.indices {
            let (a, b) = (polygon[i], polygon[j])
            if (a.y > point.y) != (b.y > point.y), point.x < (b.x - a.x) * (point.y - a.y) / (b.y - a.y) + a.x { inside.toggle() }
            j = i
        }
        return inside
    }

    @Test("Lille, Amiens, Beauvais, Calais, Laon and other towns land inside the drawn outline")
    func townsInside() {
        for (name, latitude, longitude) in Self.towns {
            #expect(Self.insideProjectedOutline(latitude: latitude, longitude: longitude), "\(name)")
            #expect(RegionMap.contains(latitude: latitude, longitude: longitude), "\(name)")
        }
    }

    @Test("neighbours just across the borders land outside the outline")
    func neighboursOutside() {
        for (name, latitude, longitude) in Self.outsideInBox {
            #expect(!Self.insideProjectedOutline(latitude: latitude, longitude: longitude), "\(name)")
            #expect(!RegionMap.contains(latitude: latitude, longitude: longitude), "\(name)")
        }
    }

    @Test("the outline is a recognisable polygon: 40–80 points, the region's extent, north up, east right")
    func outlineShape() {
        #expect((40...80).contains(RegionMap.outline.count))
        let b = RegionMap.bounds
        #expect(b.minimumLatitude < 48.85 && b.maximumLatitude > 51.08)
        #expect(b.minimumLongitude < 1.39 && b.maximumLongitude > 4.24)
        let lille = RegionMap.project(latitude: 50.6292, longitude: 3.0573)
        let amiens = RegionMap.project(latitude: 49.8941, longitude: 2.2958)
        #expect(lille.y < amiens.y && lille.x > amiens.x)
        // cos(latitude) scaling: 1° of longitude is about 0.64 of 1° of latitude at 50° N.
        let east = RegionMap.project(latitude: 50, longitude: 3)
        let west = RegionMap.project(latitude: 50, longitude: 2)
        let south = RegionMap.project(latitude: 49, longitude: 2)
        let ratio = (east.x - west.x) / (south.y - west.y)
        #expect(abs(ratio - cos(49.965 * Double.pi / 180)) < 0.01)
        // Every outline point is inside the viewBox.
        for point in RegionMap.outline {
            let p = RegionMap.project(latitude: point.latitude, longitude: point.longitude)
            #expect(p.x >= 0 && p.x <= RegionMap.viewBoxWidth && p.y >= 0 && p.y <= RegionMap.viewBoxHeight)
        }
    }

    @Test("coordinates outside the region's box are refused with an error naming them")
    func outsideRefused() {
        for (latitude, longitude) in [(48.5, 2.35), (50.85, 4.35), (49.44, 1.10), (52.0, 3.0), (Double.nan, 3.0), (50.0, .infinity)] {
            #expect(throws: RegionMapError.self) {
                try MapMarker(label: "Ailleurs", latitude: latitude, longitude: longitude, url: "/partenaires/X")
            }
        }
        let error = RegionMapError.outsideRegion(label: "Bruxelles", latitude: 50.85, longitude: 4.35)
        #expect(error.description.contains("Bruxelles") && error.description.contains("4.35"))
        #expect(throws: RegionMapError.invalidURL("javascript:alert(1)")) {
            try MapMarker(label: "x", latitude: 50, longitude: 3, url: "javascript:alert(1)")
        }
        #expect(throws: RegionMapError.invalidLabel("")) { try MapMarker(label: "", latitude: 50, longitude: 3, url: "/p") }
    }

    @Test("the SVG: well-formed, labelled, one link per partner with its title, names escaped, nothing loaded from outside")
    func svgMarkup() throws {
        let markers = [
            try MapMarker(label: "Librairie du Beffroi, Lille", latitude: 50.6292, longitude: 3.0573, url: "/partenaires/P001"),
            try MapMarker(label: "Bistrot <d'Arras> & Co", latitude: 50.2910, longitude: 2.7775, url: "/partenaires/P005?x=1&y=2"),
        ]
        let svg = try RegionMap.svg(markers: markers, title: "Carte des partenaires")
        let collector = SVGCollector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        #expect(parser.parse(), "well-formed XML: \(String(describing: parser.parserError))")
        let root = try #require(collector.elements.first)
        #expect(root.name == "svg" && root.attributes["role"] == "group" && root.attributes["aria-labelledby"] == "carte-titre")
        #expect(root.attributes["viewBox"] == "0 0 600 \(Int(RegionMap.viewBoxHeight))")
        let links = collector.elements.filter { $0.name == "a" }
        #expect(links.map { $0.attributes["href"] } == ["/partenaires/P001", "/partenaires/P005?x=1&y=2"])
        #expect(links.map { $0.attributes["aria-label"] } == ["Librairie du Beffroi, Lille", "Bistrot <d'Arras> & Co"])
        #expect(collector.titles == ["Carte des partenaires", "Librairie du Beffroi, Lille", "Bistrot <d'Arras> & Co"])
        #expect(collector.elements.filter { $0.name == "circle" }.count == 2)
        let polygon = try #require(collector.elements.first { $0.name == "polygon" })
        #expect(polygon.attributes["points"]?.split(separator: " ").count == RegionMap.outline.count)
        // Nothing fetched: no image, script, style sheet, foreign object or external reference.
        for forbidden in ["<image", "<script", "<use", "<foreignObject", "url(", "xlink:href", "@import", "<style"] {
            #expect(!svg.contains(forbidden), "\(forbidden)")
        }
        #expect(svg.components(separatedBy: "http").count == 2, "the only http is the xmlns")
        // Without markers there is nothing interactive: an image.
        #expect(try RegionMap.svg(markers: []).contains("role=\"img\""))
        #expect(throws: RegionMapError.invalidIdentifier("a b")) { try RegionMap.svg(markers: [], idPrefix: "a b") }
    }
}

final class SVGCollector: NSObject, XMLParserDelegate {
    struct Element { let name: String; let attributes: [String: String] }
    var elements: [Element] = []
    var titles: [String] = []
    private var inTitle = false
    private var text = ""

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append(Element(name: name, attributes: attributes))
        if name == "title" { inTitle = true; text = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inTitle { text += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "title" { titles.append(text); inTitle = false }
    }
}
