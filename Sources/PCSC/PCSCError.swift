import CPCSCLite

/// What went wrong, in the terms of someone standing at the reader. Every `SCARD_E_*`/`SCARD_W_*` code that
/// pcsc-lite returns becomes one of these; the ones without a case of their own are `.failure`, which still
/// names the call and the code.
public enum PCSCError: Error, Equatable, Sendable, CustomStringConvertible {
    /// pcscd is not running (`SCARD_E_NO_SERVICE`), or stopped during the session (`SCARD_E_SERVICE_STOPPED`).
    case serviceNotRunning
    /// pcscd runs but knows no reader (`SCARD_E_NO_READERS_AVAILABLE`).
    case noReaders
    /// The reader asked for is not among pcscd's readers (`SCARD_E_UNKNOWN_READER`).
    case unknownReader(String, available: [String])
    /// The reader holds no card (`SCARD_E_NO_SMARTCARD`).
    case noCard(reader: String)
    /// No card was presented before the time-out (`SCARD_E_TIMEOUT` from `SCardGetStatusChange`).
    case timedOut(milliseconds: Int)
    /// The card left the reader during the session (`SCARD_W_REMOVED_CARD`, or a failed exchange while the
    /// reader shows no card).
    case cardRemoved
    /// Someone else reset the card: the session's state on the card is gone (`SCARD_W_RESET_CARD`).
    case cardReset
    /// The card does not answer, or could not be powered (`SCARD_W_UNRESPONSIVE_CARD`, `SCARD_W_UNPOWERED_CARD`,
    /// `SCARD_E_CARD_UNSUPPORTED`).
    case cardUnresponsive
    /// The card speaks none of the protocols asked for (`SCARD_E_PROTO_MISMATCH`).
    case protocolMismatch
    /// Another application holds the card exclusively (`SCARD_E_SHARING_VIOLATION`).
    case sharingViolation
    /// The reader went away during the session (`SCARD_E_READER_UNAVAILABLE`).
    case readerUnavailable
    /// `cancel()` interrupted a wait (`SCARD_E_CANCELLED`).
    case cancelled
    /// The context was released before this call.
    case contextReleased
    /// Any other code, with the call that returned it.
    case failure(function: String, code: UInt32)

    public var description: String {
        switch self {
        case .serviceNotRunning: return "the PC/SC service (pcscd) is not running"
        case .noReaders: return "no smart card reader is connected"
        case .unknownReader(let name, let available):
            let list = available.isEmpty ? "none" : available.map { "'\($0)'" }.joined(separator: ", ")
            return "no reader named '\(name)' (readers: \(list))"
        case .noCard(let reader): return "no card in reader '\(reader)'"
        case .timedOut(let ms): return "no card was presented within \(PCSCError.seconds(ms))"
        case .cardRemoved: return "the card was removed"
        case .cardReset: return "the card was reset by another application"
        case .cardUnresponsive: return "the card does not answer"
        case .protocolMismatch: return "the card speaks neither T=0 nor T=1 as asked"
        case .sharingViolation: return "another application is using the card"
        case .readerUnavailable: return "the reader is no longer available"
        case .cancelled: return "the wait for a card was cancelled"
        case .contextReleased: return "the PC/SC context was already released"
        case .failure(let function, let code):
            return "\(function) failed: \(PCSCError.name(of: code)) (0x\(String(code, radix: 16, uppercase: true)))"
        }
    }

    static func seconds(_ ms: Int) -> String {
        ms % 1000 == 0 ? "\(ms / 1000) s" : "\(Double(ms) / 1000) s"
    }

    /// pcsc-lite's own text for a code, e.g. "Service not available.".
    public static func name(of code: UInt32) -> String {
        guard let text = pcsc_stringify_error(LONG(code)) else { return "unknown error" }
        return String(cString: text)
    }

    /// The error a return code stands for in `function`; nil for `SCARD_S_SUCCESS`.
    static func from(_ rv: LONG, function: String) -> PCSCError? {
        let code = UInt32(truncatingIfNeeded: rv)
        switch rv {
        case LONG(SCARD_S_SUCCESS): return nil
        case LONG(SCARD_E_NO_SERVICE), LONG(SCARD_E_SERVICE_STOPPED): return .serviceNotRunning
        case LONG(SCARD_E_NO_READERS_AVAILABLE): return .noReaders
        case LONG(SCARD_W_REMOVED_CARD): return .cardRemoved
        case LONG(SCARD_W_RESET_CARD): return .cardReset
        case LONG(SCARD_W_UNRESPONSIVE_CARD), LONG(SCARD_W_UNPOWERED_CARD), LONG(SCARD_E_CARD_UNSUPPORTED):
            return .cardUnresponsive
        case LONG(SCARD_E_PROTO_MISMATCH): return .protocolMismatch
        case LONG(SCARD_E_SHARING_VIOLATION): return .sharingViolation
        case LONG(SCARD_E_READER_UNAVAILABLE): return .readerUnavailable
        case LONG(SCARD_E_CANCELLED): return .cancelled
        default: return .failure(function: function, code: code)
        }
    }
}
