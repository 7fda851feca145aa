import BeneficiaryOperations
import Foundation
import HDFDomain
import HTTPTypes
import Hummingbird
import Ledger

/// Ma carte: the wallets, "Faire un prépaiement", "Mes prépaiements imprimables" (Imprimer, Annuler),
/// "Paiement en ligne", "Mes transactions", "Un problème de carte ?". Anything that is not the
/// beneficiary's own (a voucher, a payment) answers 404.
extension Site {
    /// The two payment flows share their steps; what differs is here.
    struct PaymentFlow: Sendable {
        let path: String
        let title: String
        let intro: String
        let button: String
        let online: Bool
        func accepts(_ partner: PartnerRecord) -> Bool { online ? partner.acceptsOnline : partner.acceptsPrepayment }
    }

    static let prepaymentFlow = PaymentFlow(
        path: "/ma-carte/prepaiement", title: "Faire un prépaiement",
        intro: "Renseigne les informations du partenaire. Seuls les partenaires qui acceptent les prépaiements peuvent être choisis.",
        button: "Prépaiement", online: false)
    static let onlineFlow = PaymentFlow(
        path: "/ma-carte/paiement-en-ligne", title: "Paiement en ligne",
        intro: "Renseigne les informations du partenaire. Seuls les partenaires qui acceptent les paiements en ligne peuvent être choisis.",
        button: "Paiement en ligne", online: true)

    static func categoryOptions(selected: String?) -> [[String: Any]] {
        PartnerCategory.allCases.map { ["value": $0.rawValue, "label": $0.label, "selected": $0.rawValue == selected] }
    }

    func addCardRoutes(to router: Router<WebContext>) {
        router.get("/ma-carte") { _, context -> Response in
            try await withCard(context) { pan, _, session, user in
                var values = try await walletValues(pan).card as [String: Any]
                values = ["card": values, "tabs": Pages.tabs(current: "/ma-carte")]
                return pages.page("ma-carte", title: "Ma carte", values: values, user: user, formToken: session.formToken, menuItem: "/ma-carte")
            }
        }
        for flow in [Self.prepaymentFlow, Self.onlineFlow] { addPaymentFlow(flow, to: router) }
        addVoucherRoutes(to: router)
        addTransactionRoutes(to: router)
        addProblemRoutes(to: router)
    }

