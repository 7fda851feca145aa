import Foundation
import HDFDomain
import Referentials

/// A "Demande de carte" being filled in, kept in the server-side session between its pages (nothing is
/// written to the ledger before "Confirmer"). Files are already stored (0600, random names) and named here.
public struct ApplicationDraft: Codable, Sendable, Equatable {
    public var situation: String?
    public var level: String?
    public var addressID: String?
    public var addressComplement = ""
    public var establishmentUAI: String?
    public var boursier = false
    public var cfaInHautsDeFrance: Bool?
    public var contractSignedOn: String?
    public var contractEndsOn: String?
    public var apprenticeLastYear: Bool?
    public var differentDiplomaLastYear: Bool?
    public var photoUpload: String?
    public var contractUpload: String?
    public var photoCrop: PhotoCrop?
    public var notification: String?
    /// "le libellé de ta formation" (free text, kept with the application).
    public var trainingLabel = ""

    public init() {}

    var applicantSituation: ApplicantSituation? { situation.flatMap(ApplicantSituation.init(rawValue:)) }

    /// The answers as the référentiels' check reads them.
    var answers: ApplicationAnswers {
        var answers = ApplicationAnswers()
        answers.situation = applicantSituation
        answers.level = level
        answers.addressID = addressID
        answers.addressComplement = addressComplement
        answers.establishmentUAI = establishmentUAI
        answers.boursier = boursier
        answers.cfaInHautsDeFrance = cfaInHautsDeFrance
        answers.contractSignedOn = contractSignedOn.flatMap(LocalDate.init(iso:))
        answers.contractEndsOn = contractEndsOn.flatMap(LocalDate.init(iso:))
        answers.apprenticeLastYear = apprenticeLastYear
        answers.differentDiplomaLastYear = differentDiplomaLastYear
        answers.photoUpload = photoUpload
        answers.contractUpload = contractUpload
        answers.notification = notification.flatMap(NotificationPreference.init(rawValue:))
        return answers
    }
}

/// A "Demande de THR" being filled in: the parts asked and the supporting documents already stored.
public struct THRDraft: Codable, Sendable, Equatable {
    public var transport = false
    public var hebergement = false
    public var restauration = false
    public var documents: [String] = []
    public init() {}
}

/// "Recadrer": the part of the photo kept, as a 7:9 frame (an identity photo's 35 × 45 mm) centred at a point
/// given in per cent of the image's width and height, as wide as the image allows divided by the zoom.
/// Kept with the application (`applications.photo_crop`) for whoever prints the card; the stored photo is
/// never rewritten.
public struct PhotoCrop: Codable, Sendable, Equatable {
    /// 100 to 300 (%).
    public var zoomPercent: Int
    /// 0 to 100 (%), the frame's centre.
    public var centreXPercent: Int
    public var centreYPercent: Int

    public static let zoomRange = 100...300
    public static let centreRange = 0...100
    public static let whole = PhotoCrop(zoomPercent: 100, centreXPercent: 50, centreYPercent: 50)

    public init(zoomPercent: Int, centreXPercent: Int, centreYPercent: Int) {
        self.zoomPercent = zoomPercent
        self.centreXPercent = centreXPercent
        self.centreYPercent = centreYPercent
    }

    public init?(zoom: String, x: String, y: String) {
        guard let zoom = Int(zoom), Self.zoomRange.contains(zoom), let x = Int(x), Self.centreRange.contains(x),
              let y = Int(y), Self.centreRange.contains(y) else { return nil }
        self.init(zoomPercent: zoom, centreXPercent: x, centreYPercent: y)
    }

    /// "zoom=150;x=50;y=40", as the ledger keeps it.
    public var stored: String { "zoom=\(zoomPercent);x=\(centreXPercent);y=\(centreYPercent)" }

    /// The frame in the image's pixels (x, y, width, height), inside the image.
    public func frame(imageWidth: Int, imageHeight: Int) -> (x: Int, y: Int, width: Int, height: Int) {
        let fullWidth = min(Double(imageWidth), Double(imageHeight) * 7 / 9)
        let width = max(1, fullWidth * 100 / Double(zoomPercent)), height = width * 9 / 7
        let centreX = Double(imageWidth) * Double(centreXPercent) / 100, centreY = Double(imageHeight) * Double(centreYPercent) / 100
        let x = min(max(0, centreX - width / 2), Double(imageWidth) - width)
        let y = min(max(0, centreY - height / 2), Double(imageHeight) - height)
        return (Int(x.rounded()), Int(y.rounded()), Int(width.rounded()), Int(height.rounded()))
    }
}

/// The pixel size of a JPEG or PNG, read from its header (the PNG's IHDR, the JPEG's first SOF marker).
enum ImageSize {
    static func of(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
        if bytes.count >= 24, bytes[0] == 0x89, bytes[1] == 0x50, bytes[2] == 0x4E, bytes[3] == 0x47 {
            func be32(_ at: Int) -> Int { Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]) }
            let width = be32(16), height = be32(20)
            return width > 0 && height > 0 ? (width, height) : nil
        }
        guard bytes.count >= 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return nil }
        var index = 2
        while index + 9 < bytes.count {
            guard bytes[index] == 0xFF else { return nil }
            let marker = bytes[index + 1]
            if marker == 0xFF { index += 1; continue }
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) { index += 2; continue }
            let length = Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
            // SOF0..SOF15 but DHT (C4), JPG (C8) and DAC (CC).
            if (0xC0...0xCF).contains(marker), marker != 0xC4, marker != 0xC8, marker != 0xCC {
                let height = Int(bytes[index + 5]) << 8 | Int(bytes[index + 6])
                let width = Int(bytes[index + 7]) << 8 | Int(bytes[index + 8])
                return width > 0 && height > 0 ? (width, height) : nil
            }
            guard length >= 2 else { return nil }
            index += 2 + length
        }
        return nil
    }
}
