import CPCSCLite
#if canImport(Glibc)
import Glibc
#endif

/// The protocols a card session may run.
public struct PCSCProtocols: OptionSet, Sendable, Hashable {
    public let rawValue: UInt
    public init(rawValue: UInt) { self.rawValue = rawValue }
    public static let t0 = PCSCProtocols(rawValue: UInt(SCARD_PROTOCOL_T0))
    public static let t1 = PCSCProtocols(rawValue: UInt(SCARD_PROTOCOL_T1))
    public static let any: PCSCProtocols = [.t0, .t1]
}

/// The protocol a connected session runs.
public enum PCSCActiveProtocol: String, Sendable {
    case t0 = "T=0"
    case t1 = "T=1"
}

public enum PCSCShareMode: Sendable {
    /// Other applications may talk to the card between our commands.
    case shared
    /// Nobody else talks to the card while we hold it (what a payment terminal wants).
    case exclusive

    var raw: DWORD { DWORD(self == .shared ? SCARD_SHARE_SHARED : SCARD_SHARE_EXCLUSIVE) }
}

/// What `SCardGetStatusChange` says about a reader.
public struct PCSCReaderState: Sendable, Hashable {
    public let reader: String
    /// `SCARD_STATE_*` bits (the low 16 bits of `dwEventState`).
    public let flags: UInt
    public let atr: [UInt8]

    public var hasCard: Bool { flags & UInt(SCARD_STATE_PRESENT) != 0 }
    /// A card is there and answered its reset: a session can be opened.
    public var hasUsableCard: Bool { hasCard && flags & UInt(SCARD_STATE_MUTE) == 0 }
    public var isEmpty: Bool { flags & UInt(SCARD_STATE_EMPTY) != 0 }
    public var isExclusivelyUsed: Bool { flags & UInt(SCARD_STATE_EXCLUSIVE) != 0 }
}

/// A PC/SC context (`SCardEstablishContext`): the connection to pcscd through which readers are listed,
/// cards awaited and sessions opened. Released by `release()` or when the object goes away.
///
/// Calls block their thread (a wait for a card up to its time-out). One thread at a time per context;
/// `cancel()` is the one call meant for another thread: it ends a wait with `PCSCError.cancelled`.
public final class PCSCContext: @unchecked Sendable {
    private var handle: SCARDCONTEXT?

    /// pcsc-lite's pseudo-reader that changes state when a reader is plugged or unplugged.
    static let plugAndPlayReader = "\\\\?PnP?\\Notification"

    /// Establishes a system-scope context. `PCSCError.serviceNotRunning` at once when pcscd is not running.
    public init() throws(PCSCError) {
        var context: SCARDCONTEXT = 0
        let rv = SCardEstablishContext(DWORD(SCARD_SCOPE_SYSTEM), nil, nil, &context)
        if let error = PCSCError.from(rv, function: "SCardEstablishContext") { throw error }
        handle = context
    }

    deinit { release() }

    /// Idempotent. Sessions opened from this context must be disconnected first.
    public func release() {
        if let handle {
            _ = SCardReleaseContext(handle)
            self.handle = nil
        }
    }

    /// pcscd still answers on this context (`SCardIsValidContext`).
    public var isValid: Bool {
        guard let handle else { return false }
        return SCardIsValidContext(handle) == LONG(SCARD_S_SUCCESS)
    }

    /// Ends a `waitForCard`/`waitForChange` running on another thread with `PCSCError.cancelled`.
    public func cancel() {
        if let handle { _ = SCardCancel(handle) }
    }

    private func context() throws(PCSCError) -> SCARDCONTEXT {
        guard let handle else { throw .contextReleased }
        return handle
    }

