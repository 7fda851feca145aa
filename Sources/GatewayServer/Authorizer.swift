import CardApplication
import Crypto
import Foundation
import HDFDomain
import Ledger
import WireProtocol

/// The terminal a connection's client certificate names, fixed at its handshake.
public struct TerminalContext: Sendable, Hashable {
    public let terminalID: String
    public let partnerID: String
    public init(terminalID: String, partnerID: String) {
        self.terminalID = terminalID
        self.partnerID = partnerID
    }
}

/// What the gateway decided for one request.
public struct Decision: Sendable {
    public let response: [UInt8]
    public let code: ResponseCode
    /// A revoked terminal's connection is closed after this answer.
    public let closeConnection: Bool
    /// For the log line: masked, never the full PAN.
    public let maskedPAN: String?
}

/// What can be known of a request without the ledger (issue 11), worked out where it arrived (the connection's
/// event loop) so that the single writer thread spends its time on the ledger: the digest the stan's record
/// keeps, and the card's cryptogram checked with the card's key (derived from the PAN). Whether the card
/// exists, its status and its counter are the ledger's, and decided on the writer.
public struct PreparedRequest: Sendable {
    public let request: Request
    /// SHA-256 of `request.contentFingerprint`, hex: what a retransmission must match (nil: no stan).
    public let fingerprint: String?
    /// The cryptogram of the card the request carries, over the amount it authorises (nil: no card).
    public let card: CardCheck?
    /// The card's key when it had to be derived: cached once the ledger knows the card (CardKeys).
    let derivedKey: [UInt8]?
}

/// The cryptogram's verdict. The response code still waits for the ledger: an unknown card is `14` whatever
/// its cryptogram says.
public enum CardCheck: Sendable, Equatable {
    case valid
    /// Not a card request at all (bad hex, bad lengths): `30`.
    case malformed
    /// The cryptogram is not the card's over this amount: `63`.
    case wrongCryptogram
}

/// Every business decision of the gateway, on one ledger transaction: the stan rules, the card checks
/// (cryptogram, ATC, status) and the operations. No networking here, so it is tested without sockets.
/// Runs on the single authorisation thread only.
public final class Authorizer: Sendable {
    let cardKeys: CardKeys

    public init(cardKeys: any CardKeyProvider) {
        self.cardKeys = CardKeys(provider: cardKeys)
    }

    /// The ledger-free part of deciding `request`. Safe from any thread (the key cache has its own lock).
    public func prepare(_ request: Request) -> PreparedRequest {
        let fingerprint = request.stan.map { _ in Hex.encode(SHA256.hash(data: Array(request.contentFingerprint.utf8))) }
        let checked: (CardCheck, derivedKey: [UInt8]?)?
        switch request.body {
        case .purchase(_, let amountCents, _, let data, _, _): checked = check(data, amountCents: amountCents)
        case .balance(_, let data): checked = check(data, amountCents: 0)
        case .onlineList(_, let data?, _): checked = check(data, amountCents: 0)
        default: checked = nil
        }
        return PreparedRequest(request: request, fingerprint: fingerprint, card: checked?.0, derivedKey: checked?.derivedKey)
    }

    func check(_ data: CardData, amountCents: Int64) -> (CardCheck, derivedKey: [UInt8]?) {
        guard let cardRequest = try? CardRequest(panDigits: data.pan.digits, atc: Int(data.atc),
                                                 unHex: data.unpredictableNumberHex, cryptogramHex: data.cryptogramHex) else {
            return (.malformed, nil)
        }
        let (key, derived) = cardKeys.key(for: data.pan)
        let verdict: CardCheck = cardRequest.verify(key: key, amountCents: amountCents) ? .valid : .wrongCryptogram
        return (verdict, derived ? key : nil)
    }

    /// Decides `request` inside the open transaction `tx`, preparing it here (tests, `bench-load ledger-only`).
    public func decide(_ request: Request, terminal: TerminalContext, tx: LedgerTransaction) throws -> Decision {
        try decide(prepare(request), terminal: terminal, tx: tx)
    }

