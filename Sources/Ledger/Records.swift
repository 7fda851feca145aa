import HDFDomain

public struct CardRecord: Sendable, Equatable {
    public let id: Int64
    public let pan: PAN
    public let beneficiaryID: Int64
    public let status: CardStatus
    public let lastATC: UInt16
}

public struct BeneficiaryRecord: Sendable, Equatable {
    public let dossier: String
    public let firstName: String
    public let lastName: String
    public let birthDate: LocalDate?
    public let situation: BeneficiarySituation?
    public let boursier: Bool

    public init(dossier: String, firstName: String, lastName: String, birthDate: LocalDate? = nil,
                situation: BeneficiarySituation? = nil, boursier: Bool = false) {
        self.dossier = dossier
        self.firstName = firstName
        self.lastName = lastName
        self.birthDate = birthDate
        self.situation = situation
        self.boursier = boursier
    }
}

public struct WalletRecord: Sendable, Equatable {
    public let id: Int64
    public let cardID: Int64
    public let code: WalletCode
    public let accountID: Int64
    public let loadedOn: LocalDate
    public let expiresOn: LocalDate
    /// Posted credits − posted debits − money held by vouchers: what can be spent now.
    public let availableCents: Int64

    /// Usable up to and including its `expires` day (Europe/Paris), expired from the next.
    public func isExpired(on day: LocalDate) -> Bool { day > expiresOn }
}

public struct PartnerRecord: Sendable, Equatable {
    public let id: String
    public let name: String
    public let category: PartnerCategory
    public let address: String
    public let city: String
    public let phone: String
    public let email: String
    public let website: String
    public let acceptsPrepayment: Bool
    public let acceptsOnline: Bool
    public let wallets: [WalletCode]

    public init(id: String, name: String, category: PartnerCategory, address: String = "", city: String,
                phone: String = "", email: String = "", website: String = "",
                acceptsPrepayment: Bool, acceptsOnline: Bool, wallets: [WalletCode]) {
        self.id = id
        self.name = name
        self.category = category
        self.address = address
        self.city = city
        self.phone = phone
        self.email = email
        self.website = website
        self.acceptsPrepayment = acceptsPrepayment
        self.acceptsOnline = acceptsOnline
        self.wallets = wallets.sorted()
    }
}

public enum TerminalStatus: String, Sendable, Codable { case active, revoked }

public struct TerminalRecord: Sendable, Equatable {
    public let id: String
    public let partnerID: String
    public let certificateSHA256: String
    public let status: TerminalStatus
}

public enum PaymentKind: String, Sendable, Codable { case purchase, voucher, online }
public enum PaymentStatus: String, Sendable, Codable { case approved, reversed, cancelled }

public struct PaymentRecord: Sendable, Equatable {
    public let txn: String
    public let kind: PaymentKind
    public let cardID: Int64
    public let wallet: WalletCode
    public let partnerID: String
    public let terminalID: String?
    public let stan: String?
    public let amountCents: Int64
    public let authCode: String?
    public let label: String
    public let status: PaymentStatus
    public let createdAtMillis: Int64
    public let businessDay: LocalDate
}

public enum VoucherStatus: String, Sendable, Codable { case issued, redeemed, cancelled, expired }

public struct VoucherRecord: Sendable, Equatable {
    public let code: VoucherCode
    public let cardID: Int64
    public let wallet: WalletCode
    public let partnerID: String
    public let amountCents: Int64
    public let status: VoucherStatus
    public let expiresOn: LocalDate
    public let createdAtMillis: Int64
}

public struct PurchaseApproval: Sendable, Equatable {
    public let txn: String
    public let authCode: String
    public let approvedCents: Int64
    public let wallet: WalletCode
    public let balanceAfterCents: Int64
    /// True when less than asked was approved (`allow_partial`, code `10`).
    public let isPartial: Bool
}

public struct CancellationResult: Sendable, Equatable {
    public let txn: String
    public let originalTxn: String
    public let amountCents: Int64
}

public struct RedemptionResult: Sendable, Equatable {
    public let txn: String
    public let amountCents: Int64
}

public struct CountAndAmount: Sendable, Equatable {
    public var count: Int
    public var amountCents: Int64
    public init(count: Int = 0, amountCents: Int64 = 0) {
        self.count = count
        self.amountCents = amountCents
    }
}

public struct TerminalTotals: Sendable, Equatable {
    public let purchases: CountAndAmount
    public let cancellations: CountAndAmount
    public let vouchers: CountAndAmount
    public let online: CountAndAmount
}

/// What a terminal's stan got the first time, as its record keeps it (issue 11: compact). The answer is not
/// stored as bytes when it can be re-derived byte for byte: a payment's approval from the payment's row (its
/// txn, auth code, amount and wallet) and the wallet's balance after it; a refusal from its type, code and
/// message. Only the answers with a body of their own (`balance`, `cancel`, `online.list`) keep `response`.
public struct StanRecord: Sendable, Equatable {
    /// SHA-256 of the request's content (32 bytes); nil when only a reversal named this stan so far.
    public let digest: [UInt8]?
    public let answer: StanAnswer?
    /// A reversal named this stan (before or after the request itself arrived).
    public let reversed: Bool
    /// The payment this stan's request produced (nil when it moved no money).
    public let paymentTxn: String?
    /// That payment as its approval showed it, read with the record: what the approval is re-derived from.
    public let payment: StanPayment?

    public init(digest: [UInt8]?, answer: StanAnswer?, reversed: Bool, paymentTxn: String?, payment: StanPayment?) {
        self.digest = digest
        self.answer = answer
        self.reversed = reversed
        self.paymentTxn = paymentTxn
        self.payment = payment
    }
}

/// The answer a stan's request got, in the fewest bytes that give it back exactly (see `StanRecord`).
public struct StanAnswer: Sendable, Equatable {
    /// The request's id (`status` gives the original answer back with it); nil only on records written
    /// before migration 8, which keep `response`.
    public let requestID: String?
    /// The response code; nil only on records written before migration 8.
    public let code: String?
    /// The request's type, for an answer that names no payment and has no body; else nil.
    public let requestType: String?
    /// The message when it is not the code's default; else nil.
    public let message: String?
    /// A purchase's `balance`: what its wallet held after it.
    public let balanceAfterCents: Int64?
    /// The whole answer, for one that cannot be re-derived from the fields above and the payment.
    public let response: [UInt8]?

    public init(requestID: String?, code: String?, requestType: String? = nil, message: String? = nil,
                balanceAfterCents: Int64? = nil, response: [UInt8]? = nil) {
        self.requestID = requestID
        self.code = code
        self.requestType = requestType
        self.message = message
        self.balanceAfterCents = balanceAfterCents
        self.response = response
    }
}

/// The fields of a stan's payment its approval showed.
public struct StanPayment: Sendable, Equatable {
    public let kind: PaymentKind
    public let authCode: String?
    public let amountCents: Int64
    public let wallet: WalletCode
}

/// One line of a card's history, newest first.
public struct HistoryEntry: Sendable, Equatable {
    public let atMillis: Int64
    public let kind: String
    public let label: String
    public let partner: String?
    public let wallet: WalletCode
    /// Signed: negative when money leaves the wallet.
    public let amountCents: Int64
    public let status: String
    public let reference: String
}
