import Crypto
import Foundation
import HDFDomain
import HummingbirdBcrypt
import Ledger

/// The beneficiaries' web-space accounts (contract §8): a bcrypt hash per beneficiary, the lock-out after
/// repeated wrong passwords, password changes and resets, and the preferences of "Mon compte".
///
/// A slow hash never runs inside a ledger transaction: it would hold the write lock the gateway needs.
/// Each operation hashes or verifies first, then commits in one short transaction.
public struct WebAccounts {
    public let ledger: Ledger

    public init(ledger: Ledger) { self.ledger = ledger }

    /// bcrypt's cost (2^10 rounds): about 60–80 ms per hash on this machine's cores, slow enough for a
    /// guesser with a stolen ledger, fast enough for a login page.
    public static let passwordHashCost: UInt8 = 10
    /// Wrong passwords in a row before the account is locked.
    public static let maximumFailedLogins = 5
    /// How long a locked account stays locked.
    public static let lockoutMillis: Int64 = 15 * 60 * 1_000
    public static let lockoutMinutes = 15
    /// A new password: at least this many characters...
    public static let minimumPasswordCharacters = 8
    /// ...and at most this many UTF-8 bytes (bcrypt reads no further).
    public static let maximumPasswordBytes = 72
    /// How long the link of "Mot de passe oublié ?" works.
    public static let resetLinkLifetimeMillis: Int64 = 30 * 60 * 1_000
    /// What an identifier, an e-mail or a typed field may be at most, in characters.
    public static let maximumFieldCharacters = 200

    /// The demo's accounts are hashed at bcrypt's lowest cost: their passwords are printed in clear in
    /// demo.json anyway, so a slow hash would protect nothing and only slow every `gateway demo` (and
    /// every test that makes one). Verification reads the cost from the hash itself.
    public static let demoPasswordHashCost: UInt8 = 4

    public static func hash(password: String, cost: UInt8 = passwordHashCost) -> String { Bcrypt.hash(password, cost: cost) }

    /// Who is logged in: the beneficiary and their card (the newest, if several; none yet for an account
    /// whose card application is still open).
    public struct Identity: Sendable, Equatable {
        public let beneficiaryID: Int64
        public let dossier: String
        public let firstName: String
        public let lastName: String
        public let pan: PAN?
    }

    public enum LoginOutcome: Sendable, Equatable {
        case success(Identity)
        /// Unknown identifier or wrong password: the same answer for both, so nobody learns which.
        case wrongCredentials
        /// Locked after `maximumFailedLogins` wrong passwords, until this instant.
        case locked(untilMillis: Int64)
        /// The right password, but the e-mail is not confirmed yet (the activation link of "Créer mon compte").
        case notActivated
    }

    /// Resolves "Numéro de carte ou numéro de dossier" to a beneficiary id.
    static func beneficiaryID(identifier: String, tx: LedgerTransaction) throws -> Int64? {
        let trimmed = identifier.filter { !$0.isWhitespace }
        guard !trimmed.isEmpty, trimmed.count <= maximumFieldCharacters else { return nil }
        if trimmed.allSatisfy(\.isNumber), let pan = try? PAN(validating: trimmed) {
            return try? tx.card(pan: pan).beneficiaryID
        }
        return try tx.ledger.connection.scalarInt("SELECT id FROM beneficiaries WHERE dossier = ? COLLATE NOCASE", trimmed)
    }

    public func identity(beneficiaryID: Int64) throws -> Identity {
        try ledger.read { tx in try Self.identity(beneficiaryID: beneficiaryID, tx: tx) }
    }

    static func identity(beneficiaryID: Int64, tx: LedgerTransaction) throws -> Identity {
        let beneficiary = try tx.beneficiary(id: beneficiaryID)
        let pan = try tx.ledger.connection.scalarText(
            "SELECT pan FROM cards WHERE beneficiary_id = ? ORDER BY id DESC LIMIT 1", beneficiaryID)
        return Identity(beneficiaryID: beneficiaryID, dossier: beneficiary.dossier, firstName: beneficiary.firstName,
                        lastName: beneficiary.lastName, pan: pan.flatMap { try? PAN(validating: $0) })
    }

    /// A hash of a password nobody has, verified when the identifier is unknown so that an unknown
    /// identifier takes as long as a wrong password.
    static let decoyHash = Bcrypt.hash("decoy password nobody has", cost: passwordHashCost)

