import Foundation
import GatewayClient
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Provisioning
import Testing
import WireProtocol

/// `gateway serve` (the debug build) as a process of its own, over a demo environment of its own, so
/// that its resident memory is its own (/proc/PID/status) and its log is what an operator reads.
final class GatewayProcess: @unchecked Sendable {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static var gatewayPath: String { packageRoot.appendingPathComponent(".build/debug/gateway").path }
    /// How long a debug gateway may take to say it is ready on a loaded machine.
    static let readyTimeout: Duration = .seconds(60)

    let directory: String
    let manifest: DemoManifest
    let process: Process
    let port: Int
    let logPath: String

    private init(directory: String, manifest: DemoManifest, process: Process, port: Int, logPath: String) {
        self.directory = directory
        self.manifest = manifest
        self.process = process
        self.port = port
        self.logPath = logPath
    }

    /// Creates the demo with `gateway demo` (and `demoArguments`), then serves it on a free port.
    static func start(_ name: String, demoArguments: [String] = [], serveArguments: [String] = []) throws -> GatewayProcess {
        let directory = NSTemporaryDirectory() + "hdf-gatewaytests-\(name)-\(UUID().uuidString.prefix(8))"
        let demo = try run([gatewayPath, "demo", "--dir", directory] + demoArguments)
        guard demo.status == 0 else { throw Failure("gateway demo failed: \(demo.output)") }
        let manifest = try JSONDecoder().decode(DemoManifest.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/demo.json")))
        let logPath = directory + "/gateway.log"
        let (process, output) = try launch(["serve", "--dir", directory, "--port", "0", "--log-level", "info"] + serveArguments,
                                           logPath: logPath)
        guard let port = waitForReady(process: process, logPath: logPath) else {
            process.terminate()
            process.waitUntilExit()
            throw Failure("gateway serve did not become ready: \(String(decoding: (try? Data(contentsOf: output)) ?? Data(), as: UTF8.self))")
        }
        return GatewayProcess(directory: directory, manifest: manifest, process: process, port: port, logPath: logPath)
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Starts `gateway ARGUMENTS` with stdout and stderr into `logPath`.
    static func launch(_ arguments: [String], logPath: String) throws -> (Process, URL) {
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gatewayPath)
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try log.close()
        return (process, URL(fileURLWithPath: logPath))
    }

    /// Waits for "gateway ready on HOST:PORT" and returns PORT; nil if the process ended or took too long.
    static func waitForReady(process: Process, logPath: String) -> Int? {
        let deadline = ContinuousClock.now + readyTimeout
        while ContinuousClock.now < deadline {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let line = log.split(separator: "\n").first(where: { $0.hasPrefix("gateway ready on ") }),
               let port = line.split(separator: ":").last.flatMap({ Int($0) }) {
                return port
            }
            if !process.isRunning { return nil }
            usleep(50_000)
        }
        return nil
    }

    /// Runs a command to its end; its status and its output (stdout and stderr together).
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// The gateway process's resident set size, in MiB (VmRSS of /proc/PID/status).
    var residentMiB: Double {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return .nan }
        return kib / 1024
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func credentials(_ terminal: String) -> TerminalCredentials {
        TerminalCredentials(host: "127.0.0.1", port: port, caPath: directory + "/" + manifest.gateway.ca,
                            certificatePath: directory + "/certs/\(terminal).pem", keyPath: directory + "/certs/\(terminal).key")
    }

    /// Two terminals of the demo (the first for floods, the second measured).
    var terminals: (flooding: String, measured: String) {
        let ids = manifest.partners.flatMap { $0.terminals.map(\.id) }
        return (ids[0], ids[1])
    }

    /// SIGTERM, then waits for the exit (SIGKILL after `timeout`); the exit status, nil when it had to be killed.
    @discardableResult
    func stop(timeout: Duration = .seconds(30)) -> Int32? {
        if process.isRunning { process.terminate() }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

/// A well-behaved terminal measured while something else loads the gateway: one echo at a time, with a
/// short pause between them, each one's latency and code kept.
struct MeasuredTerminal {
    struct Figures: CustomStringConvertible {
        var latenciesMs: [Double] = []
        var codes: [String] = []
        var failures: [String] = []

        var p99Ms: Double {
            guard !latenciesMs.isEmpty else { return .infinity }
            let sorted = latenciesMs.sorted()
            return sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
        }
        var busyAnswers: Int { codes.filter { $0 == "96" }.count }
        var description: String {
            String(format: "%d requests, p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d answered 96, %d failed", latenciesMs.count,
                   latenciesMs.sorted().dropFirst(latenciesMs.count / 2).first ?? .nan, p99Ms, latenciesMs.max() ?? .nan,
                   busyAnswers, failures.count)
        }
    }

    /// Sends echos on `connection` until `stop()` says so (at least `minimum` of them).
    static func measure(_ connection: GatewayConnection, minimum: Int = 50, pause: Duration = .milliseconds(10),
                        until stop: @Sendable () -> Bool) async -> Figures {
        var figures = Figures()
        var index = 0
        while index < minimum || !stop() {
            let started = ContinuousClock.now
            do {
                let answer = try await connection.send(.object([("type", .string("echo")), ("id", .string("m\(index)"))]),
                                                        timeout: .seconds(10))
                let elapsed = ContinuousClock.now - started
                figures.latenciesMs.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
                figures.codes.append(answer.code ?? "?")
            } catch {
                figures.failures.append("\(error)")
                if !connection.isActive { break }
            }
            index += 1
            try? await Task.sleep(for: pause)
        }
        return figures
    }
}
