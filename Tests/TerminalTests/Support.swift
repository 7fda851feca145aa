import Foundation
@_exported import PCSCTestSupport

/// TerminalTests use the first test reader, "HDF Test VPCD 00 00" (and always name it with --reader, except
/// where the "first reader holding a card" rule is the point); PCSCTests use the second.
let TestPCSCD = TestPCSCDReader(index: 0)

extension VirtualCardProcess {
    /// A card in this target's reader.
    convenience init(pan: String, key: String, statePath: String, extra: [String] = []) throws {
        try self.init(port: TestPCSCD.port, pan: pan, key: key, statePath: statePath, extra: extra)
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