    /// Decides a prepared request inside the open transaction `tx`. Throws only on storage failures (then the
    /// caller answers `96` and the request's savepoint is rolled back: nothing changed).
    public func decide(_ prepared: PreparedRequest, terminal: TerminalContext, tx: LedgerTransaction) throws -> Decision {
        let request = prepared.request
        var maskedPAN: String?
        switch request.body {
        case .purchase(_, _, _, let card, _, _), .balance(_, let card): maskedPAN = card.pan.masked
        case .onlineList(_, let card, let pan): maskedPAN = card?.pan.masked ?? pan?.masked
        default: break
        }

        // Unknown is told apart from a storage error: only `unknownTerminal` means "not enrolled"; a
        // storage error propagates (`96`, nothing stored for the stan: a retransmission gets a real answer).
        let terminalRecord: TerminalRecord?
        do {
            terminalRecord = try tx.terminal(id: terminal.terminalID)
        } catch LedgerError.unknownTerminal {
            terminalRecord = nil
        }
        guard let terminalRecord, terminalRecord.status == .active, terminalRecord.partnerID == terminal.partnerID else {
            let response = Response(to: request, code: .notPermittedToTerminal, message: "Terminal révoqué")
            try tx.audit(actor: "terminal:\(terminal.terminalID)", action: request.type.rawValue, subject: maskedPAN ?? "",
                         result: ResponseCode.notPermittedToTerminal.rawValue, detail: "terminal revoked or unknown")
            return Decision(response: response.encode(), code: .notPermittedToTerminal, closeConnection: true, maskedPAN: maskedPAN)
        }

        let fingerprint = prepared.fingerprint
        if let stan = request.stan, let hex = fingerprint {
            if let record = try tx.stan(terminalID: terminal.terminalID, stan: stan) {
                if let seen = record.fingerprint {
                    let response: Response
                    if seen != hex {
                        response = Response(to: request, code: .duplicateTransmission)
                    } else if record.reversed && (request.type == .purchase || request.type == .voucherRedeem) {
                        // The retransmission of a reversed purchase must not look approved.
                        response = Response(to: request, code: .doNotHonour, message: "Opération annulée")
                    } else {
                        let replay = try replayed(record.response ?? [], id: request.id)
                        try audit(tx, terminal, request, maskedPAN, replay.code, "retransmission")
                        return Decision(response: replay.bytes, code: replay.code, closeConnection: false, maskedPAN: maskedPAN)
                    }
                    try audit(tx, terminal, request, maskedPAN, response.code, "stan seen before")
                    return Decision(response: response.encode(), code: response.code, closeConnection: false, maskedPAN: maskedPAN)
                }
                // Only a reversal named this stan so far: the late original is declined, and remembered so.
                let response = Response(to: request, code: .doNotHonour, message: "Opération annulée")
                let bytes = response.encode()
                try tx.recordStan(terminalID: terminal.terminalID, stan: stan, fingerprint: hex, response: bytes)
                try audit(tx, terminal, request, maskedPAN, .doNotHonour, "reversed before it arrived")
                return Decision(response: bytes, code: .doNotHonour, closeConnection: false, maskedPAN: maskedPAN)
            }
        }

        var paymentTxn: String?
        let response = try handle(prepared, terminal: terminal, tx: tx, paymentTxn: &paymentTxn)
        let bytes = response.encode()
        if let stan = request.stan, let fingerprint, response.code != .systemError {
            try tx.recordStan(terminalID: terminal.terminalID, stan: stan, fingerprint: fingerprint, response: bytes,
                              paymentTxn: paymentTxn)
        }
        // An echo is a liveness probe, not a decision: auditing it would grow the audit by the polling rate.
        if request.type != .echo {
            try audit(tx, terminal, request, maskedPAN, response.code, "")
        }
        return Decision(response: bytes, code: response.code, closeConnection: false, maskedPAN: maskedPAN)
    }

