import Crypto
import Foundation
import HDFDomain
import Ledger

/// "Créer mon compte" (contract §9, the guide's steps 1 to 5): the information checked field by field, the
/// account created under a new dossier number, the activation link (e-mail), the SMS code (phone).
///
/// An account can log in once its e-mail is confirmed, and apply for a card once its phone is confirmed.
/// Secrets (activation links, SMS codes) are stored only as SHA-256 digests; the slow password hash is
/// computed before the write transaction, as everywhere in `WebAccounts`.
public struct AccountCreation {
    public let ledger: Ledger

    public init(ledger: Ledger) { self.ledger = ledger }

    // MARK: - Limits, each with its unit

    /// How long an activation link works.
    public static let activationLinkLifetimeMillis: Int64 = 48 * 60 * 60 * 1_000
    /// "Renvoyer le lien d'activation": at most one new link per this many milliseconds...
    public static let activationResendIntervalMillis: Int64 = 5 * 60 * 1_000
    /// ...and at most this many in one Paris day.
    public static let maximumActivationSendsPerDay = 5
    /// An SMS code: digits, lifetime, wrong tries before it is dead, and the wait before another is sent.
    public static let smsCodeDigits = 6
    public static let smsCodeLifetimeMillis: Int64 = 10 * 60 * 1_000
    public static let maximumSMSCodeTries = 5
    public static let smsResendIntervalMillis: Int64 = 60 * 1_000
    /// SMS codes sent to one account in one Paris day at most (5 codes of 5 tries: 25 guesses a day at most).
    public static let maximumSMSCodesPerDay = 5
    /// The ages the programme serves (lycéens to post-bac students), in whole years on the day of creation.
    public static let minimumAgeYears = 11
    public static let maximumAgeYears = 35
    public static let maximumNameCharacters = 80
    /// Dossier numbers drawn at random before giving up (a collision among 10^6 numbers is rare).
    static let maximumDossierDraws = 20

    // MARK: - Step 2: "Informations du bénéficiaire"

    /// What the form of "Créer mon compte" sends.
    public struct Form: Sendable, Equatable {
        public var lastName = ""
        public var firstName = ""
        public var birthDate = ""
        public var email = ""
        public var phone = ""
        public var password = ""
        public var passwordConfirmation = ""
        public var rulesAccepted = false
        public init() {}
    }

    /// The form once every field is checked.
    public struct CheckedForm: Sendable, Equatable {
        public let lastName: String
        public let firstName: String
        public let birthDate: LocalDate
        public let email: String
        /// National form, 10 digits: "0612345678".
        public let phone: String
        public let password: String
    }

    /// Checks every field; all refusals at once, each for its field (the form's field names), in French.
    public static func check(_ form: Form, today: LocalDate) -> Result<CheckedForm, AnswersRefusal> {
        var errors: [String: String] = [:]
        let lastName = form.lastName.trimmingCharacters(in: .whitespaces)
        let firstName = form.firstName.trimmingCharacters(in: .whitespaces)
        if !isName(lastName) { errors["nom"] = "Saisis ton nom (lettres, espaces, tirets ou apostrophes, \(maximumNameCharacters) caractères au plus)." }
        if !isName(firstName) { errors["prenom"] = "Saisis ton prénom (lettres, espaces, tirets ou apostrophes, \(maximumNameCharacters) caractères au plus)." }
        let birthDate = FrenchDates.parse(form.birthDate.trimmingCharacters(in: .whitespaces))
        if let birthDate {
            let age = yearsBetween(birthDate, today)
            if birthDate > today || age < minimumAgeYears || age > maximumAgeYears {
                errors["naissance"] = "La carte Génération #HDF est pour les jeunes de \(minimumAgeYears) à \(maximumAgeYears) ans : vérifie ta date de naissance."
            }
        } else {
            errors["naissance"] = "Saisis ta date de naissance sous la forme jj/mm/aaaa, par exemple 14/03/2008."
        }
        let email = form.email.trimmingCharacters(in: .whitespaces)
        if !isEmail(email) { errors["email"] = "Saisis une adresse e-mail valide, par exemple prenom.nom@exemple.fr." }
        let phone = normalizedMobile(form.phone)
        if phone == nil {
            errors["portable"] = "Saisis un numéro de portable français valide, par exemple 06 12 34 56 78 : il est obligatoire pour finaliser ton compte."
        }
        do {
            try WebAccounts.validateNewPassword(form.password, confirmation: form.passwordConfirmation)
        } catch {
            errors[error.field == "confirmation" ? "confirmation" : "mot_de_passe"] = error.description
        }
        if !form.rulesAccepted { errors["reglement"] = "Accepte le règlement de la carte Génération #HDF pour créer ton compte." }
        guard errors.isEmpty, let birthDate, let phone else { return .failure(AnswersRefusal(errors: errors)) }
        return .success(CheckedForm(lastName: lastName, firstName: firstName, birthDate: birthDate, email: email,
                                    phone: phone, password: form.password))
    }