    /// The readers pcscd knows, in its order; empty when there are none.
    public func readers() throws(PCSCError) -> [String] {
        let context = try context()
        for _ in 0..<5 {  // the list may change between the size query and the read
            var length: DWORD = 0
            var rv = SCardListReaders(context, nil, nil, &length)
            if rv == LONG(SCARD_E_NO_READERS_AVAILABLE) { return [] }
            if let error = PCSCError.from(rv, function: "SCardListReaders") { throw error }
            var buffer = [CChar](repeating: 0, count: Int(length))
            rv = SCardListReaders(context, nil, &buffer, &length)
            if rv == LONG(SCARD_E_INSUFFICIENT_BUFFER) { continue }
            if rv == LONG(SCARD_E_NO_READERS_AVAILABLE) { return [] }
            if let error = PCSCError.from(rv, function: "SCardListReaders") { throw error }
            return PCSCContext.splitMultiString(buffer.prefix(Int(length)))
        }
        throw .failure(function: "SCardListReaders", code: UInt32(truncatingIfNeeded: SCARD_E_INSUFFICIENT_BUFFER))
    }

    /// NUL-separated names, ended by an empty one.
    static func splitMultiString(_ chars: ArraySlice<CChar>) -> [String] {
        chars.split(separator: 0, omittingEmptySubsequences: true).map {
            String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// The current state of these readers, without waiting.
    public func states(of readers: [String]) throws(PCSCError) -> [PCSCReaderState] {
        var watched = readers.map { Watched(reader: $0, current: UInt(SCARD_STATE_UNAWARE)) }
        _ = try statusChange(&watched, timeoutMilliseconds: 0)
        return watched.map(\.state)
    }

    /// Waits until a card that answers is in `reader` (or, with nil, in any reader; the first of pcscd's list
    /// when several hold one) and returns that reader's name.
    ///
    /// - `PCSCError.timedOut` when none came within `timeout`;
    /// - `.noReaders` when pcscd has no reader at all (or none appeared within `timeout`);
    /// - `.unknownReader` when `reader` is not one of pcscd's readers.
    public func waitForCard(reader wanted: String? = nil, timeout: Duration) throws(PCSCError) -> String {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        let timeoutMs = PCSCContext.milliseconds(timeout)
        while true {
            let names = try readers()
            var watched: [Watched]
            if let wanted {
                guard names.contains(wanted) else { throw .unknownReader(wanted, available: names) }
                watched = [Watched(reader: wanted, current: UInt(SCARD_STATE_UNAWARE))]
            } else {
                watched = names.map { Watched(reader: $0, current: UInt(SCARD_STATE_UNAWARE)) }
                // Also hear readers being plugged in.
                watched.append(Watched(reader: PCSCContext.plugAndPlayReader, current: UInt(SCARD_STATE_UNAWARE)))
            }
            _ = try statusChange(&watched, timeoutMilliseconds: 0)
            if let ready = watched.first(where: { $0.reader != PCSCContext.plugAndPlayReader && $0.state.hasUsableCard }) {
                return ready.reader
            }
            let remaining = deadline - clock.now
            if remaining <= .zero {
                if names.isEmpty { throw .noReaders }
                throw .timedOut(milliseconds: timeoutMs)
            }
            for index in watched.indices { watched[index].current = watched[index].event & ~UInt(SCARD_STATE_CHANGED) }
            let rv = try statusChange(&watched, timeoutMilliseconds: PCSCContext.milliseconds(remaining))
            if rv == LONG(SCARD_E_TIMEOUT) {
                if names.isEmpty { throw .noReaders }
                throw .timedOut(milliseconds: timeoutMs)
            }
            // Something changed: look again.
        }
    }

    /// Waits until `reader` holds no card, at most `timeout`; true when it is empty.
    public func waitForRemoval(reader: String, timeout: Duration) throws(PCSCError) -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var watched = [Watched(reader: reader, current: UInt(SCARD_STATE_UNAWARE))]
        while true {
            _ = try statusChange(&watched, timeoutMilliseconds: 0)
            if !watched[0].state.hasCard { return true }
            let remaining = deadline - clock.now
            if remaining <= .zero { return false }
            watched[0].current = watched[0].event & ~UInt(SCARD_STATE_CHANGED)
            let rv = try statusChange(&watched, timeoutMilliseconds: PCSCContext.milliseconds(remaining))
            if rv == LONG(SCARD_E_TIMEOUT) { return false }
        }
    }

    /// Opens a session with the card in `reader` (`SCardConnect`), powering it if needed.
    public func connect(reader: String, share: PCSCShareMode = .shared,
                        protocols: PCSCProtocols = .any) throws(PCSCError) -> PCSCCard {
        let context = try context()
        var card: SCARDHANDLE = 0
        var active: DWORD = 0
        let rv = SCardConnect(context, reader, share.raw, DWORD(protocols.rawValue), &card, &active)
        switch rv {
        case LONG(SCARD_E_NO_SMARTCARD): throw .noCard(reader: reader)
        case LONG(SCARD_E_UNKNOWN_READER): throw .unknownReader(reader, available: (try? readers()) ?? [])
        default: if let error = PCSCError.from(rv, function: "SCardConnect") { throw error }
        }
        let negotiated: PCSCActiveProtocol = active == DWORD(SCARD_PROTOCOL_T0) ? .t0 : .t1
        return PCSCCard(handle: card, reader: reader, activeProtocol: negotiated, context: self)
    }

    // MARK: SCardGetStatusChange

    struct Watched {
        let reader: String
        var current: UInt
        var event: UInt = 0
        var atr: [UInt8] = []

        var state: PCSCReaderState { PCSCReaderState(reader: reader, flags: event & 0xFFFF, atr: atr) }
    }

    /// Returns `SCARD_S_SUCCESS` or `SCARD_E_TIMEOUT`; throws anything else.
    private func statusChange(_ watched: inout [Watched], timeoutMilliseconds: Int) throws(PCSCError) -> LONG {
        let context = try context()
        let names = watched.map { strdup($0.reader) }
        defer { names.forEach { free($0) } }
        var states = watched.indices.map { index -> SCARD_READERSTATE in
            var state = SCARD_READERSTATE()
            state.szReader = UnsafePointer(names[index])
            state.dwCurrentState = DWORD(watched[index].current)
            return state
        }
        let timeout = DWORD(clamping: max(0, timeoutMilliseconds))
        let rv = SCardGetStatusChange(context, timeout, &states, DWORD(states.count))
        if rv == LONG(SCARD_E_TIMEOUT) { return rv }
        if rv == LONG(SCARD_E_UNKNOWN_READER), let first = watched.first {
            throw .unknownReader(first.reader, available: (try? readers()) ?? [])
        }
        if let error = PCSCError.from(rv, function: "SCardGetStatusChange") { throw error }
        for index in watched.indices {
            watched[index].event = UInt(states[index].dwEventState)
            let count = min(Int(states[index].cbAtr), Int(MAX_ATR_SIZE))
            watched[index].atr = withUnsafeBytes(of: states[index].rgbAtr) { Array($0.prefix(count)) }
        }
        return rv
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return Int(clamping: max(0, ms))
    }
}

/// How to leave the card on `disconnect`.
public enum PCSCDisposition: Sendable {
    case leave, reset, unpower