    public func login(identifier: String, password: String, now: Date = Date()) throws -> LoginOutcome {
        let nowMillis = Int64((now.timeIntervalSince1970 * 1000).rounded())
        let found = try ledger.read { tx -> (id: Int64, hash: String, lockedUntil: Int64, activated: Bool)? in
            guard let id = try Self.beneficiaryID(identifier: identifier, tx: tx) else { return nil }
            return try tx.ledger.connection.row(
                "SELECT password_hash, locked_until_ms, email_confirmed_at_ms IS NOT NULL FROM web_accounts WHERE beneficiary_id = ?", id) {
                    (id, $0.text(0), $0.int(1), $0.int(2) != 0)
                }
        }
        guard let found, password.utf8.count <= Self.maximumPasswordBytes * 4 else {
            _ = Bcrypt.verify(password, hash: Self.decoyHash)
            return .wrongCredentials
        }
        if found.lockedUntil > nowMillis { return .locked(untilMillis: found.lockedUntil) }
        let matches = Bcrypt.verify(password, hash: found.hash)
        return try ledger.write(now: now) { tx in
            let db = tx.ledger.connection
            // Read again under the write lock: another request may have locked the account meanwhile.
            let lockedUntil = try db.scalarInt("SELECT locked_until_ms FROM web_accounts WHERE beneficiary_id = ?", found.id) ?? 0
            if lockedUntil > nowMillis { return .locked(untilMillis: lockedUntil) }
            if matches {
                try db.run("UPDATE web_accounts SET failed_logins = 0, locked_until_ms = 0 WHERE beneficiary_id = ?", found.id)
                guard found.activated else {
                    try tx.audit(action: "web.login", subject: "beneficiary \(found.id)", result: "not_activated")
                    return .notActivated
                }
                try tx.audit(action: "web.login", subject: "beneficiary \(found.id)", result: "ok")
                return .success(try Self.identity(beneficiaryID: found.id, tx: tx))
            }
            try db.run("UPDATE web_accounts SET failed_logins = failed_logins + 1 WHERE beneficiary_id = ?", found.id)
            let failures = try db.scalarInt("SELECT failed_logins FROM web_accounts WHERE beneficiary_id = ?", found.id) ?? 0
            if failures >= Int64(Self.maximumFailedLogins) {
                let until = nowMillis + Self.lockoutMillis
                try db.run("UPDATE web_accounts SET failed_logins = 0, locked_until_ms = ? WHERE beneficiary_id = ?", until, found.id)
                try tx.audit(action: "web.login", subject: "beneficiary \(found.id)", result: "locked")
                return .locked(untilMillis: until)
            }
            try tx.audit(action: "web.login", subject: "beneficiary \(found.id)", result: "wrong_password")
            return .wrongCredentials
        }
    }

    /// "Mon compte": what the beneficiary sees, and the preferences they may change.
    public struct AccountDetails: Sendable, Equatable {
        public let identity: Identity
        public let birthDate: LocalDate?
        public let situation: BeneficiarySituation?
        public let email: String
        public let phone: String
        public let establishment: String
        public var preferences: Preferences
    }

    public struct Preferences: Sendable, Equatable {
        public var consentRegionNews: Bool
        public var consentPartnerOffers: Bool
        public var notifyByEmail: Bool
        public var notifyBySMS: Bool
        public init(consentRegionNews: Bool, consentPartnerOffers: Bool, notifyByEmail: Bool, notifyBySMS: Bool) {
            self.consentRegionNews = consentRegionNews
            self.consentPartnerOffers = consentPartnerOffers
            self.notifyByEmail = notifyByEmail
            self.notifyBySMS = notifyBySMS
        }
    }

    public func details(beneficiaryID: Int64) throws -> AccountDetails {
        try ledger.read { tx in
            let identity = try Self.identity(beneficiaryID: beneficiaryID, tx: tx)
            let beneficiary = try tx.beneficiary(id: beneficiaryID)
            guard let row = try tx.ledger.connection.row("""
                SELECT email, phone, establishment, consent_region_news, consent_partner_offers, notify_email, notify_sms
                FROM web_accounts WHERE beneficiary_id = ?
                """, beneficiaryID, map: { row in
                    (row.text(0), row.text(1), row.text(2),
                     Preferences(consentRegionNews: row.int(3) != 0, consentPartnerOffers: row.int(4) != 0,
                                 notifyByEmail: row.int(5) != 0, notifyBySMS: row.int(6) != 0))
                }) else { throw LedgerError.storage("beneficiary \(beneficiaryID) has no web account") }
            return AccountDetails(identity: identity, birthDate: beneficiary.birthDate, situation: beneficiary.situation,
                                  email: row.0, phone: row.1, establishment: row.2, preferences: row.3)
        }
    }

