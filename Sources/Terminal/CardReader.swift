import CardApplication
import Dispatch
import HDFDomain
import PCSC
import WireProtocol

/// Where the terminal finds cards. `PCSCCardReader` in the product; a test may put a card in software.
public protocol CardReader: Sendable {
    /// Fails at once when the reader side cannot work at all (pcscd not running), before anything else.
    func prepare() throws
    /// Waits up to `timeout` for a card in `reader` (nil: the first reader holding one) and opens a session.
    func waitForCard(reader: String?, timeout: Duration) throws -> CardChannel
}

/// One session with one card.
public protocol CardChannel: AnyObject, Sendable {
    var readerName: String { get }
    /// One command APDU → the card's response APDU (data ‖ SW1 SW2).
    func transmit(_ command: [UInt8]) throws -> [UInt8]
    func close()
}

/// PC/SC through pcsc-lite: a context for the terminal's run, sessions opened exclusively (nobody else talks
/// to the card in the middle of a payment), T=0 or T=1.
public final class PCSCCardReader: CardReader, @unchecked Sendable {
    private var context: PCSCContext?

    public init() {}

    public func prepare() throws {
        if context == nil { context = try PCSCContext() }
    }

    public func waitForCard(reader: String?, timeout: Duration) throws -> CardChannel {
        try prepare()
        guard let context else { throw PCSCError.contextReleased }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let name = try context.waitForCard(reader: reader, timeout: max(.zero, deadline - clock.now))
            let result = Result { () throws(PCSCError) -> PCSCCard in
                try context.connect(reader: name, share: .exclusive, protocols: .any)
            }
            switch result {
            case .success(let card):
                return PCSCChannel(card: card)
            case .failure(let error):
                // Pulled out between the wait and the connection: wait again.
                guard error == .cardRemoved || error == .noCard(reader: name) else { throw error }
                if clock.now >= deadline { throw PCSCError.timedOut(milliseconds: milliseconds(timeout)) }
            }
        }
    }

    public func release() {
        context?.release()
        context = nil
    }
}

private func milliseconds(_ duration: Duration) -> Int {
    Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
}

final class PCSCChannel: CardChannel, @unchecked Sendable {
    let card: PCSCCard
    init(card: PCSCCard) { self.card = card }
    var readerName: String { card.reader }
    func transmit(_ command: [UInt8]) throws -> [UInt8] { try card.transmit(command) }
    func close() { card.disconnect(.leave) }
}

/// The terminal's side of one card session: SELECT, GET PAN, GENERATE CRYPTOGRAM (protocol/card.md).
/// Errors are `PosError.reader` (the card left, ...) or `PosError.card` (an answer that is not `90 00`).
final class CardSession: @unchecked Sendable {
    let channel: CardChannel
    private(set) var pan: PAN?

    init(channel: CardChannel) { self.channel = channel }

    /// SELECT the application, then read the PAN.
    func start() throws(PosError) -> PAN {
        let selectAnswer = try exchange(CardCommands.select())
        do { try CardCommands.parseSelectAnswer(selectAnswer) } catch { throw .card(error) }
        let panAnswer = try exchange(CardCommands.getPAN())
        let pan: PAN
        do { pan = try CardCommands.parseGetPANAnswer(panAnswer) } catch { throw .card(error) }
        self.pan = pan
        return pan
    }

    /// The wire's `card` object for `amountCents` (0 for balance and online.list), with a fresh random UN.
    func cardObject(amountCents: Int64) throws(PosError) -> JSONValue {
        guard let pan else { throw .card(.status(.conditionsNotSatisfied)) }
        var un = [UInt8](repeating: 0, count: Cryptogram.unpredictableNumberByteCount)
        var generator = SystemRandomNumberGenerator()
        for index in un.indices { un[index] = UInt8.random(in: 0...255, using: &generator) }
        let command: CommandAPDU
        do {
            command = try CardCommands.generateCryptogram(amountCents: amountCents, unpredictableNumber: un)
        } catch {
            throw .usage(code: "invalid_amount", "Montant invalide : \(error)")
        }
        let response = try exchange(command)
        let answer: CardCommands.GeneratedCryptogram
        do { answer = try CardCommands.parseGenerateCryptogramAnswer(response) } catch { throw .card(error) }
        return .object([
            ("pan", .string(pan.digits)), ("atc", .int(Int64(answer.atc))), ("un", .string(Hex.encode(un))),
            ("cryptogram", .string(Hex.encode(answer.cryptogram))),
        ])
    }

    func close() { channel.close() }

    /// Sends the command; follows the T=0 procedure bytes a card may use (`61 xx`: GET RESPONSE for the rest;
    /// `6C xx`: send again with Le = xx).
    private func exchange(_ command: CommandAPDU) throws(PosError) -> [UInt8] {
        do {
            var response = try channel.transmit(command.bytes)
            if response.count == 2, response[0] == 0x6C {
                var again = command.bytes
                if command.le != nil { again[again.count - 1] = response[1] } else { again.append(response[1]) }
                response = try channel.transmit(again)
            }
            var data: [UInt8] = []
            while response.count >= 2, response[response.count - 2] == 0x61 {
                data += response.dropLast(2)
                response = try channel.transmit([0x00, 0xC0, 0x00, 0x00, response[response.count - 1]])
            }
            return data + response
        } catch let error as PCSCError {
            throw .reader(error)
        } catch let error as PosError {
            throw error
        } catch {
            throw .reader(.failure(function: "transmit (\(error))", code: 0))
        }
    }
}

/// Runs blocking reader calls off Swift's cooperative threads.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try body() })
        }
    }
}
