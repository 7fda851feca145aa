import Foundation
import Ledger
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import WireProtocol
import HDFDomain

/// The single writer: one thread owns the gateway's ledger connection and the `Authorizer`. It takes all
/// requests waiting at that moment (up to `maximumBatchSize`), decides each in its own savepoint, commits
/// them in one durable SQLite transaction, and only then answers them: group commit. Requests on one
/// wallet are serialised by construction, and no answer leaves before its commit is on disk.
final class AuthorizationQueue: @unchecked Sendable {
    struct Item {
        let request: Request
        let terminal: TerminalContext
        let promise: EventLoopPromise<Decision>
    }

    private let condition = NSCondition()
    private var waiting: [Item] = []
    private var stopping = false
    private var thread: Thread?
    private let finished = ConditionLock(value: false)

    private let ledger: Ledger
    private let authorizer: Authorizer
    private let limits: ServerLimits
    private let logger: Logger
    private let batchSizes = Recorder(label: "gateway_commit_batch_size", aggregate: true)
    private let commitSeconds = Metrics.Timer(label: "gateway_commit_duration")
    private var requestCounters: [String: Counter] = [:]
    /// How often housekeeping runs (also on an idle gateway: the authorisation thread wakes up for it).
    static let housekeepingInterval: Duration = .seconds(60)
    /// After a run that stopped at one of its limits, the next comes this soon (between batches).
    static let housekeepingCatchUpInterval: Duration = .seconds(1)
    private let housekeepingInterval: Duration
    private var nextHousekeeping: Date

    init(ledger: Ledger, authorizer: Authorizer, limits: ServerLimits, logger: Logger,
         housekeepingInterval: Duration = AuthorizationQueue.housekeepingInterval) {
        self.ledger = ledger
        self.authorizer = authorizer
        self.limits = limits
        self.logger = logger
        self.housekeepingInterval = housekeepingInterval
        self.nextHousekeeping = Date()
        ledger.onConnectionReopened = { [logger] reason in
            logger.warning("ledger connection reopened", metadata: ["reason": "\(reason)"])
        }
    }

    func start() {
        let thread = Thread { [self] in self.run() }
        thread.name = "authorisation"
        thread.stackSize = 4 << 20
        self.thread = thread
        thread.start()
    }

    /// Queues a request; false when the queue is full or stopping (the caller answers `96`).
    func submit(_ item: Item) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping, waiting.count < limits.maximumQueuedRequests else { return false }
        waiting.append(item)
        if waiting.count == 1 { condition.signal() }
        return true
    }

    /// Answers everything queued, then stops the thread. Blocks until it has.
    func stopAndDrain() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
        finished.lock(whenValue: true)
        finished.unlock()
    }

    private func run() {
        var batch: [Item] = []
        batch.reserveCapacity(limits.maximumBatchSize)
        while true {
            condition.lock()
            // Idle: sleep until a request comes or housekeeping is due, whichever is first.
            while waiting.isEmpty && !stopping && Date() < nextHousekeeping {
                _ = condition.wait(until: nextHousekeeping)
            }
            if waiting.isEmpty && stopping {
                condition.unlock()
                break
            }
            if waiting.isEmpty {
                condition.unlock()
                maintainIfDue()
                continue
            }
            let take = min(waiting.count, limits.maximumBatchSize)
            batch.append(contentsOf: waiting[0..<take])
            waiting.removeFirst(take)
            let moreWaiting = !waiting.isEmpty
            condition.unlock()

            process(batch)
            batch.removeAll(keepingCapacity: true)
            // After the batch's answers are on their way, never between its COMMIT and its answers.
            maintainIfDue()
            if moreWaiting && !stopping {
                // Let another process's writer in between two batches (SQLite's lock is not fair).
                Thread.sleep(forTimeInterval: limits.interBatchPause.timeInterval)
            }
        }
        finished.lock()
        finished.unlock(withValue: true)
    }

    private func process(_ batch: [Item]) {
        let started = DispatchTime.now().uptimeNanoseconds
        let results: [Result<Decision, Error>]
        do {
            results = try ledger.writeBatch(count: batch.count) { index, tx in
                try authorizer.decide(batch[index].request, terminal: batch[index].terminal, tx: tx)
            }
        } catch {
            // The commit itself failed: nothing of the batch is kept, every request gets 96.
            logger.error("commit failed, \(batch.count) requests answered 96", metadata: ["error": "\(error)"])
            results = batch.map { _ in .failure(error) }
        }
        batchSizes.record(batch.count)
        commitSeconds.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
        for (item, result) in zip(batch, results) {
            let decision: Decision
            switch result {
            case .success(let decided): decision = decided
            case .failure(let error):
                logger.error("request failed, answered 96", metadata: ["terminal": "\(item.terminal.terminalID)", "error": "\(error)"])
                decision = Decision(response: Response(to: item.request, code: .systemError).encode(), code: .systemError,
                                    closeConnection: false, maskedPAN: nil)
            }
            count(item.request.type.rawValue, decision.code)
            item.promise.succeed(decision)
        }
    }

    private func count(_ type: String, _ code: ResponseCode) {
        let key = type + "/" + code.rawValue
        if let counter = requestCounters[key] { counter.increment(); return }
        let counter = Counter(label: "gateway_requests_total", dimensions: [("type", type), ("code", code.rawValue)])
        requestCounters[key] = counter
        counter.increment()
    }

    /// Once a minute (sooner while a run stops at its limits), in a transaction of its own: vouchers past
    /// their expiry are released, stans and audit rows past their retention forgotten, each bounded.
    private func maintainIfDue() {
        let now = Date()
        guard now >= nextHousekeeping else { return }
        nextHousekeeping = now.addingTimeInterval(housekeepingInterval.timeInterval)
        do {
            let report = try ledger.write { tx in try tx.housekeeping() }
            if report.reachedALimit {
                nextHousekeeping = now.addingTimeInterval(AuthorizationQueue.housekeepingCatchUpInterval.timeInterval)
            }
            if report.releasedVouchers > 0 || report.purgedStans > 0 || report.purgedAuditRows > 0 {
                logger.info("housekeeping: released \(report.releasedVouchers) expired vouchers, forgot \(report.purgedStans) old stans, removed \(report.purgedAuditRows) old audit rows")
            }
        } catch {
            logger.warning("housekeeping failed", metadata: ["error": "\(error)"])
        }
    }
}
