import CardApplication
import Foundation
import GatewayClient
import HDFDomain
import NIOConcurrencyHelpers
import PCSC
@testable import Terminal
import Testing
import WireProtocol

// MARK: - without pcscd

@Suite("The terminal's stan counter and pending reversals on disk")
struct TerminalStateTests {
    @Test func stansAreTwelveCharactersAndNeverRepeatAcrossRestarts() throws {
        let dir = try Tools.temporaryDirectory("stan")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var seen: [String] = []
        for _ in 0..<3 {  // three "runs" of the terminal, each a new object reading the file
            let state = TerminalState(directory: dir, name: "T001")
            for _ in 0..<5 { seen.append(try state.nextStan()) }
        }
        #expect(Set(seen).count == seen.count)
        for stan in seen {
            #expect(stan.count == 12)
            #expect(stan.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
        }
        #expect(seen.sorted() == seen)
        #expect(Set(seen.map { $0.prefix(4) }).count == 1)
        #expect(seen.first?.hasSuffix("-0000001") == true)
    }

    @Test func concurrentProcessesOfOneTerminalDrawDistinctStans() throws {
        let dir = try Tools.temporaryDirectory("stan-concurrent")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let drawn = NIOLockedValueBox<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let state = TerminalState(directory: dir, name: "T001")  // each its own lock descriptor
            for _ in 0..<25 {
                if let stan = try? state.nextStan() { drawn.withLockedValue { $0.append(stan) } }
            }
        }
        let stans = drawn.withLockedValue { $0 }
        #expect(stans.count == 100)
        #expect(Set(stans).count == 100)
    }

    @Test func aSeriesThatRunsOutStartsUnderANewPrefix() throws {
        let dir = try Tools.temporaryDirectory("stan-rollover")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("{\"prefix\":\"AB12\",\"next\":9999999}\n".utf8).write(to: URL(fileURLWithPath: dir + "/T.stan"))
        let state = TerminalState(directory: dir, name: "T")
        #expect(try state.nextStan() == "AB12-9999999")
        let next = try state.nextStan()
        #expect(!next.hasPrefix("AB12"))
        #expect(next.hasSuffix("-0000001"))
    }

    @Test func aDamagedCounterIsRefusedNotReset() throws {
        let dir = try Tools.temporaryDirectory("stan-damaged")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: dir + "/T.stan"))
        #expect(throws: PosError.self) { try TerminalState(directory: dir, name: "T").nextStan() }
    }

    @Test func pendingReversalsSurviveARestart() throws {
        let dir = try Tools.temporaryDirectory("pending")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TerminalState(directory: dir, name: "T").addPendingReversal("AB12-0000001")
        try TerminalState(directory: dir, name: "T").addPendingReversal("AB12-0000002")
        try TerminalState(directory: dir, name: "T").addPendingReversal("AB12-0000001")
        #expect(try TerminalState(directory: dir, name: "T").pendingReversals() == ["AB12-0000001", "AB12-0000002"])
        try TerminalState(directory: dir, name: "T").removePendingReversal("AB12-0000001")
        #expect(try TerminalState(directory: dir, name: "T").pendingReversals() == ["AB12-0000002"])
        try TerminalState(directory: dir, name: "T").removePendingReversal("AB12-0000002")
        #expect(!FileManager.default.fileExists(atPath: dir + "/T.pending"))
    }
}

