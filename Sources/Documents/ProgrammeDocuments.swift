import HDFDomain
import Receipt

/// The two PDFs of "Mes documents" (contract section 8): the "Règlement général" and the "Flyer Génération #HDF". API:
///   ProgrammeDocument.allCases                      -> [.reglementGeneral, .flyer], in the order the page lists them
///   document.title / document.fileName              -> "Règlement général" / "reglement-general.pdf" (Content-Disposition)
///   document.pdf() -> [UInt8]                        -> the whole file (application/pdf), the same bytes every call
///   ProgrammeDocument(slug: "reglement-general")     -> the document a URL names, nil for any other slug (answer 404)
/// Written by the project (plausible, not the Région's legal text); the wording follows the guide and the contract.
public enum ProgrammeDocument: String, CaseIterable, Sendable {
    case reglementGeneral = "reglement-general"
    case flyer = "flyer-generation-hdf"

    public init?(slug: String) { self.init(rawValue: slug) }

    public var slug: String { rawValue }

    public var title: String {
        switch self {
        case .reglementGeneral: return "Règlement général"
        case .flyer: return "Flyer Génération #HDF"
        }
    }

    public var fileName: String { rawValue + ".pdf" }

    /// One sentence for the list of documents.
    public var summary: String {
        switch self {
        case .reglementGeneral: return "Les règles du dispositif : qui peut en bénéficier, les porte-monnaie, leur validité, tes droits."
        case .flyer: return "Génération #HDF en une page, à garder ou à partager."
        }
    }

    public func pdf() -> [UInt8] {
        switch self {
        case .reglementGeneral: return PDFDocument.bytes(pages: ReglementGeneral.pages(), title: title)
        case .flyer: return PDFDocument.bytes(pages: [Flyer.page()], title: title)
        }
    }

    /// The free number of the programme, as the guide prints it.
    public static let helpLine = "0800 026 080"
}

