import CardApplication
import Foundation
import GatewayClient
import HDFDomain
import NIOCore
import NIOPosix
import PCSC
import WireProtocol

/// The partner terminal (contract §6): each verb of `pos`, from the card in the reader to the gateway's
/// answer.
///
/// Every operation: the reader side is checked first (no pcscd → at once), then the gateway (a connection
/// and an `echo`, which completes the mutual-TLS handshake, then any reversal left pending by an earlier
/// run), then the card when the verb needs one (a wait up to `cardTimeout`, SELECT, GET PAN, GENERATE
/// CRYPTOGRAM), then the request. A request with a `stan` draws it from the counter on disk first.
///
/// A purchase or a voucher redemption whose answer does not come within `responseTimeout` (or whose
/// connection breaks before the answer) is reversed before the failure is reported: the reversal is written
/// to the pending list on disk, sent on a new connection (up to `reversalAttempts` times), and taken off
/// the list when the gateway acknowledges it; otherwise the next run sends it first.
public final class PointOfSale: Sendable {
    public let configuration: TerminalConfiguration
    let reader: CardReader
    let group: EventLoopGroup

    public init(configuration: TerminalConfiguration, reader: CardReader = PCSCCardReader(),
                group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.reader = reader
        self.group = group
    }

    // MARK: verbs

    public func pay(amountCents: Int64, wallet: WalletCode?, allowPartial: Bool) async throws -> PurchaseOutcome {
        _ = try PosInput.amount(String(amountCents))
        try await prepareReader()
        let link = try await openLink()
        let (card, pan, stan): (JSONValue, PAN, String)
        do {
            let session = try await openCard()
            defer { session.close() }
            stan = try configuration.state.nextStan()
            card = try await blocking { try session.cardObject(amountCents: amountCents) }
            pan = session.pan!
        } catch {
            await link.close()
            throw error
        }
        var fields: [(String, JSONValue)] = [
            ("type", .string("purchase")), ("id", .string("purchase-\(stan)")), ("stan", .string(stan)),
            ("amount", .int(amountCents)), ("currency", .string(Money.currencyEUR)), ("card", card),
        ]
        if let wallet { fields.append(("wallet", .string(wallet.rawValue))) }
        if allowPartial { fields.append(("allow_partial", .bool(true))) }
        let answer = try await sendReversible(.object(fields), stan: stan, on: link, operation: .purchase)
        guard answer.isApproval else { throw answer.declined(.purchase) }
        return PurchaseOutcome(
            code: answer.code, message: answer.message, txn: try answer.string("txn"), authCode: try answer.string("auth_code"),
            amount: try answer.int("amount"), requested: amountCents, wallet: try answer.string("wallet"),
            balance: try answer.int("balance"), stan: stan, card: pan.masked, atc: Int(card["atc"]?.intValue ?? 0))
    }

    public func balance() async throws -> BalanceOutcome {
        try await prepareReader()
        let (answer, stan, pan) = try await withLink { link in
            let session = try await self.openCard()
            defer { session.close() }
            let stan = try self.configuration.state.nextStan()
            let card = try await blocking { try session.cardObject(amountCents: 0) }
            let answer = try await self.send(.object([
                ("type", .string("balance")), ("id", .string("balance-\(stan)")), ("stan", .string(stan)), ("card", card),
            ]), on: link, operation: .balance)
            return (answer, stan, session.pan!)
        }
        guard answer.code == ResponseCode.approved.rawValue else { throw answer.declined(.balance) }
        let wallets = try answer.array("wallets").map { item -> BalanceOutcome.Wallet in
            guard let code = item["code"]?.stringValue, let balance = item["balance"]?.intValue,
                  let expires = item["expires"]?.stringValue else {
                throw PosError.badResponse("a wallet lacks code, balance or expires")
            }
            return BalanceOutcome.Wallet(code: code, label: item["label"]?.stringValue ?? walletLabel(code), balance: balance,
                                         expires: expires, usableHere: item["usable_here"]?.boolValue ?? false)
        }
        return BalanceOutcome(card: pan.masked, stan: stan, wallets: wallets)
    }