@Suite("The terminal's French messages")
struct PosMessageTests {
    @Test func everyFailureIsOneFrenchLineWithACode() {
        let cases: [(PosError, String, String)] = [
            (.reader(.serviceNotRunning), "pcsc_unavailable", "pcscd"),
            (.reader(.noReaders), "no_reader", "Aucun lecteur"),
            (.reader(.timedOut(milliseconds: 1500)), "no_card", "Aucune carte présentée en 1,5 s"),
            (.reader(.cardRemoved), "card_removed", "Carte retirée"),
            (.card(.status(.fileNotFound)), "card_not_hdf", "Carte non reconnue"),
            (.card(.status(.atcExhausted)), "card_exhausted", "remplacée"),
            (.declined(operation: .purchase, code: "51", message: "Solde insuffisant"), "51", "Paiement refusé : Solde insuffisant (51)"),
            (.declined(operation: .cancel, code: "A3", message: "Déjà annulé"), "A3", "Annulation refusée"),
            (.noResponseReversed(operation: .purchase, waited: .seconds(10)), "no_response_reversed", "paiement annulé, rien n'a été débité"),
            (.noResponseReversalPending(operation: .voucherRedeem, waited: .seconds(2)), "no_response_reversal_pending", "renvoyée"),
            (.gatewayUnreachable(endpoint: "127.0.0.1:1", why: "connexion refusée"), "gateway_unreachable", "Serveur injoignable"),
        ]
        for (error, code, text) in cases {
            #expect(error.code == code)
            #expect(error.description.contains(text), "\(error.description)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func displayLines() {
        let purchase = PurchaseOutcome(code: "10", message: "Accepté partiellement", txn: "TX1", authCode: "ABC123", amount: 800,
                                       requested: 1250, wallet: "MANUELS", balance: 0, stan: "AB12-0000001",
                                       card: "9250********9013", atc: 3)
        #expect(purchase.displayLines[0] == "Accepté partiellement : 8,00 € sur 12,50 €, reste à payer 4,50 €")
        #expect(purchase.displayLines[1] == "Manuels et équipement : solde restant 0,00 €")
    }
}

/// A card in software behind the `CardReader` protocol: the terminal's logic without pcscd.
final class SoftwareCardReader: CardReader, @unchecked Sendable {
    let applet: NIOLockedValueBox<CardApplet>
    let tearAtAPDU: Int?
    let present: Bool

    init(pan: String, key: String, present: Bool = true, tearAtAPDU: Int? = nil) throws {
        applet = NIOLockedValueBox(try CardApplet(pan: try PAN(validating: pan), key: try Hex.decode(key)))
        self.present = present
        self.tearAtAPDU = tearAtAPDU
    }

    func prepare() throws {}

    func waitForCard(reader: String?, timeout: Duration) throws -> CardChannel {
        guard present else { throw PCSCError.timedOut(milliseconds: Int(timeout.components.seconds * 1000)) }
        applet.withLockedValue { $0.reset() }
        return Channel(reader: self)
    }

    final class Channel: CardChannel, @unchecked Sendable {
        let reader: SoftwareCardReader
        var count = 0
        init(reader: SoftwareCardReader) { self.reader = reader }
        var readerName: String { "software" }
        func transmit(_ command: [UInt8]) throws -> [UInt8] {
            count += 1
            let answer = reader.applet.withLockedValue { $0.process(command) }
            if count == reader.tearAtAPDU { throw PCSCError.cardRemoved }
            return answer
        }
        func close() {}
    }
}

@Suite("The terminal's logic in process: software card, fake gateway")
struct PointOfSaleTests {
    let environment: GatewayEnvironment
    let card: (pan: String, key: String)

    init() throws {
        environment = try GatewayEnvironment("pos-logic")
        card = try #require(environment.cards(wallet: "MANUELS", minimum: 2000).first)
    }

    func pointOfSale(port: Int, reader: CardReader, timeout: Duration = .milliseconds(800)) throws -> PointOfSale {
        let (credentials, state) = try TerminalConfiguration.resolve(
            dir: environment.dir, terminal: "T001", host: nil, port: port, ca: nil, cert: nil, key: nil, stateDir: nil)
        let configuration = TerminalConfiguration(credentials: credentials, cardTimeout: .seconds(1), responseTimeout: timeout,
                                                  connectTimeout: .seconds(2), reversalAttempts: 2, state: state)
        return PointOfSale(configuration: configuration, reader: reader)
    }

    static let echoOnly: FakeGateway.Policy = { request, _ in
        request["type"]?.stringValue == "echo" ? .answer(answer(request, code: "00", [("server_time", .string("now"))])) : .swallow
    }

