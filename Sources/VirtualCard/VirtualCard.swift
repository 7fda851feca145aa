import CardApplication
import Dispatch
import HDFDomain
#if canImport(Glibc)
import Glibc
#endif

/// The card's answer to reset: direct convention, T=0 and T=1 offered (T=1 is what pcsc-lite picks when
/// the terminal accepts both), historical bytes ASCII "HDFGEN1", then the check byte TCK.
public enum VirtualCardATR {
    public static let bytes: [UInt8] = {
        let historical = Array("HDFGEN1".utf8)
        // T0: TD1 follows, K historical bytes. TD1: T=0, TD2 follows. TD2: T=1, nothing follows.
        var body: [UInt8] = [0x80 | UInt8(historical.count), 0x80, 0x01]
        body += historical
        let tck = body.reduce(0, ^)
        return [0x3B] + body + [tck]
    }()
}

/// What the virtual card process does, told by a signal or by the test options.
public enum VirtualCardCommand: Sendable {
    /// Pull the card out of the reader (close the vpcd socket) and stay out.
    case remove
    /// Put it back (connect again).
    case insert
    /// Pull it out and end.
    case stop
}

public struct VirtualCardOptions: Sendable {
    public var host: String
    public var port: Int
    /// How long the first insertion may wait for vpcd to listen, and how long a card whose reader went away
    /// (pcscd stopped) keeps trying to go back in before it gives up.
    public var connectTimeout: Duration
    /// Test option: on the Nth command APDU since the start (1-based), process it (an ATC increment is saved)
    /// but pull the card out instead of answering, then stay out.
    public var tearAtAPDU: Int?
    /// One line per APDU (command header and status word; never the PAN).
    public var verbose: Bool
    /// Leave the reader and end when the parent process dies (tests: a crashed test run must not leave a
    /// card in the shared reader).
    public var exitWithParent: Bool

    public init(host: String = "127.0.0.1", port: Int = 35963, connectTimeout: Duration = .seconds(10),
                tearAtAPDU: Int? = nil, verbose: Bool = false, exitWithParent: Bool = false) {
        self.exitWithParent = exitWithParent
        self.host = host
        self.port = port
        self.connectTimeout = connectTimeout
        self.tearAtAPDU = tearAtAPDU
        self.verbose = verbose
    }
}

public enum VirtualCardError: Error, CustomStringConvertible {
    case readerNotListening(host: String, port: Int, waited: Duration, cause: VPCDSocketError)
    case socket(VPCDSocketError)

    public var description: String {
        switch self {
        case .readerNotListening(let host, let port, let waited, let cause):
            if case .notAccepted = cause {
                return "vpcd at \(host):\(port) did not take the card within \(waited): its reader probably holds another card already"
            }
            return "no vpcd reader listening on \(host):\(port) after \(waited) (is pcscd running with the vpcd driver on that port?): \(cause)"
        case .socket(let error): return "\(error)"
        }
    }
}

/// A card in pcscd's vpcd reader: the `CardApplet` behind vpcd's socket protocol, its ATC saved before
/// each answer that carries a new one.
///
/// Single-threaded: one loop `poll`s the vpcd socket and a pipe that signal handlers (or `send(_:)` from
/// another thread) write commands into.
public final class VirtualCard: @unchecked Sendable {
    private var applet: CardApplet
    private let state: ATCStateFile?
    private let options: VirtualCardOptions
    private let log: @Sendable (String) -> Void
    private var apduCount = 0
    private var savedATC: UInt16
    private let commandPipe: (read: Int32, write: Int32)
    private var signalSources: [DispatchSourceSignal] = []

    public var atc: UInt16 { applet.atc }

