import CardApplication
import HDFDomain
import Testing

@Suite("APDU encoding and parsing")
struct APDUTests {
    @Test func builtCommandsAreTheContractBytes() throws {
        #expect(Hex.encode(CardCommands.aid) == "f048444647454e31")
        #expect(CardCommands.select().bytes == [0x00, 0xA4, 0x04, 0x00, 0x08] + CardCommands.aid + [0x00])
        #expect(CardCommands.getPAN().bytes == [0x80, 0xCA, 0x00, 0x5A, 0x00])
        let generate = try CardCommands.generateCryptogram(
            amountCents: 1250, currency: 978, unpredictableNumber: [0xa1, 0xb2, 0xc3, 0xd4])
        #expect(Hex.encode(generate.bytes) == "80ae00000e00000000000004e203d2a1b2c3d400")
    }

    @Test func generateCryptogramBuilderRejectsBadInputs() {
        #expect(throws: Cryptogram.Invalid.unpredictableNumberLength(3)) {
            try CardCommands.generateCryptogram(amountCents: 1, unpredictableNumber: [1, 2, 3])
        }
        #expect(throws: Cryptogram.Invalid.negativeAmount(-1)) {
            try CardCommands.generateCryptogram(amountCents: -1, unpredictableNumber: [1, 2, 3, 4])
        }
    }

    @Test(arguments: [
        "00a40400", // case 1
        "80ca005a00", // case 2, Le 256
        "80ca005a10", // case 2, Le 16
        "00a4040008f048444647454e31", // case 3
        "00a4040008f048444647454e3100", // case 4
        "80ae00000e00000000000004e203d2a1b2c3d400",
    ])
    func roundTrip(hex: String) throws {
        let bytes = try Hex.decode(hex)
        let command = try CommandAPDU(bytes: bytes)
        #expect(command.bytes == bytes)
        let rebuilt = try CommandAPDU(cla: command.cla, ins: command.ins, p1: command.p1, p2: command.p2,
                                      data: command.data, le: command.le)
        #expect(rebuilt == command)
    }

    @Test func parsedFields() throws {
        let select = try CommandAPDU(bytes: CardCommands.select().bytes)
        #expect(select.cla == 0x00 && select.ins == 0xA4 && select.p1 == 0x04 && select.p2 == 0x00)
        #expect(select.data == CardCommands.aid)
        #expect(select.le == 256)
        let noLe = try CommandAPDU(bytes: [0x00, 0xA4, 0x04, 0x00, 0x02, 0x01, 0x02])
        #expect(noLe.data == [1, 2] && noLe.le == nil)
        let header = try CommandAPDU(bytes: [0x80, 0xCA, 0x00, 0x5A])
        #expect(header.data.isEmpty && header.le == nil)
    }

    @Test func parseErrors() {
        #expect(throws: APDUError.tooShort(byteCount: 3)) { try CommandAPDU(bytes: [0x00, 0xA4, 0x04]) }
        #expect(throws: APDUError.tooShort(byteCount: 0)) { try CommandAPDU(bytes: []) }
        // Lc says 8, only 7 follow.
        #expect(throws: APDUError.lengthMismatch(lc: 8, bytesAfterLc: 7)) {
            try CommandAPDU(bytes: [0x00, 0xA4, 0x04, 0x00, 0x08] + Array(CardCommands.aid.prefix(7)))
        }
        // Lc says 2, four follow (neither Lc nor Lc + Le).
        #expect(throws: APDUError.lengthMismatch(lc: 2, bytesAfterLc: 4)) {
            try CommandAPDU(bytes: [0x00, 0xA4, 0x04, 0x00, 0x02, 1, 2, 3, 4])
        }
        #expect(throws: APDUError.extendedLengthNotSupported) {
            try CommandAPDU(bytes: [0x00, 0xA4, 0x04, 0x00, 0x00, 0x00, 0x01, 0x01])
        }
        #expect(throws: APDUError.dataTooLong(byteCount: 256)) {
            try CommandAPDU(cla: 0, ins: 0, p1: 0, p2: 0, data: [UInt8](repeating: 0, count: 256))
        }
        #expect(throws: APDUError.invalidLe(0)) { try CommandAPDU(cla: 0, ins: 0, p1: 0, p2: 0, le: 0) }
        #expect(throws: APDUError.invalidLe(257)) { try CommandAPDU(cla: 0, ins: 0, p1: 0, p2: 0, le: 257) }
        #expect(throws: APDUError.responseTooShort(byteCount: 1)) { try ResponseAPDU(bytes: [0x90]) }
    }

    @Test func responseRoundTrip() throws {
        let response = try ResponseAPDU(bytes: [0x01, 0x02, 0x90, 0x00])
        #expect(response.data == [1, 2])
        #expect(response.statusWord == .success)
        #expect(response.bytes == [0x01, 0x02, 0x90, 0x00])
        let bare = try ResponseAPDU(bytes: [0x6A, 0x82])
        #expect(bare.data.isEmpty && bare.statusWord == .fileNotFound)
        #expect(ResponseAPDU(data: [9], statusWord: .success).bytes == [9, 0x90, 0x00])
    }

    @Test func statusWords() {
        #expect(StatusWord.success.rawValue == 0x9000)
        #expect(StatusWord.fileNotFound.rawValue == 0x6A82)
        #expect(StatusWord.wrongLength.rawValue == 0x6700)
        #expect(StatusWord.conditionsNotSatisfied.rawValue == 0x6985)
        #expect(StatusWord.instructionNotSupported.rawValue == 0x6D00)
        #expect(StatusWord.classNotSupported.rawValue == 0x6E00)
        #expect(StatusWord.atcExhausted.rawValue == 0x6983)
        #expect(StatusWord(sw1: 0x6A, sw2: 0x82) == .fileNotFound)
        #expect(StatusWord.atcExhausted.bytes == [0x69, 0x83])
        #expect(StatusWord.fileNotFound.description == "6A82 (file not found)")
        #expect(StatusWord(rawValue: 0x6F00).description == "6F00")
    }

    @Test func answerParsers() throws {
        try CardCommands.parseSelectAnswer([0x90, 0x00])
        #expect(throws: CardCommands.AnswerError.status(.fileNotFound)) { try CardCommands.parseSelectAnswer([0x6A, 0x82]) }
        #expect(throws: CardCommands.AnswerError.malformed(.responseTooShort(byteCount: 0))) {
            try CardCommands.parseSelectAnswer([])
        }

        let pan = try CardCommands.parseGetPANAnswer(Array("9250123456789013".utf8) + [0x90, 0x00])
        #expect(pan.digits == "9250123456789013")
        #expect(throws: CardCommands.AnswerError.invalidPAN(.luhnCheckFailed)) {
            try CardCommands.parseGetPANAnswer(Array("9250123456789012".utf8) + [0x90, 0x00])
        }
        #expect(throws: CardCommands.AnswerError.unexpectedLength(expected: 16, got: 15)) {
            try CardCommands.parseGetPANAnswer(Array("925012345678901".utf8) + [0x90, 0x00])
        }
        #expect(throws: CardCommands.AnswerError.status(.conditionsNotSatisfied)) {
            try CardCommands.parseGetPANAnswer([0x69, 0x85])
        }

        let generated = try CardCommands.parseGenerateCryptogramAnswer(
            [0x00, 0x01] + Hex.decode("b968a5de76835732") + [0x90, 0x00])
        #expect(generated.atc == 1)
        #expect(Hex.encode(generated.cryptogram) == "b968a5de76835732")
        #expect(throws: CardCommands.AnswerError.status(.atcExhausted)) {
            try CardCommands.parseGenerateCryptogramAnswer([0x69, 0x83])
        }
        #expect(throws: CardCommands.AnswerError.unexpectedLength(expected: 10, got: 9)) {
            try CardCommands.parseGenerateCryptogramAnswer([UInt8](repeating: 0, count: 9) + [0x90, 0x00])
        }
    }

    @Test func responseDescriptionHidesData() {
        let answer = ResponseAPDU(data: Array("9250123456789013".utf8), statusWord: .success)
        #expect(!answer.description.contains("9250"))
        #expect(!answer.description.contains("39323530"))
    }
}
