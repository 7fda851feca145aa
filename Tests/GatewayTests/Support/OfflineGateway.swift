import Foundation
import GatewayServer
import HDFDomain
import Ledger
import Provisioning
import Testing
import WireProtocol

/// The gateway's decisions without the network: a demo environment, its ledger and the `Authorizer`.
/// `send` does what a connection does with one frame: parse it (a refused frame is answered at once),
/// then decide it inside one ledger write, as the terminal named by its client certificate.
final class OfflineGateway {
    let directory: String
    let manifest: DemoManifest
    let ledger: Ledger
    let authorizer: Authorizer
    /// The gateway's clock: every request is decided at this instant (tests move it).
    var now = Date()
    var reader: CardReader
    private var stanCounter = 0

    init() throws {
        (directory, manifest) = try makeDemoDirectory("offline")
        let layout = EnvironmentLayout(directory: directory)
        ledger = try Ledger(path: layout.ledgerPath, actor: "gateway")
        authorizer = Authorizer(cardKeys: try IssuerMasterKey.load(layout: layout))
        reader = CardReader(manifest: manifest)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    struct Answer: CustomStringConvertible {
        let value: JSONValue
        /// The connection is closed after this answer (a revoked terminal's `58`).
        let closesConnection: Bool
        var code: String? { value.code }
        subscript(_ key: String) -> JSONValue? { value[key] }
        func int(_ key: String) -> Int64? { value.int(key) }
        func string(_ key: String) -> String? { value.string(key) }
        var description: String { value.description }
    }

    func terminal(_ id: String) -> TerminalContext {
        TerminalContext(terminalID: id, partnerID: manifest.partner(ofTerminal: id).id)
    }

    /// One frame's JSON text from `terminal`, answered.
    @discardableResult
    func send(_ text: String, from terminal: String = "T001") throws -> Answer {
        switch RequestParser.parse(Array(text.utf8)) {
        case .reject(let type, let id, let code):
            return Answer(value: Response.rejection(type: type, id: id, code: code).jsonValue, closesConnection: false)
        case .request(let request):
            let context = self.terminal(terminal)
            let decision = try ledger.write(now: now) { tx in try authorizer.decide(request, terminal: context, tx: tx) }
            let value = try JSONValue.parse(decision.response)
            // Every response: the request's type and id, a code, and a French message a terminal can show.
            #expect(value.code == decision.code.rawValue)
            #expect(value.string("type") == request.type.rawValue)
            #expect(value.string("id") == request.id)
            let message = value.string("message") ?? ""
            #expect(!message.isEmpty && message.count <= 32, "message \(message)")
            return Answer(value: value, closesConnection: decision.closeConnection)
        }
    }

    func nextStan() -> String {
        stanCounter += 1
        return "S\(stanCounter)"
    }

    func tap(_ pan: String, _ amount: Int64) -> String { reader.tap(pan, amount: amount) }

    // MARK: requests, written as on the wire

    func purchaseText(_ pan: String, _ amount: Int64, stan: String, id: String = "p", wallet: String? = nil,
                      partial: Bool? = nil, card: String? = nil) -> String {
        purchaseRequest(id: id, stan: stan, amount: amount, card: card ?? tap(pan, amount), wallet: wallet, partial: partial)
    }

    @discardableResult
    func purchase(_ pan: String, _ amount: Int64, at terminal: String = "T001", stan: String? = nil, wallet: String? = nil,
                  partial: Bool? = nil) throws -> Answer {
        try send(purchaseText(pan, amount, stan: stan ?? nextStan(), wallet: wallet, partial: partial), from: terminal)
    }

    @discardableResult
    func reverse(_ stan: String, at terminal: String = "T001") throws -> Answer {
        try send(#"{"type":"reverse","id":"r","of":"\#(stan)"}"#, from: terminal)
    }

    @discardableResult
    func cancel(_ txn: String, at terminal: String = "T001", stan: String? = nil) throws -> Answer {
        try send(#"{"type":"cancel","id":"c","stan":"\#(stan ?? nextStan())","txn":"\#(txn)"}"#, from: terminal)
    }

    @discardableResult
    func redeem(_ code: String, at terminal: String = "T001", stan: String? = nil) throws -> Answer {
        try send(#"{"type":"voucher.redeem","id":"v","stan":"\#(stan ?? nextStan())","code":"\#(code)"}"#, from: terminal)
    }

    @discardableResult
    func checkVoucher(_ code: String, at terminal: String = "T001") throws -> Answer {
        try send(#"{"type":"voucher.check","id":"vc","code":"\#(code)"}"#, from: terminal)
    }

    func status(of stan: String, at terminal: String = "T001", id: String = "st") throws -> Answer {
        try send(#"{"type":"status","id":"\#(id)","of":"\#(stan)"}"#, from: terminal)
    }

    func balance(_ pan: String, at terminal: String = "T001") throws -> Answer {
        try send(#"{"type":"balance","id":"b","stan":"\#(nextStan())","card":\#(tap(pan, 0))}"#, from: terminal)
    }

    // MARK: the other sides of the ledger (beneficiary, operator), at the gateway's clock

    /// The beneficiary's prepayment voucher; returns its code as printed (`XXXX-XXXX-XXXX`).
    func prepay(_ pan: String, partner: String, wallet: WalletCode = .manuels, amount: Int64) throws -> String {
        try ledger.write(now: now) { tx in
            try tx.prepay(pan: try PAN(validating: pan), partnerID: partner, wallet: wallet, amountCents: amount).code.grouped
        }
    }

    func cancelPrepayment(_ pan: String, code: String) throws {
        _ = try ledger.write(now: now) { tx in
            try tx.cancelPrepayment(pan: try PAN(validating: pan), code: try VoucherCode(parsing: code))
        }
    }

    /// An online payment ("Extranet Bénéficiaire"); returns its txn.
    func payOnline(_ pan: String, partner: String, wallet: WalletCode, amount: Int64, at instant: Date? = nil) throws -> String {
        try ledger.write(now: instant ?? now) { tx in
            try tx.payOnline(pan: try PAN(validating: pan), partnerID: partner, wallet: wallet, amountCents: amount).txn
        }
    }

    func setCardStatus(_ pan: String, _ status: CardStatus) throws {
        try ledger.write(now: now) { tx in try tx.setCardStatus(pan: try PAN(validating: pan), status: status) }
    }

    func setWalletExpiry(_ pan: String, _ code: WalletCode, _ day: LocalDate) throws {
        try ledger.write(now: now) { tx in try tx.setWalletExpiry(pan: try PAN(validating: pan), code: code, expiresOn: day) }
    }

    func available(_ pan: String, _ code: WalletCode) throws -> Int64 {
        try ledger.read { tx in
            let card = try tx.card(pan: try PAN(validating: pan))
            return try tx.wallets(cardID: card.id).first { $0.code == code }?.availableCents ?? 0
        }
    }

    /// A voucher's status as stored (read straight from the table: `voucher(code:)` would release an
    /// expired one on the way).
    func storedVoucherStatus(_ code: String) throws -> String? {
        try ledger.connection.scalarText("SELECT status FROM vouchers WHERE code = ?", try VoucherCode(parsing: code).canonical)
    }

    var today: LocalDate { ParisCalendar.businessDay(of: now) }

    /// `gateway check` on this environment's ledger.
    func expectInvariants(sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let violations = try ledger.read { try $0.checkInvariants() }
            #expect(violations.isEmpty, "gateway check: \(violations)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("gateway check could not run: \(error)", sourceLocation: sourceLocation)
        }
    }
}
