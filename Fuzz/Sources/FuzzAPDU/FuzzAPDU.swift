import CardApplication
import HDFDomain
import FuzzSupport

// Properties of the card side on any bytes:
// - `CommandAPDU(bytes:)` and `ResponseAPDU(bytes:)` never crash; what they accept writes back as
//   exactly the bytes it was read from (Le 256 travels as `00`);
// - the applet, given any sequence of commands, answers only the status words of contract §4 and
//   protocol/card.md; carries data only with `90 00` (16 digits for GET PAN, ATC and cryptogram for
//   GENERATE CRYPTOGRAM, none for SELECT); moves its ATC by exactly one on each cryptogram, never
//   past FFFF, and not at all otherwise.
//
// The input: one byte choosing the starting ATC (near FFFF or not), then commands, each a length byte
// and that many bytes.

/// The status words the card may answer (contract §4; `6A 86`, `6A 88`: protocol/card.md).
let documentedStatusWords: Set<UInt16> = [0x9000, 0x6A82, 0x6700, 0x6985, 0x6D00, 0x6E00, 0x6983, 0x6A86, 0x6A88]
/// The key and PAN of contract §4's test vectors.
let testKey: [UInt8] = Array(0..<16)
let testPANDigits = "9250123456789013"
/// The most commands one input sends.
let maximumCommandsPerInput = 64

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAPDU(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(fuzzBytes(data, size))

    let whole = Array(input.bytes)
    if let command = try? CommandAPDU(bytes: whole) {
        fuzzCheck(command.bytes == whole, "command \(Hex.encode(whole)) writes back as \(command.description)")
        fuzzCheck(command.data.count <= 255 && (command.le.map { (1...256).contains($0) } ?? true), "a command outside short APDU limits")
    }
    if let response = try? ResponseAPDU(bytes: whole) {
        fuzzCheck(response.bytes == whole, "a response does not write back as its bytes")
    }

    let start = input.nextByte() ?? 0
    let startATC: UInt16 = start & 1 == 0 ? UInt16(start) : UInt16.max - UInt16(start >> 1 & 7)
    guard let pan = try? PAN(validating: testPANDigits),
          var applet = try? CardApplet(pan: pan, key: testKey, atc: startATC) else {
        fuzzCheck(false, "the test card cannot be built")
        return 0
    }
    var commands = 0
    while !input.isAtEnd, commands < maximumCommandsPerInput {
        commands += 1
        let length = Int(input.nextByte() ?? 0)
        let command = input.next(length)
        if length == 255 { applet.reset() }  // a reset now and then, as a torn card or a new session
        let atcBefore = applet.atc
        let answer = applet.process(command)
        fuzzCheck(answer.count >= 2, "an answer without its status word")
        let statusWord = UInt16(answer[answer.count - 2]) << 8 | UInt16(answer[answer.count - 1])
        fuzzCheck(documentedStatusWords.contains(statusWord),
                  "undocumented status word \(String(statusWord, radix: 16)) for \(Hex.encode(command))")
        let dataCount = answer.count - 2
        let isCryptogram = statusWord == 0x9000 && command.count >= 2 && command[0] == 0x80 && command[1] == 0xAE
        if statusWord != 0x9000 {
            fuzzCheck(dataCount == 0, "data with status \(String(statusWord, radix: 16))")
        } else if command[1] == 0xA4 {
            fuzzCheck(dataCount == 0, "SELECT answered with data")
        } else if command[1] == 0xCA {
            fuzzCheck(Array(answer.prefix(16)) == Array(testPANDigits.utf8) && dataCount == 16, "GET PAN answered something else")
        } else {
            fuzzCheck(isCryptogram && dataCount == 10, "a success answer of \(dataCount) bytes to \(Hex.encode(command))")
        }
        if isCryptogram {
            fuzzCheck(atcBefore < UInt16.max && applet.atc == atcBefore + 1, "a cryptogram did not move the ATC by one")
            let answeredATC = UInt16(answer[0]) << 8 | UInt16(answer[1])
            fuzzCheck(answeredATC == applet.atc, "the answered ATC is not the card's")
        } else {
            fuzzCheck(applet.atc == atcBefore, "the ATC moved without a cryptogram")
        }
        if statusWord == 0x6983 { fuzzCheck(atcBefore == UInt16.max, "ATC exhausted below FFFF") }
    }
    return 0
}

@main
struct FuzzAPDUMain {
    static func main() { runLibFuzzer(fuzzAPDU) }
}