    /// Retransmitted once with the same stan on a new connection when no answer comes (it is idempotent).
    public func cancel(txn: String) async throws -> CancelOutcome {
        guard (1...64).contains(txn.unicodeScalars.count) else {
            throw PosError.usage(code: "invalid_txn", "Numéro de transaction invalide : 1 à 64 caractères")
        }
        let link = try await openLink()
        let stan = try configuration.state.nextStan()
        let request = JSONValue.object([
            ("type", .string("cancel")), ("id", .string("cancel-\(stan)")), ("stan", .string(stan)), ("txn", .string(txn)),
        ])
        var answer: GatewayAnswer
        do {
            answer = try await self.request(request, on: link)
            await link.close()
        } catch {
            await link.close()
            do {
                let again = try await connect()
                do {
                    answer = try await self.request(request, on: again)
                    await again.close()
                } catch {
                    await again.close()
                    throw error
                }
            } catch {
                throw PosError.noResponse(operation: .cancel, waited: configuration.responseTimeout)
            }
        }
        guard answer.code == ResponseCode.approved.rawValue else { throw answer.declined(.cancel) }
        return CancelOutcome(code: answer.code, message: answer.message, txn: try answer.string("txn"),
                             original: try answer.string("original"), amount: try answer.int("amount"), stan: stan)
    }

    public func checkVoucher(code: String) async throws -> VoucherOutcome {
        let voucherCode = try PointOfSale.voucherCode(code)
        let answer = try await withLink { link in
            try await self.send(.object([
                ("type", .string("voucher.check")), ("id", .string("check-\(PointOfSale.randomID())")), ("code", .string(voucherCode)),
            ]), on: link, operation: .voucherCheck)
        }
        guard answer.code == ResponseCode.approved.rawValue else {
            // A1 (redeemed), A2 (cancelled), 54 (expired) come with the voucher: say what it was.
            if let voucher = answer.json["voucher"], let amount = voucher["amount"]?.intValue,
               let wallet = voucher["wallet"]?.stringValue {
                throw PosError.declined(operation: .voucherCheck, code: answer.code,
                                        message: "\(answer.message), \(Money.display(cents: amount)) \(walletLabel(wallet))")
            }
            throw answer.declined(.voucherCheck)
        }
        guard let voucher = answer.json["voucher"] else { throw PosError.badResponse("voucher.check without voucher") }
        func field(_ name: String) throws -> String {
            guard let value = voucher[name]?.stringValue else { throw PosError.badResponse("voucher without \(name)") }
            return value
        }
        guard let amount = voucher["amount"]?.intValue else { throw PosError.badResponse("voucher without amount") }
        return VoucherOutcome(code: try field("code"), amount: amount, wallet: try field("wallet"), status: try field("status"),
                              expires: try field("expires"))
    }

    public func redeemVoucher(code: String) async throws -> RedemptionOutcome {
        let voucherCode = try PointOfSale.voucherCode(code)
        let link = try await openLink()
        let stan: String
        do { stan = try configuration.state.nextStan() } catch {
            await link.close()
            throw error
        }
        let answer = try await sendReversible(.object([
            ("type", .string("voucher.redeem")), ("id", .string("redeem-\(stan)")), ("stan", .string(stan)),
            ("code", .string(voucherCode)),
        ]), stan: stan, on: link, operation: .voucherRedeem)
        guard answer.code == ResponseCode.approved.rawValue else { throw answer.declined(.voucherRedeem) }
        return RedemptionOutcome(code: answer.code, message: answer.message, txn: try answer.string("txn"),
                                 amount: try answer.int("amount"), voucher: voucherCode, stan: stan)
    }

    /// The partner's online payments: with `cardPresent`, those of the card in the reader; with `pan`, those of
    /// that card number; with neither, all of the last 30 days.
    public func onlinePayments(cardPresent: Bool, pan: String?) async throws -> OnlineOutcome {
        if cardPresent && pan != nil {
            throw PosError.usage(code: "usage", "Donnez --card ou --pan, pas les deux")
        }
        if let pan { _ = try PosInput.pan(pan) }
        if cardPresent { try await prepareReader() }
        let (answer, stan) = try await withLink { link in
            var card: JSONValue?
            if cardPresent {
                let session = try await self.openCard()
                defer { session.close() }
                card = try await blocking { try session.cardObject(amountCents: 0) }
            }
            let stan = try self.configuration.state.nextStan()
            var fields: [(String, JSONValue)] = [
                ("type", .string("online.list")), ("id", .string("online-\(stan)")), ("stan", .string(stan)),
            ]
            if let card { fields.append(("card", card)) }
            if let pan { fields.append(("pan", .string(pan))) }
            return (try await self.send(.object(fields), on: link, operation: .online), stan)
        }
        guard answer.code == ResponseCode.approved.rawValue else { throw answer.declined(.online) }
        let payments = try answer.array("payments").map { item -> OnlineOutcome.Payment in
            guard let txn = item["txn"]?.stringValue, let amount = item["amount"]?.intValue,
                  let wallet = item["wallet"]?.stringValue, let created = item["created"]?.stringValue,
                  let status = item["status"]?.stringValue else {
                throw PosError.badResponse("an online payment lacks a field")
            }
            return OnlineOutcome.Payment(txn: txn, amount: amount, wallet: wallet, created: created, status: status)
        }
        return OnlineOutcome(stan: stan, payments: payments)
    }