    func audit(_ tx: LedgerTransaction, _ terminal: TerminalContext, _ request: Request, _ maskedPAN: String?,
               _ code: ResponseCode, _ note: String) throws {
        var detail = request.stan.map { "stan=\($0)" } ?? ""
        if !note.isEmpty { detail += detail.isEmpty ? note : " \(note)" }
        try tx.audit(actor: "terminal:\(terminal.terminalID)", action: request.type.rawValue, subject: maskedPAN ?? "",
                     result: code.rawValue, detail: detail)
    }

    /// The first response again, with this request's id (a retransmission may carry a new one).
    func replayed(_ stored: [UInt8], id: String) throws -> (bytes: [UInt8], code: ResponseCode) {
        guard case .object(var members) = try JSONValue.parse(stored),
              let codeText = members.first(where: { $0.0 == "code" })?.1.stringValue,
              let code = ResponseCode(rawValue: codeText) else {
            throw LedgerError.storage("a stored response is unreadable")
        }
        if let index = members.firstIndex(where: { $0.0 == "id" }) { members[index].1 = .string(id) }
        return (JSONValue.object(members).encoded(), code)
    }

    /// Runs one ledger operation in its own savepoint: a refusal (a `LedgerError`) rolls back just that
    /// operation and becomes its response code; anything else is a storage failure and propagates.
    func attempt<T>(_ tx: LedgerTransaction, _ body: () throws -> T) throws -> Result<T, LedgerError> {
        do {
            return .success(try tx.savepoint(body))
        } catch let error as LedgerError {
            if case .storage = error { throw error }
            if case .busy = error { throw error }
            return .failure(error)
        }
    }

    /// `attempt` without a savepoint of its own, for an operation whose every refusal comes before its first
    /// write (`LedgerTransaction.purchase`: all its checks read, then it writes): one savepoint level per
    /// purchase, the request's (issue 11). Checked, not assumed: a refusal after a write is a storage error,
    /// so the request's savepoint undoes everything and the answer is `96`, never a half-done purchase.
    func attemptBeforeWrites<T>(_ tx: LedgerTransaction, _ body: () throws -> T) throws -> Result<T, LedgerError> {
        let changesBefore = tx.ledger.connection.totalChanges
        do {
            return .success(try body())
        } catch let error as LedgerError {
            if case .storage = error { throw error }
            if case .busy = error { throw error }
            guard tx.ledger.connection.totalChanges == changesBefore else {
                throw LedgerError.storage("a refusal came after a write, in an operation run without its own savepoint: \(error)")
            }
            return .failure(error)
        }
    }

    /// Checks a card request: known card (`14`), cryptogram over exactly this amount (`63`, checked when the
    /// request was prepared), ATC above the last accepted one (`63`); then records the ATC. The card's status
    /// is checked by the caller.
    func verifyCard(_ data: CardData, _ prepared: PreparedRequest, tx: LedgerTransaction) throws -> Result<CardRecord, CardRefusal> {
        let card: CardRecord
        do {
            card = try tx.card(pan: data.pan)
        } catch LedgerError.unknownCard {
            return .failure(CardRefusal(code: .unknownCard))
        }
        if let key = prepared.derivedKey { cardKeys.remember(key, for: card.pan) }
        switch prepared.card {
        case .valid: break
        case .malformed: return .failure(CardRefusal(code: .formatError))
        case .wrongCryptogram, nil: return .failure(CardRefusal(code: .securityViolation))
        }
        guard data.atc > card.lastATC else { return .failure(CardRefusal(code: .securityViolation)) }
        try tx.acceptATC(cardID: card.id, atc: data.atc)
        return .success(card)
    }

    func refusal(_ request: Request, _ error: LedgerError) -> Response {
        Response(to: request, code: error.responseCode)
    }

