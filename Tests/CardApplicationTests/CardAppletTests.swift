import CardApplication
import HDFDomain
import Testing

func hex(_ text: String) -> [UInt8] { try! Hex.decode(text) }
func sw(_ response: [UInt8]) -> StatusWord {
    StatusWord(sw1: response[response.count - 2], sw2: response[response.count - 1])
}

func newApplet(atc: UInt16 = 0) -> CardApplet {
    try! CardApplet(pan: contractPAN, key: contractKey, atc: atc)
}

func selected(atc: UInt16 = 0) -> CardApplet {
    var applet = newApplet(atc: atc)
    #expect(applet.process(CardCommands.select().bytes) == [0x90, 0x00])
    return applet
}

@Suite("CardApplet (contract §4)")
struct CardAppletTests {
    @Test func fullSessionReproducesContractVectors() throws {
        var applet = selected()
        #expect(applet.isSelected)
        let pan = try CardCommands.parseGetPANAnswer(applet.process(CardCommands.getPAN().bytes))
        #expect(pan == contractPAN)

        let first = try CardCommands.parseGenerateCryptogramAnswer(applet.process(
            CardCommands.generateCryptogram(amountCents: 1250, currency: 978, unpredictableNumber: hex("a1b2c3d4")).bytes))
        #expect(first.atc == 1)
        #expect(Hex.encode(first.cryptogram) == "b968a5de76835732")
        #expect(applet.atc == 1)

        let second = try CardCommands.parseGenerateCryptogramAnswer(applet.process(
            CardCommands.generateCryptogram(amountCents: 0, currency: 978, unpredictableNumber: [0, 0, 0, 0]).bytes))
        #expect(second.atc == 2)
        #expect(Hex.encode(second.cryptogram) == "741a14e3dcf0e15e")
        #expect(applet.atc == 2)

        // The raw answer layout: ATC BE2, cryptogram 8, 90 00.
        let raw = applet.process(hex("80ae00000e000000000000000003d20000000000"))
        #expect(raw.count == 12)
        #expect(Array(raw[0..<2]) == [0x00, 0x03])
        #expect(Array(raw[10...]) == [0x90, 0x00])
        let request = try CardRequest(pan: contractPAN, atc: 3, unpredictableNumber: [0, 0, 0, 0],
                                      cryptogram: Array(raw[2..<10]))
        #expect(request.verify(key: contractKey, amountCents: 0))
    }

    @Test func generateWithoutLeIsAccepted() {
        var applet = selected()
        let response = applet.process(hex("80ae00000e00000000000004e203d2a1b2c3d4"))
        #expect(Hex.encode(response) == "0001b968a5de768357329000")
    }

    @Test func selectOfAnotherAIDIsFileNotFound() {
        var applet = newApplet()
        let other = CardCommands.select(aid: [0xA0, 0x00, 0x00, 0x00, 0x04, 0x10, 0x10])
        #expect(sw(applet.process(other.bytes)) == .fileNotFound)
        #expect(!applet.isSelected)
        // A failed SELECT leaves an existing selection in place.
        var chosen = selected()
        #expect(sw(chosen.process(other.bytes)) == .fileNotFound)
        #expect(chosen.isSelected)
        // A prefix of our AID is another AID.
        #expect(sw(chosen.process(CardCommands.select(aid: Array(CardCommands.aid.prefix(7))).bytes)) == .fileNotFound)
    }

    @Test func commandsBeforeSelectAreConditionsNotSatisfied() throws {
        var applet = newApplet()
        #expect(applet.process(CardCommands.getPAN().bytes) == [0x69, 0x85])
        let generate = try CardCommands.generateCryptogram(amountCents: 1, unpredictableNumber: [1, 2, 3, 4])
        #expect(applet.process(generate.bytes) == [0x69, 0x85])
        #expect(applet.atc == 0)
    }

    @Test func resetRequiresSelectAgain() {
        var applet = selected()
        applet.reset()
        #expect(applet.process(CardCommands.getPAN().bytes) == [0x69, 0x85])
    }

    @Test(arguments: [
        "", "00", "00a4", "00a404", // fewer than 4 bytes
        "00a4040008f048444647454e", // Lc 8, 7 bytes follow
        "00a4040002f0484446", // Lc 2, 3 bytes after Lc + Le
        "00a4040000000108", // extended length
        "00a40400", "00a4040000", // SELECT with no AID
    ])
    func wrongLengthBeforeSelect(hexAPDU: String) {
        var applet = newApplet()
        #expect(applet.process(hex(hexAPDU)) == [0x67, 0x00])
    }

