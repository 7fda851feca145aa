import HDFDomain

/// The card side of the card application (contract §4), as a pure state machine: bytes in, bytes out.
///
/// The virtual card wraps it with the vpcd socket and persists `atc` after each command; a test drives it
/// directly. The checks run in a fixed order, so each malformed command gets one documented answer:
/// 1. fewer than 4 bytes → `67 00`;
/// 2. CLA other than `00` and `80` → `6E 00`;
/// 3. INS that CLA does not have → `6D 00`;
/// 4. Lc inconsistent with the bytes that follow → `67 00`;
/// 5. anything but SELECT before the application is selected → `69 85`;
/// 6. P1 P2 → `6A 86` (`6A 88` for GET DATA of another tag); Lc/Le that do not fit the command → `67 00`;
/// 7. GENERATE CRYPTOGRAM with the ATC at `FFFF` → `69 83`, the ATC unchanged.
public struct CardApplet: Sendable {
    public let pan: PAN
    private let key: [UInt8]
    /// The counter after the last GENERATE CRYPTOGRAM. A caller persists it after every command: a card that
    /// forgot an increment would repeat an ATC, and the gateway refuses any ATC not above the last one seen.
    public private(set) var atc: UInt16
    public private(set) var isSelected = false

    public init(pan: PAN, key: [UInt8], atc: UInt16 = 0) throws(Cryptogram.Invalid) {
        guard key.count == Cryptogram.keyByteCount else { throw .keyLength(key.count) }
        self.pan = pan
        self.key = key
        self.atc = atc
    }

    /// Power-off, reset or removal: the terminal must SELECT again.
    public mutating func reset() { isSelected = false }

    public mutating func process(_ apdu: [UInt8]) -> [UInt8] {
        processAPDU(apdu).bytes
    }

    public mutating func processAPDU(_ bytes: [UInt8]) -> ResponseAPDU {
        guard bytes.count >= 4 else { return ResponseAPDU(statusWord: .wrongLength) }
        let cla = bytes[0], ins = bytes[1]
        switch cla {
        case CardCommands.claISO:
            guard ins == CardCommands.insSelect else { return ResponseAPDU(statusWord: .instructionNotSupported) }
        case CardCommands.claProprietary:
            guard ins == CardCommands.insGetData || ins == CardCommands.insGenerateCryptogram else {
                return ResponseAPDU(statusWord: .instructionNotSupported)
            }
        default:
            return ResponseAPDU(statusWord: .classNotSupported)
        }
        let command: CommandAPDU
        do { command = try CommandAPDU(bytes: bytes) } catch { return ResponseAPDU(statusWord: .wrongLength) }

        if command.ins == CardCommands.insSelect { return select(command) }
        guard isSelected else { return ResponseAPDU(statusWord: .conditionsNotSatisfied) }
        if command.ins == CardCommands.insGetData { return getPAN(command) }
        return generateCryptogram(command)
    }

    private mutating func select(_ command: CommandAPDU) -> ResponseAPDU {
        guard command.p1 == 0x04, command.p2 == 0x00 else { return ResponseAPDU(statusWord: .incorrectP1P2) }
        guard !command.data.isEmpty, command.data.count <= 16 else { return ResponseAPDU(statusWord: .wrongLength) }
        // A failed SELECT leaves the current selection as it was, as on a multi-application card.
        guard command.data == CardCommands.aid else { return ResponseAPDU(statusWord: .fileNotFound) }
        isSelected = true
        return ResponseAPDU(statusWord: .success)
    }

    private func getPAN(_ command: CommandAPDU) -> ResponseAPDU {
        guard command.p1 == CardCommands.panTag.p1, command.p2 == CardCommands.panTag.p2 else {
            return ResponseAPDU(statusWord: .referencedDataNotFound)
        }
        guard command.data.isEmpty, (command.le ?? 256) >= PAN.digitCount else {
            return ResponseAPDU(statusWord: .wrongLength)
        }
        return ResponseAPDU(data: pan.asciiBytes, statusWord: .success)
    }

    private mutating func generateCryptogram(_ command: CommandAPDU) -> ResponseAPDU {
        guard command.p1 == 0x00, command.p2 == 0x00 else { return ResponseAPDU(statusWord: .incorrectP1P2) }
        guard command.data.count == CardCommands.generateCryptogramDataLength,
              (command.le ?? 256) >= CardCommands.generateCryptogramAnswerLength else {
            return ResponseAPDU(statusWord: .wrongLength)
        }
        guard atc < UInt16.max else { return ResponseAPDU(statusWord: .atcExhausted) }
        // Increment first: the cryptogram covers the new value, so no two cryptograms share an ATC even if
        // the card is torn away before the answer leaves it.
        atc += 1
        let data = command.data
        let amount = Array(data[0..<8])
        let currency: UInt16 = readBigEndian(data[8..<10])
        let unpredictableNumber = Array(data[10..<14])
        let input = Cryptogram.rawInput(pan: pan.asciiBytes, atc: atc, unpredictableNumber: unpredictableNumber,
                                        amount: amount, currency: currency)
        let cryptogram = Cryptogram.mac(key: key, input: input)
        return ResponseAPDU(data: bigEndian(atc) + cryptogram, statusWord: .success)
    }
}