    public func totals(date: LocalDate) async throws -> TotalsOutcome {
        let answer = try await withLink { link in
            try await self.send(.object([
                ("type", .string("totals")), ("id", .string("totals-\(PointOfSale.randomID())")), ("date", .string(date.iso)),
            ]), on: link, operation: .totals)
        }
        guard answer.code == ResponseCode.approved.rawValue else { throw answer.declined(.totals) }
        func line(_ name: String) throws -> TotalsOutcome.Line {
            guard let object = answer.json[name], let count = object["count"]?.intValue, let amount = object["amount"]?.intValue else {
                throw PosError.badResponse("totals without \(name)")
            }
            return TotalsOutcome.Line(count: count, amount: amount)
        }
        return TotalsOutcome(date: date.iso, purchases: try line("purchases"), cancellations: try line("cancellations"),
                             vouchers: try line("vouchers"), online: try line("online"))
    }

    // MARK: reader

    private func prepareReader() async throws {
        let reader = self.reader
        do {
            try await blocking { try reader.prepare() }
        } catch let error as PCSCError {
            throw PosError.reader(error)
        }
    }

    private func openCard() async throws -> CardSession {
        let reader = self.reader
        let name = configuration.reader
        let timeout = configuration.cardTimeout
        return try await blocking {
            let channel: CardChannel
            do { channel = try reader.waitForCard(reader: name, timeout: timeout) } catch let error as PCSCError {
                throw PosError.reader(error)
            }
            let session = CardSession(channel: channel)
            do { _ = try session.start() } catch {
                session.close()
                throw error
            }
            return session
        }
    }

    // MARK: gateway

    /// Runs `body` on a fresh link and closes it, whatever happens.
    private func withLink<T: Sendable>(_ body: (GatewayConnection) async throws -> T) async throws -> T {
        let link = try await openLink()
        do {
            let result = try await body(link)
            await link.close()
            return result
        } catch {
            await link.close()
            throw error
        }
    }

    /// A connection, its handshake done (`echo`), and the pending reversals sent.
    private func openLink() async throws -> GatewayConnection {
        let link = try await connect()
        do {
            _ = try await link.send(.object([("type", .string("echo")), ("id", .string("echo-\(PointOfSale.randomID())"))]),
                                    timeout: configuration.connectTimeout + configuration.responseTimeout)
        } catch {
            await link.close()
            throw PosError.gatewayUnreachable(endpoint: configuration.endpoint, why: PointOfSale.explain(error))
        }
        await sendPendingReversals(on: link)
        return link
    }

    private func connect() async throws -> GatewayConnection {
        do {
            return try await GatewayConnection.connect(configuration.credentials, group: group,
                                                       serverHostname: configuration.serverHostname,
                                                       connectTimeout: configuration.connectTimeout)
        } catch {
            throw PosError.gatewayUnreachable(endpoint: configuration.endpoint, why: PointOfSale.explain(error))
        }
    }

    /// Reversals an earlier run could not get acknowledged. A failure leaves them for the next run.
    private func sendPendingReversals(on link: GatewayConnection) async {
        guard let pending = try? configuration.state.pendingReversals(), !pending.isEmpty else { return }
        for stan in pending {
            guard let answer = try? await request(PointOfSale.reversal(of: stan), on: link),
                  answer.code == ResponseCode.approved.rawValue else { return }
            try? configuration.state.removePendingReversal(stan)
        }
    }

    static func reversal(of stan: String) -> JSONValue {
        .object([("type", .string("reverse")), ("id", .string("reverse-\(stan)")), ("of", .string(stan))])
    }