    @Test func aPurchaseWithoutAnswerIsReversedBeforeTheFailureIsReported() async throws {
        let fake = try await FakeGateway.start(dir: environment.dir) { request, earlier in
            switch request["type"]?.stringValue {
            case "echo": return .answer(answer(request, code: "00", [("server_time", .string("now"))]))
            case "reverse": return .answer(answer(request, code: "00"))
            default: return .swallow
            }
        }
        defer { Task { await fake.stop() } }
        let pos = try pointOfSale(port: fake.port, reader: try SoftwareCardReader(pan: card.pan, key: card.key))
        let started = ContinuousClock.now
        do {
            _ = try await pos.pay(amountCents: 1250, wallet: nil, allowPartial: false)
            Issue.record("a purchase without answer succeeded")
        } catch let error as PosError {
            #expect(error.code == "no_response_reversed", "\(error)")
        }
        #expect(ContinuousClock.now - started >= .milliseconds(800))
        let purchase = try #require(fake.requests(ofType: "purchase").first)
        let reversals = fake.requests(ofType: "reverse")
        #expect(reversals.count == 1)
        #expect(reversals.first?["of"] == purchase["stan"])
        #expect(try pos.configuration.state.pendingReversals().isEmpty)
    }

    @Test func aReversalNobodyAcknowledgesIsSentFirstNextTime() async throws {
        let silent = try await FakeGateway.start(dir: environment.dir, policy: PointOfSaleTests.echoOnly)
        let pos = try pointOfSale(port: silent.port, reader: try SoftwareCardReader(pan: card.pan, key: card.key))
        do {
            _ = try await pos.pay(amountCents: 700, wallet: nil, allowPartial: false)
            Issue.record("a purchase without answer succeeded")
        } catch let error as PosError {
            #expect(error.code == "no_response_reversal_pending", "\(error)")
        }
        await silent.stop()
        let stan = try #require(fake(silent, "purchase")?["stan"]?.stringValue)
        #expect(silent.requests(ofType: "reverse").count == 2)  // reversalAttempts
        #expect(try pos.configuration.state.pendingReversals() == [stan])

        // The next operation, whatever it is, first sends the reversal.
        let answering = try await FakeGateway.start(dir: environment.dir) { request, _ in
            switch request["type"]?.stringValue {
            case "echo": return .answer(answer(request, code: "00", [("server_time", .string("now"))]))
            case "reverse": return .answer(answer(request, code: "00"))
            default:
                let zero = JSONValue.object([("count", .int(0)), ("amount", .int(0))])
                return .answer(answer(request, code: "00", [("date", request["date"] ?? .null), ("purchases", zero),
                                                            ("cancellations", zero), ("vouchers", zero), ("online", zero)]))
            }
        }
        defer { Task { await answering.stop() } }
        let next = try pointOfSale(port: answering.port, reader: try SoftwareCardReader(pan: card.pan, key: card.key))
        _ = try await next.totals(date: ParisCalendar.today())
        #expect(answering.requests.map { $0["type"]?.stringValue ?? "" } == ["echo", "reverse", "totals"])
        #expect(answering.requests(ofType: "reverse").first?["of"]?.stringValue == stan)
        #expect(try next.configuration.state.pendingReversals().isEmpty)
    }

    func fake(_ gateway: FakeGateway, _ type: String) -> JSONValue? { gateway.requests(ofType: type).first }

    @Test func aCardPulledOutSendsNothing() async throws {
        let fake = try await FakeGateway.start(dir: environment.dir, policy: PointOfSaleTests.echoOnly)
        defer { Task { await fake.stop() } }
        let pos = try pointOfSale(port: fake.port, reader: try SoftwareCardReader(pan: card.pan, key: card.key, tearAtAPDU: 3))
        do {
            _ = try await pos.pay(amountCents: 1250, wallet: nil, allowPartial: false)
            Issue.record("a purchase with the card pulled out succeeded")
        } catch let error as PosError {
            #expect(error.code == "card_removed")
        }
        #expect(fake.requests.map { $0["type"]?.stringValue ?? "" } == ["echo"])
    }

    @Test func noCardIsReportedAsSuch() async throws {
        let fake = try await FakeGateway.start(dir: environment.dir, policy: PointOfSaleTests.echoOnly)
        defer { Task { await fake.stop() } }
        let pos = try pointOfSale(port: fake.port, reader: try SoftwareCardReader(pan: card.pan, key: card.key, present: false))
        await #expect(throws: PosError.self) { _ = try await pos.balance() }
        #expect(fake.requests(ofType: "balance").isEmpty)
    }