enum ReglementGeneral {
    static func pages() -> [PDFPage] {
        var document = FlowingDocument(footerLabel: "Génération #HDF – Règlement général du dispositif")
        document.title("Règlement général")
        document.title("Carte Génération #HDF", size: 15)
        document.paragraph("Région Hauts-de-France – dispositif d'aide aux jeunes pour leurs manuels, leur équipement, leurs "
                           + "transports, leur hébergement et leur restauration.", font: .helvetica)
        document.space(4)

        document.heading("Article 1 – Objet")
        document.paragraph("Le présent règlement fixe les conditions dans lesquelles la Région Hauts-de-France accorde aux jeunes "
                           + "la carte Génération #HDF, les aides qu'elle porte et la façon de les utiliser chez les partenaires "
                           + "du dispositif. Toute demande de carte vaut acceptation du présent règlement.")

        document.heading("Article 2 – Qui peut en bénéficier")
        document.paragraph("Peut demander la carte, dans la limite d'une carte par personne, tout jeune domicilié en Hauts-de-France "
                           + "ou scolarisé dans un établissement de la région, qui est, pour l'année scolaire en cours :")
        document.bullets([
            "lycéen dans un lycée public ou privé sous contrat (voie générale, technologique ou professionnelle) ;",
            "apprenti inscrit dans un centre de formation d'apprentis, quel que soit son âge d'entrée en formation ;",
            "élève d'une école de production reconnue ;",
            "étudiant post-bac en section de technicien supérieur ou en classe préparatoire d'un lycée de la région.",
        ])
        document.paragraph("La demande est faite dans l'Espace bénéficiaire. L'établissement confirme l'inscription du jeune, puis "
                           + "la Région valide la demande. Pour un jeune mineur, la demande est faite avec l'accord de son "
                           + "représentant légal. Une demande incomplète ou inexacte peut être refusée.")

        document.heading("Article 3 – La carte et ses porte-monnaie")
        document.paragraph("La carte est personnelle. Elle porte plusieurs porte-monnaie, chacun réservé à un type de dépense et "
                           + "utilisable seulement chez les partenaires qui l'acceptent :")
        document.bullets(WalletCode.allCases.map { "\($0.label) (\($0.rawValue)) ;" })
        document.paragraph("Les montants de chaque aide sont fixés chaque année par délibération du Conseil régional. Ils sont "
                           + "chargés par la Région sur la carte. Les sommes chargées ne sont ni remboursables ni échangeables "
                           + "contre de l'argent, et un porte-monnaie ne peut jamais être débiteur : un achat n'est accepté que "
                           + "dans la limite du solde disponible.")

        document.heading("Article 4 – Durée de validité")
        document.paragraph("Le porte-monnaie MANUELS « Manuels et équipement » est valable 6 mois à compter de son chargement. "
                           + "Les autres porte-monnaie sont valables 12 mois à compter de leur chargement, sauf mention contraire "
                           + "lors du chargement. La date de fin de validité de chaque porte-monnaie est affichée dans l'Espace "
                           + "bénéficiaire, rubrique « Ma carte ».")
        document.paragraph("Après cette date, le solde restant n'est plus utilisable et revient à la Région. Un prépaiement non "
                           + "utilisé à cette date expire : son montant retourne au porte-monnaie dont il venait, sans pouvoir "
                           + "être dépensé.")

        document.heading("Article 5 – Payer chez un partenaire")
        document.paragraph("Le bénéficiaire présente sa carte au terminal du partenaire. Le montant est débité du porte-monnaie "
                           + "correspondant à l'achat. Un paiement peut être annulé par le partenaire ; le montant est alors "
                           + "recrédité sur le porte-monnaie d'origine. La liste des partenaires, leur adresse et les porte-monnaie "
                           + "qu'ils acceptent sont consultables dans la rubrique « Où utiliser ma carte ».")

        document.heading("Article 6 – Prépaiements")
        document.paragraph("Chez les partenaires qui les acceptent, le bénéficiaire peut faire un prépaiement depuis l'Espace "
                           + "bénéficiaire : il choisit le partenaire, le porte-monnaie et le montant. Le montant est réservé "
                           + "aussitôt sur le porte-monnaie et n'est plus disponible pour un autre achat.")
        document.bullets([
            "Le bon de prépaiement s'imprime depuis « Mes prépaiements imprimables » (bouton « Imprimer ») : il porte un code et un code-barres que le partenaire lit pour l'utiliser, une seule fois.",
            "Tant que le partenaire ne l'a pas utilisé, le bénéficiaire peut l'annuler (bouton « Annuler ») : le montant redevient disponible.",
            "Un bon non utilisé à la fin de validité du porte-monnaie expire (article 4).",
        ])

        document.heading("Article 7 – Paiements en ligne")
        document.paragraph("Chez les partenaires qui les acceptent, le bénéficiaire peut payer en ligne depuis la rubrique "
                           + "« Paiement en ligne ». Le paiement apparaît dans « Mes transactions » avec la mention « Extranet "
                           + "Bénéficiaire ». Seul le partenaire peut annuler un paiement en ligne.")

        document.heading("Article 8 – Carte perdue, volée ou endommagée")
        document.paragraph("Le bénéficiaire déclare sans attendre la perte, le vol ou la détérioration de sa carte dans la rubrique "
                           + "« Un problème de carte ? » de l'Espace bénéficiaire, ou par téléphone au \(ProgrammeDocument.helpLine) "
                           + "(service et appel gratuits). La carte est bloquée dès la déclaration : plus aucun paiement n'est "
                           + "accepté avec elle. Les soldes non dépensés sont conservés et reportés sur la nouvelle carte. La "
                           + "Région n'est pas responsable des paiements faits avant la déclaration.")

        document.heading("Article 9 – Espace bénéficiaire et mot de passe")
        document.paragraph("L'accès à l'Espace bénéficiaire se fait avec le numéro de carte ou de dossier et un mot de passe "
                           + "personnel, que le bénéficiaire ne communique à personne. Après 5 mots de passe erronés, l'accès "
                           + "au compte est bloqué pendant 15 minutes. Les liens « Mot de passe oublié ? » et « Identifiant "
                           + "oublié ? » permettent de retrouver l'accès par courriel, après vérification de la date de naissance.")

        document.heading("Article 10 – Protection des données personnelles")
        document.paragraph("La Région Hauts-de-France, responsable du traitement, collecte les données nécessaires à l'instruction "
                           + "de la demande et à la gestion de la carte (identité, coordonnées, établissement, situation, "
                           + "opérations sur la carte), sur le fondement de sa mission d'intérêt public. Elles ne sont transmises "
                           + "qu'aux services qui en ont besoin : l'établissement pour confirmer l'inscription, les partenaires "
                           + "pour les seules opérations faites chez eux, sans que le numéro de carte complet leur soit montré.")
        document.paragraph("Les données sont conservées pendant la durée du dispositif puis archivées selon les délais légaux. "
                           + "Le bénéficiaire dispose d'un droit d'accès, de rectification, d'effacement, de limitation et "
                           + "d'opposition ; il l'exerce auprès du délégué à la protection des données de la Région. Il peut "
                           + "aussi saisir la CNIL. Les mots de passe ne sont jamais conservés en clair.")

        document.heading("Article 11 – Contact et modification du règlement")
        document.paragraph("Pour toute question : rubrique « Contact » de l'Espace bénéficiaire ou \(ProgrammeDocument.helpLine) "
                           + "(service et appel gratuits). La Région peut modifier le présent règlement ; la version en vigueur "
                           + "est toujours celle disponible dans « Mes documents ».")
        return document.finishedPages()
    }
}

