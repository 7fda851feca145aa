import CardApplication
import Foundation
import GatewayClient
import GatewayEnvironment
import GatewayServer
import HDFDomain
import Ledger
import Logging
import NIOCore
import NIOPosix
import Provisioning
import Testing
import WireProtocol

/// A fresh demo environment (`gateway demo --dir D`, run as a process) served by a live gateway on
/// 127.0.0.1, an ephemeral port, over mutual TLS; the beneficiary side runs as other processes on the
/// same ledger.
final class LiveGateway: @unchecked Sendable {
    let directory: String
    let manifest: DemoManifest
    let server: GatewayServer
    let port: Int
    let beneficiary: BeneficiaryCLI
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    private init(directory: String, manifest: DemoManifest, server: GatewayServer, port: Int) {
        self.directory = directory
        self.manifest = manifest
        self.server = server
        self.port = port
        self.beneficiary = BeneficiaryCLI(directory: directory)
    }

    static func start(_ name: String) async throws -> LiveGateway {
        let directory = try Tools.temporaryDirectory(name)
        let demo = try await Tools.run(Tools.product("gateway"), ["demo", "--dir", directory, "--json"])
        try #require(demo.succeeded, "gateway demo: \(demo)")
        let manifest = try DemoManifest.load(layout: EnvironmentLayout(directory: directory))
        let server = try GatewayServer(configuration: try GatewayConfiguration.environment(directory: directory, port: 0, metricsPort: nil),
                                       logger: logger, prometheus: nil)
        try await server.start()
        return LiveGateway(directory: directory, manifest: manifest, server: server, port: try #require(server.boundPort))
    }

    /// Stops the gateway, then `gateway check --dir D` (a process) must exit 0; removes the directory.
    func stop(sourceLocation: SourceLocation = #_sourceLocation) async {
        do { try await server.shutdown() } catch { Issue.record("shutdown: \(error)", sourceLocation: sourceLocation) }
        await expectCheckPasses(sourceLocation: sourceLocation)
        try? FileManager.default.removeItem(atPath: directory)
    }

    func expectCheckPasses(sourceLocation: SourceLocation = #_sourceLocation) async {
        do {
            let check = try await Tools.run(Tools.product("gateway"), ["check", "--dir", directory])
            #expect(check.status == 0, "gateway check: \(check)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("gateway check could not run: \(error)", sourceLocation: sourceLocation)
        }
    }

    func credentials(_ terminal: String) -> TerminalCredentials {
        TerminalCredentials(host: "127.0.0.1", port: port, caPath: directory + "/" + manifest.gateway.ca,
                            certificatePath: directory + "/certs/\(terminal).pem", keyPath: directory + "/certs/\(terminal).key")
    }

    /// A terminal's mutual-TLS connection, its handshake done (an echo answered).
    func terminal(_ id: String) async throws -> Terminal {
        let connection = try await GatewayConnection.connect(credentials(id), group: MultiThreadedEventLoopGroup.singleton)
        let terminal = Terminal(id: id, connection: connection)
        let echo = try await terminal.send("echo", [])
        #expect(echo.code == "00", "echo on \(id): \(echo)")
        return terminal
    }

    // MARK: - The demo's cards and partners

    static let today = ParisCalendar.today().iso

    /// The active cards with money, every wallet still valid, in the manifest's order.
    var fundedCards: [DemoManifest.Card] {
        manifest.cards.filter { card in
            card.status == "active" && card.wallets.contains { $0.balance > 0 } && card.wallets.allSatisfy { $0.expires >= Self.today }
        }
    }

    func partner(_ id: String) -> DemoManifest.Partner { manifest.partners.first { $0.id == id }! }

    // MARK: - The ledger, read directly (what the tests count)

    func read<T>(_ body: (LedgerTransaction) throws -> T) throws -> T {
        let ledger = try Ledger.open(directory: directory, actor: "test")
        return try ledger.read(body)
    }

    func available(_ pan: String, _ code: WalletCode) throws -> Int64 {
        try read { tx in try tx.wallets(cardID: tx.card(pan: PAN(validating: pan)).id).first { $0.code == code }?.availableCents ?? 0 }
    }

    /// How many vouchers and payments the ledger holds in all: a refused operation leaves both unchanged.
    func recordCounts() throws -> (vouchers: Int64, payments: Int64, cancellations: Int64, transfers: Int64) {
        try read { tx in
            (try tx.ledger.connection.scalarInt("SELECT COUNT(*) FROM vouchers") ?? -1,
             try tx.ledger.connection.scalarInt("SELECT COUNT(*) FROM payments") ?? -1,
             try tx.ledger.connection.scalarInt("SELECT COUNT(*) FROM cancellations") ?? -1,
             try tx.ledger.connection.scalarInt("SELECT COUNT(*) FROM transfers") ?? -1)
        }
    }
}

extension DemoManifest.Card {
    var softwareCard: SoftwareCard { SoftwareCard(pan: try! PAN(validating: pan), key: try! Hex.decode(key)) }
    func balance(_ code: String) -> Int64 { wallets.first { $0.code == code }?.balance ?? 0 }
    var walletCodes: Set<String> { Set(wallets.map(\.code)) }
    var fullName: String { "\(beneficiary.firstName) \(beneficiary.lastName)" }
}

/// A partner terminal's connection. Stans come from one counter for the whole test process, so that two
/// connections of one terminal never send the same stan (that would be answered `94`).
final class Terminal: @unchecked Sendable {
    let id: String
    let connection: GatewayConnection
    nonisolated(unsafe) private static var stanCounter = 0
    private static let lock = NSLock()