    @Test func anUnreachableGatewayIsSaidSoBeforeTheCardIsAskedFor() async throws {
        let pos = try pointOfSale(port: 1, reader: try SoftwareCardReader(pan: card.pan, key: card.key))
        do {
            _ = try await pos.pay(amountCents: 100, wallet: nil, allowPartial: false)
            Issue.record("no gateway, yet a success")
        } catch let error as PosError {
            #expect(error.code == "gateway_unreachable")
            #expect(error.description.hasPrefix("Serveur injoignable (127.0.0.1:1)"))
        }
        #expect(try pos.configuration.state.pendingReversals().isEmpty)
    }
}

@Suite("pos without pcscd")
struct PosWithoutPCSCDTests {
    /// pcsc-lite's client finds pcscd through PCSCLITE_CSOCK_NAME: pointing it at nothing is "pcscd is not
    /// running", without stopping the machine's pcscd.
    @Test func pcscdNotRunningIsAClearMessage() throws {
        let environment = try GatewayEnvironment("pos-nopcscd")
        let run = try environment.pos(["--json", "pay", "--amount", "1250"], port: 1,
                                      environment: ["PCSCLITE_CSOCK_NAME": environment.dir + "/no-pcscd.comm"])
        #expect(run.status != 0)
        #expect(run.errorCode == "pcsc_unavailable", "\(run)")
        #expect(run.outcome.stderr == "error: Lecteur de carte indisponible : le service PC/SC (pcscd) ne fonctionne pas\n")
        #expect(run.seconds < 5)
    }

    @Test func badArgumentsAreRefusedInOneLine() throws {
        let environment = try GatewayEnvironment("pos-args")
        let amount = try environment.pos(["--json", "pay", "--amount", "12.50"], port: 1)
        #expect(amount.errorCode == "invalid_amount", "\(amount)")
        let wallet = try environment.pos(["--json", "pay", "--amount", "100", "--wallet", "CANTINE"], port: 1)
        #expect(wallet.errorCode == "unknown_wallet", "\(wallet)")
        let terminal = try environment.pos(["--json", "balance"], terminal: "T999", port: 1)
        #expect(terminal.errorCode == "no_credentials", "\(terminal)")
        let verb = try environment.pos(["--json", "refund"], port: 1)
        #expect(verb.errorCode == "usage", "\(verb)")
        for run in [amount, wallet, terminal, verb] {
            #expect(run.status != 0)
            #expect(run.outcome.stderr.split(separator: "\n").count == 1)
        }
    }
}

// MARK: - end to end through pcscd

/// `pos` and `virtual-card` as processes, pcscd's vpcd reader "HDF Test VPCD 00 00", a real gateway.
@Suite("pos end to end through pcscd", .serialized, .enabled(if: TestPCSCD.enabled, TestPCSCD.skipReason))
struct PosEndToEndTests {
    /// A served demo environment and a card with money in MANUELS (usable at P001, T001's partner).
    func setUp(_ name: String, cardIndex: Int = 0) throws -> (GatewayEnvironment, (pan: String, key: String)) {
        try TestPCSCD.check()
        let environment = try GatewayEnvironment(name)
        try environment.serve()
        let cards = environment.cards(wallet: "MANUELS", minimum: 5000)
        try #require(cards.count > cardIndex)
        return (environment, cards[cardIndex])
    }

    func insert(_ card: (pan: String, key: String), in environment: GatewayEnvironment, extra: [String] = []) throws -> VirtualCardProcess {
        try VirtualCardProcess(pan: card.pan, key: card.key, statePath: environment.dir + "/card-\(card.pan).json", extra: extra)
    }

