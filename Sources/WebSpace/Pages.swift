import BeneficiaryOperations
import Foundation
import HDFDomain
import HTTPTypes
import Hummingbird
import Mustache

/// Renders the pages: a page's template, then the layout around it (menu, footer).
public struct Pages: Sendable {
    let library: MustacheLibrary

    init() throws {
        var library = MustacheLibrary()
        for (name, text) in Templates.all { try library.register(text, named: name) }
        self.library = library
    }

    /// The left menu (contract §8), in the guide's order; "Se déconnecter" is a form of the layout.
    static let menu: [(href: String, label: String)] = [
        ("/accueil", "Accueil"), ("/mon-compte", "Mon compte"), ("/ma-carte", "Ma carte"), ("/mes-documents", "Mes documents"),
        ("/ou-utiliser-ma-carte", "Où utiliser ma carte"), ("/gestion-mot-de-passe", "Gestion mot de passe"),
    ]

    /// Ma carte's sections (contract §8), each a page.
    static let cardTabs: [(href: String, label: String)] = [
        ("/ma-carte", "Mes porte-monnaie"), ("/ma-carte/prepaiement", "Faire un prépaiement"),
        ("/ma-carte/prepaiements", "Mes prépaiements imprimables"), ("/ma-carte/paiement-en-ligne", "Paiement en ligne"),
        ("/ma-carte/transactions", "Mes transactions"), ("/ma-carte/probleme", "Un problème de carte ?"),
    ]

    static func tabs(current: String) -> [[String: Any]] {
        cardTabs.map { ["href": $0.href, "label": $0.label, "current": $0.href == current] }
    }

    /// A whole page. `menuItem` marks the current tab; `user` nil shows no menu (the pages before login).
    func page(_ template: String, title: String, values: [String: Any], user: UserView?, formToken: String?,
              menuItem: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        var values = values
        values["formToken"] = formToken ?? ""
        let body = library.render(values, withTemplate: template) ?? ""
        var layout: [String: Any] = ["title": title, "body": body, "formToken": formToken ?? ""]
        if let user {
            layout["user"] = ["firstName": user.firstName, "lastName": user.lastName]
            layout["menu"] = Self.menu.map { ["href": $0.href, "label": $0.label, "current": $0.href == menuItem] as [String: Any] }
        }
        let html = library.render(layout, withTemplate: "layout") ?? ""
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func forbidden(context: WebContext) -> Response {
        page("erreur", title: "Action refusée",
             values: ["message": "Ce formulaire a expiré ou ne vient pas de ton espace : rien n'a été modifié. Recharge la page et recommence."],
             user: nil, formToken: nil, status: .forbidden)
    }

    func notFound() -> Response {
        page("erreur", title: "Page introuvable", values: ["message": "Cette page n'existe pas ou ne te concerne pas."],
             user: nil, formToken: nil, status: .notFound)
    }
}

/// Who the page is for (the layout's header and menu).
struct UserView: Sendable {
    let firstName: String
    let lastName: String
}

/// How amounts, dates and statuses read on the pages.
enum Display {
    static func amount(_ cents: Int64) -> String { Money.display(cents: cents) }
    static func date(_ day: LocalDate) -> String {
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(day.day))/\(two(day.month))/\(day.year)"
    }
    static func dateTime(millis: Int64) -> String {
        let day = ParisCalendar.businessDay(of: Date(timeIntervalSince1970: Double(millis) / 1000))
        return date(day)
    }

    static func cardStatus(_ status: CardStatus) -> String {
        switch status {
        case .active: return "active"
        case .lost: return "bloquée (perdue)"
        case .stolen: return "bloquée (volée)"
        case .damaged: return "bloquée (endommagée)"
        }
    }

    static func voucherStatus(_ status: String) -> String {
        switch status {
        case "issued": return "à utiliser"
        case "redeemed": return "utilisé"
        case "cancelled": return "annulé"
        case "expired": return "expiré"
        case "approved", "posted": return "validé"
        case "reversed": return "annulé par le terminal"
        default: return status
        }
    }

    /// Last four digits only (contract §8): a PAN is never shown whole.
    static func lastFour(_ pan: PAN) -> String { "•••• " + String(pan.digits.suffix(4)) }

    /// Parses what a person types as an amount ("12,50", "12.50", "12", "12,5 €") into cents, or nil.
    static func parseAmount(_ text: String) -> Int64? {
        var cleaned = text.replacingOccurrences(of: "€", with: "").filter { !$0.isWhitespace }
        cleaned = cleaned.replacingOccurrences(of: ".", with: ",")
        let parts = cleaned.split(separator: ",", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].count <= 7, parts[0].allSatisfy(\.isASCIIDigitCharacter),
              let euros = Int64(parts[0]) else { return nil }
        var cents: Int64 = 0
        if parts.count == 2 {
            let fraction = parts[1]
            guard (1...2).contains(fraction.count), fraction.allSatisfy(\.isASCIIDigitCharacter), let value = Int64(fraction) else { return nil }
            cents = fraction.count == 1 ? value * 10 : value
        }
        return euros * 100 + cents
    }
}

extension Character {
    var isASCIIDigitCharacter: Bool { ("0"..."9").contains(self) }
}

extension Display {
    /// "14/03/2008" or "2008-03-14", or nil.
    static func parseDate(_ text: String) -> LocalDate? { FrenchDates.parse(text) }
}
