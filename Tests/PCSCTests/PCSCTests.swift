import CardApplication
import CPCSCLite
import Foundation
import HDFDomain
@testable import PCSC
import Testing
@testable import VirtualCard

/// The contract's test card (section 4).
let testPAN = "9250123456789013"
let testKey = "000102030405060708090a0b0c0d0e0f"

@Suite("PC/SC layer and virtual card, without pcscd")
struct PCSCUnitTests {
    @Test func everyErrorSaysWhatHappened() {
        let cases: [(PCSCError, String)] = [
            (.serviceNotRunning, "pcscd) is not running"),
            (.noReaders, "no smart card reader"),
            (.unknownReader("X", available: ["A", "B"]), "no reader named 'X' (readers: 'A', 'B')"),
            (.noCard(reader: "A"), "no card in reader 'A'"),
            (.timedOut(milliseconds: 1500), "within 1.5 s"),
            (.cardRemoved, "removed"),
            (.failure(function: "SCardTransmit", code: 0x8010_0016), "SCardTransmit failed"),
        ]
        for (error, text) in cases { #expect(error.description.contains(text), "\(error)") }
        #expect(PCSCError.failure(function: "F", code: 0x8010_0016).description.contains("0x80100016"))
    }

    @Test func returnCodesMapToErrors() {
        #expect(PCSCError.from(0, function: "f") == nil)
        #expect(PCSCError.from(LONG(0x8010_001D), function: "f") == .serviceNotRunning)
        #expect(PCSCError.from(LONG(0x8010_001E), function: "f") == .serviceNotRunning)  // service stopped
        #expect(PCSCError.from(LONG(0x8010_002E), function: "f") == .noReaders)
        #expect(PCSCError.from(LONG(0x8010_0069), function: "f") == .cardRemoved)
        #expect(PCSCError.from(LONG(0x8010_0068), function: "f") == .cardReset)
        #expect(PCSCError.from(LONG(0x8010_000B), function: "f") == .sharingViolation)
        #expect(PCSCError.from(LONG(0x8010_0016), function: "SCardTransmit") == .failure(function: "SCardTransmit", code: 0x8010_0016))
    }

    @Test func readerListsAreSplitOnNUL() {
        let chars: [CChar] = Array("A 00 00\0B 00 01\0\0".utf8).map { CChar(bitPattern: $0) }
        #expect(PCSCContext.splitMultiString(chars[...]) == ["A 00 00", "B 00 01"])
    }

    @Test func atrOffersT0ThenT1WithCheckByte() {
        let atr = VirtualCardATR.bytes
        #expect(atr[0] == 0x3B)
        #expect(atr[1] & 0x80 != 0)          // TD1 follows
        #expect(atr[2] == 0x80)              // TD1: T=0, TD2 follows
        #expect(atr[3] == 0x01)              // TD2: T=1
        #expect(Array(atr[4..<(atr.count - 1)]) == Array("HDFGEN1".utf8))
        #expect(atr.dropFirst().reduce(0, ^) == 0)  // TCK: T0 … TCK XOR to 0
    }

    @Test func vpcdMessages() {
        #expect(VPCDMessage.frame([0x04]) == [0x00, 0x01, 0x04])
        #expect(VPCDMessage(payload: [0x04]) == .control(.getATR))
        #expect(VPCDMessage(payload: [0x00]) == .control(.powerOff))
        #expect(VPCDMessage(payload: [0x09]) == .unknownControl(0x09))
        #expect(VPCDMessage(payload: [0x80, 0xCA, 0x00, 0x5A, 0x00]) == .apdu([0x80, 0xCA, 0x00, 0x5A, 0x00]))
    }

    @Test func virtualCardAnswersAndSavesItsATCBeforeAnswering() throws {
        let dir = try Tools.temporaryDirectory("vc-unit")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pan = try PAN(validating: testPAN)
        let state = try ATCStateFile(path: dir + "/card.json")
        let applet = try CardApplet(pan: pan, key: try Hex.decode(testKey), atc: 0)
        let card = VirtualCard(applet: applet, state: state, options: VirtualCardOptions()) { _ in }
        #expect(card.handle(.control(.getATR)) == .reply(VirtualCardATR.bytes))
        #expect(card.handle(.control(.powerOn)) == .none)
        #expect(card.handle(.apdu(CardCommands.select().bytes)) == .reply([0x90, 0x00]))
        let generate = try CardCommands.generateCryptogram(amountCents: 1250, unpredictableNumber: [0xA1, 0xB2, 0xC3, 0xD4])
        #expect(card.handle(.apdu(generate.bytes)) == .reply(try Hex.decode("0001b968a5de768357329000")))
        #expect(try state.load(pan: pan) == 1)
        // A reset deselects the application.
        #expect(card.handle(.control(.reset)) == .none)
        #expect(card.handle(.apdu(CardCommands.getPAN().bytes)) == .reply([0x69, 0x85]))
    }

    @Test func stateFileIsLockedAndBelongsToOneCard() throws {
        let dir = try Tools.temporaryDirectory("vc-state")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pan = try PAN(validating: testPAN)
        let state = try ATCStateFile(path: dir + "/card.json")
        #expect(try state.load(pan: pan) == nil)
        try state.save(pan: pan, atc: 41)
        #expect(try state.load(pan: pan) == 41)
        #expect(throws: ATCStateFile.Failure.self) { try ATCStateFile(path: dir + "/card.json") }
        let other = try PAN(validating: "9250000000000040")
        #expect(throws: ATCStateFile.Failure.self) { try state.load(pan: other) }
    }
}

/// Through pcscd and its vpcd reader "HDF Test VPCD 00 01" (the TerminalTests use 00 00).
@Suite("PC/SC through pcscd with the virtual card", .serialized, .enabled(if: TestPCSCD.enabled, TestPCSCD.skipReason))
struct PCSCReaderTests {
    func startCard(_ name: String, extra: [String] = []) throws -> (VirtualCardProcess, String) {
        try TestPCSCD.check()
        let dir = try Tools.temporaryDirectory(name)
        let card = try VirtualCardProcess(port: TestPCSCD.port, pan: testPAN, key: testKey, statePath: dir + "/card.json", extra: extra)
        return (card, dir)
    }