enum Flyer {
    static let blue = PDFPage.Colour(0.114, 0.31, 0.478)
    static let red = PDFPage.Colour(0.784, 0.063, 0.18)

    static func page() -> PDFPage {
        var page = PDFPage()
        let width = PDFPage.a4Width
        let height = PDFPage.a4Height
        let margin = 48.0
        // The banner.
        page.fill(x: 0, y: height - 210, width: width, height: 210, colour: blue)
        page.centredText("Génération #HDF", centreX: width / 2, y: height - 100, font: .helveticaBold, size: 46, colour: .white)
        page.centredText("La carte des jeunes des Hauts-de-France", centreX: width / 2, y: height - 140, font: .helvetica, size: 18, colour: .white)
        page.centredText("Lycéens, apprentis, élèves d'écoles de production, étudiants post-bac", centreX: width / 2, y: height - 170,
                         font: .helvetica, size: 12, colour: .white)

        var y = height - 250
        page.text("Ta carte, tes porte-monnaie", x: margin, y: y, font: .helveticaBold, size: 18, colour: blue)
        y -= 30
        let blocks: [(String, String)] = [
            ("Manuels et équipement", "Tes livres, tes fournitures et ton équipement professionnel. Valable 6 mois après le chargement."),
            ("Transport", "Tes trajets vers ton lycée, ton CFA ou ton entreprise."),
            ("Hébergement", "Ton internat ou ton logement pendant ta formation."),
            ("Restauration", "Tes repas à la cantine ou chez les partenaires."),
        ]
        let boxWidth = (width - 2 * margin - 16) / 2
        for (index, block) in blocks.enumerated() {
            let column = Double(index % 2)
            let row = Double(index / 2)
            let x = margin + column * (boxWidth + 16)
            let top = y - row * 108
            page.stroke(x: x, y: top - 92, width: boxWidth, height: 100, lineWidth: 1.2, colour: blue)
            page.fill(x: x, y: top + 2, width: 6, height: 6, colour: red)
            page.text(block.0, x: x + 12, y: top - 12, font: .helveticaBold, size: 13, colour: blue)
            page.wrappedText(block.1, x: x + 12, y: top - 32, width: boxWidth - 24, font: .helvetica, size: 10.5, leading: 14)
        }
        y -= 2 * 108 + 16

        page.text("Comment ça marche ?", x: margin, y: y, font: .helveticaBold, size: 18, colour: blue)
        y -= 26
        let steps = [
            "1. Crée ton compte dans ton Espace bénéficiaire et fais ta demande de carte.",
            "2. Ton établissement confirme ton inscription, la Région valide : tu reçois ta carte.",
            "3. Paie chez les partenaires avec ta carte, ou en ligne, ou avec un prépaiement imprimé.",
            "4. Suis tes soldes et tes transactions dans « Ma carte ».",
        ]
        for step in steps {
            y = page.wrappedText(step, x: margin, y: y, width: width - 2 * margin, font: .helvetica, size: 12, leading: 16) - 4
        }
        y -= 10
        page.text("Un problème de carte ?", x: margin, y: y, font: .helveticaBold, size: 18, colour: blue)
        y -= 24
        y = page.wrappedText("Carte perdue, volée ou endommagée : déclare-la tout de suite dans « Ma carte », elle est bloquée "
                             + "aussitôt. Ton solde est conservé.", x: margin, y: y, width: width - 2 * margin, font: .helvetica,
                             size: 12, leading: 16)

        // The footer band with the help line.
        page.fill(x: 0, y: 0, width: width, height: 92, colour: red)
        page.centredText("Une question ? \(ProgrammeDocument.helpLine)", centreX: width / 2, y: 52, font: .helveticaBold, size: 22, colour: .white)
        page.centredText("Service et appel gratuits – Région Hauts-de-France", centreX: width / 2, y: 28, font: .helvetica, size: 11, colour: .white)
        return page
    }
}
