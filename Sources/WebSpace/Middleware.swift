import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import NIOConcurrencyHelpers

/// The headers of contract §8 on every answer: a CSP that allows no inline script (the one script, the
/// anti-robot step's, is a file of the site) and no framing, no
/// referrer outside the site (password-reset links carry a token), no MIME sniffing, and no caching of
/// pages that hold personal data.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = WebContext
    let pages: Pages

    static var contentSecurityPolicy: String {
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            response = pages.notFound()
        } catch let error as HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

/// Every POST must carry its session's form token (field `jeton`): without it, or with another's, the
/// answer is 403 and the route never runs, so nothing changes. The body is read here (bounded) and
/// handed on, already collected, to the route.
struct FormTokenMiddleware: RouterMiddleware {
    typealias Context = WebContext
    let pages: Pages
    let uploads = UploadSlots(limit: WebLimits.maximumConcurrentUploads)

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post else { return try await next(request, context) }
        var request = request
        let multipart = MultipartFields.isMultipart(request)
        // A body of up to 5 MB is read only for a logged-in beneficiary, on the three forms that carry a file,
        // a few at a time: anyone else's multipart body is refused unread.
        var uploadSlot: UploadSlots.Slot?
        if multipart {
            guard context.sessions.session?.beneficiaryID != nil, WebLimits.uploadPaths.contains(request.uri.path) else {
                context.logger.notice("multipart refused: not logged in or not an upload form", metadata: ["path": .string(request.uri.path)])
                return pages.forbidden(context: context)
            }
            guard let slot = uploads.take() else {
                return pages.page("erreur", title: "Envoi impossible pour l'instant",
                                  values: ["message": "Trop d'envois de fichiers sont en cours : rien n'a été enregistré. Réessaie dans un instant."],
                                  user: nil, formToken: nil, status: .serviceUnavailable)
            }
            uploadSlot = slot
        }
        defer { uploadSlot?.release() }
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: multipart ? WebLimits.maximumUploadRequestBytes : WebLimits.maximumFormBytes)
        } catch {
            guard multipart else { throw HTTPError(.contentTooLarge) }
            return pages.page("erreur", title: "Fichier trop lourd",
                              values: ["message": "Ton fichier dépasse 5 Mo : rien n'a été enregistré. Choisis un fichier plus léger (JPEG, PNG ou PDF) et recommence."],
                              user: nil, formToken: nil, status: .contentTooLarge)
        }
        let fields: FormFields
        if multipart {
            guard let parsed = try? MultipartFields(body: body, contentType: request.headers[.contentType] ?? "") else {
                return pages.page("erreur", title: "Envoi refusé", values: ["message": "Ce formulaire n'a pas pu être lu : recharge la page et recommence."],
                                  user: nil, formToken: nil, status: .badRequest)
            }
            fields = parsed.form
        } else {
            fields = FormFields(body: body)
        }
        guard let expected = context.sessions.session?.formToken,
              let given = fields[FormToken.fieldName], FormToken.matches(given, expected) else {
            context.logger.notice("form refused: no valid form token", metadata: ["path": .string(request.uri.path)])
            return pages.forbidden(context: context)
        }
        return try await next(request, context)
    }
}

/// A form body (`application/x-www-form-urlencoded`), decoded by the Hummingbird's form decoder.
struct FormFields: Sendable {
    let values: [String: String]

    init(body: ByteBuffer) { self.init(text: String(buffer: body)) }

    init(values: [String: String]) { self.values = values }

    /// Also a GET form's query string ('+' is a space there too, which the URI's own parser does not say).
    init(text: String) {
        values = (try? URLEncodedFormDecoder().decode([String: String].self, from: text)) ?? [:]
    }

    subscript(_ name: String) -> String? { values[name] }

    func text(_ name: String) -> String { (values[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
    func isChecked(_ name: String) -> Bool { values[name] != nil }
}

/// How many multipart bodies (up to 5 MB each) are being read at once, at most: memory stays bounded
/// whatever the number of clients.
final class UploadSlots: Sendable {
    let limit: Int
    private let inUse = NIOLockedValueBox(0)

    init(limit: Int) { self.limit = limit }

    struct Slot {
        let owner: UploadSlots
        func release() { owner.inUse.withLockedValue { $0 -= 1 } }
    }

    func take() -> Slot? {
        inUse.withLockedValue { count in
            guard count < limit else { return nil }
            count += 1
            return Slot(owner: self)
        }
    }
}