    @Test func payIsApprovedAndDebitsTheLedger() throws {
        let (environment, card) = try setUp("e2e-pay")
        defer { environment.stop() }
        let virtualCard = try insert(card, in: environment)
        defer { virtualCard.stop() }
        let before = try environment.balance(card.pan, "MANUELS")

        let pay = try environment.pos(["--json", "pay", "--amount", "1250"])
        #expect(pay.status == 0, "\(pay)")
        let purchase = pay.object("purchase")
        #expect(purchase["code"] as? String == "00")
        #expect(int64(purchase["amount"]) == 1250)
        #expect(purchase["wallet"] as? String == "MANUELS")
        #expect(int64(purchase["balance"]) == before - 1250)
        #expect((purchase["auth_code"] as? String)?.count == 6)
        #expect(purchase["card"] as? String == PAN.mask(card.pan))
        #expect(try environment.balance(card.pan, "MANUELS") == before - 1250)

        // The first reader holding a card (no --reader), a new stan, the card's next ATC.
        let second = try environment.pos(["--json", "pay", "--amount", "250", "--wallet", "MANUELS"], reader: nil)
        #expect(second.status == 0, "\(second)")
        #expect(second.object("purchase")["stan"] as? String != purchase["stan"] as? String)
        #expect((int64(second.object("purchase")["atc"]) ?? 0) > (int64(purchase["atc"]) ?? 0))
        #expect(try environment.balance(card.pan, "MANUELS") == before - 1500)

        // The display, in French.
        let display = try environment.pos(["pay", "--amount", "100"])
        #expect(display.status == 0, "\(display)")
        #expect(display.outcome.stdout.hasPrefix("Paiement accepté : 1,00 €\n"))

        let declined = try environment.pos(["--json", "pay", "--amount", "99999999"])
        #expect(declined.status != 0)
        #expect(declined.errorCode == "51", "\(declined)")
        #expect(try environment.balance(card.pan, "MANUELS") == before - 1600)

        let totals = try environment.pos(["--json", "totals"])
        #expect(int64((totals.object("totals")["purchases"] as? [String: Any])?["count"]) == 3, "\(totals)")
        #expect(try environment.ledgerIsConsistent())
        #expect(!FileManager.default.fileExists(atPath: environment.dir + "/pos/T001.pending"))
    }

    @Test func balanceListsTheCardsWallets() throws {
        let (environment, card) = try setUp("e2e-balance")
        defer { environment.stop() }
        let virtualCard = try insert(card, in: environment)
        defer { virtualCard.stop() }
        let run = try environment.pos(["--json", "balance"])
        #expect(run.status == 0, "\(run)")
        let wallets = run.object("balance")["wallets"] as? [[String: Any]] ?? []
        let manuels = try #require(wallets.first { $0["code"] as? String == "MANUELS" })
        #expect(int64(manuels["balance"]) == (try environment.balance(card.pan, "MANUELS")))
        #expect(manuels["usable_here"] as? Bool == true)
        #expect(manuels["label"] as? String == "Manuels et équipement")
        let display = try environment.pos(["balance"])
        #expect(display.outcome.stdout.contains("Manuels et équipement : "), "\(display)")
    }

    @Test func onlineListsThePartnersOnlinePayments() throws {
        let (environment, card) = try setUp("e2e-online")
        defer { environment.stop() }
        let txn = try environment.payOnline(card.pan, partner: "P001", wallet: "MANUELS", amount: 990)
        let virtualCard = try insert(card, in: environment)
        defer { virtualCard.stop() }
        for arguments in [["online", "--card"], ["online", "--pan", card.pan], ["online"]] {
            let run = try environment.pos(["--json"] + arguments)
            #expect(run.status == 0, "\(run)")
            let payments = run.object("online")["payments"] as? [[String: Any]] ?? []
            #expect(payments.map { $0["txn"] as? String } == [txn], "\(arguments): \(run)")
            #expect(int64(payments.first?["amount"]) == 990)
        }
        let bad = try environment.pos(["--json", "online", "--pan", "1234"])
        #expect(bad.errorCode == "invalid_card_number", "\(bad)")
    }

    @Test func voucherIsCheckedThenRedeemedOnce() throws {
        let (environment, card) = try setUp("e2e-voucher")
        defer { environment.stop() }
        let code = try environment.prepay(card.pan, partner: "P001", wallet: "MANUELS", amount: 1500)
        let afterPrepay = try environment.balance(card.pan, "MANUELS")

        let check = try environment.pos(["--json", "voucher-check", code.lowercased()])
        #expect(check.status == 0, "\(check)")
        #expect(int64(check.object("voucher")["amount"]) == 1500)
        #expect(check.object("voucher")["status"] as? String == "issued")

        let redeem = try environment.pos(["--json", "voucher-redeem", code])
        #expect(redeem.status == 0, "\(redeem)")
        #expect(int64(redeem.object("redemption")["amount"]) == 1500)

        let again = try environment.pos(["--json", "voucher-redeem", code])
        #expect(again.errorCode == "A1", "\(again)")
        let checkAgain = try environment.pos(["voucher-check", code])
        #expect(checkAgain.status != 0)
        #expect(checkAgain.outcome.stderr.contains("Bon déjà utilisé"), "\(checkAgain)")
        #expect(try environment.balance(card.pan, "MANUELS") == afterPrepay)
        let totals = try environment.pos(["--json", "totals"])
        #expect(int64((totals.object("totals")["vouchers"] as? [String: Any])?["amount"]) == 1500, "\(totals)")
        #expect(try environment.ledgerIsConsistent())
    }