    @Test func listsTheTestReaders() throws {
        try TestPCSCD.check()
        let context = try PCSCContext()
        defer { context.release() }
        let readers = try context.readers()
        #expect(readers.contains("\(TestPCSCD.readerPrefix) 00 00"))
        #expect(readers.contains(TestPCSCD.reader))
        #expect(context.isValid)
    }

    @Test func waitingOnAnEmptyReaderTimesOut() throws {
        try TestPCSCD.check()
        let context = try PCSCContext()
        defer { context.release() }
        let started = Date()
        #expect(throws: PCSCError.timedOut(milliseconds: 800)) {
            try context.waitForCard(reader: TestPCSCD.reader, timeout: .milliseconds(800))
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed >= 0.7 && elapsed < 3, "waited \(elapsed) s")
        #expect(throws: PCSCError.noCard(reader: TestPCSCD.reader)) {
            try context.connect(reader: TestPCSCD.reader)
        }
        #expect(throws: PCSCError.self) { try context.waitForCard(reader: "No Such Reader", timeout: .milliseconds(10)) }
    }

    @Test func sessionAnswersAsTheContractSays() throws {
        let (card, dir) = try startCard("pcsc-session")
        defer { card.stop(); try? FileManager.default.removeItem(atPath: dir) }
        let context = try PCSCContext()
        defer { context.release() }
        let reader = try context.waitForCard(reader: TestPCSCD.reader, timeout: .seconds(5))
        #expect(reader == TestPCSCD.reader)
        let session = try context.connect(reader: reader, share: .exclusive)
        defer { session.disconnect() }
        #expect(session.activeProtocol == .t1)
        #expect(try session.atr() == VirtualCardATR.bytes)
        #expect(try session.isCardPresent())

        #expect(try session.transmit(CardCommands.getPAN().bytes) == [0x69, 0x85])
        #expect(try session.transmit(CardCommands.select(aid: [0xA0, 0, 0, 0, 3]).bytes) == [0x6A, 0x82])
        #expect(try session.transmit(CardCommands.select().bytes) == [0x90, 0x00])
        #expect(try CardCommands.parseGetPANAnswer(try session.transmit(CardCommands.getPAN().bytes)).digits == testPAN)
        #expect(try session.transmit([0x80, 0xCB, 0x00, 0x5A, 0x00]) == [0x6D, 0x00])
        #expect(try session.transmit([0x90, 0xCA, 0x00, 0x5A, 0x00]) == [0x6E, 0x00])
        // Contract vectors 1 and 2: a new card's first two cryptograms.
        let first = try CardCommands.generateCryptogram(amountCents: 1250, unpredictableNumber: [0xA1, 0xB2, 0xC3, 0xD4])
        #expect(Hex.encode(try session.transmit(first.bytes)) == "0001b968a5de768357329000")
        let second = try CardCommands.generateCryptogram(amountCents: 0, unpredictableNumber: [0, 0, 0, 0])
        #expect(Hex.encode(try session.transmit(second.bytes)) == "0002741a14e3dcf0e15e9000")
        let saved = try String(contentsOfFile: dir + "/card.json", encoding: .utf8)
        #expect(saved.contains("\"atc\": 2"))

        // Restarted, the card goes on from the ATC it saved.
        session.disconnect()
        card.stop()
        let again = try VirtualCardProcess(port: TestPCSCD.port, pan: testPAN, key: testKey, statePath: dir + "/card.json")
        defer { again.stop() }
        let reader2 = try context.waitForCard(reader: TestPCSCD.reader, timeout: .seconds(5))
        let session2 = try context.connect(reader: reader2)
        defer { session2.disconnect() }
        _ = try session2.transmit(CardCommands.select().bytes)
        let next = try CardCommands.parseGenerateCryptogramAnswer(try session2.transmit(second.bytes))
        #expect(next.atc == 3)
    }

    @Test func t0IsOfferedToo() throws {
        let (card, dir) = try startCard("pcsc-t0")
        defer { card.stop(); try? FileManager.default.removeItem(atPath: dir) }
        let context = try PCSCContext()
        defer { context.release() }
        let reader = try context.waitForCard(reader: TestPCSCD.reader, timeout: .seconds(5))
        let session = try context.connect(reader: reader, protocols: .t0)
        defer { session.disconnect() }
        #expect(session.activeProtocol == .t0)
        #expect(try session.transmit(CardCommands.select().bytes) == [0x90, 0x00])
    }

    @Test func removingTheCardIsAnErrorThatSaysSo() throws {
        let (card, dir) = try startCard("pcsc-remove")
        defer { card.stop(); try? FileManager.default.removeItem(atPath: dir) }
        let context = try PCSCContext()
        defer { context.release() }
        let reader = try context.waitForCard(reader: TestPCSCD.reader, timeout: .seconds(5))
        let session = try context.connect(reader: reader)
        #expect(try session.transmit(CardCommands.select().bytes) == [0x90, 0x00])
        card.signal(SIGUSR1)  // pulled out
        try card.waitForLog("removed", timeout: 3)
        #expect(try context.waitForRemoval(reader: reader, timeout: .seconds(3)))
        #expect(throws: PCSCError.cardRemoved) { try session.transmit(CardCommands.getPAN().bytes) }
        #expect(try session.isCardPresent() == false)
        session.disconnect()

        card.signal(SIGUSR2)  // back in: a new session, the application to select again
        try card.waitForLog("inserted", occurrences: 2, timeout: 3)
        _ = try context.waitForCard(reader: reader, timeout: .seconds(5))
        let session2 = try context.connect(reader: reader)
        defer { session2.disconnect() }
        #expect(try session2.transmit(CardCommands.getPAN().bytes) == [0x69, 0x85])
    }

    @Test func aCardTornOutDuringACommandIsRemovedNotMute() throws {
        let (card, dir) = try startCard("pcsc-tear", extra: ["--tear-at-apdu", "2"])
        defer { card.stop(); try? FileManager.default.removeItem(atPath: dir) }
        let context = try PCSCContext()
        defer { context.release() }
        let reader = try context.waitForCard(reader: TestPCSCD.reader, timeout: .seconds(5))
        let session = try context.connect(reader: reader)
        defer { session.disconnect() }
        #expect(try session.transmit(CardCommands.select().bytes) == [0x90, 0x00])
        let generate = try CardCommands.generateCryptogram(amountCents: 500, unpredictableNumber: [1, 2, 3, 4])
        #expect(throws: PCSCError.cardRemoved) { try session.transmit(generate.bytes) }
        // The card counted that cryptogram even though its answer never left it.
        let saved = try String(contentsOfFile: dir + "/card.json", encoding: .utf8)
        #expect(saved.contains("\"atc\": 1"))
    }

    /// An independent client: Debian's python3-pyscard on /usr/bin/python3, over the same pcscd.
    @Test func pyscardReadsTheVirtualCard() throws {
        try TestPCSCD.check()
        let python = "/usr/bin/python3"
        let probe = try Tools.run(python, ["-c", "import smartcard"], timeout: 20)
        try #require(probe.status == 0, "python3-pyscard is not installed for /usr/bin/python3 (apt-get install python3-pyscard): \(probe.stderr)")
        let (card, dir) = try startCard("pcsc-pyscard")
        defer { card.stop(); try? FileManager.default.removeItem(atPath: dir) }
        // pcscd sees the card within about half a second.
        let context = try PCSCContext()
        _ = try context.waitForCard(reader: TestPCSCD.reader, timeout: .seconds(5))
        context.release()
        let script = Tools.packageRoot.appendingPathComponent("Tests/PCSCTests/pyscard_check.py").path
        let result = try Tools.run(python, [script, TestPCSCD.reader, testPAN, testKey], timeout: 30)
        try #require(result.status == 0, "pyscard_check.py failed: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["atr"] as? String == Hex.encode(VirtualCardATR.bytes))
        #expect(object["pan"] as? String == testPAN)
        let exchanges = try #require(object["exchanges"] as? [[String: Any]])
        func exchange(_ name: String) -> [String: Any] { exchanges.first { $0["name"] as? String == name } ?? [:] }
        #expect(exchange("get pan before select")["sw"] as? String == "6985")
        #expect(exchange("select other aid")["sw"] as? String == "6a82")
        #expect(exchange("select")["sw"] as? String == "9000")
        #expect(exchange("get pan")["data"] as? String == Hex.encode(Array(testPAN.utf8)))
        #expect(exchange("unknown ins")["sw"] as? String == "6d00")
        #expect(exchange("unknown cla")["sw"] as? String == "6e00")
        #expect(exchange("wrong length")["sw"] as? String == "6700")
        for name in ["generate 1250", "generate 0"] {
            let generated = exchange(name)
            #expect(generated["sw"] as? String == "9000")
            let data = generated["data"] as? String ?? ""
            #expect(data.count == 20)
            #expect(String(data.dropFirst(4)) == generated["expected_cryptogram"] as? String, "\(name): \(generated)")
        }
        // A new card: the contract's vectors, computed by Python's hmac.
        #expect(exchange("generate 1250")["data"] as? String == "0001b968a5de76835732")
        #expect(exchange("generate 0")["data"] as? String == "0002741a14e3dcf0e15e")
    }
}