    init(id: String, connection: GatewayConnection) {
        self.id = id
        self.connection = connection
    }

    func nextStan() -> String {
        Self.lock.lock()
        defer { Self.lock.unlock() }
        Self.stanCounter += 1
        return "S\(Self.stanCounter)"
    }

    static func request(_ type: String, _ fields: [(String, JSONValue)], id: String) -> JSONValue {
        .object([("type", .string(type)), ("id", .string(id))] + fields)
    }

    func send(_ type: String, _ fields: [(String, JSONValue)]) async throws -> JSONValue {
        try await connection.send(Self.request(type, fields, id: "\(type)-\(UUID().uuidString.prefix(6))"))
    }

    func purchase(_ card: inout SoftwareCard, amount: Int64, wallet: String? = nil) async throws -> JSONValue {
        var fields: [(String, JSONValue)] = [("stan", .string(nextStan())), ("amount", .int(amount)), ("currency", .string("EUR")),
                                             ("card", card.cardObject(amountCents: amount))]
        if let wallet { fields.append(("wallet", .string(wallet))) }
        return try await send("purchase", fields)
    }

    func balance(_ card: inout SoftwareCard) async throws -> JSONValue {
        try await send("balance", [("stan", .string(nextStan())), ("card", card.cardObject(amountCents: 0))])
    }

    func voucherCheck(_ code: String) async throws -> JSONValue {
        try await send("voucher.check", [("code", .string(code))])
    }

    func voucherRedeem(_ code: String) async throws -> JSONValue {
        try await send("voucher.redeem", [("stan", .string(nextStan())), ("code", .string(code))])
    }

    func cancel(_ txn: String) async throws -> JSONValue {
        try await send("cancel", [("stan", .string(nextStan())), ("txn", .string(txn))])
    }

    func reverse(_ stan: String) async throws -> JSONValue {
        try await send("reverse", [("of", .string(stan))])
    }

    func onlineList(pan: String? = nil) async throws -> JSONValue {
        var fields: [(String, JSONValue)] = [("stan", .string(nextStan()))]
        if let pan { fields.append(("pan", .string(pan))) }
        return try await send("online.list", fields)
    }

    func close() async { await connection.close() }
}

extension JSONValue {
    var code: String? { self["code"]?.stringValue }
    func string(_ key: String) -> String? { self[key]?.stringValue }
    func int(_ key: String) -> Int64? { self[key]?.intValue }
}

extension Dictionary where Key == String, Value == Any {
    func string(_ key: String) -> String? { self[key] as? String }
    func int(_ key: String) -> Int64? { jsonInteger(self[key]) }
}

/// A JSON number from `JSONSerialization` as an integer (it may come as Int, Int64, Double or NSNumber).
func jsonInteger(_ value: Any?) -> Int64? {
    switch value {
    case let value as Int: return Int64(value)
    case let value as Int64: return value
    case let value as Double: return Int64(exactly: value)
    case let value as NSNumber: return value.int64Value
    default: return nil
    }
}