    var raw: DWORD {
        switch self {
        case .leave: return DWORD(SCARD_LEAVE_CARD)
        case .reset: return DWORD(SCARD_RESET_CARD)
        case .unpower: return DWORD(SCARD_UNPOWER_CARD)
        }
    }
}

/// A session with one card (`SCardConnect` … `SCardDisconnect`).
public final class PCSCCard: @unchecked Sendable {
    private var handle: SCARDHANDLE?
    public let reader: String
    public let activeProtocol: PCSCActiveProtocol
    // Keeps the context alive as long as the session.
    private let context: PCSCContext

    init(handle: SCARDHANDLE, reader: String, activeProtocol: PCSCActiveProtocol, context: PCSCContext) {
        self.handle = handle
        self.reader = reader
        self.activeProtocol = activeProtocol
        self.context = context
    }

    deinit { disconnect(.leave) }

    /// How long a response without status word waits for the reader to report the card's removal.
    static let removalGrace: Duration = .milliseconds(1500)

    /// The largest response a short or extended APDU can carry, with its status word.
    static let receiveBufferSize = 65_538

    /// Sends one command APDU and returns the card's response APDU (data ‖ SW1 SW2), as the card sent it.
    /// A card gone from the reader is `PCSCError.cardRemoved`, however pcsc-lite words it.
    public func transmit(_ command: [UInt8]) throws(PCSCError) -> [UInt8] {
        guard let handle else { throw .cardRemoved }
        var sendPCI = SCARD_IO_REQUEST(
            dwProtocol: DWORD(activeProtocol == .t0 ? SCARD_PROTOCOL_T0 : SCARD_PROTOCOL_T1),
            cbPciLength: DWORD(MemoryLayout<SCARD_IO_REQUEST>.size))
        var response = [UInt8](repeating: 0, count: PCSCCard.receiveBufferSize)
        var length = DWORD(response.count)
        let rv = SCardTransmit(handle, &sendPCI, command, DWORD(command.count), nil, &response, &length)
        if rv == LONG(SCARD_S_SUCCESS) {
            if length >= 2 { return Array(response.prefix(Int(length))) }
            // No status word: some drivers (vpcd among them) answer so when the card left during the exchange.
            // pcscd notices a removal within about half a second; wait for it before calling it one.
            if (try? context.waitForRemoval(reader: reader, timeout: PCSCCard.removalGrace)) == true {
                throw .cardRemoved
            }
            throw .cardUnresponsive
        }
        switch rv {
        case LONG(SCARD_E_NO_SMARTCARD), LONG(SCARD_W_REMOVED_CARD):
            throw .cardRemoved
        case LONG(SCARD_E_NOT_TRANSACTED), LONG(SCARD_W_UNRESPONSIVE_CARD), LONG(SCARD_E_COMM_DATA_LOST):
            // pcsc-lite sometimes words a removal during the exchange this way: ask the reader.
            if let present = try? isCardPresent(), !present { throw .cardRemoved }
            throw PCSCError.from(rv, function: "SCardTransmit") ?? .cardRemoved
        default:
            throw PCSCError.from(rv, function: "SCardTransmit") ?? .cardRemoved
        }
    }

