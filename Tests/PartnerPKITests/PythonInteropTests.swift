import Foundation
import PartnerPKI
import Testing

/// OpenSSL, through Python's `ssl` module, as a second opinion on what this module writes.
@Suite("Interoperability with Python's ssl (OpenSSL)")
struct PythonInteropTests {
    static let loadScript = """
        import ssl, sys
        ca, cert, key = sys.argv[1:4]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_cert_chain(cert, key)
        ctx.load_verify_locations(ca)
        print("loaded")
        """

    /// A real mutual TLS 1.3 handshake: a server with the server certificate that requires a client certificate
    /// from the CA, and a client with the terminal certificate checking the server for `localhost` / 127.0.0.1.
    /// Prints the client CN and O the server saw, or the error.
    static let handshakeScript = """
        import socket, ssl, sys, threading
        ca, server_cert, server_key, client_cert, client_key, hostname = sys.argv[1:7]
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        sctx.minimum_version = ssl.TLSVersion.TLSv1_3
        sctx.load_cert_chain(server_cert, server_key)
        sctx.load_verify_locations(ca)
        sctx.verify_mode = ssl.CERT_REQUIRED
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        seen = {}
        def serve():
            conn, _ = listener.accept()
            try:
                with sctx.wrap_socket(conn, server_side=True) as tls:
                    subject = dict(x[0] for x in tls.getpeercert()["subject"])
                    seen["peer"] = subject
                    tls.sendall(b"ok")
            except Exception as e:
                seen["error"] = repr(e)
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        cctx.load_verify_locations(ca)
        cctx.load_cert_chain(client_cert, client_key)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                with cctx.wrap_socket(raw, server_hostname=hostname) as tls:
                    data = tls.recv(2)
        except Exception as e:
            t.join(10)
            print("client error:", repr(e), "server:", seen.get("error"))
            sys.exit(2)
        t.join(10)
        if "peer" not in seen or data != b"ok":
            print("server error:", seen.get("error"))
            sys.exit(3)
        print("peer CN=%s O=%s" % (seen["peer"]["commonName"], seen["peer"]["organizationName"]))
        """

    struct Environment {
        let dir: TemporaryDirectory
        let ca: PartnerCA

        init() throws {
            dir = try TemporaryDirectory()
            ca = try PartnerCA.create()
            try ca.write(certificatePath: dir.file("ca.pem"), keyPath: dir.file("ca.key"))
            try ca.issueServerCertificate(commonName: "Génération #HDF gateway")
                .write(certificatePath: dir.file("server.pem"), keyPath: dir.file("server.key"))
            try ca.issueTerminalCertificate(terminalID: "T001", partnerID: "P001")
                .write(certificatePath: dir.file("T001.pem"), keyPath: dir.file("T001.key"))
        }
    }

    @Test func pythonLoadsTheTerminalChain() throws {
        let env = try Environment()
        defer { env.dir.remove() }
        let result = try runPython(Self.loadScript, [env.dir.file("ca.pem"), env.dir.file("T001.pem"), env.dir.file("T001.key")])
        #expect(result.status == 0, "python said: \(result.output)")
        #expect(result.output.contains("loaded"))
    }

    @Test(arguments: ["localhost", "127.0.0.1"])
    func mutualTLSHandshakeInOpenSSL(hostname: String) throws {
        let env = try Environment()
        defer { env.dir.remove() }
        let d = env.dir
        let result = try runPython(Self.handshakeScript, [
            d.file("ca.pem"), d.file("server.pem"), d.file("server.key"), d.file("T001.pem"), d.file("T001.key"), hostname,
        ])
        #expect(result.status == 0, "python said: \(result.output)")
        #expect(result.output.contains("peer CN=T001 O=P001"))
    }

    @Test func openSSLRefusesATerminalOfAnotherCA() throws {
        let env = try Environment()
        defer { env.dir.remove() }
        let d = env.dir
        try PartnerCA.create().issueTerminalCertificate(terminalID: "T001", partnerID: "P001")
            .write(certificatePath: d.file("evil.pem"), keyPath: d.file("evil.key"))
        let result = try runPython(Self.handshakeScript, [
            d.file("ca.pem"), d.file("server.pem"), d.file("server.key"), d.file("evil.pem"), d.file("evil.key"), "localhost",
        ])
        #expect(result.status != 0, "python said: \(result.output)")
        #expect(!result.output.contains("peer CN="))
    }
}