    @Test func cancelGivesTheMoneyBackOnce() throws {
        let (environment, card) = try setUp("e2e-cancel")
        defer { environment.stop() }
        let virtualCard = try insert(card, in: environment)
        defer { virtualCard.stop() }
        let before = try environment.balance(card.pan, "MANUELS")
        let pay = try environment.pos(["--json", "pay", "--amount", "2000"])
        let txn = try #require(pay.object("purchase")["txn"] as? String, "\(pay)")
        #expect(try environment.balance(card.pan, "MANUELS") == before - 2000)

        let cancel = try environment.pos(["--json", "cancel", "--txn", txn])
        #expect(cancel.status == 0, "\(cancel)")
        #expect(cancel.object("cancel")["original"] as? String == txn)
        #expect(int64(cancel.object("cancel")["amount"]) == 2000)
        #expect(try environment.balance(card.pan, "MANUELS") == before)

        let twice = try environment.pos(["--json", "cancel", "--txn", txn])
        #expect(twice.errorCode == "A3", "\(twice)")
        #expect(try environment.balance(card.pan, "MANUELS") == before)
    }

    @Test func aCardRemovedDuringThePurchaseLeavesTheLedgerAsItWas() throws {
        let (environment, card) = try setUp("e2e-removed")
        defer { environment.stop() }
        // SELECT, GET PAN, then GENERATE CRYPTOGRAM: the card is pulled out instead of answering it.
        let virtualCard = try insert(card, in: environment, extra: ["--tear-at-apdu", "3"])
        defer { virtualCard.stop() }
        let before = try environment.balance(card.pan, "MANUELS")
        let run = try environment.pos(["--json", "pay", "--amount", "1250"])
        #expect(run.status != 0)
        #expect(run.errorCode == "card_removed", "\(run)")
        #expect(run.outcome.stderr == "error: Carte retirée avant la fin : opération non effectuée\n")
        #expect(try environment.balance(card.pan, "MANUELS") == before)
        #expect(try environment.ledgerIsConsistent())
    }

    @Test func noCardWithinTheTimeOut() throws {
        let (environment, _) = try setUp("e2e-nocard")
        defer { environment.stop() }
        let run = try environment.pos(["--card-timeout", "1.5", "--json", "pay", "--amount", "1250"])
        #expect(run.status != 0)
        #expect(run.errorCode == "no_card", "\(run)")
        #expect(run.errorMessage == "Aucune carte présentée en 1,5 s : opération abandonnée")
        #expect(run.seconds >= 1.4 && run.seconds < 5, "\(run)")
        let totals = try environment.pos(["--json", "totals"])
        #expect(int64((totals.object("totals")["purchases"] as? [String: Any])?["count"]) == 0, "\(totals)")
    }

    /// A gateway that takes the purchase and never answers: the terminal reverses it, then says so.
    @Test func aGatewayThatDoesNotAnswerGetsTheReversal() async throws {
        let (environment, card) = try setUp("e2e-silent")
        defer { environment.stop() }
        let fake = try await FakeGateway.start(dir: environment.dir) { request, _ in
            switch request["type"]?.stringValue {
            case "echo": return .answer(answer(request, code: "00", [("server_time", .string("now"))]))
            case "reverse": return .answer(answer(request, code: "00"))
            default: return .swallow
            }
        }
        let virtualCard = try insert(card, in: environment)
        defer { virtualCard.stop() }
        let run = try environment.pos(["--timeout", "1.5", "--json", "pay", "--amount", "1250"], port: fake.port)
        await fake.stop()
        #expect(run.status != 0)
        #expect(run.errorCode == "no_response_reversed", "\(run)")
        #expect(run.errorMessage.hasPrefix("Pas de réponse du serveur en 1,5 s : paiement annulé"))
        #expect(run.seconds >= 1.5, "\(run)")
        let purchase = try #require(fake.requests(ofType: "purchase").first)
        #expect(fake.requests(ofType: "reverse").map { $0["of"] } == [purchase["stan"]])
        #expect(!FileManager.default.fileExists(atPath: environment.dir + "/pos/T001.pending"))
    }

