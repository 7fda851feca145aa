import BeneficiaryOperations
import Foundation
import HDFDomain
import HTTPTypes
import Hummingbird
import Ledger
import Documents
import RegionMap

/// Mes documents and Où utiliser ma carte.
extension Site {
    /// The documents of "Mes documents", by the last part of their address.
    struct DocumentEntry: Sendable {
        let slug: String
        let title: String
        let description: String
        /// The PDF's bytes; nil while the document is not available.
        let pdf: @Sendable () -> [UInt8]?
    }

    static let documents: [DocumentEntry] = [
        DocumentEntry(slug: "reglement-general", title: "Règlement général",
                      description: "Les règles du dispositif Génération #HDF : qui y a droit, les porte-monnaie, les prépaiements, la carte perdue.",
                      pdf: { DocumentSources.reglementGeneral() }),
        DocumentEntry(slug: "flyer-generation-hdf", title: "Flyer Génération #HDF",
                      description: "Le dispositif en une page.", pdf: { DocumentSources.flyer() }),
    ]

    func addDirectoryRoutes(to router: Router<WebContext>) {
        router.get("/mes-documents") { _, context -> Response in
            try await withUser(context) { _, session, user in
                let entries = Self.documents.map { entry -> [String: Any] in
                    var values: [String: Any] = ["title": entry.title, "description": entry.description]
                    if entry.pdf() != nil { values["href"] = "/mes-documents/\(entry.slug).pdf" }
                    return values
                }
                return pages.page("documents", title: "Mes documents", values: ["documents": entries], user: user,
                                  formToken: session.formToken, menuItem: "/mes-documents")
            }
        }
        router.get("/mes-documents/:file") { _, context -> Response in
            try await withUser(context) { _, _, _ in
                guard let file = context.parameters.get("file"), file.hasSuffix(".pdf"),
                      let entry = Self.documents.first(where: { $0.slug + ".pdf" == file }), let bytes = entry.pdf() else {
                    return pages.notFound()
                }
                return Response(status: .ok,
                                headers: [.contentType: "application/pdf", .contentDisposition: "attachment; filename=\"\(file)\""],
                                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            }
        }
        router.get("/ou-utiliser-ma-carte") { request, context -> Response in
            try await withUser(context) { _, session, user in
                let query = FormFields(text: request.uri.query ?? "")
                let name = query.text("nom"), city = query.text("ville"), type = query.text("type")
                let (found, locations) = try await pool.cards {
                    (try $0.partners(name: name.isEmpty ? nil : name, city: city.isEmpty ? nil : city, category: type.isEmpty ? nil : type),
                     try $0.partnerLocations())
                }
                let listed = Array(found.prefix(WebLimits.maximumListedPartners))
                var values: [String: Any] = [
                    "query": ["nom": name, "ville": city], "categories": Self.categoryOptions(selected: type), "count": listed.count,
                    "results": listed.map { ["name": $0.name, "city": $0.city, "category": $0.category.label,
                                             "href": "/ou-utiliser-ma-carte/\($0.id)"] as [String: Any] },
                ]
                let points = listed.compactMap { partner in
                    locations[partner.id].map { MapPoint(partnerID: partner.id, name: partner.name, location: $0) }
                }
                if let svg = DocumentSources.map(points) { values["map"] = svg }
                return pages.page("partenaires", title: "Où utiliser ma carte", values: values, user: user,
                                  formToken: session.formToken, menuItem: "/ou-utiliser-ma-carte")
            }
        }
        router.get("/ou-utiliser-ma-carte/:partner") { _, context -> Response in
            try await withUser(context) { _, session, user in
                guard let id = context.parameters.get("partner"),
                      let (partner, location) = try? await pool.cards({ (try $0.partner(id: id), try $0.partnerLocations()[id]) })
                else { return pages.notFound() }
                let values: [String: Any] = [
                    "category": partner.category.label, "address": partner.address, "postcode": location?.postcode ?? "",
                    "city": partner.city, "phone": partner.phone, "phoneDigits": partner.phone.filter(\.isNumber),
                    "email": partner.email, "website": partner.website,
                    "wallets": partner.wallets.map(\.label).joined(separator: ", "),
                    "prepayment": partner.acceptsPrepayment, "online": partner.acceptsOnline,
                ]
                return pages.page("partenaire", title: partner.name, values: values, user: user, formToken: session.formToken,
                                  menuItem: "/ou-utiliser-ma-carte")
            }
        }
    }
}

/// A partner on the map.
struct MapPoint: Sendable {
    let partnerID: String
    let name: String
    let location: PartnerLocation
}

/// Where the documents' PDFs and the region's map come from: the Documents and RegionMap modules.
enum DocumentSources {
    static func reglementGeneral() -> [UInt8]? { ProgrammeDocument.reglementGeneral.pdf() }
    static func flyer() -> [UInt8]? { ProgrammeDocument.flyer.pdf() }

    /// The region's map with one link per partner found (to its details page); nil when it cannot be
    /// drawn (a partner's coordinates outside the region's box: the list alone is shown then).
    static func map(_ points: [MapPoint]) -> String? {
        do {
            let markers = try points.map { point throws(RegionMapError) in
                try MapMarker(label: "\(point.name), \(point.location.postcode)",
                              latitude: Double(point.location.latitudeMicrodegrees) / 1_000_000,
                              longitude: Double(point.location.longitudeMicrodegrees) / 1_000_000,
                              url: "/ou-utiliser-ma-carte/\(point.partnerID)")
            }
            return try RegionMap.svg(markers: markers)
        } catch {
            return nil
        }
    }
}