    func addPaymentFlow(_ flow: PaymentFlow, to router: Router<WebContext>) {
        // Step 1: the partner's fields and "Valider"; the partners that match and accept this kind of payment.
        router.get(RouterPath(flow.path)) { request, context -> Response in
            try await withCard(context) { _, _, session, user in
                let query = FormFields(text: request.uri.query ?? "")
                let name = query.text("nom"), city = query.text("ville"), type = query.text("type")
                var values: [String: Any] = [
                    "tabs": Pages.tabs(current: flow.path), "intro": flow.intro, "action": flow.path,
                    "query": ["nom": name, "ville": city], "categories": Self.categoryOptions(selected: type),
                ]
                if request.uri.query != nil {
                    let found = try await pool.cards {
                        try $0.partners(name: name.isEmpty ? nil : name, city: city.isEmpty ? nil : city, category: type.isEmpty ? nil : type)
                    }
                    values["searched"] = true
                    values["results"] = found.filter(flow.accepts).prefix(WebLimits.maximumListedPartners).map {
                        ["name": $0.name, "city": $0.city, "category": $0.category.label, "href": "\(flow.path)/\($0.id)",
                         "button": flow.button] as [String: Any]
                    }
                }
                return pages.page("prepaiement-recherche", title: flow.title, values: values, user: user,
                                  formToken: session.formToken, menuItem: "/ma-carte")
            }
        }
        // Step 2: the wallet ("Porte-monnaie"), the amount ("Montant") and "Valider".
        router.get(RouterPath(flow.path + "/:partner")) { _, context -> Response in
            try await withCard(context) { pan, _, session, user in
                guard let partner = try await acceptingPartner(context, flow) else { return pages.notFound() }
                return try await paymentForm(flow, partner: partner, pan: pan, form: [:], errors: [:], general: nil,
                                             session: session, user: user)
            }
        }
        router.post(RouterPath(flow.path + "/:partner")) { request, context -> Response in
            try await withCard(context) { pan, _, session, user in
                guard let partner = try await acceptingPartner(context, flow) else { return pages.notFound() }
                let form = try await Self.form(request)
                let amountText = form.text("montant"), walletText = form.text("porte_monnaie")
                var errors: [String: String] = [:]
                let wallet = WalletCode(rawValue: walletText)
                if wallet == nil { errors["porte_monnaie"] = "Choisis le porte-monnaie à débiter." }
                let cents = Display.parseAmount(amountText)
                if cents == nil {
                    errors["montant"] = "Saisis un montant en euros, par exemple 12,50."
                } else if let cents, cents <= 0 || cents > Money.maximumAmountCents {
                    errors["montant"] = "Le montant doit être compris entre 0,01 € et \(Display.amount(Money.maximumAmountCents))."
                }
                guard errors.isEmpty, let wallet, let cents else {
                    return try await paymentForm(flow, partner: partner, pan: pan, form: ["montant": amountText], errors: errors,
                                                 general: nil, session: session, user: user, selected: walletText)
                }
                do {
                    if flow.online {
                        let payment = try await pool.cards { try $0.payOnline(pan: pan, partnerID: partner.id, wallet: wallet, amountCents: cents) }
                        return Self.redirect("/ma-carte/transactions/\(payment.txn)?confirmation=1")
                    }
                    let voucher = try await pool.cards { try $0.prepay(pan: pan, partnerID: partner.id, wallet: wallet, amountCents: cents) }
                    return Self.redirect("/ma-carte/prepaiements/\(voucher.code.canonical)/confirmation")
                } catch let error as LedgerError {
                    let sentence = FrenchRefusals.sentence(for: error, partnerName: partner.name)
                    switch error {
                    case .insufficientFunds: errors["montant"] = sentence
                    case .walletExpired, .walletNotUsableHere, .unknownWallet, .noWalletUsableHere: errors["porte_monnaie"] = sentence
                    default:
                        return try await paymentForm(flow, partner: partner, pan: pan, form: ["montant": amountText], errors: [:],
                                                     general: sentence, session: session, user: user, selected: walletText)
                    }
                    return try await paymentForm(flow, partner: partner, pan: pan, form: ["montant": amountText], errors: errors,
                                                 general: nil, session: session, user: user, selected: walletText)
                }
            }
        }
    }

    func acceptingPartner(_ context: WebContext, _ flow: PaymentFlow) async throws -> PartnerRecord? {
        guard let id = context.parameters.get("partner"),
              let partner = try? await pool.cards({ try $0.partner(id: id) }), flow.accepts(partner) else { return nil }
        return partner
    }

    func paymentForm(_ flow: PaymentFlow, partner: PartnerRecord, pan: PAN, form: [String: String], errors: [String: String],
                     general: String?, session: WebSession, user: UserView, selected: String? = nil) async throws -> Response {
        let wallets = try await pool.cards { try $0.wallets(pan: pan) }.filter { partner.wallets.contains($0.code) }
        var values: [String: Any] = [
            "tabs": Pages.tabs(current: flow.path), "partnerName": partner.name, "partnerCity": partner.city,
            "action": "\(flow.path)/\(partner.id)", "form": form, "errors": errors, "online": flow.online,
            "wallets": wallets.map { ["code": $0.code.rawValue, "label": $0.label, "balance": Display.amount($0.balanceCents),
                                      "selected": $0.code.rawValue == selected] as [String: Any] },
        ]
        if let general { values["general"] = general }
        return pages.page("paiement-formulaire", title: flow.title, values: values, user: user, formToken: session.formToken,
                          menuItem: "/ma-carte", status: errors.isEmpty && general == nil ? .ok : .unprocessableContent)
    }

    func voucherCode(_ context: WebContext) -> VoucherCode? {
        context.parameters.get("code").flatMap { try? VoucherCode(parsing: $0) }
    }

