import HDFDomain

/// What the gateway decided for one request, typed (issue 11): the authoriser returns it, and this module
/// turns it into the response's bytes (`encode`), on the connection's event loop rather than on the single
/// writer thread. Its encoding is `Response`'s: the fields of each body in the order of contract §3.
public struct Answer: Sendable {
    /// The request's type on the wire (`"unknown"` only as `status`'s `original` for a stan only reversed so far).
    public var type: String
    /// The request's id, echoed (nil: `null`).
    public var id: String?
    public var code: ResponseCode
    /// French, for a terminal's display; nil: `code.defaultMessage`.
    public var message: String?
    public var body: AnswerBody

    public init(type: String, id: String?, code: ResponseCode, message: String? = nil, body: AnswerBody = .none) {
        self.type = type
        self.id = id
        self.code = code
        self.message = message
        self.body = body
    }

    public init(to request: Request, code: ResponseCode, message: String? = nil, body: AnswerBody = .none) {
        self.init(type: request.type.rawValue, id: request.id, code: code, message: message, body: body)
    }

    /// The answer as a `Response` value (what `encode` writes).
    public var response: Response {
        Response(type: type, id: id, code: code, message: message, fields: body.fields)
    }

    /// The UTF-8 JSON text of the answer: one frame's payload.
    public func encode() -> [UInt8] { response.encode() }

    /// The same answer under another request id (a retransmission may carry a new one).
    public func withID(_ id: String?) -> Answer {
        var copy = self
        copy.id = id
        return copy
    }
}

/// The fields an answer carries after `type`, `id`, `code` and `message`, by what was decided.
public enum AnswerBody: Sendable {
    /// No fields: a refusal, or an approval with none.
    case none
    /// `echo`: the server's time (Europe/Paris, ISO 8601).
    case serverTime(millis: Int64)
    /// `purchase` approved (`00`) or partly (`10`).
    case purchase(txn: String, authCode: String, amountCents: Int64, wallet: WalletCode, balanceCents: Int64)
    /// `balance`: the card's wallets.
    case wallets([WalletLine])
    /// `reverse`: always approved.
    case reversed(of: String)
    /// `cancel` approved: the cancellation's own txn, the payment cancelled, the amount refunded.
    case cancellation(txn: String, originalTxn: String, amountCents: Int64)
    /// `voucher.check`.
    case voucher(VoucherLine)
    /// `voucher.redeem` approved.
    case redemption(txn: String, amountCents: Int64)
    /// `online.list`: newest first.
    case onlinePayments([OnlinePaymentLine])
    /// `status`: the answer the named stan's request got, unchanged.
    indirect case status(original: Answer)
    /// `totals` of one business day.
    case totals(day: LocalDate, purchases: CountAndAmountLine, cancellations: CountAndAmountLine,
                vouchers: CountAndAmountLine, online: CountAndAmountLine)
    /// Fields read back from an answer stored whole (`Response(decoding:)`), in their stored order.
    case stored([(key: String, value: JSONValue)])

    /// The fields in the order the contract lists them.
    public var fields: [(key: String, value: JSONValue)] {
        switch self {
        case .none:
            return []
        case .serverTime(let millis):
            return [("server_time", .string(ParisCalendar.isoTimestamp(millis: millis)))]
        case .purchase(let txn, let authCode, let amountCents, let wallet, let balanceCents):
            return [("txn", .string(txn)), ("auth_code", .string(authCode)), ("amount", .int(amountCents)),
                    ("wallet", .string(wallet.rawValue)), ("balance", .int(balanceCents))]
        case .wallets(let lines):
            return [("wallets", .array(lines.map(\.jsonValue)))]
        case .reversed(let of):
            return [("of", .string(of))]
        case .cancellation(let txn, let originalTxn, let amountCents):
            return [("txn", .string(txn)), ("original", .string(originalTxn)), ("amount", .int(amountCents))]
        case .voucher(let line):
            return [("voucher", line.jsonValue)]
        case .redemption(let txn, let amountCents):
            return [("txn", .string(txn)), ("amount", .int(amountCents))]
        case .onlinePayments(let lines):
            return [("payments", .array(lines.map(\.jsonValue)))]
        case .status(let original):
            return [("original", original.response.jsonValue)]
        case .totals(let day, let purchases, let cancellations, let vouchers, let online):
            return [("date", .string(day.iso)), ("purchases", purchases.jsonValue), ("cancellations", cancellations.jsonValue),
                    ("vouchers", vouchers.jsonValue), ("online", online.jsonValue)]
        case .stored(let fields):
            return fields
        }
    }
}

/// One wallet of a `balance` answer.
public struct WalletLine: Sendable, Equatable {
    public let code: WalletCode
    public let balanceCents: Int64
    public let expiresOn: LocalDate
    public let usableHere: Bool

    public init(code: WalletCode, balanceCents: Int64, expiresOn: LocalDate, usableHere: Bool) {
        self.code = code
        self.balanceCents = balanceCents
        self.expiresOn = expiresOn
        self.usableHere = usableHere
    }

    var jsonValue: JSONValue {
        .object([("code", .string(code.rawValue)), ("label", .string(code.label)), ("balance", .int(balanceCents)),
                 ("expires", .string(expiresOn.iso)), ("usable_here", .bool(usableHere))])
    }
}

/// The voucher of a `voucher.check` answer.
public struct VoucherLine: Sendable, Equatable {
    /// Grouped for reading (`VoucherCode.grouped`).
    public let code: String
    public let amountCents: Int64
    public let wallet: WalletCode
    /// `issued`, `redeemed`, `cancelled` or `expired`.
    public let status: String
    public let expiresOn: LocalDate

    public init(code: String, amountCents: Int64, wallet: WalletCode, status: String, expiresOn: LocalDate) {
        self.code = code
        self.amountCents = amountCents
        self.wallet = wallet
        self.status = status
        self.expiresOn = expiresOn
    }

    var jsonValue: JSONValue {
        .object([("code", .string(code)), ("amount", .int(amountCents)), ("wallet", .string(wallet.rawValue)),
                 ("status", .string(status)), ("expires", .string(expiresOn.iso))])
    }
}

/// One payment of an `online.list` answer.
public struct OnlinePaymentLine: Sendable, Equatable {
    public let txn: String
    public let amountCents: Int64
    public let wallet: WalletCode
    public let createdAtMillis: Int64
    /// `approved`, `reversed` or `cancelled`.
    public let status: String

    public init(txn: String, amountCents: Int64, wallet: WalletCode, createdAtMillis: Int64, status: String) {
        self.txn = txn
        self.amountCents = amountCents
        self.wallet = wallet
        self.createdAtMillis = createdAtMillis
        self.status = status
    }

    var jsonValue: JSONValue {
        .object([("txn", .string(txn)), ("amount", .int(amountCents)), ("wallet", .string(wallet.rawValue)),
                 ("created", .string(ParisCalendar.isoTimestamp(millis: createdAtMillis))), ("status", .string(status))])
    }
}

/// A count and a sum, as `totals` gives them.
public struct CountAndAmountLine: Sendable, Equatable {
    public let count: Int
    public let amountCents: Int64

    public init(count: Int, amountCents: Int64) {
        self.count = count
        self.amountCents = amountCents
    }

    var jsonValue: JSONValue { .object([("count", .int(Int64(count))), ("amount", .int(amountCents))]) }
}
