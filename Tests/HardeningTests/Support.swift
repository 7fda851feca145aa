import CardApplication
import Foundation
import Glibc
import GatewayClient
import GatewayServer
import HDFDomain
import Ledger
import NIOPosix
import Provisioning
import Testing
import WireProtocol

/// A fresh demo environment (contract §2) in a directory of its own, under `base`.
func makeEnvironment(_ name: String, under base: String = NSTemporaryDirectory()) throws -> (directory: String, manifest: DemoManifest) {
    let directory = base + (base.hasSuffix("/") ? "" : "/") + "hdf-hardening-\(name)-\(UUID().uuidString.prefix(8))"
    let manifest = try DemoEnvironment.create(directory: directory, force: false)
    return (directory, manifest)
}

extension DemoManifest {
    static let today = ParisCalendar.today().iso

    /// Active cards whose MANUELS wallet holds money and has not expired (usable at P001, P002 and P005).
    var manuelsCards: [Card] {
        cards.filter { card in
            card.status == "active" && card.wallets.contains { $0.code == "MANUELS" && $0.balance > 0 && $0.expires >= Self.today }
        }
    }
}

extension DemoManifest.Card {
    var panValue: PAN { try! PAN(validating: pan) }
    var softwareCard: SoftwareCard { SoftwareCard(pan: panValue, key: try! Hex.decode(key)) }
}

func json(_ bytes: [UInt8]) -> JSONValue {
    do { return try JSONValue.parse(bytes) } catch { fatalError("a response does not parse: \(error)") }
}

extension JSONValue {
    var code: String? { self["code"]?.stringValue }
    func string(_ key: String) -> String? { self[key]?.stringValue }
}

/// A `purchase` request as JSON text.
func purchaseText(id: String = "p", stan: String, amount: Int64, card: JSONValue) -> String {
    #"{"type":"purchase","id":"\#(id)","stan":"\#(stan)","amount":\#(amount),"currency":"EUR","card":\#(card.description)}"#
}

/// The gateway's decisions without the network, exactly as its writer thread takes them: each request in
/// its own savepoint of one `writeBatch`, a thrown error answered `96` (and nothing of it kept).
final class Decider {
    let directory: String
    let manifest: DemoManifest
    private(set) var ledger: Ledger
    private(set) var authorizer: Authorizer
    var now = Date()
    private var cards: [String: SoftwareCard] = [:]

