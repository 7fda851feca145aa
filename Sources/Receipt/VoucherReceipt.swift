import HDFDomain

/// The printable receipt of a prepayment voucher: one A4 page a beneficiary prints and hands to the shop.
///
/// Every value on it comes from the ledger (the caller fills this struct from it); the card number is only
/// ever printed masked. The code is printed large, grouped (`XXXX-XXXX-XXXX`), and as a Code 128 barcode
/// (subset B) of its 12 canonical characters, with its quiet zones, bars on whole pixels at 150 dpi.
/// A voucher that is no longer `issued` still gets its receipt, with its status stated in a banner.
public struct VoucherReceipt: Sendable, Equatable {
    public static let cardName = "Génération #HDF"

    public enum Status: String, Sendable, CaseIterable {
        case issued, redeemed, cancelled, expired

        /// What the receipt says of the voucher's state.
        public var label: String {
            switch self {
            case .issued: return "Valide, non utilisé"
            case .redeemed: return "Déjà utilisé chez le partenaire"
            case .cancelled: return "Annulé par le bénéficiaire"
            case .expired: return "Expiré"
            }
        }

        /// What the shop and the beneficiary are told of a voucher that can no longer be used.
        public var notice: String? {
            switch self {
            case .issued: return nil
            case .redeemed:
                return "Ce bon a déjà été utilisé chez le partenaire : le terminal refuse toute nouvelle utilisation. "
                    + "Ce reçu reste la trace de l'achat."
            case .cancelled:
                return "Ce bon a été annulé par le bénéficiaire et son montant est revenu sur son porte-monnaie : "
                    + "le terminal le refuse."
            case .expired:
                return "Ce bon n'a pas été utilisé avant sa date de validité : il a expiré et son montant est revenu au "
                    + "porte-monnaie d'où il venait. Le terminal le refuse."
            }
        }

        /// The banner a voucher that can no longer be used carries; nil for an issued one.
        public var banner: String? {
            switch self {
            case .issued: return nil
            case .redeemed: return "BON DÉJÀ UTILISÉ – NE PLUS ACCEPTER"
            case .cancelled: return "BON ANNULÉ – NE PAS ACCEPTER"
            case .expired: return "BON EXPIRÉ – NE PAS ACCEPTER"
            }
        }
    }

    public struct Beneficiary: Sendable, Equatable {
        public let firstName: String
        public let lastName: String
        public let dossier: String
        public init(firstName: String, lastName: String, dossier: String) {
            self.firstName = firstName
            self.lastName = lastName
            self.dossier = dossier
        }
    }

    public struct Partner: Sendable, Equatable {
        public let name: String
        public let address: String
        public let city: String
        public init(name: String, address: String, city: String) {
            self.name = name
            self.address = address
            self.city = city
        }
    }

    public let code: VoucherCode
    public let amountCents: Int64
    public let wallet: WalletCode
    public let expiresOn: LocalDate
    public let issuedOn: LocalDate
    public let status: Status
    public let beneficiary: Beneficiary
    public let partner: Partner
    /// The card the voucher was paid with: printed masked (first 4 and last 4 digits), never in full.
    public let card: PAN?

    public init(code: VoucherCode, amountCents: Int64, wallet: WalletCode, expiresOn: LocalDate, issuedOn: LocalDate,
                status: Status, beneficiary: Beneficiary, partner: Partner, card: PAN?) {
        self.code = code
        self.amountCents = amountCents
        self.wallet = wallet
        self.expiresOn = expiresOn
        self.issuedOn = issuedOn
        self.status = status
        self.beneficiary = beneficiary
        self.partner = partner
        self.card = card
    }

    /// "15,00 €".
    public var amountText: String { Money.display(cents: amountCents) }

