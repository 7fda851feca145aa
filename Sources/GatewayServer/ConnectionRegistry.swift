import NIOConcurrencyHelpers
import NIOCore

/// Counts connections against `ServerLimits`, shared by every event loop. Two stages, so that strangers
/// cannot keep terminals out: a connection still in its TLS handshake counts only against the handshake
/// caps (in all and per source address); once its terminal is known it counts against the main cap and
/// its terminal's cap instead.
///
/// At the cap of handshakes in all, a new connection is not refused: the one that has been in its
/// handshake the longest is closed to make room. A terminal's handshake takes milliseconds, a stranger's
/// lasts until the deadline, so the oldest is almost always a stranger's; to push a terminal's handshake
/// out, strangers would have to open the whole cap's worth of connections within those milliseconds.
final class ConnectionRegistry: Sendable {
    private struct State {
        /// Connections in their handshake by admission number (increasing with time).
        var handshaking: [Int: (channel: Channel, address: String)] = [:]
        var nextAdmission = 0
        /// No connection admitted before this number is still in its handshake.
        var oldestAdmission = 0
        var handshakingPerAddress: [String: Int] = [:]
        var authenticated = 0
        var perTerminal: [String: Int] = [:]
    }
    private let state = NIOLockedValueBox(State())
    let maximumConnections: Int
    let maximumPerTerminal: Int
    let maximumHandshaking: Int
    let maximumHandshakingPerAddress: Int

    init(limits: ServerLimits) {
        maximumConnections = limits.maximumConnections
        maximumPerTerminal = limits.maximumConnectionsPerTerminal
        maximumHandshaking = limits.maximumHandshakingConnections
        maximumHandshakingPerAddress = limits.maximumHandshakingConnectionsPerAddress
    }

    /// Why a connection was refused, for the log.
    enum Refusal: String {
        case tooManyHandshakesFromAddress = "too many connections in their TLS handshake from this address"
        case tooManyConnections = "too many authenticated connections"
        case tooManyConnectionsOfTerminal = "too many connections of this terminal"
    }

    enum Admission {
        /// Admitted under `ticket` (give it back to `endHandshake`); `evicted`, if any, must be closed: it
        /// was the oldest in its handshake and made room.
        case admitted(ticket: Int, evicted: Channel?)
        case refused(Refusal)
    }

    /// A new TCP connection `channel` from `address`, about to start its handshake.
    func beginHandshake(of channel: Channel, from address: String) -> Admission {
        state.withLockedValue { state in
            let fromAddress = state.handshakingPerAddress[address, default: 0]
            guard fromAddress < maximumHandshakingPerAddress else { return .refused(.tooManyHandshakesFromAddress) }
            var evicted: Channel?
            if state.handshaking.count >= maximumHandshaking {
                while state.handshaking[state.oldestAdmission] == nil { state.oldestAdmission += 1 }
                let oldest = state.oldestAdmission
                evicted = state.handshaking[oldest]?.channel
                Self.remove(oldest, from: &state)
            }
            let ticket = state.nextAdmission
            state.nextAdmission += 1
            state.handshaking[ticket] = (channel, address)
            state.handshakingPerAddress[address, default: 0] += 1
            return .admitted(ticket: ticket, evicted: evicted)
        }
    }

    /// The handshake of the connection admitted under `ticket` is over (done, failed, closed or evicted).
    func endHandshake(ticket: Int) {
        state.withLockedValue { Self.remove(ticket, from: &$0) }
    }

    private static func remove(_ ticket: Int, from state: inout State) {
        guard let address = state.handshaking.removeValue(forKey: ticket)?.address else { return }
        let fromAddress = state.handshakingPerAddress[address, default: 0]
        if fromAddress <= 1 { state.handshakingPerAddress[address] = nil } else { state.handshakingPerAddress[address] = fromAddress - 1 }
    }

    /// The connection has proved it is `terminal`; nil: admitted, else close it.
    func attach(terminal: String) -> Refusal? {
        state.withLockedValue { state in
            guard state.authenticated < maximumConnections else { return .tooManyConnections }
            let count = state.perTerminal[terminal, default: 0]
            guard count < maximumPerTerminal else { return .tooManyConnectionsOfTerminal }
            state.authenticated += 1
            state.perTerminal[terminal] = count + 1
            return nil
        }
    }

    func detach(terminal: String) {
        state.withLockedValue { state in
            assert(state.authenticated > 0)
            state.authenticated -= 1
            let count = state.perTerminal[terminal, default: 0]
            assert(count > 0)
            if count <= 1 { state.perTerminal[terminal] = nil } else { state.perTerminal[terminal] = count - 1 }
        }
    }

    /// Authenticated connections open now.
    var openConnections: Int { state.withLockedValue { $0.authenticated } }
    /// Connections in their TLS handshake now.
    var handshakingConnections: Int { state.withLockedValue { $0.handshaking.count } }
}
