import NIOConcurrencyHelpers

/// Counts open connections, in all and per terminal, against `ServerLimits`. Shared by every event loop.
final class ConnectionRegistry: Sendable {
    private struct State {
        var total = 0
        var perTerminal: [String: Int] = [:]
    }
    private let state = NIOLockedValueBox(State())
    let maximumConnections: Int
    let maximumPerTerminal: Int

    init(limits: ServerLimits) {
        maximumConnections = limits.maximumConnections
        maximumPerTerminal = limits.maximumConnectionsPerTerminal
    }

    /// A new TCP connection; false: over the limit, close it.
    func openConnection() -> Bool {
        state.withLockedValue { state in
            guard state.total < maximumConnections else { return false }
            state.total += 1
            return true
        }
    }

    func closeConnection() {
        state.withLockedValue { state in
            assert(state.total > 0)
            state.total -= 1
        }
    }

    /// The connection has proved it is `terminal`; false: that terminal has too many connections.
    func attach(terminal: String) -> Bool {
        state.withLockedValue { state in
            let count = state.perTerminal[terminal, default: 0]
            guard count < maximumPerTerminal else { return false }
            state.perTerminal[terminal] = count + 1
            return true
        }
    }

    func detach(terminal: String) {
        state.withLockedValue { state in
            let count = state.perTerminal[terminal, default: 0]
            assert(count > 0)
            if count <= 1 { state.perTerminal[terminal] = nil } else { state.perTerminal[terminal] = count - 1 }
        }
    }

    var openConnections: Int { state.withLockedValue { $0.total } }
}
