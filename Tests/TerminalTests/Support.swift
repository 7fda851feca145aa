import Foundation
import PCSC
import Testing

/// The pcscd the tests use: started by `scripts/pcscd.sh start` (make test does it), with one vpcd entry
/// giving two readers: "HDF Test VPCD 00 00" on HDF_VPCD_PORT (default 45963) and "HDF Test VPCD 00 01" on
/// the next port. TerminalTests use the first reader (and always name it with --reader, except where the
/// "first reader holding a card" rule is the point), PCSCTests the second, so the two suites never see
/// each other's cards and can run at the same time; inside each suite the tests are serialised.
enum TestPCSCD {
    static let basePort: Int = Int(ProcessInfo.processInfo.environment["HDF_VPCD_PORT"] ?? "") ?? 45963
    static let readerPrefix = "HDF Test VPCD"
    /// This target's reader and its vpcd port.
    static let reader = "\(readerPrefix) 00 00"
    static let port = basePort

    /// make test sets HDF_REQUIRE_PCSCD=1: then a missing pcscd fails the tests instead of skipping them.
    static let required: Bool = !(ProcessInfo.processInfo.environment["HDF_REQUIRE_PCSCD"] ?? "").isEmpty

    static let available: Bool = {
        guard listening(port: basePort), listening(port: port) else { return false }
        guard let context = try? PCSCContext(), let readers = try? context.readers() else { return false }
        return readers.contains(reader)
    }()

    /// Run the pcscd tests when pcscd is there, or when it must be (then they fail and say why).
    static let enabled = available || required
    static let skipReason: Comment = "no pcscd with the test vpcd reader (run `scripts/pcscd.sh start`; set HDF_REQUIRE_PCSCD=1 to make this a failure)"

    /// Fails with a clear message when pcscd is required but missing.
    static func check() throws {
        if !available {
            throw Failure("pcscd with the vpcd readers '\(readerPrefix) 00 00/00 01' on ports \(basePort)/\(port) is not reachable; start it with scripts/pcscd.sh start (HDF_VPCD_PORT=\(basePort))")
        }
    }

