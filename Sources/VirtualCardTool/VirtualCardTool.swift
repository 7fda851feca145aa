import ArgumentParser
import CardApplication
import CommandSupport
import Foundation
import HDFDomain
import VirtualCard

extension ATCStateFile.Failure: CommandOutput.CodedError {
    public var code: String { "state_file" }
}

extension VirtualCardError: CommandOutput.CodedError {
    public var code: String {
        switch self {
        case .readerNotListening: return "reader_not_listening"
        case .socket: return "socket"
        }
    }
}

/// `virtual-card`: a Génération #HDF card in pcscd's vpcd reader (contract §1 and §6), until it is stopped.
@main
struct VirtualCardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "virtual-card",
        abstract: "Be a Génération #HDF card in pcscd's vpcd reader until stopped.",
        discussion: """
            The card connects to vpcd (an insertion) and answers the card application's APDUs. Its ATC is saved \
            before every answer that carries a new one, in --state FILE (default: DIR/virtual-cards/PAN.json with \
            --dir, else ~/.local/state/hdf/virtual-cards/PAN.json), so a restarted card never reuses one. \
            Signals: SIGUSR1 pulls the card out of the reader, SIGUSR2 puts it back, SIGTERM/SIGINT pull it out \
            and end the process.
            """)

    static func main() { CommandOutput.main(VirtualCardCommand.self) }

    @Option(help: "vpcd's host.") var host = "127.0.0.1"
    @Option(help: "vpcd's port (pcscd's reader configuration; Debian's default reader is 35963).") var port = 35963
    @Option(help: "An environment directory: the card's key is read from DIR/demo.json.") var dir: String?
    @Option(help: "With --dir: the card's PAN.") var card: String?
    @Option(help: "Without --dir: the card's PAN.") var pan: String?
    @Option(help: "Without --dir: the card's 16-byte key, 32 hex digits.") var key: String?
    @Option(help: "Where the ATC is kept.") var state: String?
    @Option(help: "The ATC of a card that has no state file yet.") var atc: Int = 0
    @Option(name: .customLong("connect-timeout"), help: "Seconds to wait for vpcd to listen.") var connectTimeout: Double = 10
    @Option(name: .customLong("tear-at-apdu"), help: ArgumentHelp("Test: pull the card out on its Nth command APDU instead of answering.", visibility: .hidden))
    var tearAtAPDU: Int?
    @Flag(help: "Log each APDU's header and status word on stdout (never the PAN).") var verbose = false
    @Flag(name: .customLong("exit-with-parent"), help: "Leave the reader and end when the parent process dies.")
    var exitWithParent = false

    struct Manifest: Decodable {
        struct Card: Decodable { let pan: String; let key: String }
        let cards: [Card]
    }

    func run() throws {
        let (cardPAN, keyBytes, defaultState) = try identity()
        guard let initialATC = UInt16(exactly: atc) else {
            throw CommandOutput.Refusal(code: "usage", "--atc must be 0 to 65535")
        }
        let stateFile = try ATCStateFile(path: state ?? defaultState)
        let savedATC = try stateFile.load(pan: cardPAN)
        if savedATC == nil { try stateFile.save(pan: cardPAN, atc: initialATC) }
        let applet: CardApplet
        do { applet = try CardApplet(pan: cardPAN, key: keyBytes, atc: savedATC ?? initialATC) } catch {
            throw CommandOutput.Refusal(code: "invalid_key", "\(error)")
        }
        let options = VirtualCardOptions(host: host, port: port, connectTimeout: .milliseconds(Int64(connectTimeout * 1000)),
                                         tearAtAPDU: tearAtAPDU, verbose: verbose, exitWithParent: exitWithParent)
        let card = VirtualCard(applet: applet, state: stateFile, options: options) { line in
            FileHandle.standardOutput.write(Data("virtual-card: \(line)\n".utf8))
        }
        card.installSignalHandlers()
        try card.run()
    }

    func identity() throws -> (PAN, [UInt8], String) {
        let panText: String
        let keyText: String
        let defaultState: String
        if let dir {
            guard let card, pan == nil, key == nil else {
                throw CommandOutput.Refusal(code: "usage", "give either --dir DIR --card PAN, or --pan PAN --key HEX")
            }
            let manifestPath = dir + "/demo.json"
            guard let data = FileManager.default.contents(atPath: manifestPath) else {
                throw CommandOutput.Refusal(code: "no_manifest", "no demo manifest at \(manifestPath)")
            }
            let manifest = try JSONDecoder().decode(Manifest.self, from: data)
            guard let entry = manifest.cards.first(where: { $0.pan == card }) else {
                throw CommandOutput.Refusal(code: "unknown_card", "card \(PAN.mask(card)) is not in \(manifestPath)")
            }
            panText = entry.pan
            keyText = entry.key
            defaultState = dir + "/virtual-cards/\(entry.pan).json"
        } else {
            guard let pan, let key, card == nil else {
                throw CommandOutput.Refusal(code: "usage", "give either --dir DIR --card PAN, or --pan PAN --key HEX")
            }
            panText = pan
            keyText = key
            let home = ProcessInfo.processInfo.environment["HOME"] ?? "."
            defaultState = home + "/.local/state/hdf/virtual-cards/\(pan).json"
        }
        let cardPAN: PAN
        do { cardPAN = try PAN(validating: panText) } catch {
            throw CommandOutput.Refusal(code: "invalid_card_number", "invalid card number \(PAN.mask(panText)): \(error)")
        }
        let keyBytes: [UInt8]
        do { keyBytes = try Hex.decode(keyText, byteCount: Cryptogram.keyByteCount) } catch {
            throw CommandOutput.Refusal(code: "invalid_key", "invalid card key: \(error)")
        }
        return (cardPAN, keyBytes, defaultState)
    }
}