    /// Decides one request; `paymentTxn` is set to the payment it produced, if any (its stan will name it).
    func handle(_ prepared: PreparedRequest, terminal: TerminalContext, tx: LedgerTransaction,
                paymentTxn: inout String?) throws -> Response {
        let request = prepared.request
        switch request.body {
        case .echo:
            return Response(to: request, code: .approved, fields: [("server_time", .string(ParisCalendar.isoTimestamp(millis: tx.nowMillis)))])

        case .purchase(let stan, let amountCents, _, let cardData, let wallet, let allowPartial):
            let card: CardRecord
            switch try verifyCard(cardData, prepared, tx: tx) {
            case .failure(let refusal): return Response(to: request, code: refusal.code)
            case .success(let verified): card = verified
            }
            switch try attemptBeforeWrites(tx, {
                try tx.purchase(card: card, partnerID: terminal.partnerID, terminalID: terminal.terminalID, stan: stan,
                                amountCents: amountCents, wallet: wallet, allowPartial: allowPartial)
            }) {
            case .failure(let error): return refusal(request, error)
            case .success(let approval):
                paymentTxn = approval.txn
                return Response(to: request, code: approval.isPartial ? .partialApproval : .approved, fields: [
                    ("txn", .string(approval.txn)), ("auth_code", .string(approval.authCode)),
                    ("amount", .int(approval.approvedCents)), ("wallet", .string(approval.wallet.rawValue)),
                    ("balance", .int(approval.balanceAfterCents)),
                ])
            }

        case .balance(_, let cardData):
            let card: CardRecord
            switch try verifyCard(cardData, prepared, tx: tx) {
            case .failure(let refusal): return Response(to: request, code: refusal.code)
            case .success(let verified): card = verified
            }
            if case .failure(let error) = try attempt(tx, { try tx.requireActive(card) }) { return refusal(request, error) }
            let partner = try tx.partner(id: terminal.partnerID)
            let wallets: [JSONValue] = try tx.wallets(cardID: card.id).map { wallet in
                .object([
                    ("code", .string(wallet.code.rawValue)), ("label", .string(wallet.code.label)),
                    ("balance", .int(wallet.availableCents)), ("expires", .string(wallet.expiresOn.iso)),
                    ("usable_here", .bool(partner.wallets.contains(wallet.code) && !wallet.isExpired(on: tx.today))),
                ])
            }
            return Response(to: request, code: .approved, fields: [("wallets", .array(wallets))])

        case .reverse(let of):
            let record = try tx.stan(terminalID: terminal.terminalID, stan: of)
            if record?.reversed != true {
                // Exactly the payment this stan's record names: past the retention the stan is new, and an
                // older payment that once had the same stan is never touched.
                if let txn = record?.paymentTxn {
                    if case .failure(let error) = try attempt(tx, { try tx.reversePayment(txn: txn, terminalID: terminal.terminalID) }) {
                        // Nothing to give back (already cancelled by the partner): the reversal is still remembered.
                        _ = error
                    }
                }
                try tx.markStanReversed(terminalID: terminal.terminalID, stan: of)
            }
            return Response(to: request, code: .approved, fields: [("of", .string(of))])

        case .cancel(let stan, let txn):
            switch try attempt(tx, {
                try tx.cancelPayment(txn: txn, partnerID: terminal.partnerID, terminalID: terminal.terminalID, stan: stan)
            }) {
            case .failure(let error): return refusal(request, error)
            case .success(let result):
                return Response(to: request, code: .approved, fields: [
                    ("txn", .string(result.txn)), ("original", .string(result.originalTxn)), ("amount", .int(result.amountCents)),
                ])
            }

        case .voucherCheck(let text):
            return try voucherRequest(request, text: text, terminal: terminal, tx: tx) { code in
                let voucher = try tx.checkVoucher(code: code, partnerID: terminal.partnerID)
                let status: ResponseCode
                switch voucher.status {
                case .issued: status = .approved
                case .redeemed: status = .voucherAlreadyRedeemed
                case .cancelled: status = .voucherCancelled
                case .expired: status = .expired
                }
                return Response(to: request, code: status, fields: [("voucher", .object([
                    ("code", .string(voucher.code.grouped)), ("amount", .int(voucher.amountCents)),
                    ("wallet", .string(voucher.wallet.rawValue)), ("status", .string(voucher.status.rawValue)),
                    ("expires", .string(voucher.expiresOn.iso)),
                ]))])
            }

        case .voucherRedeem(let stan, let text):
            return try voucherRequest(request, text: text, terminal: terminal, tx: tx) { code in
                let result = try tx.redeemVoucher(code: code, partnerID: terminal.partnerID, terminalID: terminal.terminalID, stan: stan)
                paymentTxn = result.txn
                return Response(to: request, code: .approved, fields: [("txn", .string(result.txn)), ("amount", .int(result.amountCents))])
            }

        case .onlineList(_, let cardData, let pan):
            var cardID: Int64?
            if let cardData {
                switch try verifyCard(cardData, prepared, tx: tx) {
                case .failure(let refusal): return Response(to: request, code: refusal.code)
                case .success(let card): cardID = card.id
                }
            } else if let pan {
                do {
                    cardID = try tx.card(pan: pan).id
                } catch LedgerError.unknownCard {
                    return Response(to: request, code: .unknownCard)
                }
            }
            let payments: [JSONValue] = try tx.onlinePayments(partnerID: terminal.partnerID, cardID: cardID).map { payment in
                .object([
                    ("txn", .string(payment.txn)), ("amount", .int(payment.amountCents)), ("wallet", .string(payment.wallet.rawValue)),
                    ("created", .string(ParisCalendar.isoTimestamp(millis: payment.createdAtMillis))),
                    ("status", .string(payment.status.rawValue)),
                ])
            }
            return Response(to: request, code: .approved, fields: [("payments", .array(payments))])

        case .status(let of):
            guard let record = try tx.stan(terminalID: terminal.terminalID, stan: of) else {
                return Response(to: request, code: .recordNotFound)
            }
            let original: JSONValue
            if let stored = record.response {
                original = try JSONValue.parse(stored)
            } else {
                // Only reversed so far: the answer its late original would get.
                original = Response(type: "unknown", id: nil, code: .doNotHonour, message: "Opération annulée").jsonValue
            }
            return Response(to: request, code: .approved, fields: [("original", original)])

        case .totals(let day):
            let totals = try tx.totals(terminalID: terminal.terminalID, partnerID: terminal.partnerID, day: day)
            func value(_ total: CountAndAmount) -> JSONValue {
                .object([("count", .int(Int64(total.count))), ("amount", .int(total.amountCents))])
            }
            return Response(to: request, code: .approved, fields: [
                ("date", .string(day.iso)), ("purchases", value(totals.purchases)), ("cancellations", value(totals.cancellations)),
                ("vouchers", value(totals.vouchers)), ("online", value(totals.online)),
            ])
        }
    }