    /// `ss -ltn`: never connect to a vpcd port to test it (a connection is a card insertion).
    static func listening(port: Int) -> Bool {
        let result = try? Tools.run("/usr/bin/ss", ["-ltnH", "sport = :\(port)"], timeout: 5)
        return !(result?.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ?? true)
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum Tools {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A product built beside the tests.
    static func product(_ name: String) -> String {
        for candidate in [".build/debug/\(name)", ".build/x86_64-unknown-linux-gnu/debug/\(name)"] {
            let path = packageRoot.appendingPathComponent(candidate).path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return packageRoot.appendingPathComponent(".build/debug/\(name)").path
    }

    struct Outcome {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs to completion (killed after `timeout` seconds). The output goes through files, not pipes: a
    /// blocking read of a pipe can fail with EINTR in the test process.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                    timeout: Double = 60) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let base = NSTemporaryDirectory() + "hdf-run-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: base + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: base + ".err", contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: base + ".out")
            try? FileManager.default.removeItem(atPath: base + ".err")
        }
        let out = FileHandle(forWritingAtPath: base + ".out")!
        let err = FileHandle(forWritingAtPath: base + ".err")!
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { process.terminate() }
            Thread.sleep(forTimeInterval: 0.01)
        }
        process.waitUntilExit()
        try? out.close()
        try? err.close()
        let stdout = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
        return Outcome(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    static func temporaryDirectory(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "hdf-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// A `virtual-card` process in a test vpcd reader; `stop()` it at the end of the test.
final class VirtualCardProcess {
    let process = Process()
    let logPath: String
    /// The reader this card goes into (to wait for its removal).
    let reader: String?

    init(port: Int = TestPCSCD.port, pan: String, key: String, statePath: String, extra: [String] = []) throws {
        logPath = statePath + ".log"
        reader = port == TestPCSCD.basePort ? "\(TestPCSCD.readerPrefix) 00 00"
            : port == TestPCSCD.basePort + 1 ? "\(TestPCSCD.readerPrefix) 00 01" : nil
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: Tools.product("virtual-card"))
        process.arguments = ["--port", String(port), "--pan", pan, "--key", key, "--state", statePath,
                             "--connect-timeout", "5", "--exit-with-parent"] + extra
        let log = FileHandle(forWritingAtPath: logPath)!
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try waitForLog("inserted", timeout: 6)
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func waitForLog(_ text: String, occurrences: Int = 1, timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if log.components(separatedBy: text).count - 1 >= occurrences { return }
            if !process.isRunning { throw Failure("virtual-card exited: \(log)") }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw Failure("virtual-card did not log '\(text)' within \(timeout) s: \(log)")
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Stops the card and waits until pcscd has seen it leave (it polls every 400 ms): a card inserted
    /// sooner would look to pcscd like the same card still powered, with its protocol already chosen.
    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        if let reader, let context = try? PCSCContext() {
            _ = try? context.waitForRemoval(reader: reader, timeout: .seconds(3))
            context.release()
        }
    }
}

/// A fresh `gateway demo` environment, optionally served by a real `gateway serve` process on a free port.
final class GatewayEnvironment {
    let dir: String
    let manifest: [String: Any]
    private var server: Process?
    private(set) var port: Int = 0

    init(_ name: String) throws {
        dir = try Tools.temporaryDirectory(name)
        let demo = try Tools.run(Tools.product("gateway"), ["demo", "--dir", dir], timeout: 60)
        guard demo.status == 0 else { throw Failure("gateway demo failed: \(demo.stderr)") }
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/demo.json"))
        manifest = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// Starts `gateway serve` on a free port and waits for its ready line.
    func serve() throws {
        let logPath = dir + "/serve.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tools.product("gateway"))
        process.arguments = ["serve", "--dir", dir, "--port", "0", "--metrics-port", "-1", "--log-level", "warning"]
        let log = FileHandle(forWritingAtPath: logPath)!
        process.standardOutput = log
        process.standardError = log
        try process.run()
        server = process
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let range = text.range(of: "gateway ready on 127.0.0.1:") {
                let digits = text[range.upperBound...].prefix { $0.isNumber }
                if let value = Int(digits), text[range.upperBound...].dropFirst(digits.count).first == "\n" {
                    port = value
                    return
                }
            }
            if !process.isRunning { throw Failure("gateway serve exited: \(text)") }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw Failure("gateway serve not ready within 20 s")
    }

    func stop() {
        if let server, server.isRunning {
            server.terminate()
            server.waitUntilExit()
        }
        server = nil
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    var cards: [[String: Any]] { manifest["cards"] as? [[String: Any]] ?? [] }

    /// Active cards with at least `minimum` cents in `wallet` (not expired), in manifest order.
    func cards(wallet: String, minimum: Int64) -> [(pan: String, key: String)] {
        let today = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "Europe/Paris")!,
                                                formatOptions: [.withFullDate])
        return cards.compactMap { card in
            guard card["status"] as? String == "active", let pan = card["pan"] as? String, let key = card["key"] as? String,
                  let wallets = card["wallets"] as? [[String: Any]] else { return nil }
            let fits = wallets.contains { w in
                w["code"] as? String == wallet && ((w["balance"] as? NSNumber)?.int64Value ?? 0) >= minimum
                    && (w["expires"] as? String ?? "") >= today
            }
            return fits ? (pan, key) : nil
        }
    }

    /// The wallet's balance, read by the beneficiary side (another process, the same ledger).
    func balance(_ pan: String, _ wallet: String) throws -> Int64 {
        let result = try Tools.run(Tools.product("beneficiary"), ["wallets", "--dir", dir, "--card", pan, "--json"], timeout: 30)
        guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
              let wallets = object["wallets"] as? [[String: Any]],
              let entry = wallets.first(where: { $0["code"] as? String == wallet }),
              let balance = (entry["balance"] as? NSNumber)?.int64Value else {
            throw Failure("beneficiary wallets failed: \(result.stdout) \(result.stderr)")
        }
        return balance
    }

    /// `gateway check`: the ledger's invariants hold.
    func ledgerIsConsistent() throws -> Bool {
        try Tools.run(Tools.product("gateway"), ["check", "--dir", dir], timeout: 60).status == 0
    }

    func prepay(_ pan: String, partner: String, wallet: String, amount: Int64) throws -> String {
        let result = try Tools.run(Tools.product("beneficiary"), ["prepay", "--dir", dir, "--card", pan, "--partner", partner,
                                                                   "--wallet", wallet, "--amount", String(amount), "--json"], timeout: 30)
        guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
              let voucher = object["voucher"] as? [String: Any], let code = voucher["code"] as? String else {
            throw Failure("beneficiary prepay failed: \(result.stdout) \(result.stderr)")
        }
        return code
    }

    func payOnline(_ pan: String, partner: String, wallet: String, amount: Int64) throws -> String {
        let result = try Tools.run(Tools.product("beneficiary"), ["pay-online", "--dir", dir, "--card", pan, "--partner", partner,
                                                                   "--wallet", wallet, "--amount", String(amount), "--json"], timeout: 30)
        guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
              let payment = object["payment"] as? [String: Any], let txn = payment["txn"] as? String else {
            throw Failure("beneficiary pay-online failed: \(result.stdout) \(result.stderr)")
        }
        return txn
    }

    /// Starts `pos` without waiting for it (its output is discarded).
    func startPos(_ arguments: [String], port: Int) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Tools.product("pos"))
        process.arguments = ["--dir", dir, "--terminal", "T001", "--port", String(port), "--reader", TestPCSCD.reader,
                             "--card-timeout", "5"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// `pos --dir DIR --terminal T [--port P] --reader <the test reader> --card-timeout 5 ARGS`.
    func pos(_ arguments: [String], terminal: String = "T001", port: Int? = nil, reader: String? = TestPCSCD.reader,
             environment: [String: String]? = nil) throws -> PosRun {
        var common = ["--dir", dir, "--terminal", terminal, "--port", String(port ?? self.port), "--card-timeout", "5"]
        if let reader { common += ["--reader", reader] }
        let started = Date()
        let result = try Tools.run(Tools.product("pos"), common + arguments, environment: environment, timeout: 60)
        return PosRun(outcome: result, seconds: Date().timeIntervalSince(started))
    }
}

struct PosRun: CustomStringConvertible {
    let outcome: Tools.Outcome
    let seconds: Double

    var status: Int32 { outcome.status }
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8))) as? [String: Any] ?? [:]
    }
    func object(_ name: String) -> [String: Any] { json[name] as? [String: Any] ?? [:] }
    var errorCode: String? { object("error")["code"] as? String }
    var errorMessage: String { object("error")["message"] as? String ?? "" }
    var description: String { "exit \(status) in \(String(format: "%.2f", seconds)) s, stdout: \(outcome.stdout) stderr: \(outcome.stderr)" }
}

func int64(_ value: Any?) -> Int64? { (value as? NSNumber)?.int64Value }