    @Test(arguments: [
        "80ae00000d000000000000000003d2000000", // 13 data bytes
        "80ae00000f000000000000000003d2000000000000", // 15 data bytes, no Le
        "80ae0000", "80ae000000", // no data
        "80ae00000e000000000000000003d20000000009", // Le 9 < 10 answer bytes
        "80ca005a0100", // GET PAN with data
        "80ca005a0f", // GET PAN with Le 15 < 16
        "80ca005a01", // GET PAN Le 1
        "80ae00000e000000000000000003d2000000", // Lc 14, 13 follow
    ])
    func wrongLengthAfterSelect(hexAPDU: String) {
        var applet = selected()
        #expect(applet.process(hex(hexAPDU)) == [0x67, 0x00])
        #expect(applet.atc == 0)
    }

    @Test(arguments: ["80a4040008f048444647454e3100", "8000000000", "80b2000000", "00ca005a00", "00ae000000", "00b0000000", "80ca"])
    func unknownInstructionIsINSNotSupported(hexAPDU: String) {
        var applet = selected()
        let bytes = hex(hexAPDU)
        // Fewer than 4 bytes is a length error whatever the INS.
        #expect(applet.process(bytes) == (bytes.count < 4 ? [0x67, 0x00] : [0x6D, 0x00]))
    }

    @Test(arguments: ["84a4040008f048444647454e3100", "ffca005a00", "01ae000000", "90ca005a00", "0c000000"])
    func unknownClassIsCLANotSupported(hexAPDU: String) {
        var applet = selected()
        #expect(applet.process(hex(hexAPDU)) == [0x6E, 0x00])
    }

    @Test func classAndInstructionAreCheckedBeforeSelection() {
        var applet = newApplet()
        #expect(applet.process(hex("90ca005a00")) == [0x6E, 0x00])
        #expect(applet.process(hex("80b2000000")) == [0x6D, 0x00])
    }

    @Test func parameterErrors() {
        var applet = selected()
        #expect(applet.process(hex("80ca015a00")) == [0x6A, 0x88]) // GET DATA of another tag
        #expect(applet.process(hex("80ca9f3600")) == [0x6A, 0x88])
        #expect(applet.process(hex("80ae01000e000000000000000003d20000000000")) == [0x6A, 0x86])
        #expect(applet.process(hex("00a4000008f048444647454e3100")) == [0x6A, 0x86])
        #expect(applet.atc == 0)
    }

    @Test func atcExhaustion() throws {
        var applet = selected(atc: 0xFFFE)
        let command = try CardCommands.generateCryptogram(amountCents: 4999, unpredictableNumber: hex("01020304")).bytes
        // The last cryptogram the card can make carries ATC FFFF.
        let last = try CardCommands.parseGenerateCryptogramAnswer(applet.process(command))
        #expect(last.atc == 0xFFFF)
        #expect(applet.atc == 0xFFFF)
        #expect(applet.process(command) == [0x69, 0x83])
        #expect(applet.atc == 0xFFFF)
        #expect(applet.process(command) == [0x69, 0x83])
        #expect(applet.atc == 0xFFFF)
        // Everything else still works.
        #expect(sw(applet.process(CardCommands.getPAN().bytes)) == .success)
    }

    @Test func projectVector4OnTheApplet() throws {
        let pan = try PAN(validating: "9250000000000040")
        let key = try CardKeyDerivation.deriveCardKey(masterKey: Array(0..<32), pan: pan)
        var applet = try CardApplet(pan: pan, key: key, atc: 0xFFFE)
        _ = applet.process(CardCommands.select().bytes)
        let answer = try CardCommands.parseGenerateCryptogramAnswer(applet.process(
            CardCommands.generateCryptogram(amountCents: 4999, currency: 978, unpredictableNumber: hex("01020304")).bytes))
        #expect(answer.atc == 0xFFFF)
        #expect(Hex.encode(answer.cryptogram) == "7d46dce2d5d5221a")
    }

    @Test func errorsDoNotMoveTheATC() {
        var applet = selected(atc: 41)
        _ = applet.process(hex("80ae00000d000000000000000003d2000000"))
        _ = applet.process(hex("80ae01000e000000000000000003d20000000000"))
        #expect(applet.atc == 41)
        _ = applet.process(hex("80ae00000e000000000000000003d20000000000"))
        #expect(applet.atc == 42)
    }

    @Test func rejectsKeyOfWrongLength() {
        #expect(throws: Cryptogram.Invalid.keyLength(32)) {
            try CardApplet(pan: contractPAN, key: Array(repeating: 1, count: 32))
        }
    }

    @Test func randomCommandsNeverCrashAndAnswerAStatus() {
        var generator = SystemRandomNumberGenerator()
        var applet = selected()
        for _ in 0..<5000 {
            let count = Int.random(in: 0...24, using: &generator)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if count > 0, Bool.random(using: &generator) { bytes[0] = [0x00, 0x80][Int.random(in: 0...1, using: &generator)] }
            if count > 1, Bool.random(using: &generator) { bytes[1] = [0xA4, 0xCA, 0xAE][Int.random(in: 0...2, using: &generator)] }
            let response = applet.process(bytes)
            #expect(response.count == 2 || response.count == 12 || response.count == 18)
        }
    }
}
