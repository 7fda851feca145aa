import HDFDomain

/// The request types of contract §3; `rawValue` is the `type` on the wire.
public enum RequestType: String, CaseIterable, Sendable {
    case echo
    case purchase
    case balance
    case reverse
    case cancel
    case voucherCheck = "voucher.check"
    case voucherRedeem = "voucher.redeem"
    case onlineList = "online.list"
    case status
    case totals
}

/// What a card said for one request (contract §4): its PAN, its transaction counter after increment,
/// the terminal's unpredictable number and the cryptogram. The hex strings are lowercase; checking
/// the cryptogram is another module's business.
///
/// Its `description` masks the PAN: nothing but the request itself carries a full card number.
public struct CardData: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public let pan: PAN
    public let atc: UInt16
    /// 8 lowercase hex digits (4 bytes).
    public let unpredictableNumberHex: String
    /// 16 lowercase hex digits (8 bytes).
    public let cryptogramHex: String

    public init(pan: PAN, atc: UInt16, unpredictableNumberHex: String, cryptogramHex: String) {
        self.pan = pan
        self.atc = atc
        self.unpredictableNumberHex = unpredictableNumberHex.lowercased()
        self.cryptogramHex = cryptogramHex.lowercased()
    }

    /// For hex already checked and lower-cased by the parser.
    init(pan: PAN, atc: UInt16, lowercaseUnpredictableNumberHex: String, lowercaseCryptogramHex: String) {
        self.pan = pan
        self.atc = atc
        self.unpredictableNumberHex = lowercaseUnpredictableNumberHex
        self.cryptogramHex = lowercaseCryptogramHex
    }

    public var description: String {
        "card \(pan.masked) atc \(atc) un \(unpredictableNumberHex) cryptogram \(cryptogramHex)"
    }

    public var debugDescription: String { description }

    /// `{"pan", "atc", "un", "cryptogram"}` as on the wire (with the full PAN: only for requests).
    public var wireValue: JSONValue {
        .object([
            ("pan", .string(pan.digits)),
            ("atc", .int(Int64(atc))),
            ("un", .string(unpredictableNumberHex)),
            ("cryptogram", .string(cryptogramHex)),
        ])
    }
}

/// The fields of a well-formed request, by type. Every value here has passed the rules of
/// `RequestParser` (see protocol/wire.md): a `stan` is 1 to 12 characters of `[0-9A-Za-z-]`, an
/// amount is within 1...`Money.maximumAmountCents`, a PAN is Luhn-valid, and so on.
public enum RequestBody: Sendable, Equatable, CustomStringConvertible {
    case echo
    case purchase(stan: String, amountCents: Int64, currency: String, card: CardData, wallet: WalletCode?, allowPartial: Bool)
    case balance(stan: String, card: CardData)
    /// `of`: the `stan` of the purchase or redemption to undo.
    case reverse(of: String)
    case cancel(stan: String, txn: String)
    /// `code`: normalised (see `VoucherCodeText.normalize`).
    case voucherCheck(code: String)
    /// `code`: normalised (see `VoucherCodeText.normalize`).
    case voucherRedeem(stan: String, code: String)
    /// At most one of `card` and `pan`; neither: all the partner's online payments of the last 30 days.
    case onlineList(stan: String, card: CardData?, pan: PAN?)
    /// `of`: a `stan` this terminal sent.
    case status(of: String)
    case totals(date: LocalDate)

    public var type: RequestType {
        switch self {
        case .echo: return .echo
        case .purchase: return .purchase
        case .balance: return .balance
        case .reverse: return .reverse
        case .cancel: return .cancel
        case .voucherCheck: return .voucherCheck
        case .voucherRedeem: return .voucherRedeem
        case .onlineList: return .onlineList
        case .status: return .status
        case .totals: return .totals
        }
    }

    /// The request's own `stan`, for the types that carry one (`reverse` and `status` name another
    /// request's `stan` in `of`, and have none of their own).
    public var stan: String? {
        switch self {
        case .purchase(let stan, _, _, _, _, _), .balance(let stan, _), .cancel(let stan, _),
             .voucherRedeem(let stan, _), .onlineList(let stan, _, _):
            return stan
        case .echo, .reverse, .voucherCheck, .status, .totals:
            return nil
        }
    }