    func addVoucherRoutes(to router: Router<WebContext>) {
        router.get("/ma-carte/prepaiements") { request, context -> Response in
            try await withCard(context) { pan, _, session, user in
                var notice: String?
                if request.uri.queryParameters.get("annule") != nil {
                    notice = "Ton prépaiement est annulé : son montant est revenu sur ton porte-monnaie."
                }
                return try await vouchersPage(pan: pan, session: session, user: user, notice: notice, general: nil)
            }
        }
        router.get("/ma-carte/prepaiements/:code/confirmation") { _, context -> Response in
            try await withCard(context) { pan, _, session, user in
                guard let code = voucherCode(context),
                      let line = try? await pool.cards({ try $0.voucher(pan: pan, code: code) }) else { return pages.notFound() }
                return pages.page("prepaiement-confirmation", title: "Faire un prépaiement",
                                  values: ["tabs": Pages.tabs(current: "/ma-carte/prepaiement"), "code": line.voucher.code.grouped,
                                           "amount": Display.amount(line.voucher.amountCents), "partnerName": line.partnerName],
                                  user: user, formToken: session.formToken, menuItem: "/ma-carte")
            }
        }
        router.get("/ma-carte/prepaiements/:code/recu.pdf") { _, context -> Response in
            try await withCard(context) { pan, _, _, _ in
                guard let code = voucherCode(context),
                      let receipt = try? await pool.cards({ try $0.receipt(code: code, ownedBy: pan) }) else { return pages.notFound() }
                let bytes = receipt.pdf()
                return Response(status: .ok,
                                headers: [.contentType: "application/pdf",
                                          .contentDisposition: "attachment; filename=\"recu-\(code.canonical).pdf\""],
                                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            }
        }
        router.post("/ma-carte/prepaiements/:code/annuler") { _, context -> Response in
            try await withCard(context) { pan, _, session, user in
                guard let code = voucherCode(context) else { return pages.notFound() }
                do {
                    _ = try await pool.cards { try $0.cancelPrepayment(pan: pan, code: code) }
                    return Self.redirect("/ma-carte/prepaiements?annule=\(code.canonical)")
                } catch LedgerError.unknownVoucher, LedgerError.voucherOfAnotherCard {
                    return pages.notFound()
                } catch let error as LedgerError {
                    return try await vouchersPage(pan: pan, session: session, user: user, notice: nil,
                                                  general: FrenchRefusals.sentence(for: error), status: .unprocessableContent)
                }
            }
        }
    }

    func vouchersPage(pan: PAN, session: WebSession, user: UserView, notice: String?, general: String?,
                      status: HTTPResponse.Status = .ok) async throws -> Response {
        let lines = try await pool.cards { try $0.vouchers(pan: pan) }
        var values: [String: Any] = [
            "tabs": Pages.tabs(current: "/ma-carte/prepaiements"),
            "vouchers": lines.map { line -> [String: Any] in
                let voucher = line.voucher
                return ["code": voucher.code.grouped, "amount": Display.amount(voucher.amountCents), "partnerName": line.partnerName,
                        "statusLabel": Display.voucherStatus(voucher.status.rawValue), "expires": Display.date(voucher.expiresOn),
                        "receiptHref": "/ma-carte/prepaiements/\(voucher.code.canonical)/recu.pdf",
                        "cancelHref": "/ma-carte/prepaiements/\(voucher.code.canonical)/annuler",
                        "cancellable": voucher.status == .issued]
            },
        ]
        if let notice { values["notice"] = notice }
        if let general { values["general"] = general }
        return pages.page("prepaiements", title: "Mes prépaiements imprimables", values: values, user: user,
                          formToken: session.formToken, menuItem: "/ma-carte", status: status)
    }

    func addTransactionRoutes(to router: Router<WebContext>) {
        router.get("/ma-carte/transactions") { _, context -> Response in
            try await withCard(context) { pan, _, session, user in
                let entries = try await pool.cards { try $0.transactions(pan: pan) }.prefix(WebLimits.maximumListedTransactions)
                let lines = entries.map { entry -> [String: Any] in
                    var line: [String: Any] = [
                        "date": Display.dateTime(millis: entry.atMillis), "label": entry.label, "wallet": entry.wallet.label,
                        "amount": Display.amount(entry.amountCents), "status": Display.voucherStatus(entry.status),
                    ]
                    if entry.kind == "online" || entry.kind == "purchase" { line["href"] = "/ma-carte/transactions/\(entry.reference)" }
                    return line
                }
                return pages.page("transactions", title: "Mes transactions",
                                  values: ["tabs": Pages.tabs(current: "/ma-carte/transactions"), "lines": Array(lines)],
                                  user: user, formToken: session.formToken, menuItem: "/ma-carte")
            }
        }
        router.get("/ma-carte/transactions/:txn") { request, context -> Response in
            try await withCard(context) { pan, _, session, user in
                guard let txn = context.parameters.get("txn"),
                      let (payment, partnerName) = try? await pool.cards({ try $0.payment(pan: pan, txn: txn) }) else {
                    return pages.notFound()
                }
                let values: [String: Any] = [
                    "tabs": Pages.tabs(current: "/ma-carte/transactions"), "date": Display.dateTime(millis: payment.createdAtMillis),
                    "label": payment.kind == .online ? payment.label : partnerName, "partnerName": partnerName,
                    "wallet": payment.wallet.label, "amount": Display.amount(payment.amountCents),
                    "status": Display.voucherStatus(payment.status.rawValue), "txn": payment.txn, "online": payment.kind == .online,
                    "confirmation": request.uri.queryParameters.get("confirmation") != nil && payment.kind == .online,
                ]
                return pages.page("transaction", title: payment.kind == .online ? "Paiement en ligne" : "Mes transactions",
                                  values: values, user: user, formToken: session.formToken, menuItem: "/ma-carte")
            }
        }
    }

    func problemPage(_ pan: PAN, _ session: WebSession, _ user: UserView, errors: [String: String], declared: String?,
                     status: HTTPResponse.Status = .ok) async throws -> Response {
        var values: [String: Any] = ["tabs": Pages.tabs(current: "/ma-carte/probleme"), "card": try await walletValues(pan).card,
                                     "errors": errors]
        if let declared { values["declared"] = declared }
        return pages.page("probleme", title: "Un problème de carte ?", values: values, user: user,
                          formToken: session.formToken, menuItem: "/ma-carte", status: status)
    }

    func addProblemRoutes(to router: Router<WebContext>) {
        router.get("/ma-carte/probleme") { request, context -> Response in
            try await withCard(context) { pan, _, session, user in
                let declared = request.uri.queryParameters.get("declare") != nil
                    ? "Ta déclaration est enregistrée : ta carte est bloquée pour les paiements chez les partenaires." : nil
                return try await problemPage(pan, session, user, errors: [:], declared: declared)
            }
        }
        router.post("/ma-carte/probleme") { request, context -> Response in
            try await withCard(context) { pan, _, session, user in
                let form = try await Self.form(request)
                guard let reason = BlockReason(rawValue: form.text("motif")) else {
                    return try await problemPage(pan, session, user, errors: ["motif": "Choisis le motif : carte perdue, volée ou endommagée."],
                                                 declared: nil, status: .unprocessableContent)
                }
                do {
                    guard try await pool.cards({ try $0.cardStatus(pan: pan) }) == .active else {
                        return try await problemPage(pan, session, user, errors: ["motif": "Ta carte est déjà bloquée : rien n'a été modifié."],
                                                     declared: nil, status: .unprocessableContent)
                    }
                    try await pool.cards { try $0.declareProblem(pan: pan, reason: reason) }
                } catch let error as LedgerError {
                    return try await problemPage(pan, session, user, errors: ["motif": FrenchRefusals.sentence(for: error)], declared: nil,
                                                 status: .unprocessableContent)
                }
                return Self.redirect("/ma-carte/probleme?declare=1")
            }
        }
    }
}
