import Foundation
import GatewayClient
import NIOCore
import NIOPosix
import Provisioning
import Testing
import WireProtocol

/// What an operator sees: bind failures, two gateways on one host, the server certificate's names; and a
/// revoked terminal's malformed frame over a real connection.
@Suite("Server operations", .serialized)
struct ServerOperationsTests {
    /// Runs `gateway ARGUMENTS` and waits for it to end, at most `timeout` (then kills it and says so).
    static func runGateway(_ arguments: [String], logPath: String, timeout: Duration = .seconds(60)) throws -> (status: Int32?, output: String) {
        let (process, _) = try GatewayProcess.launch(arguments, logPath: logPath)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { usleep(20_000) }
        let hung = process.isRunning
        if hung { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return (hung ? nil : process.terminationStatus, output)
    }

    @Test("two gateways on one host start (metrics on any free port, printed); a taken port is named, the exit is clean")
    func bindErrorsAndTwoGateways() async throws {
        let first = try GatewayProcess.start("bind-a")
        defer { first.remove() }
        let second = try GatewayProcess.start("bind-b")
        defer { second.remove() }
        func metricsPort(_ log: String) -> Int? {
            log.split(separator: "\n").first { $0.hasPrefix("metrics on http://127.0.0.1:") }
                .flatMap { $0.split(separator: ":").last?.split(separator: "/").first }.flatMap { Int($0) }
        }
        let metricsPorts = [metricsPort(first.log), metricsPort(second.log)]
        #expect(metricsPorts.allSatisfy { $0 != nil } && metricsPorts[0] != metricsPorts[1], "\(metricsPorts)")

        // The gateway port taken by the first gateway.
        let clash = try Self.runGateway(["serve", "--dir", second.directory, "--port", "\(first.port)"],
                                        logPath: second.directory + "/clash.log")
        #expect(clash.status != nil, "a failed bind must not hang")
        #expect(clash.status != 0)
        #expect(clash.output.contains("cannot listen on 127.0.0.1:\(first.port): Address already in use"), "\(clash.output)")
        #expect(clash.output.contains("Address already in use"), "\(clash.output)")
        #expect(!clash.output.contains("gateway ready"))

        // The metrics port taken: named too, and the gateway's own listener is not left behind.
        let taken = try #require(metricsPorts[0])
        let free = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let freePort = free.localAddress!.port!
        try await free.close()
        let metricsClash = try Self.runGateway(["serve", "--dir", second.directory, "--port", "\(freePort)", "--metrics-port", "\(taken)"],
                                               logPath: second.directory + "/clash-metrics.log")
        #expect(metricsClash.status != nil && metricsClash.status != 0)
        #expect(metricsClash.output.contains("cannot listen on 127.0.0.1:\(taken) (metrics)"), "\(metricsClash.output)")
        let rebind = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: freePort).get()
        try await rebind.close()

        #expect(first.stop() == 0)
        #expect(second.stop() == 0)
    }

    @Test("gateway demo --server-name: terminals reach the gateway by that name, not by another")
    func serverNames() async throws {
        let gateway = try GatewayProcess.start("names", demoArguments: ["--server-name", "gateway.example.fr", "--server-name", "192.0.2.5"])
        defer { gateway.remove() }
        let (terminal, _) = gateway.terminals
        let named = try await GatewayConnection.connect(gateway.credentials(terminal), group: MultiThreadedEventLoopGroup.singleton,
                                                        serverHostname: "gateway.example.fr")
        #expect(try await named.send(json(#"{"type":"echo","id":"n"}"#)).code == "00")
        await named.close()
        // By another name the client's hostname check fails. Python's `ssl` checks the name strictly; NIOSSL's
        // client would also accept a certificate that names the IP address it connected to (127.0.0.1 here).
        let credentials = gateway.credentials(terminal)
        let script = """
        import socket, ssl, sys
        context = ssl.create_default_context(cafile=sys.argv[1])
        context.load_cert_chain(sys.argv[2], sys.argv[3])
        for name in ["gateway.example.fr", "elsewhere.example.fr"]:
            try:
                context.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[4])), timeout=5), server_hostname=name).close()
                print(name, "accepted")
            except ssl.SSLCertVerificationError as error:
                print(name, "refused:", error.verify_message)
        """
        let python = try GatewayProcess.run(["/usr/bin/python3", "-c", script, credentials.caPath, credentials.certificatePath,
                                             credentials.keyPath, "\(gateway.port)"])
        #expect(python.output.contains("gateway.example.fr accepted"), "\(python.output)")
        #expect(python.output.contains("elsewhere.example.fr refused: Hostname mismatch"), "\(python.output)")
        let pem = try String(contentsOfFile: gateway.directory + "/certs/server.pem", encoding: .utf8)
        let text = try GatewayProcess.run(["/usr/bin/openssl", "x509", "-noout", "-ext", "subjectAltName"]
                                          + ["-in", gateway.directory + "/certs/server.pem"]).output
        #expect(!pem.isEmpty)
        for name in ["DNS:localhost", "DNS:gateway.example.fr", "IP Address:127.0.0.1", "IP Address:192.0.2.5"] {
            #expect(text.contains(name), "\(text)")
        }
        #expect(gateway.stop() == 0)
    }

    @Test("a revoked terminal's malformed frame on its open connection: 58, then closed")
    func revokedMalformedFrame() async throws {
        let gateway = try await RunningGateway.start("revoked-frame")
        let connection = try await gateway.connect("T001")
        _ = try Operator(directory: gateway.directory).revokeTerminal(id: "T001")
        let answer = try await connection.sendRaw(Array("{not json".utf8)).get()
        let parsed = try JSONValue.parse(Array(answer.readableBytesView))
        #expect(parsed.code == "58")
        #expect(await connection.closes(within: .seconds(5)))
        await gateway.stop()
    }
}