    /// The request's fields in canonical order, with absent optional fields as `null` and the type
    /// first. Its encoding is `Request.contentFingerprint`.
    public var canonicalValue: JSONValue {
        var members: [(String, JSONValue)] = [("type", .string(type.rawValue))]
        switch self {
        case .echo:
            break
        case .purchase(let stan, let amountCents, let currency, let card, let wallet, let allowPartial):
            members += [
                ("stan", .string(stan)), ("amount", .int(amountCents)), ("currency", .string(currency)),
                ("card", card.wireValue), ("wallet", wallet.map { .string($0.rawValue) } ?? .null),
                ("allow_partial", .bool(allowPartial)),
            ]
        case .balance(let stan, let card):
            members += [("stan", .string(stan)), ("card", card.wireValue)]
        case .reverse(let of), .status(let of):
            members += [("of", .string(of))]
        case .cancel(let stan, let txn):
            members += [("stan", .string(stan)), ("txn", .string(txn))]
        case .voucherCheck(let code):
            members += [("code", .string(code))]
        case .voucherRedeem(let stan, let code):
            members += [("stan", .string(stan)), ("code", .string(code))]
        case .onlineList(let stan, let card, let pan):
            members += [
                ("stan", .string(stan)), ("card", card?.wireValue ?? .null),
                ("pan", pan.map { .string($0.digits) } ?? .null),
            ]
        case .totals(let date):
            members += [("date", .string(date.iso))]
        }
        return .object(members)
    }

    /// The fields for a log line: the PAN masked, no cryptogram.
    public var description: String {
        switch self {
        case .echo: return "echo"
        case .purchase(let stan, let amountCents, let currency, let card, let wallet, let allowPartial):
            return "purchase stan \(stan) amount \(amountCents) \(currency) \(card.pan.masked) atc \(card.atc)"
                + " wallet \(wallet?.rawValue ?? "-") allow_partial \(allowPartial)"
        case .balance(let stan, let card): return "balance stan \(stan) \(card.pan.masked) atc \(card.atc)"
        case .reverse(let of): return "reverse of \(of)"
        case .cancel(let stan, let txn): return "cancel stan \(stan) txn \(txn)"
        case .voucherCheck(let code): return "voucher.check \(code)"
        case .voucherRedeem(let stan, let code): return "voucher.redeem stan \(stan) \(code)"
        case .onlineList(let stan, let card, let pan):
            let who = card.map { "\($0.pan.masked) atc \($0.atc)" } ?? pan?.masked ?? "all"
            return "online.list stan \(stan) \(who)"
        case .status(let of): return "status of \(of)"
        case .totals(let date): return "totals \(date.iso)"
        }
    }
}

/// One well-formed request.
public struct Request: Sendable, Equatable, CustomStringConvertible {
    /// 1 to 64 characters, echoed back in the response.
    public let id: String
    public let body: RequestBody

    public var type: RequestType { body.type }

    public init(id: String, body: RequestBody) {
        self.id = id
        self.body = body
    }

    /// The request's own `stan` (purchase, balance, cancel, voucher.redeem, online.list), else nil.
    public var stan: String? { body.stan }

    /// A deterministic string of the request's type and content, without its `id`: two requests have
    /// the same fingerprint exactly when they mean the same thing, so a retransmission under another
    /// `id` matches and any other content differs (a `stan` reused with it is answered `94`).
    ///
    /// Canonical form: the compact JSON object (encoded as `JSONValue` encodes) of `"type"` then the
    /// type's fields in the order of `RequestBody.canonicalValue`, every field present:
    ///
    ///     {"type":"purchase","stan":"S","amount":1250,"currency":"EUR",
    ///      "card":{"pan":"…","atc":1,"un":"a1b2c3d4","cryptogram":"…"},"wallet":null,"allow_partial":false}
    ///
    /// Values are as parsed: hex lowercase, voucher codes normalised, `wallet` as its code or `null`,
    /// `allow_partial` `false` when absent, `online.list`'s absent `card`/`pan` `null`. Unknown fields
    /// are ignored by the parser and so are not content.
    ///
    /// It holds the full PAN: store a hash of it (SHA-256), never the string itself.
    public var contentFingerprint: String { body.canonicalValue.description }

    public var description: String { "request \(id): \(body)" }
}

/// Voucher codes are read case-insensitively, with or without separators (contract §3).
public enum VoucherCodeText {
    /// The code without spaces and dashes, ASCII letters in upper case ("ab12-cd 34" → "AB12CD34").
    public static func normalize(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 where byte != UInt8(ascii: " ") && byte != UInt8(ascii: "-") {
            bytes.append(byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 0x20 : byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
