import BeneficiaryOperations
import HTTPTypes
import Hummingbird
import HummingbirdAuth

/// What the server keeps per browser, in memory (hummingbird-auth's session store over a
/// `MemoryPersistDriver`): the form token, and who is logged in. In memory rather than in the ledger
/// because a session changes on every login and logout: writing those to the ledger would take the
/// write lock the gateway needs for payments, for data that is worthless after a restart (a restart
/// only asks people to log in again).
public struct WebSession: Codable, Sendable, Equatable {
    /// The logged-in beneficiary, nil before login.
    public var beneficiaryID: Int64?
    /// The token every state-changing form of this session carries (256 random bits, hex).
    public var formToken: String
    /// A "Demande de carte" and a "Demande de THR" being filled in (issue 10): nothing reaches the ledger
    /// before their last step.
    public var application: ApplicationDraft?
    public var thr: THRDraft?

    public init(beneficiaryID: Int64?, formToken: String) {
        self.beneficiaryID = beneficiaryID
        self.formToken = formToken
    }

    public static func anonymous() -> WebSession { WebSession(beneficiaryID: nil, formToken: FormToken.generate()) }
}

public struct WebContext: SessionRequestContext, RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let sessions: SessionContext<WebSession>

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.sessions = .init()
    }
}

public enum FormToken {
    /// The form field that carries it.
    public static let fieldName = "jeton"
    /// Random bytes in a token.
    public static let byteCount = 32

    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<byteCount).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return String(byte, radix: 16).count == 1 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
        }.joined()
    }

    /// Constant-time comparison: the time taken does not tell how many characters matched.
    public static func matches(_ given: String, _ expected: String) -> Bool {
        !expected.isEmpty && ConstantTime.equal(given, expected)
    }
}