    /// The voucher rules common to check and redeem: the guessing guard, a mistyped code (`30`) told apart
    /// from an unknown one (`25`), then the operation.
    func voucherRequest(_ request: Request, text: String, terminal: TerminalContext, tx: LedgerTransaction,
                        _ body: (HDFDomain.VoucherCode) throws -> Response) throws -> Response {
        if try VoucherGuessingGuard.isLockedOut(terminal.partnerID, tx: tx) {
            return Response(to: request, code: .doNotHonour, message: "Trop d'essais, attendez")
        }
        guard let code = try? HDFDomain.VoucherCode(parsing: text) else {
            try VoucherGuessingGuard.recordFailure(terminal.partnerID, tx: tx)
            return Response(to: request, code: .formatError, message: "Code de bon mal saisi")
        }
        // A voucher found expired is released in a step of its own, outside the operation's savepoint, so
        // the release stays even though the operation is then refused (`54`): its money is back in the wallet.
        _ = try attempt(tx, { try tx.voucher(code: code) })
        switch try attempt(tx, { try body(code) }) {
        case .success(let response): return response
        case .failure(let error):
            if case .unknownVoucher = error { try VoucherGuessingGuard.recordFailure(terminal.partnerID, tx: tx) }
            return refusal(request, error)
        }
    }
}


/// A card check's refusal, as the code a terminal gets.
struct CardRefusal: Error {
    let code: ResponseCode
}
