import CLibFuzzer
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A property of the code under test that this input broke: says which, then aborts, so that libFuzzer
/// saves the input as a crash artifact (and `-runs=N` in `make test` fails).
public func fuzzCheck(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
    file: StaticString = #fileID, line: UInt = #line
) {
    if !condition() {
        var text = "FUZZ PROPERTY VIOLATED (\(file):\(line)): \(message())\n"
        text.withUTF8 { utf8 in _ = write(2, utf8.baseAddress, utf8.count) }  // stderr, unbuffered
        abort()
    }
}

/// Reads the fuzzer's input as a little program: bytes and small integers taken from the front.
public struct FuzzInput {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var offset = 0

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    public var isAtEnd: Bool { offset >= bytes.count }
    public var remaining: Int { bytes.count - offset }

    /// The next byte, or nil at the end.
    public mutating func nextByte() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// Up to `count` next bytes (fewer at the end).
    public mutating func next(_ count: Int) -> [UInt8] {
        let taken = min(max(count, 0), remaining)
        defer { offset += taken }
        return Array(bytes[offset..<(offset + taken)])
    }

    /// Everything not read yet.
    public mutating func rest() -> [UInt8] { next(remaining) }
}

/// The input as a buffer of bytes, from libFuzzer's pointer and size.
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeRawBufferPointer {
    guard let data, size > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(start: data, count: size)
}

/// Runs libFuzzer with the process's arguments and `testOneInput`, then exits with libFuzzer's status.
/// (SwiftPM gives every executable a `main` of its own, so the one in libFuzzer's runtime never runs.)
public func runLibFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    let status = LLVMFuzzerRunDriver(&argc, &argv, testOneInput)
    exit(status)
}