    init(_ name: String) throws {
        (directory, manifest) = try makeEnvironment(name)
        let layout = EnvironmentLayout(directory: directory)
        ledger = try Ledger(path: layout.ledgerPath, actor: "gateway")
        authorizer = Authorizer(cardKeys: try IssuerMasterKey.load(layout: layout))
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// A restart: a new ledger connection and a new authoriser (nothing kept in memory survives).
    func restart() throws {
        let layout = EnvironmentLayout(directory: directory)
        ledger = try Ledger(path: layout.ledgerPath, actor: "gateway")
        authorizer = Authorizer(cardKeys: try IssuerMasterKey.load(layout: layout))
    }

    func context(_ terminal: String) -> TerminalContext {
        TerminalContext(terminalID: terminal, partnerID: manifest.partners.first { $0.terminals.contains { $0.id == terminal } }!.id)
    }

    /// One frame's JSON text from `terminal`, answered.
    @discardableResult
    func send(_ text: String, from terminal: String = "T001") throws -> JSONValue {
        json(try sendBytes(text, from: terminal))
    }

    /// One frame's JSON text from `terminal`, answered: the answer's bytes as they would go on the wire.
    func sendBytes(_ text: String, from terminal: String = "T001") throws -> [UInt8] {
        switch RequestParser.parse(Array(text.utf8)) {
        case .reject(let type, let id, let code):
            return Response.rejection(type: type, id: id, code: code).encode()
        case .request(let request):
            let context = self.context(terminal)
            let results: [Result<Decision, Error>]
            do {
                results = try ledger.writeBatch(now: now, count: 1) { _, tx in
                    try authorizer.decide(request, terminal: context, tx: tx)
                }
            } catch {
                // The transaction itself failed (lock, disk): as the writer thread does, `96` for the batch.
                return Response(to: request, code: .systemError).encode()
            }
            switch results[0] {
            case .success(let decision): return decision.response
            case .failure: return Response(to: request, code: .systemError).encode()
            }
        }
    }

    /// The next `card` object of `pan` (its ATC goes up by one).
    func tap(_ pan: String, _ amount: Int64) -> JSONValue {
        var card = cards[pan] ?? manifest.cards.first { $0.pan == pan }!.softwareCard
        let value = card.cardObject(amountCents: amount)
        cards[pan] = card
        return value
    }

    func purchase(_ pan: String, _ amount: Int64, stan: String, at terminal: String = "T001") throws -> JSONValue {
        try send(purchaseText(stan: stan, amount: amount, card: tap(pan, amount)), from: terminal)
    }

    func reverse(_ stan: String, at terminal: String = "T001") throws -> JSONValue {
        try send(#"{"type":"reverse","id":"r","of":"\#(stan)"}"#, from: terminal)
    }

    func status(_ stan: String, at terminal: String = "T001") throws -> JSONValue {
        try send(#"{"type":"status","id":"s","of":"\#(stan)"}"#, from: terminal)
    }

    func available(_ pan: String, _ code: WalletCode = .manuels) throws -> Int64 {
        try ledger.read { tx in
            let card = try tx.card(pan: try PAN(validating: pan))
            return try tx.wallets(cardID: card.id).first { $0.code == code }?.availableCents ?? 0
        }
    }

    func violations() throws -> [InvariantViolation] {
        try ledger.read { try $0.checkInvariants() }
    }

    /// Runs `sql` on a connection of its own (another process would do the same).
    func otherConnection(_ sql: String) throws {
        let connection = try SQLiteConnection(path: EnvironmentLayout(directory: directory).ledgerPath)
        try connection.execute(sql)
    }
}

/// The package's built executables, run as separate OS processes.
enum Executables {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func path(_ product: String) -> String {
        for candidate in [".build/debug/\(product)", ".build/x86_64-unknown-linux-gnu/debug/\(product)"] {
            let url = packageRoot.appendingPathComponent(candidate)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url.path }
        }
        return packageRoot.appendingPathComponent(".build/debug/\(product)").path
    }

    /// Runs `product` to its end; returns its exit status and what it wrote.
    static func run(_ product: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path(product))
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// `gateway serve` as its own OS process on an ephemeral port; its output goes to a log file outside DIR.
final class GatewayProcess: @unchecked Sendable {
    let directory: String
    let process: Process
    let port: Int
    let logPath: String
    /// How long a debug gateway may take to say it is ready (two cores shared with other builds).
    static let startTimeout: Duration = .seconds(60)

    private init(directory: String, process: Process, port: Int, logPath: String) {
        self.directory = directory
        self.process = process
        self.port = port
        self.logPath = logPath
    }

    static func start(directory: String) throws -> GatewayProcess {
        let logPath = NSTemporaryDirectory() + "hdf-hardening-gateway-\(UUID().uuidString.prefix(8)).log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)!
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Executables.path("gateway"))
        process.arguments = ["serve", "--dir", directory, "--port", "0", "--metrics-port", "-1", "--log-level", "warning"]
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try? log.close()
        let deadline = ContinuousClock.now + startTimeout
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("gateway ready on ") }),
               let port = Int(line.split(separator: ":").last ?? "") {
                return GatewayProcess(directory: directory, process: process, port: port, logPath: logPath)
            }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        process.terminate()
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        throw GatewayProcessError.notReady(text)
    }

    /// SIGKILL: no chance to finish anything.
    func kill() {
        _ = Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM: a graceful stop.
    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: logPath)
    }

    func credentials(_ terminal: String, manifest: DemoManifest) -> TerminalCredentials {
        TerminalCredentials(host: "127.0.0.1", port: port, caPath: directory + "/" + manifest.gateway.ca,
                            certificatePath: directory + "/certs/\(terminal).pem", keyPath: directory + "/certs/\(terminal).key")
    }

    func connect(_ terminal: String, manifest: DemoManifest) async throws -> GatewayConnection {
        try await GatewayConnection.connect(credentials(terminal, manifest: manifest), group: MultiThreadedEventLoopGroup.singleton)
    }
}

enum GatewayProcessError: Error, CustomStringConvertible {
    case notReady(String)
    var description: String {
        switch self { case .notReady(let log): return "the gateway did not become ready; its log:\n\(log)" }
    }
}

/// `gateway check --dir DIR`, the operator's verb, as its own process: exit 0 and nothing broken.
func expectGatewayCheckClean(_ directory: String, _ when: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        let outcome = try Executables.run("gateway", ["check", "--dir", directory])
        #expect(outcome.status == 0, "gateway check \(when): \(outcome.output)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("gateway check could not run \(when): \(error)", sourceLocation: sourceLocation)
    }
}

/// Fault-injection tests that need root (mounting a tmpfs) skip without it, unless `HDF_REQUIRE_ROOT_FAULTS=1`
/// (set by `make test`) makes a missing privilege a failure instead.
func mayRunRootFaults(_ what: String, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
    if getuid() == 0 { return true }
    if ProcessInfo.processInfo.environment["HDF_REQUIRE_ROOT_FAULTS"] == "1" {
        Issue.record("\(what) needs root (it mounts a tmpfs) and HDF_REQUIRE_ROOT_FAULTS=1 forbids skipping it",
                     sourceLocation: sourceLocation)
    } else {
        print("SKIPPED: \(what) needs root to mount a tmpfs (set HDF_REQUIRE_ROOT_FAULTS=1 to make this a failure)")
    }
    return false
}
