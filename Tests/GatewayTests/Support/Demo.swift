import CardApplication
import Foundation
import GatewayClient
import HDFDomain
import Ledger
import Provisioning
import Testing
import WireProtocol

/// A fresh demo environment (contract §2) in a temporary directory of its own.
func makeDemoDirectory(_ name: String) throws -> (directory: String, manifest: DemoManifest) {
    let directory = NSTemporaryDirectory() + "hdf-gatewaytests-\(name)-\(UUID().uuidString.prefix(8))"
    let manifest = try DemoEnvironment.create(directory: directory, force: false)
    return (directory, manifest)
}

/// The demo's cards, found by what the contract says the demo holds.
extension DemoManifest {
    static let today = ParisCalendar.today().iso

    /// The 20 active cards with money, every wallet of them still valid.
    var fundedCards: [Card] {
        cards.filter { card in
            card.status == "active" && card.wallets.contains { $0.balance > 0 } && card.wallets.allSatisfy { $0.expires >= Self.today }
        }
    }

    /// A funded card whose wallets are exactly `codes`.
    func card(holding codes: Set<WalletCode>) -> Card {
        guard let card = fundedCards.first(where: { Set($0.wallets.map(\.code)) == Set(codes.map(\.rawValue)) }) else {
            fatalError("the demo has no card holding exactly \(codes)")
        }
        return card
    }

    /// "one card whose only wallet has expired".
    var expiredCard: Card {
        cards.first { $0.status == "active" && $0.wallets.count == 1 && $0.wallets[0].expires < Self.today }!
    }

    /// "one card whose wallets are empty".
    var emptyCard: Card {
        cards.first { $0.status == "active" && !$0.wallets.isEmpty && $0.wallets.allSatisfy { $0.balance == 0 } }!
    }

    func card(status: String) -> Card { cards.first { $0.status == status }! }

    func partner(ofTerminal terminal: String) -> Partner {
        partners.first { $0.terminals.contains { $0.id == terminal } }!
    }
}

extension DemoManifest.Card {
    var panValue: PAN { try! PAN(validating: pan) }
    var keyBytes: [UInt8] { try! Hex.decode(key) }
    func balance(_ code: WalletCode) -> Int64 { wallets.first { $0.code == code.rawValue }?.balance ?? 0 }
    var softwareCard: SoftwareCard { SoftwareCard(pan: panValue, key: keyBytes) }
}

/// The cards a terminal taps, each with its own ATC going up by one per request (contract §4).
struct CardReader {
    private var cards: [String: SoftwareCard] = [:]
    private let keys: [String: [UInt8]]

    init(manifest: DemoManifest) {
        var keys: [String: [UInt8]] = [:]
        for card in manifest.cards { keys[card.pan] = card.keyBytes }
        self.keys = keys
    }

    /// The `card` object, as JSON text, of the next request of `pan` for `amount` (0 for balance and online.list).
    mutating func tap(_ pan: String, amount: Int64) -> String {
        var card = cards[pan] ?? SoftwareCard(pan: try! PAN(validating: pan), key: keys[pan]!)
        let value = card.cardObject(amountCents: amount)
        cards[pan] = card
        return value.description
    }

    /// A `card` object with a chosen ATC and a correct cryptogram (does not move the reader's counter).
    func tap(_ pan: String, amount: Int64, atc: UInt16) -> String {
        var card = SoftwareCard(pan: try! PAN(validating: pan), key: keys[pan]!, atc: atc &- 1)
        return card.cardObject(amountCents: amount).description
    }

    /// The next `card` object with its cryptogram's last hex digit changed.
    mutating func forged(_ pan: String, amount: Int64) -> String {
        guard case .object(var members) = try! JSONValue.parse(tap(pan, amount: amount)),
              let index = members.firstIndex(where: { $0.0 == "cryptogram" }),
              var text = members[index].1.stringValue else { fatalError("unreadable card object") }
        let last = text.removeLast()
        text.append(last == "0" ? "1" : "0")
        members[index].1 = .string(text)
        return JSONValue.object(members).description
    }
}

/// A value of a JSON object, for readable expectations.
extension JSONValue {
    var code: String? { self["code"]?.stringValue }
    func int(_ key: String) -> Int64? { self[key]?.intValue }
    func string(_ key: String) -> String? { self[key]?.stringValue }
    /// The same object with its `id` replaced (a retransmission's answer is the first one with the new id).
    func withID(_ id: String?) -> JSONValue {
        guard case .object(var members) = self, let index = members.firstIndex(where: { $0.0 == "id" }) else { return self }
        members[index].1 = id.map { .string($0) } ?? .null
        return .object(members)
    }
}

func json(_ text: String) -> JSONValue {
    do { return try JSONValue.parse(text) } catch { fatalError("test JSON does not parse: \(error)\n\(text)") }
}

/// The ledger's invariants (`gateway check`): none may be broken.
func expectLedgerChecks(directory: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        let ledger = try Ledger.open(directory: directory, actor: "check")
        let violations = try ledger.read { try $0.checkInvariants() }
        #expect(violations.isEmpty, "gateway check: \(violations)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("gateway check could not run: \(error)", sourceLocation: sourceLocation)
    }
}

func availableCents(directory: String, pan: String, _ code: WalletCode) throws -> Int64 {
    let ledger = try Ledger.open(directory: directory, actor: "test")
    return try ledger.read { tx in
        let card = try tx.card(pan: try PAN(validating: pan))
        return try tx.wallets(cardID: card.id).first { $0.code == code }?.availableCents ?? 0
    }
}

/// A `purchase` request as JSON text (`card`: a card object's JSON text, see `CardReader.tap`).
func purchaseRequest(id: String = "p", stan: String, amount: Int64, card: String, wallet: String? = nil,
                     partial: Bool? = nil) -> String {
    var text = #"{"type":"purchase","id":"\#(id)","stan":"\#(stan)","amount":\#(amount),"currency":"EUR","card":\#(card)"#
    if let wallet { text += #","wallet":"\#(wallet)""# }
    if let partial { text += #","allow_partial":\#(partial)"# }
    return text + "}"
}
