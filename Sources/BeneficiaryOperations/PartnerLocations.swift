import Ledger

/// Where a partner is, for "Où utiliser ma carte" (its map and its details): postcode and coordinates.
/// Coordinates are kept as integer microdegrees (exact, and enough for a shop: 0.11 m).
public struct PartnerLocation: Sendable, Equatable {
    public let postcode: String
    public let latitudeMicrodegrees: Int64
    public let longitudeMicrodegrees: Int64

    public init(postcode: String, latitudeMicrodegrees: Int64, longitudeMicrodegrees: Int64) {
        self.postcode = postcode
        self.latitudeMicrodegrees = latitudeMicrodegrees
        self.longitudeMicrodegrees = longitudeMicrodegrees
    }

    public var latitude: Double { Double(latitudeMicrodegrees) / 1_000_000 }
    public var longitude: Double { Double(longitudeMicrodegrees) / 1_000_000 }

    /// The Hauts-de-France's bounding box, in microdegrees: a partner's point must fall inside.
    public static let regionLatitudeRange: ClosedRange<Int64> = 48_800_000...51_150_000
    public static let regionLongitudeRange: ClosedRange<Int64> = 1_350_000...4_300_000

    public static func set(_ location: PartnerLocation, partnerID: String, _ tx: LedgerTransaction) throws {
        guard regionLatitudeRange.contains(location.latitudeMicrodegrees),
              regionLongitudeRange.contains(location.longitudeMicrodegrees) else {
            throw LedgerError.invalid("partner \(partnerID)'s coordinates are outside the Hauts-de-France")
        }
        let changed = try tx.ledger.connection.run(
            "UPDATE partners SET postcode = ?, latitude_microdegrees = ?, longitude_microdegrees = ? WHERE id = ?",
            location.postcode, location.latitudeMicrodegrees, location.longitudeMicrodegrees, partnerID)
        guard changed == 1 else { throw LedgerError.unknownPartner(partnerID) }
    }

    /// Every located partner, by id.
    public static func all(_ tx: LedgerTransaction) throws -> [String: PartnerLocation] {
        let rows = try tx.ledger.connection.rows("""
            SELECT id, postcode, latitude_microdegrees, longitude_microdegrees FROM partners
            WHERE latitude_microdegrees IS NOT NULL AND longitude_microdegrees IS NOT NULL
            """) { row in
                (row.text(0), PartnerLocation(postcode: row.text(1), latitudeMicrodegrees: row.int(2), longitudeMicrodegrees: row.int(3)))
            }
        return Dictionary(rows, uniquingKeysWith: { first, _ in first })
    }
}

extension CardOperations {
    public func partnerLocations() throws -> [String: PartnerLocation] {
        try ledger.read { try PartnerLocation.all($0) }
    }
}