    public func save(preferences: Preferences, beneficiaryID: Int64) throws {
        try ledger.write { tx in
            try tx.ledger.connection.run("""
                UPDATE web_accounts SET consent_region_news = ?, consent_partner_offers = ?, notify_email = ?, notify_sms = ?,
                       updated_at_ms = ? WHERE beneficiary_id = ?
                """, preferences.consentRegionNews ? 1 : 0, preferences.consentPartnerOffers ? 1 : 0,
                preferences.notifyByEmail ? 1 : 0, preferences.notifyBySMS ? 1 : 0, tx.nowMillis, beneficiaryID)
            try tx.audit(action: "web.preferences", subject: "beneficiary \(beneficiaryID)", result: "ok")
        }
    }

    /// Why a new password is refused; each is one French sentence for the field it concerns.
    public enum PasswordRefusal: Error, Equatable, CustomStringConvertible {
        case wrongCurrentPassword
        case tooShort
        case tooLong
        case tooSimple
        case confirmationDiffers
        case invalidLink

        public var field: String {
            switch self {
            case .wrongCurrentPassword: return "current"
            case .tooShort, .tooLong, .tooSimple: return "new"
            case .confirmationDiffers: return "confirmation"
            case .invalidLink: return "link"
            }
        }

        public var description: String {
            switch self {
            case .wrongCurrentPassword: return "Ton mot de passe actuel n'est pas le bon."
            case .tooShort: return "Ton nouveau mot de passe doit faire au moins \(WebAccounts.minimumPasswordCharacters) caractères."
            case .tooLong: return "Ton nouveau mot de passe est trop long (\(WebAccounts.maximumPasswordBytes) octets au plus)."
            case .tooSimple: return "Ton nouveau mot de passe doit contenir au moins une lettre et un chiffre."
            case .confirmationDiffers: return "Les deux nouveaux mots de passe ne sont pas identiques."
            case .invalidLink: return "Ce lien n'est plus valable : demande un nouveau lien avec « Mot de passe oublié ? »."
            }
        }
    }

    public static func validateNewPassword(_ password: String, confirmation: String) throws(PasswordRefusal) {
        guard password.count >= minimumPasswordCharacters else { throw .tooShort }
        guard password.utf8.count <= maximumPasswordBytes else { throw .tooLong }
        guard password.contains(where: \.isLetter), password.contains(where: \.isNumber) else { throw .tooSimple }
        guard password == confirmation else { throw .confirmationDiffers }
    }

    /// "Gestion mot de passe".
    public func changePassword(beneficiaryID: Int64, current: String, new: String, confirmation: String) throws {
        let hash = try ledger.read { tx in
            try tx.ledger.connection.scalarText("SELECT password_hash FROM web_accounts WHERE beneficiary_id = ?", beneficiaryID)
        }
        guard let hash, current.utf8.count <= Self.maximumPasswordBytes * 4, Bcrypt.verify(current, hash: hash) else {
            throw PasswordRefusal.wrongCurrentPassword
        }
        try Self.validateNewPassword(new, confirmation: confirmation)
        let newHash = Self.hash(password: new)
        try ledger.write { tx in
            try tx.ledger.connection.run("UPDATE web_accounts SET password_hash = ?, updated_at_ms = ? WHERE beneficiary_id = ?",
                                         newHash, tx.nowMillis, beneficiaryID)
            try tx.audit(action: "web.password_change", subject: "beneficiary \(beneficiaryID)", result: "ok")
        }
    }

    /// Who a mail goes to.
    public struct MailRecipient: Sendable, Equatable {
        public let email: String
        public let firstName: String
        public let dossier: String
    }

