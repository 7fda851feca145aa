import CardApplication
import HDFDomain
import Testing

let contractKey: [UInt8] = Array(0..<16)
let contractPAN = try! PAN(validating: "9250123456789013")

@Suite("Cryptogram (contract §4 test vectors)")
struct CryptogramTests {
    @Test func contractVector1HMACInput() throws {
        let input = try Cryptogram.hmacInput(
            pan: contractPAN, atc: 1, unpredictableNumber: Hex.decode("a1b2c3d4"), amountCents: 1250, currency: 978)
        #expect(Hex.encode(input) == "393235303132333435363738393031330001a1b2c3d400000000000004e203d2")
    }

    @Test func contractVector1() throws {
        let cryptogram = try Cryptogram.compute(
            key: contractKey, pan: contractPAN, atc: 1, unpredictableNumber: Hex.decode("a1b2c3d4"),
            amountCents: 1250, currency: 978)
        #expect(Hex.encode(cryptogram) == "b968a5de76835732")
        let viaUInt32 = try Cryptogram.compute(
            key: contractKey, pan: contractPAN, atc: 1, unpredictableNumber: UInt32(0xa1b2c3d4),
            amountCents: 1250, currency: 978)
        #expect(viaUInt32 == cryptogram)
    }

    @Test func contractVector2() throws {
        let cryptogram = try Cryptogram.compute(
            key: contractKey, pan: contractPAN, atc: 2, unpredictableNumber: [0, 0, 0, 0], amountCents: 0, currency: 978)
        #expect(Hex.encode(cryptogram) == "741a14e3dcf0e15e")
    }

    /// Vectors of `protocol/card.md` beyond the contract's (also computed independently with Python's hmac).
    @Test func projectVector3() throws {
        let input = try Cryptogram.hmacInput(
            pan: contractPAN, atc: 3, unpredictableNumber: Hex.decode("deadbeef"), amountCents: 100_000_000, currency: 978)
        #expect(Hex.encode(input) == "393235303132333435363738393031330003deadbeef0000000005f5e10003d2")
        let cryptogram = try Cryptogram.compute(
            key: contractKey, pan: contractPAN, atc: 3, unpredictableNumber: Hex.decode("deadbeef"),
            amountCents: 100_000_000, currency: 978)
        #expect(Hex.encode(cryptogram) == "be5430d1f04707f9")
    }

    @Test func projectVector4WithDerivedKey() throws {
        let pan = try PAN(validating: "9250000000000040")
        let key = try CardKeyDerivation.deriveCardKey(masterKey: Array(0..<32), pan: pan)
        #expect(Hex.encode(key) == "7f390c9b3cf9058ec11be8e6b1aaf284")
        let input = try Cryptogram.hmacInput(
            pan: pan, atc: 0xFFFF, unpredictableNumber: Hex.decode("01020304"), amountCents: 4999, currency: 978)
        #expect(Hex.encode(input) == "39323530303030303030303030303430ffff01020304000000000000138703d2")
        let cryptogram = try Cryptogram.compute(
            key: key, pan: pan, atc: 0xFFFF, unpredictableNumber: Hex.decode("01020304"), amountCents: 4999, currency: 978)
        #expect(Hex.encode(cryptogram) == "7d46dce2d5d5221a")
    }

    @Test func verifyAcceptsOnlyTheExactInputs() throws {
        let un = try Hex.decode("a1b2c3d4")
        let good = try Hex.decode("b968a5de76835732")
        func check(_ c: [UInt8], key: [UInt8] = contractKey, atc: UInt16 = 1, un: [UInt8] = un, amount: Int64 = 1250,
                   currency: UInt16 = 978) -> Bool {
            Cryptogram.verify(c, key: key, pan: contractPAN, atc: atc, unpredictableNumber: un, amountCents: amount,
                              currency: currency)
        }
        #expect(check(good))
        #expect(!check(good, atc: 2))
        #expect(!check(good, amount: 1251))
        #expect(!check(good, currency: 840))
        #expect(!check(good, un: [0xa1, 0xb2, 0xc3, 0xd5]))
        #expect(!check(good, key: Array(1...16)))
        var flipped = good
        flipped[7] ^= 1
        #expect(!check(flipped))
        #expect(!check(Array(good.prefix(7))))
        // Malformed inputs fail closed.
        #expect(!check(good, key: Array(0..<15)))
        #expect(!check(good, un: [1, 2, 3]))
        #expect(!check(good, amount: -1))
    }

