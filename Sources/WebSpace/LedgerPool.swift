import BeneficiaryOperations
import Foundation
import Ledger
import NIOConcurrencyHelpers
import NIOPosix

/// The web space's ledger handles. A `Ledger` is one SQLite connection used by one thread at a time, and
/// SQLite calls block (a write may wait for the gateway's lock): each operation takes an idle handle and
/// runs on NIO's blocking thread pool, never on the server's event loops or Swift's cooperative threads.
public final class LedgerPool: Sendable {
    let directory: String
    private let idle = NIOLockedValueBox<[Ledger]>([])
    private let threadPool: NIOThreadPool

    public init(directory: String, threadPool: NIOThreadPool = .singleton) throws {
        self.directory = directory
        self.threadPool = threadPool
        // Opening once up front migrates the ledger and fails early on a wrong directory.
        let first = try Ledger.open(directory: directory, actor: "web")
        idle.withLockedValue { $0.append(first) }
    }

    /// Runs `body` with a ledger handle on the blocking thread pool.
    public func run<T: Sendable>(_ body: @escaping @Sendable (Ledger) throws -> T) async throws -> T {
        try await threadPool.runIfActive { [self] in
            let ledger = try idle.withLockedValue { $0.popLast() } ?? Ledger.open(directory: directory, actor: "web")
            defer {
                idle.withLockedValue { handles in
                    if handles.count < WebLimits.maximumLedgerConnections { handles.append(ledger) }
                }
            }
            return try body(ledger)
        }
    }

    public func cards<T: Sendable>(_ body: @escaping @Sendable (CardOperations) throws -> T) async throws -> T {
        try await run { try body(CardOperations(ledger: $0)) }
    }

    public func accounts<T: Sendable>(_ body: @escaping @Sendable (WebAccounts) throws -> T) async throws -> T {
        try await run { try body(WebAccounts(ledger: $0)) }
    }
}

// A Ledger moves between threads only through the pool's lock, one user at a time.
extension Ledger: @unchecked Sendable {}
