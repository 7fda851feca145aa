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
///
/// Fairness: each terminal has its own line of waiting requests, at most
/// `maximumQueuedRequestsPerTerminal` long, and a batch is filled round-robin over the terminals with
/// requests waiting (one from each in turn). A terminal that pipelines as fast as it can fills its own
/// line and gets `96` past it; another terminal's request still goes into the next batch.
final class AuthorizationQueue: @unchecked Sendable {
    struct Item {
        /// Prepared by the submitter, on its event loop (the digest, the cryptogram): not the writer's work.
        let prepared: PreparedRequest
        let terminal: TerminalContext
        let promise: EventLoopPromise<Decision>
        var request: Request { prepared.request }
    }

    /// The ledger-free part of a request's decision, on the caller's thread (Authorizer.prepare).
    func prepare(_ request: Request) -> PreparedRequest { authorizer.prepare(request) }

    /// Why a request was not queued; the caller answers `96` with this message.
    enum Refusal: Sendable {
        case queueFull
        case terminalQueueFull
        case stopping

        var frenchMessage: String {
            switch self {
            case .queueFull, .terminalQueueFull: return "Serveur occupé"
            case .stopping: return "Serveur en cours d'arrêt"
            }
        }
    }

    enum SubmitResult: Sendable {
        case queued
        case refused(Refusal)
    }

    private let condition = NSCondition()
    /// Each terminal's waiting requests, in arrival order.
    private var waitingByTerminal: [String: CircularBuffer<Item>] = [:]
    /// The terminals that have requests waiting, in the order they are served next.
    private var turnOrder: [String] = []
    /// Requests waiting, all terminals together.
    private var waitingCount = 0
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
    private var nextCheckpointNanos: UInt64 = 0

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

    /// Queues a request, or says why not (the caller answers `96`): the queue is stopping, full, or full
    /// for this terminal.
    func submit(_ item: Item) -> SubmitResult {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { return .refused(.stopping) }
        guard waitingCount < limits.maximumQueuedRequests else { return .refused(.queueFull) }
        let terminalID = item.terminal.terminalID
        let ofTerminal = waitingByTerminal[terminalID]?.count ?? 0
        guard ofTerminal < limits.maximumQueuedRequestsPerTerminal else { return .refused(.terminalQueueFull) }
        if ofTerminal == 0 {
            turnOrder.append(terminalID)
            waitingByTerminal[terminalID] = CircularBuffer(initialCapacity: 16)
        }
        waitingByTerminal[terminalID]!.append(item)
        waitingCount += 1
        if waitingCount == 1 { condition.signal() }
        return .queued
    }

    /// Moves up to `maximumBatchSize` waiting requests into `batch`, one per terminal in turn. The
    /// terminal after the last one served comes first next time. Called with `condition` locked (or, in
    /// tests, on a queue that was never started).
    func takeBatch(into batch: inout [Item]) {
        var index = 0
        while batch.count < limits.maximumBatchSize && !turnOrder.isEmpty {
            if index >= turnOrder.count { index = 0 }
            let terminalID = turnOrder[index]
            batch.append(waitingByTerminal[terminalID]!.removeFirst())
            waitingCount -= 1
            if waitingByTerminal[terminalID]!.isEmpty {
                waitingByTerminal[terminalID] = nil
                turnOrder.remove(at: index)
            } else {
                index += 1
            }
        }
        if index > 0 && index < turnOrder.count {
            turnOrder = Array(turnOrder[index...] + turnOrder[..<index])
        }
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
            while waitingCount == 0 && !stopping && Date() < nextHousekeeping {
                _ = condition.wait(until: nextHousekeeping)
            }
            if waitingCount == 0 && stopping {
                condition.unlock()
                break
            }
            if waitingCount == 0 {
                condition.unlock()
                maintainIfDue()
                continue
            }
            takeBatch(into: &batch)
            let moreWaiting = waitingCount > 0
            condition.unlock()

            process(batch)
            batch.removeAll(keepingCapacity: true)
            checkpointIfDue()
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
                try authorizer.decide(batch[index].prepared, terminal: batch[index].terminal, tx: tx)
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
                decision = Decision(answer: Answer(to: item.request, code: .systemError))
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

    /// `.paced` checkpoints: a PASSIVE checkpoint between two batches, at most once per `checkpointInterval`.
    /// SQLite's automatic one runs on a commit and, while readers (the web space) keep the WAL from being
    /// reset, again on every later commit; this one runs at a pace, after the batch's answers are on their way.
    private func checkpointIfDue() {
        guard limits.checkpointMode == .paced else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now >= nextCheckpointNanos else { return }
        nextCheckpointNanos = now + UInt64(limits.checkpointInterval.nanoseconds)
        do {
            _ = try ledger.checkpointPassive()
        } catch let error as SQLiteError where error.isBusy {
            // Another process (the beneficiary side's automatic checkpoint) is checkpointing this WAL right now:
            // the same work is being done; ours comes again at the next interval.
            logger.debug("checkpoint skipped: another connection is checkpointing", metadata: ["error": "\(error)"])
        } catch {
            logger.warning("checkpoint failed", metadata: ["error": "\(error)"])
        }
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
