#if canImport(Glibc)
import Glibc
#endif

/// vpcd's framing (vsmartcard's `vpcd` driver in pcscd): every message, both ways, is a 2-byte big-endian
/// length, then that many bytes. From vpcd, a 1-byte payload is a control byte; a longer one is a command
/// APDU. The card connecting is an insertion; the card closing its socket is a removal.
public enum VPCDMessage: Equatable, Sendable {
    public enum Control: UInt8, Sendable {
        case powerOff = 0x00
        case powerOn = 0x01
        case reset = 0x02
        case getATR = 0x04
    }

    case control(Control)
    /// A 1-byte payload vpcd does not define; ignored.
    case unknownControl(UInt8)
    case apdu([UInt8])

    public init(payload: [UInt8]) {
        if payload.count == 1 {
            if let control = Control(rawValue: payload[0]) { self = .control(control) } else { self = .unknownControl(payload[0]) }
        } else {
            self = .apdu(payload)
        }
    }

    /// `length (2 bytes BE) ‖ payload`
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        precondition(payload.count <= 0xFFFF)
        return [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)] + payload
    }
}

public enum VPCDSocketError: Error, CustomStringConvertible, Equatable {
    case resolve(host: String, why: String)
    case connect(host: String, port: Int, errno: Int32)
    /// vpcd listens with a backlog of 0 and accepts one card per reader: a second card's connection hangs.
    case notAccepted(host: String, port: Int)
    /// A command (stop, remove) arrived while connecting.
    case interrupted
    case io(operation: String, errno: Int32)

    public var description: String {
        switch self {
        case .resolve(let host, let why): return "cannot resolve \(host): \(why)"
        case .connect(let host, let port, let code):
            return "cannot connect to vpcd at \(host):\(port): \(String(cString: strerror(code)))"
        case .notAccepted(let host, let port):
            return "vpcd at \(host):\(port) does not accept the card (its reader probably holds another card already)"
        case .interrupted: return "interrupted while connecting"
        case .io(let operation, let code): return "vpcd socket \(operation): \(String(cString: strerror(code)))"
        }
    }
}

/// A blocking TCP connection to vpcd.
final class VPCDSocket {
    private(set) var descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { close() }

    /// The card leaves the reader. Idempotent.
    func close() {
        if descriptor >= 0 {
            _ = Glibc.close(descriptor)
            descriptor = -1
        }
    }

    /// Connects within `timeoutMilliseconds`; a readable `interruptDescriptor` ends the wait with `.interrupted`
    /// (it is not read).
    static func connect(host: String, port: Int, timeoutMilliseconds: Int32 = 1000,
                        interruptDescriptor: Int32? = nil) throws(VPCDSocketError) -> VPCDSocket {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw .resolve(host: host, why: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(result) }
        var lastError = VPCDSocketError.connect(host: host, port: port, errno: ECONNREFUSED)
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
                            info.pointee.ai_protocol)
            guard fd >= 0 else {
                lastError = .connect(host: host, port: port, errno: errno)
                continue
            }
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 {
                guard errno == EINPROGRESS else {
                    lastError = .connect(host: host, port: port, errno: errno)
                    Glibc.close(fd)
                    continue
                }
                var fds = [pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)]
                if let interruptDescriptor { fds.append(pollfd(fd: interruptDescriptor, events: Int16(POLLIN), revents: 0)) }
                var ready: Int32
                repeat { ready = poll(&fds, nfds_t(fds.count), timeoutMilliseconds) } while ready < 0 && errno == EINTR
                if fds.count > 1, fds[1].revents & Int16(POLLIN) != 0 {
                    Glibc.close(fd)
                    throw .interrupted
                }
                if ready == 0 {
                    // SYN sent, never answered: vpcd's backlog is full, another card is in.
                    Glibc.close(fd)
                    lastError = .notAccepted(host: host, port: port)
                    continue
                }
                var code: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
                guard code == 0 else {
                    lastError = .connect(host: host, port: port, errno: code)
                    Glibc.close(fd)
                    continue
                }
            }
            // Blocking from here on: the card's loop polls before every read.
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            return VPCDSocket(descriptor: fd)
        }
        throw lastError
    }

    /// The next message's payload; nil when vpcd closed the connection.
    func readMessage() throws(VPCDSocketError) -> [UInt8]? {
        guard let header = try readExactly(2) else { return nil }
        let length = Int(header[0]) << 8 | Int(header[1])
        if length == 0 { return [] }
        guard let payload = try readExactly(length) else { return nil }
        return payload
    }

    func writeMessage(_ payload: [UInt8]) throws(VPCDSocketError) {
        let bytes = VPCDMessage.frame(payload)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { buffer in
                send(descriptor, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "send", errno: errno)
            }
            offset += sent
        }
    }

    private func readExactly(_ count: Int) throws(VPCDSocketError) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let received = buffer.withUnsafeMutableBytes { raw in
                recv(descriptor, raw.baseAddress! + offset, count - offset, 0)
            }
            if received == 0 { return nil }
            if received < 0 {
                if errno == EINTR { continue }
                if errno == ECONNRESET { return nil }
                throw .io(operation: "recv", errno: errno)
            }
            offset += received
        }
        return buffer
    }
}