    /// `26/05/2027`: how a French reader writes a date.
    public static func frenchDate(_ day: LocalDate) -> String {
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(day.day))/\(two(day.month))/\(day.year)"
    }

    /// `9250 **** **** 9013`.
    public var maskedCard: String? {
        guard let card else { return nil }
        let masked = Array(card.masked)
        return stride(from: 0, to: masked.count, by: 4).map { String(masked[$0..<min($0 + 4, masked.count)]) }
            .joined(separator: " ")
    }

    // MARK: - Layout

    /// The barcode's narrow module: 1.44 pt = 0.508 mm, exactly 3 pixels at 150 dpi (6 at 300 dpi).
    public static let barcodeModule = 1.44
    public static let barcodeHeight = 64.0

    static let margin = 50.0
    static let brand = PDFPage.Colour(0.0, 0.29, 0.55)
    static let grey = PDFPage.Colour(0.38, 0.38, 0.38)
    static let alert = PDFPage.Colour(0.75, 0.08, 0.08)

    /// The receipt as a PDF file's bytes. The same receipt gives the same bytes.
    public func pdf() -> [UInt8] {
        PDFDocument.bytes(page: page(), title: "Bon de prépaiement \(code.grouped) – \(Self.cardName)")
    }

    public func page() -> PDFPage {
        var page = PDFPage()
        let left = Self.margin
        let right = page.width - Self.margin
        let centre = page.width / 2

        // Header band: the card's name.
        page.fill(x: 0, y: 762, width: page.width, height: 80, colour: Self.brand)
        page.text(Self.cardName, x: left, y: 803, font: .helveticaBold, size: 28, colour: .white)
        page.text("Région Hauts-de-France", x: left, y: 780, font: .helvetica, size: 11, colour: .white)
        page.rightAlignedText("BON DE PRÉPAIEMENT", rightX: right, y: 805, font: .helveticaBold, size: 14, colour: .white)
        page.rightAlignedText("Émis le \(Self.frenchDate(issuedOn))", rightX: right, y: 785, font: .helvetica, size: 10,
                              colour: .white)

        var y = 730.0
        if let banner = status.banner {
            page.fill(x: left, y: y - 12, width: right - left, height: 32, colour: Self.alert)
            page.centredText(banner, centreX: centre, y: y - 1, font: .helveticaBold, size: 14, colour: .white)
            y -= 44
        }

        // The facts, one row each: a small grey label, the value beside it.
        let valueX = 205.0
        let valueWidth = right - valueX
        func label(_ text: String, at baseline: Double) {
            page.text(text, x: left, y: baseline, font: .helvetica, size: 9, colour: Self.grey)
        }
        label("MONTANT", at: y)
        page.text(amountText, x: valueX, y: y - 16, font: .helveticaBold, size: 34)
        y -= 50
        label("PORTE-MONNAIE", at: y)
        page.text(wallet.label, x: valueX, y: y, font: .helveticaBold, size: 13)
        y -= 22
        label("VALABLE JUSQU'AU", at: y)
        page.text("\(Self.frenchDate(expiresOn)) inclus", x: valueX, y: y, font: .helveticaBold, size: 13)
        y -= 22
        label("STATUT", at: y)
        page.text(status.label, x: valueX, y: y, font: .helveticaBold, size: 13,
                  colour: status == .issued ? .black : Self.alert)
        y -= 30
        page.line(from: (left, y + 12), to: (right, y + 12), lineWidth: 0.5, colour: Self.grey)
        y -= 6

        label("BÉNÉFICIAIRE", at: y)
        y = page.wrappedText("\(beneficiary.firstName) \(beneficiary.lastName)", x: valueX, y: y, width: valueWidth,
                             font: .helveticaBold, size: 14, leading: 17, maximumLines: 2)
        var details = "Dossier \(beneficiary.dossier)"
        if let maskedCard { details += "  ·  Carte \(maskedCard)" }
        y = page.wrappedText(details, x: valueX, y: y, width: valueWidth, font: .helvetica, size: 11, leading: 14,
                             maximumLines: 2)
        y -= 12
        label("À UTILISER CHEZ", at: y)
        y = page.wrappedText(partner.name, x: valueX, y: y, width: valueWidth, font: .helveticaBold, size: 14, leading: 17,
                             maximumLines: 2)
        if !partner.address.isEmpty {
            y = page.wrappedText(partner.address, x: valueX, y: y, width: valueWidth, font: .helvetica, size: 11, leading: 14,
                                 maximumLines: 2)
        }
        y = page.wrappedText(partner.city, x: valueX, y: y, width: valueWidth, font: .helvetica, size: 11, leading: 14,
                             maximumLines: 1)

        // The code: large, grouped, then its barcode on white with its quiet zones, in a box.
        let boxTop = min(y - 6, 420.0)
        let boxBottom = boxTop - 190
        page.stroke(x: left, y: boxBottom, width: right - left, height: boxTop - boxBottom, lineWidth: 1, colour: Self.brand)
        page.centredText("CODE DU BON", centreX: centre, y: boxTop - 24, font: .helvetica, size: 10, colour: Self.grey)
        page.centredText(code.grouped, centreX: centre, y: boxTop - 62, font: .helveticaBold, size: 34)
        drawBarcode(on: &page, centreX: centre, bottom: boxBottom + 38)
        page.centredText(code.canonical, centreX: centre, y: boxBottom + 20, font: .helvetica, size: 9, colour: Self.grey)

        // What each side does with it.
        var notes = boxBottom - 30
        if let notice = status.notice {
            page.text("Ce bon ne peut plus être utilisé", x: left, y: notes, font: .helveticaBold, size: 11, colour: Self.alert)
            page.wrappedText(notice, x: left, y: notes - 15, width: right - left, font: .helvetica, size: 10, leading: 13)
        } else {
            page.text("Pour le partenaire", x: left, y: notes, font: .helveticaBold, size: 11)
            notes = page.wrappedText(
                "Scannez le code-barres ou saisissez le code sur le terminal. Le montant est déjà réservé sur le porte-monnaie "
                    + "du bénéficiaire ; le bon s'utilise une seule fois, pour son montant entier, jusqu'à sa date de validité incluse.",
                x: left, y: notes - 15, width: right - left, font: .helvetica, size: 10, leading: 13)
            notes -= 6
            page.text("Pour le bénéficiaire", x: left, y: notes, font: .helveticaBold, size: 11)
            page.wrappedText(
                "Présentez ce bon chez le partenaire avant la date de validité. Tant qu'il n'est pas utilisé, vous pouvez "
                    + "l'annuler depuis votre espace : le montant revient sur votre porte-monnaie. Un bon non utilisé à la date "
                    + "de validité expire, et son montant revient au porte-monnaie d'où il vient.",
                x: left, y: notes - 15, width: right - left, font: .helvetica, size: 10, leading: 13)
        }

        page.line(from: (left, 52), to: (right, 52), lineWidth: 0.5, colour: Self.grey)
        page.wrappedText("\(Self.cardName) · bon \(code.grouped) · \(amountText) · \(partner.name)", x: left, y: 38,
                         width: right - left, font: .helvetica, size: 8, leading: 10, maximumLines: 1, colour: Self.grey)
        return page
    }

    /// The Code 128 symbol of the canonical code, centred, its left edge on a whole module so that every
    /// bar starts and ends on a pixel boundary at 150, 300 and 600 dpi.
    func drawBarcode(on page: inout PDFPage, centreX: Double, bottom: Double) {
        let module = Self.barcodeModule
        // The code's alphabet is printable ASCII: subset B encodes any code.
        guard let modules = try? Code128.moduleCount(code.canonical) else { return }
        let x = ((centreX - Double(modules) * module / 2) / module).rounded() * module
        // The quiet zones stay white: nothing else is drawn within 10 modules of the symbol.
        assert(x - Double(Code128.quietZoneModules) * module > Self.margin)
        _ = try? page.code128(code.canonical, x: x, bottom: bottom, module: module, height: Self.barcodeHeight)
    }
}