    /// A terminal killed while it waits for the answer: its next run, whatever the verb, reverses that purchase.
    @Test func aTerminalKilledWhileWaitingReversesAtItsNextRun() async throws {
        let (environment, card) = try setUp("e2e-killed")
        defer { environment.stop() }
        let fake = try await FakeGateway.start(dir: environment.dir) { request, _ in
            switch request["type"]?.stringValue {
            case "echo": return .answer(answer(request, code: "00", [("server_time", .string("now"))]))
            case "reverse": return .answer(answer(request, code: "00"))
            case "totals":
                let zero = JSONValue.object([("count", .int(0)), ("amount", .int(0))])
                return .answer(answer(request, code: "00", [("date", request["date"] ?? .null), ("purchases", zero),
                                                            ("cancellations", zero), ("vouchers", zero), ("online", zero)]))
            default: return .swallow
            }
        }
        let virtualCard = try insert(card, in: environment)
        defer { virtualCard.stop() }
        let pos = try environment.startPos(["--timeout", "60", "pay", "--amount", "1250"], port: fake.port)
        let deadline = Date().addingTimeInterval(10)
        while fake.requests(ofType: "purchase").isEmpty && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        kill(pos.processIdentifier, SIGKILL)
        pos.waitUntilExit()
        let stan = try #require(fake.requests(ofType: "purchase").first?["stan"]?.stringValue)
        let pending = try String(contentsOfFile: environment.dir + "/pos/T001.pending", encoding: .utf8)
        #expect(pending == stan + "\n")

        let next = try environment.pos(["--json", "totals"], port: fake.port)
        await fake.stop()
        #expect(next.status == 0, "\(next)")
        #expect(fake.requests.map { $0["type"]?.stringValue ?? "" }.suffix(3) == ["echo", "reverse", "totals"])
        #expect(fake.requests(ofType: "reverse").first?["of"]?.stringValue == stan)
        #expect(!FileManager.default.fileExists(atPath: environment.dir + "/pos/T001.pending"))
    }

    /// The real gateway does the purchase but its answer is lost on the way back: the terminal's reversal
    /// reaches the real gateway and the wallet is whole again.
    @Test func aLostAnswerIsReversedAndTheWalletIsWhole() async throws {
        let (environment, card) = try setUp("e2e-lost")
        defer { environment.stop() }
        let credentials = TerminalCredentials(host: "127.0.0.1", port: environment.port, caPath: environment.dir + "/certs/ca.pem",
                                              certificatePath: environment.dir + "/certs/T001.pem",
                                              keyPath: environment.dir + "/certs/T001.key")
        let relay = try await FakeGateway.start(dir: environment.dir, upstream: credentials) { request, earlier in
            request["type"]?.stringValue == "purchase" && earlier == 0 ? .relayAndDropAnswer : .relay
        }
        let virtualCard = try insert(card, in: environment)
        defer { virtualCard.stop() }
        let before = try environment.balance(card.pan, "MANUELS")
        let run = try environment.pos(["--timeout", "1.5", "--json", "pay", "--amount", "1250"], port: relay.port)
        await relay.stop()
        #expect(run.errorCode == "no_response_reversed", "\(run)")
        #expect(relay.requests(ofType: "purchase").count == 1)
        #expect(relay.requests(ofType: "reverse").count == 1)
        #expect(try environment.balance(card.pan, "MANUELS") == before)
        let totals = try environment.pos(["--json", "totals"])
        #expect(int64((totals.object("totals")["purchases"] as? [String: Any])?["count"]) == 0, "\(totals)")
        #expect(try environment.ledgerIsConsistent())
    }
}
