import BeneficiaryOperations
import Foundation
import HDFDomain
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ledger
import Testing
@testable import WebSpace

/// The web space is a third process on the ledger. While two other processes write without pause
/// (`ledger-load stream`: loads, purchases and vouchers, one commit after another, as a busy gateway's
/// writer does), a prepayment, an online payment and a declaration made on the pages each commit within
/// 1 s, and the ledger's invariants hold afterwards.
///
/// It measures time, so it runs alone, like the flood tests: only with `HDF_ALONE_TESTS=1`, which
/// `scripts/test.sh` sets in a `swift test --filter` of its own after the other suites (in the shared run,
/// other suites' processes pushed a page to 1.9 s).
@Suite("Web space beside busy writers", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["HDF_ALONE_TESTS"] == "1", "set HDF_ALONE_TESTS=1 (it must run alone)"))
struct ConcurrencyTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The most one page operation may take while the ledger is busy.
    static let maximumOperationSeconds = 1.0

    static func product(_ name: String) -> String {
        for candidate in [".build/debug/\(name)", ".build/x86_64-unknown-linux-gnu/debug/\(name)", ".build/aarch64-unknown-linux-gnu/debug/\(name)"] {
            let url = packageRoot.appendingPathComponent(candidate)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url.path }
        }
        return packageRoot.appendingPathComponent(".build/debug/\(name)").path
    }

    @Test("prepayment, online payment and declaration each commit within 1 s while two other processes write without pause")
    func pagesCommitUnderLoad() async throws {
        let fixture = try WebFixture("busy")
        let cards = fixture.fundedCards
        var writers: [Process] = []
        // SIGKILL, not `terminate()`: the test process ignores SIGTERM and its children inherit that.
        defer { for writer in writers where writer.isRunning { kill(writer.processIdentifier, SIGKILL); writer.waitUntilExit() } }
        for (card, terminal) in [(cards[7], "T002"), (cards[8], "T003")] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.product("ledger-load"))
            process.arguments = ["stream", "--dir", fixture.directory, "--card", card.pan, "--terminal", terminal, "--partner", "P002"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            writers.append(process)
            // Wait for its first commit: the load is on before the pages act.
            var seen = Data()
            while !String(decoding: seen, as: UTF8.self).contains("committed") {
                let chunk = output.fileHandleForReading.availableData
                try #require(!chunk.isEmpty, "ledger-load stream stopped")
                seen.append(chunk)
            }
            // Keep its pipe drained so it never blocks on a full pipe.
            output.fileHandleForReading.readabilityHandler = { _ = $0.availableData }
        }
        let card = cards[0]
        try await fixture.application().test(.router) { client in
            var visitor = Visitor(client)
            try await visitor.login(card.beneficiary.dossier, card.beneficiary.password!)
            let clock = ContinuousClock()
            func timed(_ what: String, _ body: () async throws -> Visitor.Page) async throws -> Visitor.Page {
                let start = clock.now
                let page = try await body()
                let seconds = Double((clock.now - start).components.attoseconds) / 1e18 + Double((clock.now - start).components.seconds)
                #expect(seconds < Self.maximumOperationSeconds, "\(what) took \(seconds) s")
                return page
            }
            _ = try await visitor.get("/ma-carte/prepaiement/P001")
            let before = try fixture.available(card.pan, .manuels)
            let voucher = try await timed("prepayment") {
                try await visitor.post("/ma-carte/prepaiement/P001", [("porte_monnaie", "MANUELS"), ("montant", "4,00")])
            }
            #expect(voucher.status == .seeOther)
            let online = try await timed("online payment") {
                try await visitor.post("/ma-carte/paiement-en-ligne/P001", [("porte_monnaie", "MANUELS"), ("montant", "3,00")])
            }
            #expect(online.status == .seeOther)
            #expect(try fixture.available(card.pan, .manuels) == before - 700)
            let declared = try await timed("declaration") { try await visitor.post("/ma-carte/probleme", [("motif", "damaged")]) }
            #expect(declared.status == .seeOther)
            #expect(try CardOperations(ledger: fixture.ledger()).cardStatus(pan: PAN(validating: card.pan)) == .damaged)
        }
        for writer in writers { kill(writer.processIdentifier, SIGKILL); writer.waitUntilExit() }
        #expect(try fixture.ledger().read { try $0.checkInvariants() }.isEmpty)
    }
}
