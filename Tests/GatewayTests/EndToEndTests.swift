import Foundation
import GatewayClient
import GatewayServer
import HDFDomain
import Ledger
import NIOCore
import NIOPosix
import NIOSSL
import PartnerPKI
import Provisioning
import Testing
import WireProtocol

/// Contract §3 over real sockets: a gateway on an ephemeral port, terminals connecting with mutual TLS.
@Suite("Gateway over mutual TLS (contract §3)", .serialized)
struct EndToEndTests {
    @Test("pipelining: 20 frames in one write come back in request order, a format error in the middle included")
    func pipelining() async throws {
        let gateway = try await RunningGateway.start("pipeline")
        let card = gateway.manifest.card(holding: [.manuels, .transport])
        var reader = CardReader(manifest: gateway.manifest)
        var bytes: [UInt8] = []
        var ids: [JSONValue] = []
        var purchases: Int64 = 0
        var balanceAt: [Int: Int64] = [:]   // what each balance request must see, in request order
        for index in 0..<20 {
            let id = "r\(index)"
            if index == 10 {
                bytes += frame(#"{"type":"purchase","id":"r10","stan":"#)   // cannot be read: 30, id null
                ids.append(.null)
                continue
            }
            switch index % 3 {
            case 0: bytes += frame(#"{"type":"echo","id":"\#(id)"}"#)
            case 1:
                bytes += frame(purchaseRequest(id: id, stan: "PL\(index)", amount: 100, card: reader.tap(card.pan, amount: 100)))
                purchases += 1
            default:
                bytes += frame(#"{"type":"balance","id":"\#(id)","stan":"BL\#(index)","card":\#(reader.tap(card.pan, amount: 0))}"#)
                balanceAt[index] = card.balance(.manuels) - 100 * purchases
            }
            ids.append(.string(id))
        }
        let client = try await RawTLSClient.connect(gateway.credentials("T001"))
        try await client.write(bytes)
        let answers = await client.frames(20)
        #expect(answers.count == 20)
        #expect(answers.map { $0["id"] } == ids)
        #expect(answers[10].code == "30")
        #expect(answers[10].string("type") == "error")
        for (index, answer) in answers.enumerated() where index != 10 {
            #expect(answer.code == "00", "answer \(index): \(answer)")
        }
        for (index, expected) in balanceAt where index < answers.count {
            #expect(answers[index]["wallets"]?.arrayValue?.first { $0.string("code") == "MANUELS" }?.int("balance") == expected,
                    "balance request \(index) sees exactly the purchases before it")
        }

        // The connection is still usable after the format error.
        try await client.write(frame(#"{"type":"echo","id":"after"}"#))
        let after = await client.frames(21)
        #expect(after.last?.string("id") == "after")
        #expect(after.last?.code == "00")
        await client.close()
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels) - 100 * purchases)
        await gateway.stop()
    }

    @Test("pipelining past the per-connection in-flight limit: 300 frames in one write, all answered in order")
    func deepPipelining() async throws {
        let gateway = try await RunningGateway.start("deep")
        let card = gateway.manifest.card(holding: [.manuels, .transport])
        var reader = CardReader(manifest: gateway.manifest)
        var bytes: [UInt8] = []
        for index in 0..<300 {
            if index % 10 == 5 {
                bytes += frame(purchaseRequest(id: "d\(index)", stan: "DP\(index)", amount: 10, card: reader.tap(card.pan, amount: 10)))
            } else {
                bytes += frame(#"{"type":"echo","id":"d\#(index)"}"#)
            }
        }
        let client = try await RawTLSClient.connect(gateway.credentials("T001"))
        try await client.write(bytes)
        let answers = await client.frames(300, timeout: .seconds(30))
        #expect(answers.count == 300)
        #expect(answers.map { $0.string("id") } == (0..<300).map { "d\($0)" })
        #expect(answers.allSatisfy { $0.code == "00" })
        await client.close()
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels) - 300)
        await gateway.stop()
    }

    @Test("a frame header outside 1...65,536 closes the connection", arguments: [UInt32(0), 65_537, 0xFFFF_FFFF])
    func badHeaderCloses(length: UInt32) async throws {
        let gateway = try await RunningGateway.start("header")
        let client = try await RawTLSClient.connect(gateway.credentials("T001"))
        try await client.write(frame(#"{"type":"echo","id":"before"}"#))
        #expect(await client.frames(1).first?.code == "00")
        try await client.write(header(length) + Array(#"{"type":"echo","id":"x"}"#.utf8))
        #expect(await client.closes(within: .seconds(5)))
        #expect(await client.frames(2).count == 1, "nothing answered after the bad header")
        await gateway.stop()
    }

    @Test("a frame of exactly 65,536 bytes is served")
    func largestFrame() async throws {
        let gateway = try await RunningGateway.start("largest")
        let client = try await RawTLSClient.connect(gateway.credentials("T001"))
        let prefix = #"{"type":"echo","id":"big","pad":""#
        let suffix = #""}"#
        let text = prefix + String(repeating: "a", count: 65_536 - prefix.utf8.count - suffix.utf8.count) + suffix
        #expect(text.utf8.count == 65_536)
        try await client.write(frame(text))
        let answer = await client.frames(1).first
        #expect(answer?.code == "00")
        #expect(answer?.string("id") == "big")
        await client.close()
        await gateway.stop()
    }

    enum ClientCertificate: String, CaseIterable, Sendable {
        case none = "no client certificate"
        case selfSigned = "a self-signed certificate with a real terminal's CN and O"
        case otherCA = "a certificate with a real terminal's CN and O from another CA"
        case notEnrolled = "a certificate from the partner CA for T001, but not the one enrolled"
        case unknownTerminal = "a certificate from the partner CA for a terminal never enrolled"
    }

    @Test("nothing is served to a connection without an enrolled terminal's certificate", arguments: ClientCertificate.allCases)
    func tlsRefusals(certificate: ClientCertificate) async throws {
        let gateway = try await RunningGateway.start("tls")
        let credentials = gateway.credentials("T001")
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv13
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(credentials.caPath))
        let scratch = gateway.directory + "/scratch"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        func use(_ credential: IssuedCredential) throws {
            try credential.write(certificatePath: scratch + "/c.pem", keyPath: scratch + "/c.key")
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(scratch + "/c.pem").map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: scratch + "/c.key", format: .pem))
        }
        switch certificate {
        case .none:
            break
        case .selfSigned:
            let openssl = Process()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            openssl.arguments = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                 "-keyout", scratch + "/c.key", "-out", scratch + "/c.pem", "-days", "2", "-subj", "/CN=T001/O=P001",
                                 "-addext", "extendedKeyUsage=clientAuth"]
            openssl.standardOutput = FileHandle.nullDevice
            openssl.standardError = FileHandle.nullDevice
            try openssl.run()
            openssl.waitUntilExit()
            try #require(openssl.terminationStatus == 0, "openssl could not make the certificate")
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(scratch + "/c.pem").map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: scratch + "/c.key", format: .pem))
        case .otherCA:
            try use(try PartnerCA.create().issueTerminalCertificate(terminalID: "T001", partnerID: "P001"))
        case .notEnrolled:
            let ca = try PartnerCA.load(certificatePath: gateway.directory + "/certs/ca.pem", keyPath: gateway.directory + "/certs/ca.key")
            try use(try ca.issueTerminalCertificate(terminalID: "T001", partnerID: "P001"))
        case .unknownTerminal:
            let ca = try PartnerCA.load(certificatePath: gateway.directory + "/certs/ca.pem", keyPath: gateway.directory + "/certs/ca.key")
            try use(try ca.issueTerminalCertificate(terminalID: "T999", partnerID: "P001"))
        }
        var answers: [JSONValue] = []
        if let client = try? await RawTLSClient.connect(port: gateway.port, tls: tls) {
            try? await client.write(frame(#"{"type":"echo","id":"let-me-in"}"#))
            #expect(await client.closes(within: .seconds(5)), "\(certificate.rawValue): the connection stays open")
            answers = await client.frames(1, timeout: .milliseconds(100))
            await client.close()
        }
        #expect(answers.isEmpty, "\(certificate.rawValue): served \(answers)")
        // The real terminal still gets in.
        let real = try await gateway.connect("T001")
        await real.close()
        await gateway.stop()
    }

    @Test("TLS 1.2 without an AEAD cipher is refused, even with an enrolled terminal's certificate")
    func tls12WithoutAEAD() async throws {
        let gateway = try await RunningGateway.start("tls12")
        var tls = try gateway.credentials("T001").tlsConfiguration()
        tls.minimumTLSVersion = .tlsv1
        tls.maximumTLSVersion = .tlsv12
        tls.cipherSuites = "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:AES128-SHA"
        var answers: [JSONValue] = []
        if let client = try? await RawTLSClient.connect(port: gateway.port, tls: tls) {
            try? await client.write(frame(#"{"type":"echo","id":"old"}"#))
            #expect(await client.closes(within: .seconds(5)))
            answers = await client.frames(1, timeout: .milliseconds(100))
            await client.close()
        }
        #expect(answers.isEmpty)
        await gateway.stop()
    }

    @Test("a revoked terminal: its next request on an open connection is answered 58 and the connection closed; new handshakes fail")
    func revokedTerminal() async throws {
        let gateway = try await RunningGateway.start("revoke")
        let connection = try await gateway.connect("T003")
        let other = try await gateway.connect("T002")
        _ = try Operator(directory: gateway.directory).revokeTerminal(id: "T003")
        let answer = try await connection.ask(#"{"type":"echo","id":"after-revocation"}"#)
        #expect(answer.code == "58")
        #expect(answer.string("id") == "after-revocation")
        #expect(await connection.closes(within: .seconds(5)))

        await #expect(throws: (any Error).self) {
            let again = try await GatewayConnection.connect(gateway.credentials("T003"), group: MultiThreadedEventLoopGroup.singleton)
            defer { Task { await again.close() } }
            _ = try await again.ask(#"{"type":"echo","id":"again"}"#, timeout: .seconds(5))
        }
        // The partner's other terminal is not affected.
        #expect(try await other.ask(#"{"type":"echo","id":"still-here"}"#).code == "00")
        await other.close()
        await gateway.stop()
    }

    @Test("the operator's changes count at once: a load, a blocked card, a new partner and its new terminal")
    func operatorChangesAtOnce() async throws {
        let gateway = try await RunningGateway.start("operator")
        let card = gateway.manifest.card(holding: [.manuels, .transport])
        var reader = CardReader(manifest: gateway.manifest)
        let connection = try await gateway.connect("T005")   // hébergement only: this card has no such wallet
        #expect(try await connection.ask(purchaseRequest(stan: "O1", amount: 100, card: reader.tap(card.pan, amount: 100))).code == "57")
        let operatorTool = try Operator(directory: gateway.directory)
        _ = try operatorTool.loadWallet(pan: card.panValue, code: .hebergement, amountCents: 5000, validMonths: nil)
        #expect(try await connection.ask(purchaseRequest(stan: "O2", amount: 100, card: reader.tap(card.pan, amount: 100))).code == "00")
        _ = try operatorTool.setCardStatus(pan: card.panValue, status: .stolen)
        #expect(try await connection.ask(purchaseRequest(stan: "O3", amount: 100, card: reader.tap(card.pan, amount: 100))).code == "43")
        await connection.close()

        // A new partner and its new terminal work without a restart.
        _ = try operatorTool.addPartner(PartnerRecord(id: "P009", name: "Cycles du Vieux-Lille", category: .transport, city: "Lille",
                                                      acceptsPrepayment: false, acceptsOnline: false, wallets: [.transport]))
        _ = try operatorTool.enrollTerminal(id: "T009", partnerID: "P009")
        let newcomer = try await gateway.connect("T009")
        let other = gateway.manifest.fundedCards.first { $0.pan != card.pan && $0.wallets.contains { $0.code == "TRANSPORT" } }!
        let bought = try await newcomer.ask(purchaseRequest(stan: "N1", amount: 250, card: reader.tap(other.pan, amount: 250)))
        #expect(bought.code == "00")
        #expect(bought.string("wallet") == "TRANSPORT")
        await newcomer.close()
        await gateway.stop()
    }

    @Test("16 connections redeem one voucher at once: exactly one 00, the rest A1")
    func voucherRace() async throws {
        let gateway = try await RunningGateway.start("voucher-race")
        let card = gateway.manifest.card(holding: [.manuels, .transport])
        let ledger = try Ledger.open(directory: gateway.directory, actor: "beneficiary")
        let code = try ledger.write { tx in
            try tx.prepay(pan: card.panValue, partnerID: "P002", wallet: .manuels, amountCents: 4000).code.grouped
        }
        var connections: [GatewayConnection] = []
        for index in 0..<16 { connections.append(try await gateway.connect(index % 2 == 0 ? "T002" : "T003")) }
        let codes = try await withThrowingTaskGroup(of: String?.self) { group in
            for (index, connection) in connections.enumerated() {
                group.addTask {
                    try await connection.ask(#"{"type":"voucher.redeem","id":"v\#(index)","stan":"RACE\#(index)","code":"\#(code)"}"#).code
                }
            }
            var codes: [String?] = []
            for try await code in group { codes.append(code) }
            return codes
        }
        #expect(codes.filter { $0 == "00" }.count == 1)
        #expect(codes.filter { $0 == "A1" }.count == 15, "\(codes)")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels) - 4000)
        for connection in connections { await connection.close() }
        await gateway.stop()
    }

    @Test("8 connections buy at once with one card: only 00, 51 or 63; the wallet never goes below zero")
    func concurrentPurchasesOnOneWallet() async throws {
        let gateway = try await RunningGateway.start("one-wallet")
        let card = gateway.manifest.card(holding: [.manuels, .transport])
        let start = card.balance(.manuels)
        let amount: Int64 = 3000
        // The card's requests are computed in ATC order first, then sent all at once.
        var reader = CardReader(manifest: gateway.manifest)
        let requests = (0..<8).map { index in
            purchaseRequest(id: "c\(index)", stan: "ONE\(index)", amount: amount, card: reader.tap(card.pan, amount: amount))
        }
        var connections: [GatewayConnection] = []
        for index in 0..<8 { connections.append(try await gateway.connect(index % 2 == 0 ? "T002" : "T003")) }
        let codes = try await withThrowingTaskGroup(of: String?.self) { group in
            for (connection, request) in zip(connections, requests) {
                group.addTask { try await connection.ask(request).code }
            }
            var codes: [String?] = []
            for try await code in group { codes.append(code) }
            return codes
        }
        #expect(codes.allSatisfy { ["00", "51", "63"].contains($0) }, "\(codes)")
        let approved = Int64(codes.filter { $0 == "00" }.count)
        #expect(approved >= 1)
        #expect(approved <= start / amount)
        let left = try gateway.available(card.pan, .manuels)
        #expect(left == start - amount * approved)
        #expect(left >= 0)
        for connection in connections { await connection.close() }
        await gateway.stop()
    }

    @Test("restart: approved purchases and the stan memory survive; a retransmission after restart gets the first response")
    func restartDurability() async throws {
        let gateway = try await RunningGateway.start("restart")
        let card = gateway.manifest.card(holding: [.manuels, .transport])
        var reader = CardReader(manifest: gateway.manifest)
        let tapped = reader.tap(card.pan, amount: 2500)
        let before = try await gateway.connect("T001")
        let first = try await before.ask(purchaseRequest(id: "before", stan: "DUR1", amount: 2500, card: tapped))
        #expect(first.code == "00")
        #expect(try await before.ask(#"{"type":"reverse","id":"r","of":"DUR2"}"#).code == "00")
        await before.close()

        try await gateway.restart()

        let after = try await gateway.connect("T001")
        let again = try await after.ask(purchaseRequest(id: "after", stan: "DUR1", amount: 2500, card: tapped))
        #expect(again == first.withID("after"))
        let late = try await after.ask(purchaseRequest(stan: "DUR2", amount: 100, card: reader.tap(card.pan, amount: 100)))
        #expect(late.code == "05")
        let status = try await after.ask(#"{"type":"status","id":"s","of":"DUR1"}"#)
        #expect(status["original"] == first)
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels) - 2500)
        await after.close()
        await gateway.stop()
    }

    @Test("96 system error when the gateway cannot take the request; nothing was changed")
    func systemError() async throws {
        var full = RunningGateway.sharedRunLimits
        full.maximumQueuedRequests = 0
        let gateway = try await RunningGateway.start("busy", limits: full)
        let card = gateway.manifest.card(holding: [.manuels, .transport])
        var reader = CardReader(manifest: gateway.manifest)
        let request = purchaseRequest(stan: "BUSY1", amount: 900, card: reader.tap(card.pan, amount: 900))
        let connection = try await GatewayConnection.connect(gateway.credentials("T001"), group: MultiThreadedEventLoopGroup.singleton)
        let busy = try await connection.ask(request)
        #expect(busy.code == "96")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels))
        await connection.close()

        // Nothing was remembered either: the same request, once the gateway can take it, is decided afresh.
        try await gateway.restart(limits: ServerLimits())
        let retry = try await gateway.connect("T001")
        #expect(try await retry.ask(request).code == "00")
        #expect(try gateway.available(card.pan, .manuels) == card.balance(.manuels) - 900)
        await retry.close()
        await gateway.stop()
    }

    @Test("an idle connection is closed after the idle timeout (60 s or more by default)")
    func idleTimeout() async throws {
        #expect(ServerLimits().idleTimeout >= .seconds(60))
        var limits = RunningGateway.sharedRunLimits
        limits.idleTimeout = .seconds(1)
        let gateway = try await RunningGateway.start("idle", limits: limits)
        let connection = try await gateway.connect("T001")
        // Busy for a while: requests keep it open.
        for index in 0..<3 {
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await connection.ask(#"{"type":"echo","id":"busy\#(index)"}"#).code == "00")
        }
        #expect(await connection.closes(within: .seconds(4)))
        await gateway.stop()
    }

    @Test("a connection that does not finish its TLS handshake is closed")
    func handshakeTimeout() async throws {
        var limits = ServerLimits()
        limits.handshakeTimeout = .milliseconds(500)
        let gateway = try await RunningGateway.start("handshake", limits: limits)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: gateway.port).get()
        #expect(await waitUntil(.seconds(4)) { !channel.isActive })
        try? await channel.close()
        await gateway.stop()
    }

    @Test("a connection whose handshake completed outlives the handshake timeout while it is used")
    func handshakeTimeoutSparesEstablishedConnections() async throws {
        var limits = ServerLimits()
        limits.handshakeTimeout = .milliseconds(300)
        let gateway = try await RunningGateway.start("handshake-done", limits: limits)
        let connection = try await gateway.connect("T001")
        for index in 0..<4 {
            try await Task.sleep(for: .milliseconds(250))
            #expect(try await connection.ask(#"{"type":"echo","id":"alive\#(index)"}"#).code == "00")
        }
        await gateway.stop()
    }

    @Test("per-terminal connection limit: one connection more than allowed is closed")
    func perTerminalLimit() async throws {
        var limits = RunningGateway.sharedRunLimits
        limits.maximumConnectionsPerTerminal = 2
        let gateway = try await RunningGateway.start("per-terminal", limits: limits)
        let first = try await gateway.connect("T001")
        let second = try await gateway.connect("T001")
        let third = try await GatewayConnection.connect(gateway.credentials("T001"), group: MultiThreadedEventLoopGroup.singleton)
        await #expect(throws: (any Error).self) {
            _ = try await third.ask(#"{"type":"echo","id":"third"}"#, timeout: .seconds(5))
        }
        #expect(await third.closes(within: .seconds(5)))
        // Other terminals are not counted against T001; the first two still work.
        let other = try await gateway.connect("T002")
        #expect(try await first.ask(#"{"type":"echo","id":"1"}"#).code == "00")
        #expect(try await second.ask(#"{"type":"echo","id":"2"}"#).code == "00")
        // Once one closes, T001 may connect again.
        await second.close()
        var reconnected = false
        for _ in 0..<20 where !reconnected {
            try await Task.sleep(for: .milliseconds(100))
            if let connection = try? await GatewayConnection.connect(gateway.credentials("T001"), group: MultiThreadedEventLoopGroup.singleton) {
                reconnected = (try? await connection.ask(#"{"type":"echo","id":"again"}"#, timeout: .seconds(2)))?.code == "00"
                await connection.close()
            }
        }
        #expect(reconnected)
        await first.close()
        await other.close()
        await gateway.stop()
    }
}
