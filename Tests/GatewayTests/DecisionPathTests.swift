import Foundation
@testable import GatewayServer
import HDFDomain
import Ledger
import Testing

/// Issue 11: the decision path's own rules, without the network.
@Suite("Decision path: one savepoint level per request, checked")
struct DecisionPathTests {
    @Test("an operation run without its own savepoint: a refusal before any write is the refusal; after a write, a storage error (the request is undone, 96)")
    func refusalAfterAWrite() throws {
        let gateway = try OfflineGateway()
        let authorizer = gateway.authorizer
        try gateway.ledger.write { tx in
            let clean = try authorizer.attempt(tx) { () throws -> Int in throw LedgerError.invalid("refused before writing") }
            guard case .failure(.invalid) = clean else {
                Issue.record("a refusal before any write must come back as the refusal, got \(clean)")
                return
            }
            do {
                _ = try authorizer.attempt(tx) { () throws -> Int in
                    try tx.audit(action: "test", result: "written")
                    throw LedgerError.invalid("refused after writing")
                }
                Issue.record("a refusal after a write was taken as a plain refusal")
            } catch LedgerError.storage(let message) {
                #expect(message.contains("after a write"))
            }
        }
        // The purchase path itself: a refusal (insufficient funds) still answers its code and changes no money;
        // an approval still approves.
        let card = gateway.manifest.card(holding: [.manuels, .transport])
        let held = card.balance(.manuels)
        #expect(try gateway.purchase(card.pan, held + 2_000, stan: "DP1").code == "51")
        #expect(try gateway.available(card.pan, .manuels) == held, "a refusal leaves the wallet as it was")
        #expect(try gateway.purchase(card.pan, 1, stan: "DP2").code == "00")
        #expect(try gateway.available(card.pan, .manuels) == held - 1)
        gateway.expectInvariants()
    }
}