    /// `log` receives the lifecycle lines (inserted, removed, ...).
    public init(applet: CardApplet, state: ATCStateFile?, options: VirtualCardOptions,
                log: @escaping @Sendable (String) -> Void) {
        self.applet = applet
        self.state = state
        self.options = options
        self.log = log
        self.savedATC = applet.atc
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "pipe() failed")
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
        commandPipe = (fds[0], fds[1])
    }

    deinit {
        signalSources.forEach { $0.cancel() }
        close(commandPipe.read)
        close(commandPipe.write)
    }

    /// SIGUSR1 removes the card, SIGUSR2 inserts it again, SIGTERM/SIGINT/SIGHUP remove it and end `run()`.
    public func installSignalHandlers() {
        let table: [(Int32, VirtualCardCommand)] = [
            (SIGUSR1, .remove), (SIGUSR2, .insert), (SIGTERM, .stop), (SIGINT, .stop), (SIGHUP, .stop),
        ]
        let queue = DispatchQueue(label: "virtual-card.signals")
        for (number, command) in table {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [weak self] in self?.send(command) }
            source.resume()
            signalSources.append(source)
        }
    }

    /// Thread-safe: queues a command for the loop.
    public func send(_ command: VirtualCardCommand) {
        var byte: UInt8
        switch command {
        case .remove: byte = 1
        case .insert: byte = 2
        case .stop: byte = 3
        }
        _ = write(commandPipe.write, &byte, 1)
    }

    /// Inserts the card and serves vpcd until `.stop`. Throws when vpcd never listened within
    /// `connectTimeout`, never took the card (its reader holds another one), or a reader that went away did
    /// not come back within it.
    ///
    /// "inserted" is logged when vpcd first speaks to the card (it asks for the ATR as soon as it accepts the
    /// connection), not when TCP connects: with a card already in the reader, vpcd leaves the next one in its
    /// listen queue, connected but never served.
    public func run() throws(VirtualCardError) {
        guard let first = try connectWithin(options.connectTimeout) else {
            log("stopped before insertion")
            return
        }
        let clock = ContinuousClock()
        // Closed explicitly on removal: a reference kept elsewhere must not keep the card in the reader.
        var socket: VPCDSocket? = first {
            didSet { if let old = oldValue, old !== socket { old.close() } }
        }
        var connectedAt = clock.now
        var announced = false
        var wantInserted = true
        var lostSince: ContinuousClock.Instant?

        func pullOut(_ line: String?) {
            if socket != nil, announced, let line { log(line) }
            socket = nil
            announced = false
            applet.reset()
        }

        while true {
            var fds = [pollfd(fd: commandPipe.read, events: Int16(POLLIN), revents: 0)]
            if let socket { fds.append(pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0)) }
            var timeout: Int32 = -1
            if socket == nil && wantInserted { timeout = 250 }            // vpcd went away: retry
            else if socket != nil && !announced { timeout = 100 }         // waiting for vpcd to take the card
            if options.exitWithParent { timeout = timeout < 0 ? 500 : min(timeout, 500) }
            let ready = poll(&fds, nfds_t(fds.count), timeout)
            if parentIsGone {
                pullOut(nil)
                log("stopped: the parent process is gone (ATC \(applet.atc))")
                return
            }
            if ready < 0 {
                if errno == EINTR { continue }
                throw .socket(.io(operation: "poll", errno: errno))
            }
            if fds[0].revents & Int16(POLLIN) != 0 {
                var byte: UInt8 = 0
                guard read(commandPipe.read, &byte, 1) == 1 else { continue }
                switch byte {
                case 1:
                    pullOut("removed")
                    wantInserted = false
                case 2:
                    wantInserted = true
                    if socket == nil {
                        guard let inserted = try connectWithin(options.connectTimeout) else {
                            log("stopped (ATC \(applet.atc))")
                            return
                        }
                        socket = inserted
                        connectedAt = clock.now
                        lostSince = nil
                    }
                default:
                    pullOut("removed")
                    log("stopped (ATC \(applet.atc))")
                    return
                }
                continue
            }
            guard let current = socket else {
                // vpcd went away (pcscd stopped or restarted): try to go back in.
                if wantInserted {
                    let since = lostSince ?? clock.now
                    lostSince = since
                    if let again = try? VPCDSocket.connect(host: options.host, port: options.port, timeoutMilliseconds: 250) {
                        socket = again
                        connectedAt = clock.now
                        lostSince = nil
                    } else if clock.now - since > options.connectTimeout {
                        throw .readerNotListening(host: options.host, port: options.port, waited: options.connectTimeout,
                                                  cause: .connect(host: options.host, port: options.port, errno: ECONNREFUSED))
                    }
                }
                continue
            }
            guard fds.count > 1, fds[1].revents != 0 else {
                if !announced && clock.now - connectedAt > options.connectTimeout {
                    pullOut(nil)
                    throw .readerNotListening(host: options.host, port: options.port, waited: options.connectTimeout,
                                              cause: .notAccepted(host: options.host, port: options.port))
                }
                continue
            }
            let payload: [UInt8]?
            do { payload = try current.readMessage() } catch { payload = nil }
            guard let payload else {
                pullOut("the reader closed the connection (pcscd stopped?); trying to go back in")
                lostSince = clock.now
                continue
            }
            if !announced {
                announced = true
                log("inserted into \(options.host):\(options.port) (card \(applet.pan.masked), ATC \(applet.atc))")
            }
            switch handle(VPCDMessage(payload: payload)) {
            case .none:
                break
            case .reply(let answer):
                do { try current.writeMessage(answer) } catch {
                    pullOut("the reader closed the connection while the card answered")
                    lostSince = clock.now
                }
            case .tear:
                log("torn out of the reader during command APDU #\(apduCount) (ATC \(applet.atc))")
                pullOut(nil)
                wantInserted = false
            }
        }
    }

    enum Reaction: Equatable { case none, reply([UInt8]), tear }

    /// One message from vpcd → what to send back.
    func handle(_ message: VPCDMessage) -> Reaction {
        switch message {
        case .control(.powerOff), .control(.powerOn), .control(.reset):
            applet.reset()
            return .none
        case .control(.getATR):
            return .reply(VirtualCardATR.bytes)
        case .unknownControl:
            return .none
        case .apdu(let command):
            apduCount += 1
            var answer = applet.process(command)
            if applet.atc != savedATC {
                do {
                    try state?.save(pan: applet.pan, atc: applet.atc)
                    savedATC = applet.atc
                } catch {
                    // Never let a cryptogram out whose ATC is not on disk: a restart could repeat it.
                    log("cannot save the ATC: \(error); answering 65 81 (memory failure)")
                    answer = [0x65, 0x81]
                }
            }
            if options.verbose {
                let header = command.prefix(4).map { hex($0) }.joined(separator: " ")
                let sw = answer.suffix(2).map { hex($0) }.joined(separator: " ")
                log("apdu #\(apduCount): \(header) -> \(answer.count - 2) bytes, \(sw)")
            }
            if let tear = options.tearAtAPDU, apduCount == tear { return .tear }
            return .reply(answer)
        }
    }

    /// nil when a stop came while waiting.
    private func connectWithin(_ limit: Duration) throws(VirtualCardError) -> VPCDSocket? {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while true {
            do {
                return try VPCDSocket.connect(host: options.host, port: options.port, timeoutMilliseconds: 1000,
                                              interruptDescriptor: commandPipe.read)
            } catch .interrupted {
                // A stop ends the wait; other commands are moot until the card is in.
                var byte: UInt8 = 0
                if read(commandPipe.read, &byte, 1) == 1, byte == 3 { return nil }
            } catch {
                if case .resolve = error { throw .socket(error) }
                if clock.now >= deadline {
                    throw .readerNotListening(host: options.host, port: options.port, waited: limit, cause: error)
                }
                if case .notAccepted = error { continue }  // already waited a second
                var fds = [pollfd(fd: commandPipe.read, events: Int16(POLLIN), revents: 0)]
                _ = poll(&fds, 1, 200)
            }
        }
    }

    /// The parent at start; with `exitWithParent`, the card leaves when it changes (the parent died).
    private let parentAtStart = getppid()

    private var parentIsGone: Bool { options.exitWithParent && getppid() != parentAtStart }
}

private func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
}
