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

/// What the gateway decided for one request: a typed answer, encoded by WireProtocol where it is sent (the
/// connection's event loop), not on the writer thread.
public struct Decision: Sendable {
    public let answer: Answer
    /// A revoked terminal's connection is closed after this answer.
    public let closeConnection: Bool
    /// For the log line: masked, never the full PAN.
    public let maskedPAN: String?

    public init(answer: Answer, closeConnection: Bool = false, maskedPAN: String? = nil) {
        self.answer = answer
        self.closeConnection = closeConnection
        self.maskedPAN = maskedPAN
    }

    public var code: ResponseCode { answer.code }
    /// The answer's bytes (tests and tools; the server encodes on the event loop).
    public var response: [UInt8] { answer.encode() }
}

/// What can be known of a request without the ledger (issue 11), worked out where it arrived (the connection's
/// event loop) so that the single writer thread spends its time on the ledger: the digest the stan's record
/// keeps, and the card's cryptogram checked with the card's key (derived from the PAN). Whether the card
/// exists, its status and its counter are the ledger's, and decided on the writer.
public struct PreparedRequest: Sendable {
    public let request: Request
    /// SHA-256 of `request.contentFingerprint` (32 bytes): what a retransmission must match (nil: no stan).
    public let digest: [UInt8]?
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
        let digest = request.stan.map { _ in Array(SHA256.hash(data: Array(request.contentFingerprint.utf8))) }
        let checked: (CardCheck, derivedKey: [UInt8]?)?
        switch request.body {
        case .purchase(_, let amountCents, _, let data, _, _): checked = check(data, amountCents: amountCents)
        case .balance(_, let data): checked = check(data, amountCents: 0)
        case .onlineList(_, let data?, _): checked = check(data, amountCents: 0)
        default: checked = nil
        }
        return PreparedRequest(request: request, digest: digest, card: checked?.0, derivedKey: checked?.derivedKey)
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
            try tx.audit(actor: "terminal:\(terminal.terminalID)", action: request.type.rawValue, subject: maskedPAN ?? "",
                         result: ResponseCode.notPermittedToTerminal.rawValue, detail: "terminal revoked or unknown")
            return Decision(answer: Answer(to: request, code: .notPermittedToTerminal, message: "Terminal révoqué"),
                            closeConnection: true, maskedPAN: maskedPAN)
        }

        if let stan = request.stan, let digest = prepared.digest {
            if let record = try tx.stan(terminalID: terminal.terminalID, stan: stan) {
                if let seen = record.digest {
                    let answer: Answer
                    if seen != digest {
                        answer = Answer(to: request, code: .duplicateTransmission)
                    } else if record.reversed && (request.type == .purchase || request.type == .voucherRedeem) {
                        // The retransmission of a reversed purchase must not look approved.
                        answer = Answer(to: request, code: .doNotHonour, message: "Opération annulée")
                    } else {
                        let replay = try Self.answer(of: record).withID(request.id)
                        try audit(tx, terminal, request, maskedPAN, replay.code, "retransmission")
                        return Decision(answer: replay, maskedPAN: maskedPAN)
                    }
                    try audit(tx, terminal, request, maskedPAN, answer.code, "stan seen before")
                    return Decision(answer: answer, maskedPAN: maskedPAN)
                }
                // Only a reversal named this stan so far: the late original is declined, and remembered so.
                let answer = Answer(to: request, code: .doNotHonour, message: "Opération annulée")
                try tx.recordStan(terminalID: terminal.terminalID, stan: stan, digest: digest,
                                  answer: Self.stanAnswer(answer, paymentTxn: nil))
                try audit(tx, terminal, request, maskedPAN, .doNotHonour, "reversed before it arrived")
                return Decision(answer: answer, maskedPAN: maskedPAN)
            }
        }

        var paymentTxn: String?
        let answer = try handle(prepared, terminal: terminal, tx: tx, paymentTxn: &paymentTxn)
        if let stan = request.stan, let digest = prepared.digest, answer.code != .systemError {
            try tx.recordStan(terminalID: terminal.terminalID, stan: stan, digest: digest,
                              answer: Self.stanAnswer(answer, paymentTxn: paymentTxn), paymentTxn: paymentTxn)
        }
        // An echo is a liveness probe, not a decision: auditing it would grow the audit by the polling rate.
        if request.type != .echo {
            try audit(tx, terminal, request, maskedPAN, answer.code, "")
        }
        return Decision(answer: answer, maskedPAN: maskedPAN)
    }

    func audit(_ tx: LedgerTransaction, _ terminal: TerminalContext, _ request: Request, _ maskedPAN: String?,
               _ code: ResponseCode, _ note: String) throws {
        var detail = request.stan.map { "stan=\($0)" } ?? ""
        if !note.isEmpty { detail += detail.isEmpty ? note : " \(note)" }
        try tx.audit(actor: "terminal:\(terminal.terminalID)", action: request.type.rawValue, subject: maskedPAN ?? "",
                     result: code.rawValue, detail: detail)
    }

    /// What a stan's record keeps of `answer` (issue 11): a payment's approval as the payment it names plus the
    /// balance after it; an answer without a body as its type, code and message (when not the default); any
    /// other answer whole. `answer(of:)` gives it back byte for byte.
    static func stanAnswer(_ answer: Answer, paymentTxn: String?) -> StanAnswer {
        let code = answer.code.rawValue
        switch answer.body {
        case .purchase(let txn, _, _, _, let balanceCents) where txn == paymentTxn && answer.message == nil:
            return StanAnswer(requestID: answer.id, code: code, balanceAfterCents: balanceCents)
        case .redemption(let txn, _) where txn == paymentTxn && answer.message == nil:
            return StanAnswer(requestID: answer.id, code: code)
        case .none:
            return StanAnswer(requestID: answer.id, code: code, requestType: answer.type,
                              message: answer.message == answer.code.defaultMessage ? nil : answer.message)
        default:
            return StanAnswer(requestID: answer.id, code: code, response: answer.encode())
        }
    }

    /// The answer a stan's request got, from its record: whole when kept whole, else re-derived from the
    /// payment the record names or from its type, code and message.
    static func answer(of record: StanRecord) throws -> Answer {
        guard let kept = record.answer else { throw LedgerError.storage("a stan's record has no answer") }
        if let bytes = kept.response {
            let response: Response
            do { response = try Response(decoding: bytes) } catch {
                throw LedgerError.storage("a stored response is unreadable: \(error)")
            }
            return Answer(type: response.type, id: response.id, code: response.code, message: response.message,
                          body: .stored(response.fields))
        }
        guard let codeText = kept.code, let code = ResponseCode(rawValue: codeText) else {
            throw LedgerError.storage("a stan's record has no valid code")
        }
        if let txn = record.paymentTxn {
            guard let payment = record.payment else {
                throw LedgerError.storage("a stan's record names payment \(txn), which is missing")
            }
            switch payment.kind {
            case .purchase:
                guard let authCode = payment.authCode, let balanceCents = kept.balanceAfterCents else {
                    throw LedgerError.storage("a stan's record names purchase \(txn) without its auth code or balance")
                }
                return Answer(type: RequestType.purchase.rawValue, id: kept.requestID, code: code,
                              body: .purchase(txn: txn, authCode: authCode, amountCents: payment.amountCents,
                                              wallet: payment.wallet, balanceCents: balanceCents))
            case .voucher:
                return Answer(type: RequestType.voucherRedeem.rawValue, id: kept.requestID, code: code,
                              body: .redemption(txn: txn, amountCents: payment.amountCents))
            case .online:
                throw LedgerError.storage("a stan's record names online payment \(txn)")
            }
        }
        guard let type = kept.requestType else { throw LedgerError.storage("a stan's record has no request type") }
        return Answer(type: type, id: kept.requestID, code: code, message: kept.message)
    }

    /// Runs one ledger operation inside the request's savepoint, without one of its own: one savepoint level
    /// per request (issue 11). A refusal (a `LedgerError`) becomes the request's response code; a storage
    /// failure propagates. Every operation the authoriser runs refuses before its first write (`purchase`,
    /// `cancelPayment`, `redeemVoucher`, `reversePayment`: all their checks read, then they write). Checked, not
    /// assumed: a refusal after a write is a storage error, so the request's savepoint undoes everything and the
    /// answer is `96`, never a half-done operation.
    func attempt<T>(_ tx: LedgerTransaction, _ body: () throws -> T) throws -> Result<T, LedgerError> {
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

    func refusal(_ request: Request, _ error: LedgerError) -> Answer {
        Answer(to: request, code: error.responseCode)
    }

    /// Decides one request; `paymentTxn` is set to the payment it produced, if any (its stan will name it).
    func handle(_ prepared: PreparedRequest, terminal: TerminalContext, tx: LedgerTransaction,
                paymentTxn: inout String?) throws -> Answer {
        let request = prepared.request
        switch request.body {
        case .echo:
            return Answer(to: request, code: .approved, body: .serverTime(millis: tx.nowMillis))

        case .purchase(let stan, let amountCents, _, let cardData, let wallet, let allowPartial):
            let card: CardRecord
            switch try verifyCard(cardData, prepared, tx: tx) {
            case .failure(let refusal): return Answer(to: request, code: refusal.code)
            case .success(let verified): card = verified
            }
            switch try attempt(tx, {
                try tx.purchase(card: card, partnerID: terminal.partnerID, terminalID: terminal.terminalID, stan: stan,
                                amountCents: amountCents, wallet: wallet, allowPartial: allowPartial)
            }) {
            case .failure(let error): return refusal(request, error)
            case .success(let approval):
                paymentTxn = approval.txn
                return Answer(to: request, code: approval.isPartial ? .partialApproval : .approved,
                              body: .purchase(txn: approval.txn, authCode: approval.authCode, amountCents: approval.approvedCents,
                                              wallet: approval.wallet, balanceCents: approval.balanceAfterCents))
            }

        case .balance(_, let cardData):
            let card: CardRecord
            switch try verifyCard(cardData, prepared, tx: tx) {
            case .failure(let refusal): return Answer(to: request, code: refusal.code)
            case .success(let verified): card = verified
            }
            if case .failure(let error) = try attempt(tx, { try tx.requireActive(card) }) { return refusal(request, error) }
            let partner = try tx.partner(id: terminal.partnerID)
            let wallets = try tx.wallets(cardID: card.id).map { wallet in
                WalletLine(code: wallet.code, balanceCents: wallet.availableCents, expiresOn: wallet.expiresOn,
                           usableHere: partner.wallets.contains(wallet.code) && !wallet.isExpired(on: tx.today))
            }
            return Answer(to: request, code: .approved, body: .wallets(wallets))

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
            return Answer(to: request, code: .approved, body: .reversed(of: of))

        case .cancel(let stan, let txn):
            switch try attempt(tx, {
                try tx.cancelPayment(txn: txn, partnerID: terminal.partnerID, terminalID: terminal.terminalID, stan: stan)
            }) {
            case .failure(let error): return refusal(request, error)
            case .success(let result):
                return Answer(to: request, code: .approved,
                              body: .cancellation(txn: result.txn, originalTxn: result.originalTxn, amountCents: result.amountCents))
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
                return Answer(to: request, code: status, body: .voucher(VoucherLine(
                    code: voucher.code.grouped, amountCents: voucher.amountCents, wallet: voucher.wallet,
                    status: voucher.status.rawValue, expiresOn: voucher.expiresOn)))
            }

        case .voucherRedeem(let stan, let text):
            return try voucherRequest(request, text: text, terminal: terminal, tx: tx) { code in
                let result = try tx.redeemVoucher(code: code, partnerID: terminal.partnerID, terminalID: terminal.terminalID, stan: stan)
                paymentTxn = result.txn
                return Answer(to: request, code: .approved, body: .redemption(txn: result.txn, amountCents: result.amountCents))
            }

        case .onlineList(_, let cardData, let pan):
            var cardID: Int64?
            if let cardData {
                switch try verifyCard(cardData, prepared, tx: tx) {
                case .failure(let refusal): return Answer(to: request, code: refusal.code)
                case .success(let card): cardID = card.id
                }
            } else if let pan {
                do {
                    cardID = try tx.card(pan: pan).id
                } catch LedgerError.unknownCard {
                    return Answer(to: request, code: .unknownCard)
                }
            }
            let payments = try tx.onlinePayments(partnerID: terminal.partnerID, cardID: cardID).map { payment in
                OnlinePaymentLine(txn: payment.txn, amountCents: payment.amountCents, wallet: payment.wallet,
                                  createdAtMillis: payment.createdAtMillis, status: payment.status.rawValue)
            }
            return Answer(to: request, code: .approved, body: .onlinePayments(payments))

        case .status(let of):
            guard let record = try tx.stan(terminalID: terminal.terminalID, stan: of) else {
                return Answer(to: request, code: .recordNotFound)
            }
            let original: Answer
            if record.answer != nil {
                original = try Self.answer(of: record)
            } else {
                // Only reversed so far: the answer its late original would get.
                original = Answer(type: "unknown", id: nil, code: .doNotHonour, message: "Opération annulée")
            }
            return Answer(to: request, code: .approved, body: .status(original: original))

        case .totals(let day):
            let totals = try tx.totals(terminalID: terminal.terminalID, partnerID: terminal.partnerID, day: day)
            func line(_ total: CountAndAmount) -> CountAndAmountLine {
                CountAndAmountLine(count: total.count, amountCents: total.amountCents)
            }
            return Answer(to: request, code: .approved, body: .totals(
                day: day, purchases: line(totals.purchases), cancellations: line(totals.cancellations),
                vouchers: line(totals.vouchers), online: line(totals.online)))
        }
    }

    /// The voucher rules common to check and redeem: the guessing guard, a mistyped code (`30`) told apart
    /// from an unknown one (`25`), then the operation.
    func voucherRequest(_ request: Request, text: String, terminal: TerminalContext, tx: LedgerTransaction,
                        _ body: (HDFDomain.VoucherCode) throws -> Answer) throws -> Answer {
        if try VoucherGuessingGuard.isLockedOut(terminal.partnerID, tx: tx) {
            return Answer(to: request, code: .doNotHonour, message: "Trop d'essais, attendez")
        }
        guard let code = try? HDFDomain.VoucherCode(parsing: text) else {
            try VoucherGuessingGuard.recordFailure(terminal.partnerID, tx: tx)
            return Answer(to: request, code: .formatError, message: "Code de bon mal saisi")
        }
        // A voucher found expired is released in a step of its own, before the operation, so the release is
        // that step's write and the operation then refuses (`54`) before writing anything: the release stays,
        // its money back in the wallet.
        _ = try attempt(tx, { try tx.voucher(code: code) })
        switch try attempt(tx, { try body(code) }) {
        case .success(let answer): return answer
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