    /// "Mot de passe oublié ?": when the identifier and the birth date match an account, a new single-use
    /// link token (only its SHA-256 is stored) and whom to mail it to; nil otherwise (the page says the
    /// same thing either way).
    public func requestPasswordReset(identifier: String, birthDate: LocalDate, now: Date = Date()) throws -> (token: String, to: MailRecipient)? {
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        return try ledger.write(now: now) { tx in
            guard let id = try Self.beneficiaryID(identifier: identifier, tx: tx) else { return nil }
            let beneficiary = try tx.beneficiary(id: id)
            guard beneficiary.birthDate == birthDate,
                  let email = try tx.ledger.connection.scalarText("SELECT email FROM web_accounts WHERE beneficiary_id = ?", id)
            else { return nil }
            try tx.ledger.connection.run(
                "INSERT INTO web_password_resets(token_sha256, beneficiary_id, expires_at_ms) VALUES (?, ?, ?)",
                Self.digest(token), id, tx.nowMillis + Self.resetLinkLifetimeMillis)
            try tx.audit(action: "web.password_reset_request", subject: "beneficiary \(id)", result: "ok")
            return (token, MailRecipient(email: email, firstName: beneficiary.firstName, dossier: beneficiary.dossier))
        }
    }

    /// Whether a reset link is still good (unused, not expired).
    public func isValidResetToken(_ token: String, now: Date = Date()) throws -> Bool {
        let nowMillis = Int64((now.timeIntervalSince1970 * 1000).rounded())
        return try ledger.read { tx in
            try tx.ledger.connection.scalarInt(
                "SELECT 1 FROM web_password_resets WHERE token_sha256 = ? AND used_at_ms IS NULL AND expires_at_ms > ?",
                Self.digest(token), nowMillis) != nil
        }
    }

    /// Sets a new password through a reset link; the link is then used up, and the lock-out lifted.
    public func resetPassword(token: String, new: String, confirmation: String, now: Date = Date()) throws {
        guard try isValidResetToken(token, now: now) else { throw PasswordRefusal.invalidLink }
        try Self.validateNewPassword(new, confirmation: confirmation)
        let newHash = Self.hash(password: new)
        try ledger.write(now: now) { tx in
            let db = tx.ledger.connection
            guard let id = try db.scalarInt(
                "SELECT beneficiary_id FROM web_password_resets WHERE token_sha256 = ? AND used_at_ms IS NULL AND expires_at_ms > ?",
                Self.digest(token), tx.nowMillis) else { throw PasswordRefusal.invalidLink }
            try db.run("UPDATE web_password_resets SET used_at_ms = ? WHERE token_sha256 = ?", tx.nowMillis, Self.digest(token))
            try db.run("UPDATE web_accounts SET password_hash = ?, failed_logins = 0, locked_until_ms = 0, updated_at_ms = ? WHERE beneficiary_id = ?",
                       newHash, tx.nowMillis, id)
            try tx.audit(action: "web.password_reset", subject: "beneficiary \(id)", result: "ok")
        }
    }

    /// "Identifiant oublié ?": the account whose e-mail and birth date match, if exactly one does.
    public func findIdentifier(email: String, birthDate: LocalDate) throws -> MailRecipient? {
        let trimmed = email.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= Self.maximumFieldCharacters else { return nil }
        return try ledger.read { tx in
            let matches = try tx.ledger.connection.rows("""
                SELECT a.email, b.first_name, b.dossier, b.birth_date FROM web_accounts a JOIN beneficiaries b ON b.id = a.beneficiary_id
                WHERE a.email = ? COLLATE NOCASE
                """, trimmed) { row in
                    (MailRecipient(email: row.text(0), firstName: row.text(1), dossier: row.text(2)), row.optionalText(3))
                }.filter { $0.1 == birthDate.iso }
            return matches.count == 1 ? matches[0].0 : nil
        }
    }

    static func digest(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Creates a beneficiary's account, its e-mail and phone taken as confirmed (the demo's, or one an operator
    /// makes); "Créer mon compte" (`AccountCreation.create`) then marks its own as not yet confirmed.
    /// `passwordHash` is computed before the transaction (`hash(password:)`).
    public static func createAccount(_ tx: LedgerTransaction, beneficiaryID: Int64, passwordHash: String, email: String,
                                     phone: String, establishment: String) throws {
        try tx.ledger.connection.run("""
            INSERT INTO web_accounts(beneficiary_id, password_hash, email, phone, establishment, created_at_ms, updated_at_ms,
                                     email_confirmed_at_ms, phone_confirmed_at_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, beneficiaryID, passwordHash, email, phone, establishment, tx.nowMillis, tx.nowMillis, tx.nowMillis, tx.nowMillis)
    }
}