    @Test func constantTimeEquals() {
        #expect(Cryptogram.constantTimeEquals([], []))
        #expect(Cryptogram.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!Cryptogram.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!Cryptogram.constantTimeEquals([1, 2, 3], [1, 2]))
    }

    @Test func computeRejectsMalformedInputs() {
        #expect(throws: Cryptogram.Invalid.keyLength(15)) {
            try Cryptogram.compute(key: Array(0..<15), pan: contractPAN, atc: 1, unpredictableNumber: [1, 2, 3, 4],
                                   amountCents: 1, currency: 978)
        }
        #expect(throws: Cryptogram.Invalid.unpredictableNumberLength(5)) {
            try Cryptogram.compute(key: contractKey, pan: contractPAN, atc: 1, unpredictableNumber: [1, 2, 3, 4, 5],
                                   amountCents: 1, currency: 978)
        }
        #expect(throws: Cryptogram.Invalid.negativeAmount(-5)) {
            try Cryptogram.compute(key: contractKey, pan: contractPAN, atc: 1, unpredictableNumber: [1, 2, 3, 4],
                                   amountCents: -5, currency: 978)
        }
    }
}

@Suite("Card key derivation")
struct CardKeyDerivationTests {
    @Test func deterministicSixteenBytes() throws {
        let master: [UInt8] = Array(0..<32)
        let a = try CardKeyDerivation.deriveCardKey(masterKey: master, pan: contractPAN)
        let b = try CardKeyDerivation.deriveCardKey(masterKey: master, pan: contractPAN)
        #expect(a.count == 16)
        #expect(a == b)
        // HKDF-SHA256(IKM 00..1f, salt "GenerationHDF card key v1", info "9250123456789013", L 16), checked with Python.
        #expect(Hex.encode(a) == "aa336876b3ddc0193616cc79ac9f2367")
    }

    @Test func eachCardAndEachMasterKeyGiveAnotherKey() throws {
        let master: [UInt8] = Array(0..<32)
        let other = try PAN(validating: "9250000000000040")
        let a = try CardKeyDerivation.deriveCardKey(masterKey: master, pan: contractPAN)
        #expect(try CardKeyDerivation.deriveCardKey(masterKey: master, pan: other) != a)
        #expect(try CardKeyDerivation.deriveCardKey(masterKey: Array(1...32), pan: contractPAN) != a)
    }

    @Test(arguments: [0, 16, 31, 33, 64])
    func rejectsMasterKeyOfWrongLength(count: Int) {
        #expect(throws: CardKeyDerivation.Invalid.masterKeyLength(count)) {
            try CardKeyDerivation.deriveCardKey(masterKey: [UInt8](repeating: 7, count: count), pan: contractPAN)
        }
        #expect("\(CardKeyDerivation.Invalid.masterKeyLength(count))".contains("32 bytes"))
    }

    @Test func generatedMasterKeysAreRandom32Bytes() {
        let a = CardKeyDerivation.generateMasterKey()
        let b = CardKeyDerivation.generateMasterKey()
        #expect(a.count == 32)
        #expect(a != b)
    }
}