    /// Refused fields, keyed by the form's field names, each with its French sentence.
    public struct AnswersRefusal: Error, Equatable, Sendable {
        public let errors: [String: String]
        public init(errors: [String: String]) { self.errors = errors }
    }

    static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.count <= maximumNameCharacters
            && text.allSatisfy { $0.isLetter || $0 == " " || $0 == "-" || $0 == "'" || $0 == "’" }
            && text.contains(where: \.isLetter)
    }

    static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
              text.count <= WebAccounts.maximumFieldCharacters else { return false }
        return text.allSatisfy { $0.isASCII && !$0.isWhitespace && $0 != "<" && $0 != ">" && $0 != "," && $0 != ";" && $0 != "\"" }
    }

    /// "06 12 34 56 78", "06.12.34.56.78", "+33 6 12 34 56 78" → "0612345678"; only mobiles (06, 07).
    public static func normalizedMobile(_ text: String) -> String? {
        var digits = text.filter { !$0.isWhitespace && $0 != "." && $0 != "-" }
        if digits.hasPrefix("+33") { digits = "0" + digits.dropFirst(3) } else if digits.hasPrefix("0033") { digits = "0" + digits.dropFirst(4) }
        guard digits.count == 10, digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.hasPrefix("06") || digits.hasPrefix("07") else {
            return nil
        }
        return digits
    }

    static func yearsBetween(_ birth: LocalDate, _ today: LocalDate) -> Int {
        var years = today.year - birth.year
        if (today.month, today.day) < (birth.month, birth.day) { years -= 1 }
        return years
    }

    // MARK: - Step 3: "Créer le compte"

    public struct Created: Sendable, Equatable {
        public let beneficiaryID: Int64
        public let dossier: String
        /// The activation link's token (only its digest is stored): mailed, never shown.
        public let activationToken: String
    }

    public enum CreationRefusal: Error, Equatable, CustomStringConvertible {
        case emailTaken
        public var description: String {
            "Un compte existe déjà avec cette adresse e-mail : connecte-toi, ou utilise « Identifiant oublié ? » ou « Renvoyer le lien d'activation »."
        }
    }

    /// Creates the beneficiary (a new dossier number), the account (not yet activated) and its first
    /// activation link, in one transaction. `passwordHash` is computed by the caller before (`WebAccounts.hash`).
    public func create(_ form: CheckedForm, passwordHash: String, now: Date = Date()) throws -> Created {
        let token = Self.randomToken()
        return try ledger.write(now: now) { tx in
            let db = tx.ledger.connection
            // Under the write lock: two forms with one e-mail cannot both pass this check.
            if try db.scalarInt("SELECT 1 FROM web_accounts WHERE email = ? COLLATE NOCASE", form.email) != nil {
                throw CreationRefusal.emailTaken
            }
            let year = ParisCalendar.businessDay(of: now).year
            var dossier: String?
            for _ in 0..<Self.maximumDossierDraws {
                let candidate = "HDF-\(year)-\(UInt32.random(in: 100_000...999_999))"
                if try db.scalarInt("SELECT 1 FROM beneficiaries WHERE dossier = ?", candidate) == nil { dossier = candidate; break }
            }
            guard let dossier else { throw LedgerError.invalid("no free dossier number after \(Self.maximumDossierDraws) draws") }
            let id = try tx.registerBeneficiary(BeneficiaryRecord(dossier: dossier, firstName: form.firstName,
                                                                  lastName: form.lastName, birthDate: form.birthDate))
            try WebAccounts.createAccount(tx, beneficiaryID: id, passwordHash: passwordHash, email: form.email,
                                          phone: form.phone, establishment: "")
            try db.run("""
                UPDATE web_accounts SET email_confirmed_at_ms = NULL, phone_confirmed_at_ms = NULL, rules_accepted_at_ms = ?,
                    activation_sent_at_ms = ?, activation_sends_today = 1 WHERE beneficiary_id = ?
                """, tx.nowMillis, tx.nowMillis, id)
            try db.run("INSERT INTO web_activations(token_sha256, beneficiary_id, expires_at_ms) VALUES (?, ?, ?)",
                       WebAccounts.digest(token), id, tx.nowMillis + Self.activationLinkLifetimeMillis)
            try tx.audit(actor: "beneficiary:" + dossier, action: "web.account_create", subject: dossier, result: "ok", detail: "beneficiary \(id)")
            return Created(beneficiaryID: id, dossier: dossier, activationToken: token)
        }
    }

    // MARK: - Step 4: the activation link

    public enum ActivationOutcome: Sendable, Equatable {
        case activated(dossier: String)
        /// Unknown, used or expired: the same answer for all three.
        case invalidLink
    }

    /// "Confirmer mon adresse e-mail": the link is used up and the e-mail confirmed.
    public func activate(token: String, now: Date = Date()) throws -> ActivationOutcome {
        guard token.count == 64, token.allSatisfy(\.isHexDigit) else { return .invalidLink }
        return try ledger.write(now: now) { tx in
            let db = tx.ledger.connection
            guard let id = try db.scalarInt(
                "SELECT beneficiary_id FROM web_activations WHERE token_sha256 = ? AND used_at_ms IS NULL AND expires_at_ms > ?",
                WebAccounts.digest(token), tx.nowMillis) else {
                try tx.audit(action: "web.account_activate", subject: "link " + String(WebAccounts.digest(token).prefix(12)), result: "invalid_link")
                return .invalidLink
            }
            try db.run("UPDATE web_activations SET used_at_ms = ? WHERE token_sha256 = ?", tx.nowMillis, WebAccounts.digest(token))
            try db.run("UPDATE web_accounts SET email_confirmed_at_ms = coalesce(email_confirmed_at_ms, ?), updated_at_ms = ? WHERE beneficiary_id = ?",
                       tx.nowMillis, tx.nowMillis, id)
            let dossier = try tx.beneficiary(id: id).dossier
            try tx.audit(actor: "beneficiary:" + dossier, action: "web.account_activate", subject: dossier, result: "ok")
            return .activated(dossier: dossier)
        }
    }

    /// "Renvoyer le lien d'activation": a new link for the not-yet-activated account with this e-mail and
    /// birth date, unless one was sent less than `activationResendIntervalMillis` ago or the day's quota is
    /// spent. Older links stop working. nil when nothing is to be sent (the page says the same either way).
    public func resendActivation(email: String, birthDate: LocalDate, now: Date = Date()) throws -> (created: Created, to: WebAccounts.MailRecipient)? {
        let trimmed = email.trimmingCharacters(in: .whitespaces)
        guard isPlausibleEmail(trimmed) else { return nil }
        let token = Self.randomToken()
        return try ledger.write(now: now) { tx in
            let db = tx.ledger.connection
            guard let found = try db.row("""
                SELECT a.beneficiary_id, a.email, a.activation_sent_at_ms, a.activation_sends_today, b.birth_date
                FROM web_accounts a JOIN beneficiaries b ON b.id = a.beneficiary_id
                WHERE a.email = ? COLLATE NOCASE AND a.email_confirmed_at_ms IS NULL
                """, trimmed, map: { (id: $0.int(0), email: $0.text(1), sentAt: $0.optionalInt(2), sendsToday: $0.int(3), birth: $0.optionalText(4)) }),
                  found.birth == birthDate.iso else { return nil }
            let sameDay = found.sentAt.map {
                ParisCalendar.businessDay(of: Date(timeIntervalSince1970: Double($0) / 1000)) == ParisCalendar.businessDay(of: now)
            } ?? false
            let sendsToday = sameDay ? found.sendsToday : 0
            if let sentAt = found.sentAt, tx.nowMillis - sentAt < Self.activationResendIntervalMillis {
                try tx.audit(actor: try Self.actor(found.id, tx), action: "web.activation_resend", subject: "beneficiary \(found.id)", result: "throttled")
                return nil
            }
            if sendsToday >= Int64(Self.maximumActivationSendsPerDay) {
                try tx.audit(actor: try Self.actor(found.id, tx), action: "web.activation_resend", subject: "beneficiary \(found.id)", result: "daily_quota")
                return nil
            }
            try db.run("DELETE FROM web_activations WHERE beneficiary_id = ? AND used_at_ms IS NULL", found.id)
            try db.run("INSERT INTO web_activations(token_sha256, beneficiary_id, expires_at_ms) VALUES (?, ?, ?)",
                       WebAccounts.digest(token), found.id, tx.nowMillis + Self.activationLinkLifetimeMillis)
            try db.run("UPDATE web_accounts SET activation_sent_at_ms = ?, activation_sends_today = ? WHERE beneficiary_id = ?",
                       tx.nowMillis, sendsToday + 1, found.id)
            let beneficiary = try tx.beneficiary(id: found.id)
            try tx.audit(actor: "beneficiary:" + beneficiary.dossier, action: "web.activation_resend", subject: beneficiary.dossier, result: "ok")
            return (Created(beneficiaryID: found.id, dossier: beneficiary.dossier, activationToken: token),
                    WebAccounts.MailRecipient(email: found.email, firstName: beneficiary.firstName, dossier: beneficiary.dossier))
        }
    }

    func isPlausibleEmail(_ text: String) -> Bool { !text.isEmpty && text.count <= WebAccounts.maximumFieldCharacters && text.contains("@") }

    // MARK: - Step 5: the SMS code

    public enum SMSRefusal: Error, Equatable, CustomStringConvertible {
        case tooSoon(waitSeconds: Int)
        case dailyQuota
        case alreadyConfirmed
        case noCode
        case expired
        case wrongCode(triesLeft: Int)
        case tooManyTries

        public var description: String {
            switch self {
            case .tooSoon(let wait): return "Un code vient de t'être envoyé : attends \(wait) secondes avant d'en demander un autre."
            case .dailyQuota:
                return "Tu as demandé \(AccountCreation.maximumSMSCodesPerDay) codes aujourd'hui : réessaie demain, ou appelle le 0800 026 080 (numéro vert)."
            case .alreadyConfirmed: return "Ton numéro de portable est déjà confirmé."
            case .noCode: return "Demande d'abord un code : clique sur « Recevoir le code par SMS »."
            case .expired: return "Ce code a expiré : demande un nouveau code."
            case .wrongCode(let left):
                return "Ce code n'est pas le bon : il te reste \(left) essai\(left > 1 ? "s" : "")."
            case .tooManyTries:
                return "Code erroné \(AccountCreation.maximumSMSCodeTries) fois : ce code ne marche plus. Demande un nouveau code."
            }
        }
    }

    /// A new 6-digit code for the account's phone (the previous one stops working). Returns the code and the
    /// number to send it to.
    public func issueSMSCode(beneficiaryID: Int64, now: Date = Date()) throws -> (code: String, phone: String) {
        var generator = SystemRandomNumberGenerator()
        let code = String(format: "%06d", Int.random(in: 0..<1_000_000, using: &generator))
        return try ledger.write(now: now) { tx in
            let db = tx.ledger.connection
            guard let account = try db.row("SELECT phone, phone_confirmed_at_ms FROM web_accounts WHERE beneficiary_id = ?", beneficiaryID,
                                           map: { (phone: $0.text(0), confirmed: $0.optionalInt(1)) }) else {
                throw LedgerError.invalid("web account of beneficiary \(beneficiaryID)")
            }
            if account.confirmed != nil { throw SMSRefusal.alreadyConfirmed }
            var sendsToday: Int64 = 0
            if let previous = try db.row("SELECT sent_at_ms, sends_today FROM web_sms_codes WHERE beneficiary_id = ?", beneficiaryID,
                                         map: { (sentAt: $0.int(0), sends: $0.int(1)) }) {
                if tx.nowMillis - previous.sentAt < Self.smsResendIntervalMillis {
                    let wait = Int((Self.smsResendIntervalMillis - (tx.nowMillis - previous.sentAt) + 999) / 1000)
                    throw SMSRefusal.tooSoon(waitSeconds: wait)
                }
                let sameDay = ParisCalendar.businessDay(of: Date(timeIntervalSince1970: Double(previous.sentAt) / 1000))
                    == ParisCalendar.businessDay(of: now)
                sendsToday = sameDay ? previous.sends : 0
            }
            if sendsToday >= Int64(Self.maximumSMSCodesPerDay) { throw SMSRefusal.dailyQuota }
            try db.run("""
                INSERT INTO web_sms_codes(beneficiary_id, code_sha256, phone, expires_at_ms, wrong_tries, sent_at_ms, sends_today)
                VALUES (?, ?, ?, ?, 0, ?, ?)
                ON CONFLICT(beneficiary_id) DO UPDATE SET code_sha256 = excluded.code_sha256, phone = excluded.phone,
                    expires_at_ms = excluded.expires_at_ms, wrong_tries = 0, sent_at_ms = excluded.sent_at_ms,
                    sends_today = excluded.sends_today
                """, beneficiaryID, Self.codeDigest(code, beneficiaryID: beneficiaryID), account.phone,
                       tx.nowMillis + Self.smsCodeLifetimeMillis, tx.nowMillis, sendsToday + 1)
            try tx.audit(actor: try Self.actor(beneficiaryID, tx), action: "web.sms_code_send", subject: "beneficiary \(beneficiaryID)", result: "ok")
            return (code, account.phone)
        }
    }

    /// "Confirmer": the right code confirms the phone; a wrong one counts, and the fifth kills the code.
    public func confirmSMSCode(beneficiaryID: Int64, code: String, now: Date = Date()) throws {
        let typed = code.filter { !$0.isWhitespace }
        let refusal: SMSRefusal? = try ledger.write(now: now) { tx in
            let db = tx.ledger.connection
            if try db.scalarInt("SELECT phone_confirmed_at_ms FROM web_accounts WHERE beneficiary_id = ?", beneficiaryID) != nil {
                throw SMSRefusal.alreadyConfirmed
            }
            guard let stored = try db.row("SELECT code_sha256, expires_at_ms, wrong_tries FROM web_sms_codes WHERE beneficiary_id = ?",
                                          beneficiaryID, map: { (digest: $0.text(0), expires: $0.int(1), tries: $0.int(2)) }) else {
                throw SMSRefusal.noCode
            }
            if stored.tries >= Int64(Self.maximumSMSCodeTries) { throw SMSRefusal.tooManyTries }
            if stored.expires <= tx.nowMillis { throw SMSRefusal.expired }
            let given = Self.codeDigest(typed, beneficiaryID: beneficiaryID)
            guard typed.count == Self.smsCodeDigits, Self.constantTimeEqual(given, stored.digest) else {
                let tries = stored.tries + 1
                try db.run("UPDATE web_sms_codes SET wrong_tries = ? WHERE beneficiary_id = ?", tries, beneficiaryID)
                try tx.audit(actor: try Self.actor(beneficiaryID, tx), action: "web.sms_code_confirm", subject: "beneficiary \(beneficiaryID)", result: "wrong_code")
                // The refusal is thrown after the commit: the wrong try must count. `LedgerTransaction` rolls back
                // on a throw, so the outcome is returned and thrown outside.
                return tries >= Int64(Self.maximumSMSCodeTries) ? SMSRefusal.tooManyTries
                    : SMSRefusal.wrongCode(triesLeft: Self.maximumSMSCodeTries - Int(tries))
            }
            try db.run("DELETE FROM web_sms_codes WHERE beneficiary_id = ?", beneficiaryID)
            try db.run("UPDATE web_accounts SET phone_confirmed_at_ms = ?, updated_at_ms = ? WHERE beneficiary_id = ?",
                       tx.nowMillis, tx.nowMillis, beneficiaryID)
            try tx.audit(actor: try Self.actor(beneficiaryID, tx), action: "web.sms_code_confirm", subject: "beneficiary \(beneficiaryID)", result: "ok")
            return nil
        }
        if let refusal { throw refusal }
    }

    // MARK: - Where an account stands

    public struct Standing: Sendable, Equatable {
        public let emailConfirmed: Bool
        public let phoneConfirmed: Bool
        /// The phone, masked but for its last two digits ("06 •• •• •• 78").
        public let maskedPhone: String
    }

    public func standing(beneficiaryID: Int64) throws -> Standing {
        try ledger.read { tx in
            guard let row = try tx.ledger.connection.row(
                "SELECT email_confirmed_at_ms, phone_confirmed_at_ms, phone FROM web_accounts WHERE beneficiary_id = ?", beneficiaryID,
                map: { (email: $0.optionalInt(0), phone: $0.optionalInt(1), number: $0.text(2)) }) else {
                throw LedgerError.invalid("web account of beneficiary \(beneficiaryID)")
            }
            return Standing(emailConfirmed: row.email != nil, phoneConfirmed: row.phone != nil, maskedPhone: Self.maskedPhone(row.number))
        }
    }

    public static func maskedPhone(_ phone: String) -> String {
        let digits = phone.filter(\.isNumber)
        guard digits.count >= 4 else { return "••" }
        return String(digits.prefix(2)) + " •• •• •• " + String(digits.suffix(2))
    }

    // MARK: - When the mail or the SMS could not be sent

    /// The activation mail could not be sent: the throttle is lifted, so that "Renvoyer le lien
    /// d'activation" works at once (the account and its unsent link stay; the link is useless unsent).
    public func activationMailFailed(beneficiaryID: Int64, now: Date = Date()) throws {
        try ledger.write(now: now) { tx in
            try tx.ledger.connection.run("""
                UPDATE web_accounts SET activation_sent_at_ms = NULL, activation_sends_today = max(0, activation_sends_today - 1)
                WHERE beneficiary_id = ?
                """, beneficiaryID)
            try tx.audit(actor: try Self.actor(beneficiaryID, tx), action: "web.activation_mail", subject: "beneficiary \(beneficiaryID)",
                         result: "not_sent")
        }
    }

    /// The SMS could not be sent: its code is dropped and does not count against the day's quota.
    public func smsCodeFailed(beneficiaryID: Int64, now: Date = Date()) throws {
        try ledger.write(now: now) { tx in
            try tx.ledger.connection.run("""
                UPDATE web_sms_codes SET code_sha256 = '', expires_at_ms = 0, sent_at_ms = sent_at_ms - ?,
                    sends_today = max(0, sends_today - 1)
                WHERE beneficiary_id = ?
                """, Self.smsResendIntervalMillis, beneficiaryID)
            try tx.audit(actor: try Self.actor(beneficiaryID, tx), action: "web.sms_code_send", subject: "beneficiary \(beneficiaryID)",
                         result: "not_sent")
        }
    }

    // MARK: - Helpers

    /// Who acts, for the audit trail: the beneficiary themselves, by their dossier.
    static func actor(_ beneficiaryID: Int64, _ tx: LedgerTransaction) throws -> String {
        "beneficiary:" + (try tx.beneficiary(id: beneficiaryID).dossier)
    }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// A 6-digit code has only 10^6 values: the digest is keyed by the account so that one table of digests
    /// does not serve every account at once; the 5-try limit is what protects the code.
    static func codeDigest(_ code: String, beneficiaryID: Int64) -> String { WebAccounts.digest("sms:\(beneficiaryID):\(code)") }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool { ConstantTime.equal(a, b) }
}

/// Comparing secrets (digests, signatures, form tokens): the time taken does not tell how many characters matched.
public enum ConstantTime {
    public static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in 0..<x.count { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