    /// The reader still holds this card (`SCardStatus`); false once it was removed.
    public func isCardPresent() throws(PCSCError) -> Bool {
        guard let handle else { return false }
        var state: DWORD = 0
        var proto: DWORD = 0
        var atr = [UInt8](repeating: 0, count: Int(MAX_ATR_SIZE))
        var atrLength = DWORD(atr.count)
        var nameLength: DWORD = 0
        let rv = SCardStatus(handle, nil, &nameLength, &state, &proto, &atr, &atrLength)
        switch rv {
        case LONG(SCARD_S_SUCCESS):
            return (UInt(state) & 0xFFFF) & UInt(SCARD_PRESENT) != 0
        case LONG(SCARD_W_REMOVED_CARD), LONG(SCARD_E_NO_SMARTCARD):
            return false
        default:
            throw PCSCError.from(rv, function: "SCardStatus") ?? .cardRemoved
        }
    }

    /// The card's ATR as the reader read it at power-on.
    public func atr() throws(PCSCError) -> [UInt8] {
        guard let handle else { throw .cardRemoved }
        var state: DWORD = 0
        var proto: DWORD = 0
        var atr = [UInt8](repeating: 0, count: Int(MAX_ATR_SIZE))
        var atrLength = DWORD(atr.count)
        var nameLength: DWORD = 0
        let rv = SCardStatus(handle, nil, &nameLength, &state, &proto, &atr, &atrLength)
        if let error = PCSCError.from(rv, function: "SCardStatus") { throw error }
        return Array(atr.prefix(Int(atrLength)))
    }

    /// Idempotent. Errors are ignored: the card may already be gone.
    public func disconnect(_ disposition: PCSCDisposition = .leave) {
        if let handle {
            _ = SCardDisconnect(handle, disposition.raw)
            self.handle = nil
        }
    }
}