@Suite("Hex")
struct HexTests {
    @Test func roundTrip() throws {
        let bytes: [UInt8] = Array(0...255)
        let text = Hex.encode(bytes)
        #expect(text.count == 512)
        #expect(text == text.lowercased())
        #expect(try Hex.decode(text) == bytes)
        #expect(try Hex.decode(text.uppercased()) == bytes)
        #expect(Hex.encode([]) == "")
        #expect(try Hex.decode("") == [])
    }

    @Test func errors() {
        #expect(throws: Hex.Invalid.oddLength(characters: 3)) { try Hex.decode("abc") }
        #expect(throws: Hex.Invalid.notHexDigit(offset: 1)) { try Hex.decode("0g") }
        #expect(throws: Hex.Invalid.notHexDigit(offset: 2)) { try Hex.decode("00 0") }
        #expect(throws: Hex.Invalid.wrongByteCount(expected: 4, got: 3)) { try Hex.decode("010203", byteCount: 4) }
    }

    @Test func errorsNeverQuoteTheText() {
        let secret = "00112233445566778899aabbccddeeZZ"
        do {
            _ = try Hex.decode(secret)
            Issue.record("should have failed")
        } catch {
            #expect(!"\(error)".contains("aabbcc"))
        }
    }
}

@Suite("CardRequest")
struct CardRequestTests {
    @Test func verifiesContractVector() throws {
        let request = try CardRequest(panDigits: "9250123456789013", atc: 1, unHex: "a1b2c3d4", cryptogramHex: "b968a5de76835732")
        #expect(request.verify(key: contractKey, amountCents: 1250, currency: 978))
        #expect(request.verify(key: contractKey, amountCents: 1250))
        #expect(!request.verify(key: contractKey, amountCents: 1249))
        #expect(request.unHex == "a1b2c3d4")
        #expect(request.cryptogramHex == "b968a5de76835732")
        let balance = try CardRequest(pan: contractPAN, atc: 2, unpredictableNumber: [0, 0, 0, 0],
                                      cryptogram: Hex.decode("741a14e3dcf0e15e"))
        #expect(balance.verify(key: contractKey, amountCents: 0))
    }

    @Test func rejectsMalformedFields() {
        #expect(throws: CardRequest.Invalid.pan(.luhnCheckFailed)) {
            try CardRequest(panDigits: "9250123456789012", atc: 1, unHex: "a1b2c3d4", cryptogramHex: "b968a5de76835732")
        }
        #expect(throws: CardRequest.Invalid.pan(.notSixteenDigits)) {
            try CardRequest(panDigits: "925012345678901", atc: 1, unHex: "a1b2c3d4", cryptogramHex: "b968a5de76835732")
        }
        #expect(throws: CardRequest.Invalid.atcOutOfRange(65536)) {
            try CardRequest(panDigits: "9250123456789013", atc: 65536, unHex: "a1b2c3d4", cryptogramHex: "b968a5de76835732")
        }
        #expect(throws: CardRequest.Invalid.atcOutOfRange(-1)) {
            try CardRequest(panDigits: "9250123456789013", atc: -1, unHex: "a1b2c3d4", cryptogramHex: "b968a5de76835732")
        }
        #expect(throws: CardRequest.Invalid.unpredictableNumber(.wrongByteCount(expected: 4, got: 3))) {
            try CardRequest(panDigits: "9250123456789013", atc: 1, unHex: "a1b2c3", cryptogramHex: "b968a5de76835732")
        }
        #expect(throws: CardRequest.Invalid.cryptogram(.notHexDigit(offset: 0))) {
            try CardRequest(panDigits: "9250123456789013", atc: 1, unHex: "a1b2c3d4", cryptogramHex: "x968a5de76835732")
        }
        #expect(throws: CardRequest.Invalid.cryptogram(.wrongByteCount(expected: 8, got: 7))) {
            try CardRequest(pan: contractPAN, atc: 1, unpredictableNumber: [1, 2, 3, 4], cryptogram: [1, 2, 3, 4, 5, 6, 7])
        }
    }
}
