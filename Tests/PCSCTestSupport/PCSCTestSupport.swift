import Foundation
import PCSC
import Testing

/// What the PC/SC and terminal test targets share: the test pcscd's readers, running the built products,
/// and `virtual-card` processes.
///
/// The pcscd the tests use is started by `scripts/pcscd.sh start` (make test does it), with one vpcd entry
/// giving two readers: "HDF Test VPCD 00 00" on HDF_VPCD_PORT (default 45963) and "HDF Test VPCD 00 01" on
/// the next port. TerminalTests use the first reader, PCSCTests the second, so the two suites never see
/// each other's cards and can run at the same time; inside each suite the tests are serialised.
public struct TestPCSCDReader: Sendable {
    public static let basePort: Int = Int(ProcessInfo.processInfo.environment["HDF_VPCD_PORT"] ?? "") ?? 45963
    public let basePort = TestPCSCDReader.basePort
    public let readerPrefix = "HDF Test VPCD"
    /// This target's reader and its vpcd port.
    public let reader: String
    public let port: Int

    /// make test sets HDF_REQUIRE_PCSCD=1: then a missing pcscd fails the tests instead of skipping them.
    public let required: Bool = !(ProcessInfo.processInfo.environment["HDF_REQUIRE_PCSCD"] ?? "").isEmpty

    public let available: Bool

    /// Run the pcscd tests when pcscd is there, or when it must be (then they fail and say why).
    public var enabled: Bool { available || required }
    public let skipReason: Comment = "no pcscd with the test vpcd reader (run `scripts/pcscd.sh start`; set HDF_REQUIRE_PCSCD=1 to make this a failure)"

    /// `index`: 0 for "00 00" on the base port, 1 for "00 01" on the next.
    public init(index: Int) {
        reader = "HDF Test VPCD 00 0\(index)"
        port = TestPCSCDReader.basePort + index
        let (base, own, name) = (TestPCSCDReader.basePort, port, reader)
        available = {
            guard TestPCSCDReader.listening(port: base), TestPCSCDReader.listening(port: own) else { return false }
            guard let context = try? PCSCContext(), let readers = try? context.readers() else { return false }
            return readers.contains(name)
        }()
    }

    /// Fails with a clear message when pcscd is required but missing.
    public func check() throws {
        if !available {
            throw Failure("pcscd with the vpcd readers '\(readerPrefix) 00 00/00 01' on ports \(basePort)/\(basePort + 1) is not reachable; start it with scripts/pcscd.sh start (HDF_VPCD_PORT=\(basePort))")
        }
    }

    /// `ss -ltn`: never connect to a vpcd port to test it (a connection is a card insertion).
    public static func listening(port: Int) -> Bool {
        let result = try? Tools.run("/usr/bin/ss", ["-ltnH", "sport = :\(port)"], timeout: 5)
        return !(result?.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ?? true)
    }
}

public struct Failure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public enum Tools {
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A product built beside the tests.
    public static func product(_ name: String) -> String {
        for candidate in [".build/debug/\(name)", ".build/x86_64-unknown-linux-gnu/debug/\(name)"] {
            let path = packageRoot.appendingPathComponent(candidate).path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return packageRoot.appendingPathComponent(".build/debug/\(name)").path
    }

    public struct Outcome {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    /// Runs to completion (killed after `timeout` seconds). The output goes through files, not pipes: a
    /// blocking read of a pipe can fail with EINTR in the test process.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
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

    public static func temporaryDirectory(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "hdf-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// A `virtual-card` process in a test vpcd reader; `stop()` it at the end of the test.
public final class VirtualCardProcess {
    public let process = Process()
    public let logPath: String
    /// The reader this card goes into (to wait for its removal).
    public let reader: String?

    public init(port: Int, pan: String, key: String, statePath: String, extra: [String] = []) throws {
        logPath = statePath + ".log"
        reader = port == TestPCSCDReader.basePort ? TestPCSCDReader(index: 0).reader
            : port == TestPCSCDReader.basePort + 1 ? TestPCSCDReader(index: 1).reader : nil
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

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    public func waitForLog(_ text: String, occurrences: Int = 1, timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if log.components(separatedBy: text).count - 1 >= occurrences { return }
            if !process.isRunning { throw Failure("virtual-card exited: \(log)") }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw Failure("virtual-card did not log '\(text)' within \(timeout) s: \(log)")
    }

    public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Stops the card and waits until pcscd has seen it leave (it polls every 400 ms): a card inserted
    /// sooner would look to pcscd like the same card still powered, with its protocol already chosen.
    public func stop() {
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