    /// A request that moves no money: no answer is `PosError.noResponse`.
    private func send(_ request: JSONValue, on link: GatewayConnection, operation: PosError.Operation) async throws -> GatewayAnswer {
        do {
            return try await self.request(request, on: link)
        } catch let error as PosError {
            throw error
        } catch {
            throw PosError.noResponse(operation: operation, waited: configuration.responseTimeout)
        }
    }

    /// A purchase or a redemption: no answer in time (or a broken connection) means reverse it, then report.
    ///
    /// The reversal is written to the pending list *before* the request leaves, and taken off when any answer
    /// comes back: a terminal killed or powered off while waiting reverses the operation at its next run
    /// (its display never showed an approval for it).
    private func sendReversible(_ request: JSONValue, stan: String, on link: GatewayConnection,
                                operation: PosError.Operation) async throws -> GatewayAnswer {
        do { try configuration.state.addPendingReversal(stan) } catch {
            await link.close()
            throw error
        }
        do {
            let answer = try await self.request(request, on: link)
            await link.close()
            // Should the pending entry stay (a disk failure), the next run reverses the operation: then it must
            // not be shown as done now either.
            try configuration.state.removePendingReversal(stan)
            return answer
        } catch let error as PosError {
            await link.close()
            if case .state = error { throw error }
        } catch {
            await link.close()
        }
        for attempt in 1...configuration.reversalAttempts {
            if let link = try? await connect() {
                let answer = try? await self.request(PointOfSale.reversal(of: stan), on: link)
                await link.close()
                if let answer, answer.code == ResponseCode.approved.rawValue {
                    try? configuration.state.removePendingReversal(stan)
                    throw PosError.noResponseReversed(operation: operation, waited: configuration.responseTimeout)
                }
            }
            if attempt < configuration.reversalAttempts { try? await Task.sleep(for: .milliseconds(500)) }
        }
        throw PosError.noResponseReversalPending(operation: operation, waited: configuration.responseTimeout)
    }

    /// Sends and reads the answer; the raw transport errors come through (timed out, connection closed).
    private func request(_ request: JSONValue, on link: GatewayConnection) async throws -> GatewayAnswer {
        let json = try await link.send(request, timeout: configuration.responseTimeout)
        guard let code = json["code"]?.stringValue else {
            throw PosError.badResponse("no code in the answer")
        }
        return GatewayAnswer(json: json, code: code, message: json["message"]?.stringValue ?? ResponseCode(rawValue: code)?.defaultMessage ?? code)
    }

    static func voucherCode(_ text: String) throws -> String { try PosInput.voucher(text) }

    static func randomID() -> String {
        (0..<4).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    static func explain(_ error: Error) -> String {
        if let error = error as? GatewayClientError {
            switch error {
            case .connectionClosed: return "le serveur a fermé la connexion (terminal révoqué ?)"
            case .timedOut: return "pas de réponse à l'établissement de la connexion"
            case .unreadableResponse: return "réponse illisible"
            }
        }
        let text = String(describing: error)
        if text.contains("Connection refused") { return "connexion refusée" }
        if text.contains("connectTimeout") || text.contains("timed out") { return "délai de connexion dépassé" }
        if text.contains("NIOSSL") || text.contains("handshake") || text.contains("CERTIFICATE") || text.contains("certificate") {
            return "connexion sécurisée refusée (certificat du terminal ou du serveur) : \(text)"
        }
        return text
    }
}

/// One answer of the gateway.
struct GatewayAnswer {
    let json: JSONValue
    let code: String
    let message: String

    var isApproval: Bool { code == ResponseCode.approved.rawValue || code == ResponseCode.partialApproval.rawValue }

    func declined(_ operation: PosError.Operation) -> PosError {
        .declined(operation: operation, code: code, message: message)
    }

    func string(_ key: String) throws -> String {
        guard let value = json[key]?.stringValue else { throw PosError.badResponse("no \(key) in the answer") }
        return value
    }

    func int(_ key: String) throws -> Int64 {
        guard let value = json[key]?.intValue else { throw PosError.badResponse("no \(key) in the answer") }
        return value
    }

    func array(_ key: String) throws -> [JSONValue] {
        guard let value = json[key]?.arrayValue else { throw PosError.badResponse("no \(key) in the answer") }
        return value
    }
}
