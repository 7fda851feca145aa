import Foundation
import Testing

/// The package's built executables, run as separate OS processes (as a beneficiary's web space, an
/// operator or a shop's tools would run them).
enum Tools {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A debug product built beside the tests (`swift build --build-tests` builds every product).
    static func product(_ name: String) -> String {
        for candidate in [".build/debug/\(name)", ".build/x86_64-unknown-linux-gnu/debug/\(name)",
                          ".build/aarch64-unknown-linux-gnu/debug/\(name)"] {
            let url = packageRoot.appendingPathComponent(candidate)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url.path }
        }
        return packageRoot.appendingPathComponent(".build/debug/\(name)").path
    }

    /// A system tool (`pdftoppm`, `zbarimg`, ...) on the PATH, or nil.
    static func system(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    struct Outcome: CustomStringConvertible, Sendable {
        let status: Int32
        let stdout: String
        let stderr: String
        /// From just before the process was started until it had exited.
        let wallTime: Duration

        var succeeded: Bool { status == 0 }
        /// stdout as one JSON object (`--json`).
        var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any]
        }
        /// `{"error": {"code", "message"}}` of a refusal with `--json`.
        var errorCode: String? { (json?["error"] as? [String: Any])?["code"] as? String }
        var errorMessage: String? { (json?["error"] as? [String: Any])?["message"] as? String }
        var description: String { "exit \(status), stdout: \(stdout.prefix(600)), stderr: \(stderr.prefix(600))" }
    }

    /// Runs an executable to completion. Blocking: call it off the cooperative pool (see `run`).
    static func runBlocking(_ executable: String, _ arguments: [String]) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let started = ContinuousClock.now
        try process.run()
        // Drain stderr on its own thread while stdout is read here: neither pipe can fill up and block the child.
        let errData = LockedData()
        let errReader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        errReader.start()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let wall = ContinuousClock.now - started
        let stderr = errData.wait()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self), wallTime: wall)
    }

    /// Runs an executable on a thread of its own, so that waiting for it never holds one of the few
    /// threads of Swift's cooperative pool (2 on this machine) that the gateway's clients need.
    static func run(_ executable: String, _ arguments: [String]) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do { continuation.resume(returning: try runBlocking(executable, arguments)) } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    static func temporaryDirectory(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "hdf-beneficiarytests-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// Bytes handed from one thread to another.
final class LockedData: @unchecked Sendable {
    private let condition = NSCondition()
    private var data: Data?

    func set(_ value: Data) {
        condition.lock()
        data = value
        condition.signal()
        condition.unlock()
    }

    func wait() -> Data {
        condition.lock()
        defer { condition.unlock() }
        while data == nil { condition.wait() }
        return data!
    }
}

/// `beneficiary VERB --dir DIR --json ...`, each run its own OS process.
struct BeneficiaryCLI: Sendable {
    let directory: String

    func run(_ verb: String, _ arguments: [String], json: Bool = true) async throws -> Tools.Outcome {
        try await Tools.run(Tools.product("beneficiary"), [verb, "--dir", directory] + (json ? ["--json"] : []) + arguments)
    }

    func runBlocking(_ verb: String, _ arguments: [String]) throws -> Tools.Outcome {
        try Tools.runBlocking(Tools.product("beneficiary"), [verb, "--dir", directory, "--json"] + arguments)
    }

    /// `wallets --card PAN` as code → balance (cents).
    func balances(_ pan: String) async throws -> [String: Int64] {
        let outcome = try await run("wallets", ["--card", pan])
        guard outcome.succeeded, let wallets = outcome.json?["wallets"] as? [[String: Any]] else {
            Issue.record("beneficiary wallets failed: \(outcome)")
            return [:]
        }
        var result: [String: Int64] = [:]
        for wallet in wallets {
            if let code = wallet["code"] as? String, let balance = jsonInteger(wallet["balance"]) { result[code] = balance }
        }
        return result
    }

    /// `prepay`: the voucher object on success.
    func prepay(_ pan: String, partner: String, wallet: String = "MANUELS", amount: Int64) async throws -> (Tools.Outcome, [String: Any]?) {
        let outcome = try await run("prepay", ["--card", pan, "--partner", partner, "--wallet", wallet, "--amount", String(amount)])
        return (outcome, outcome.json?["voucher"] as? [String: Any])
    }

    func transactions(_ pan: String) async throws -> [[String: Any]] {
        let outcome = try await run("transactions", ["--card", pan])
        guard outcome.succeeded, let lines = outcome.json?["transactions"] as? [[String: Any]] else {
            Issue.record("beneficiary transactions failed: \(outcome)")
            return []
        }
        return lines
    }
}

/// A refusal as the contract wants it (§1): non-zero exit, one clear line on stderr, and with `--json`
/// exactly one `{"error": {"code", "message"}}` object on stdout.
func expectRefused(_ outcome: Tools.Outcome, code: String? = nil, messageContains: String? = nil,
                   sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(outcome.status != 0, "expected a refusal: \(outcome)", sourceLocation: sourceLocation)
    let lines = outcome.stderr.split(separator: "\n")
    #expect(lines.count == 1 && lines[0].hasPrefix("error: ") && lines[0].count > 12, "one clear line on stderr: \(outcome)",
            sourceLocation: sourceLocation)
    #expect(outcome.json?.keys.sorted() == ["error"], "one error object on stdout: \(outcome)", sourceLocation: sourceLocation)
    if let code { #expect(outcome.errorCode == code, "\(outcome)", sourceLocation: sourceLocation) }
    if let messageContains {
        #expect(outcome.errorMessage?.contains(messageContains) == true, "message should say '\(messageContains)': \(outcome)",
                sourceLocation: sourceLocation)
        #expect(outcome.stderr.contains(messageContains), "stderr should say '\(messageContains)': \(outcome)",
                sourceLocation: sourceLocation)
    }
}
