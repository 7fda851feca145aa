import Foundation
@testable import GatewayServer
import HDFDomain
import Ledger
import Logging
import Provisioning
import Testing

/// The writer thread's housekeeping: on a timer of its own, so an idle gateway releases expired vouchers and
/// forgets old stans and audit rows too.
@Suite("housekeeping on the writer thread (issue 8)")
struct HousekeepingTests {
    @Test("an idle gateway still releases an expired voucher and forgets old stans and audit rows")
    func housekeepingWhenIdle() async throws {
        let gateway = try Decider("idle-housekeeping")
        let layout = EnvironmentLayout(directory: gateway.directory)
        let queue = AuthorizationQueue(ledger: try Ledger(path: layout.ledgerPath, actor: "gateway"),
                                       authorizer: Authorizer(cardKeys: try IssuerMasterKey.load(layout: layout)),
                                       limits: ServerLimits(),
                                       logger: Logger(label: "hardening-tests", factory: { _ in SwiftLogNoOpLogHandler() }),
                                       housekeepingInterval: .milliseconds(200))
        queue.start()
        defer { queue.stopAndDrain() }
        // The first run happens at start; what follows is written afterwards, so only a later run (with no
        // request ever sent) can clear it.
        try await Task.sleep(for: .milliseconds(300))
        let pan = gateway.manifest.manuelsCards[6].pan
        let voucher = try gateway.ledger.write { tx in
            try tx.prepay(pan: try PAN(validating: pan), partnerID: "P001", wallet: .manuels, amountCents: 700)
        }
        try gateway.otherConnection("UPDATE vouchers SET expires_on = '2020-01-01' WHERE code = '\(voucher.code.canonical)'")
        let held = try gateway.available(pan)
        let longAgo = gateway.now.addingTimeInterval(-400 * 86_400)
        try gateway.ledger.write(now: longAgo) { tx in
            try tx.recordStan(terminalID: "T001", stan: "ANCIENT", digest: [UInt8](repeating: 1, count: 32),
                              answer: StanAnswer(requestID: "a", code: "00", requestType: "purchase"))
            try tx.audit(action: "test.ancient", result: "ok")
        }

        func state() throws -> (voucher: String?, stans: Int64?, audit: Int64?) {
            let connection = gateway.ledger.connection
            return (try connection.scalarText("SELECT status FROM vouchers WHERE code = ?", voucher.code.canonical),
                    try connection.scalarInt("SELECT COUNT(*) FROM stans WHERE stan = 'ANCIENT'"),
                    try connection.scalarInt("SELECT COUNT(*) FROM audit WHERE action = 'test.ancient'"))
        }
        let deadline = ContinuousClock.now + .seconds(10)
        var seen = try state()
        while ContinuousClock.now < deadline, seen.voucher != "expired" || seen.stans != 0 || seen.audit != 0 {
            try await Task.sleep(for: .milliseconds(50))
            seen = try state()
        }
        #expect(seen.voucher == "expired")
        #expect(seen.stans == 0)
        #expect(seen.audit == 0)
        #expect(try gateway.available(pan) == held + 700, "the voucher's money is back in its wallet")
        #expect(try gateway.violations().isEmpty)
    }
}
