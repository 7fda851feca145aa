import FuzzSupport
import Glibc
import NIOCore
import WireProtocol

// Properties of `FrameDecoder` on any byte stream, delivered in any cut into reads. The decoder runs in
// NIO's `NIOSingleStepByteToMessageProcessor` (NIO's buffering outside a channel, with the gateway's bound
// `FrameLimits.maximumBufferedBytes`): through an `EmbeddedChannel` the target ran 300 inputs a second, too
// few for 200,000 runs in `make test`. The handler itself (`FrameDecoder.handler()`, nothing delivered after
// a bad header, the bound on what it buffers) is FramingTests' business.
// - it never crashes and emits exactly the frames a reference reading of contract §3 finds, in order;
// - every frame it emits holds 1...65,536 bytes;
// - a header outside 1...65,536 is an error (`lengthOutOfBounds` with that length) raised by the read
//   that completes the header, after the frames before it and never with a frame after it (the gateway
//   closes the connection on that error);
// - the bytes kept between reads never exceed one header and one maximum frame (the processor's bound);
// - at end of input, nothing more than the complete frames comes out (a partial frame is dropped);
// - `FrameEncoder` writes each frame back as exactly the bytes it was read from.
//
// The input is a small program that builds the stream (so that 64 KiB frames need not be 64 KiB of
// input) and chooses the sizes of the reads.

/// The most bytes one input builds into a stream. Kept small: at 200,000 runs in a debug build with
/// coverage, every byte costs; a complete 65,536-byte frame is FramingTests' business, the headers on
/// and around the bounds are checked here.
let maximumStreamBytes = 16 * 1024
/// The most filler bytes after a header on a bound.
let maximumFillerBytes = 4_096
/// The most reads one input makes: small reads of a large stream are made larger (each read goes through
/// the whole channel pipeline, and one input must stay well under the per-input time-out).
let maximumReadsPerInput = 64
/// Read sizes chosen by the input: around the header, around the maximum frame, and small ones.
let readSizes = [1, 2, 3, 4, 5, 7, 16, 255, 4_096, 65_535, 65_536, 65_540, 65_541, 200_000]
/// Announced lengths that sit on and around the bounds.
let boundaryLengths: [UInt32] = [0, 1, 2, 65_535, 65_536, 65_537, 65_540, 1 << 24, UInt32.max]

func appendHeader(_ length: UInt32, to stream: inout [UInt8]) {
    stream += [UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)]
}

/// Builds the byte stream and the read sizes from the input.
func program(_ input: inout FuzzInput) -> (stream: [UInt8], reads: [Int]) {
    var stream: [UInt8] = []
    var reads: [Int] = []
    let readChoice = input.nextByte() ?? 0
    while let op = input.nextByte(), stream.count < maximumStreamBytes {
        switch op % 5 {
        case 0:  // raw bytes
            stream += input.next(Int(input.nextByte() ?? 0))
        case 1:  // a small well-formed frame (1...256 bytes), filled with one byte; op 3 makes the big ones
            let length = 1 + Int(input.nextByte() ?? 0)
            appendHeader(UInt32(length), to: &stream)
            stream += [UInt8](repeating: input.nextByte() ?? 0x7B, count: length)
        case 2:  // any header
            let header = input.next(4)
            stream += header
        case 3:  // a header on a bound, then up to 4 KiB of filler
            let length = boundaryLengths[Int(input.nextByte() ?? 0) % boundaryLengths.count]
            appendHeader(length, to: &stream)
            stream += [UInt8](repeating: 0x20, count: Int(min(length, UInt32(maximumFillerBytes))))
        default:  // a read size for the next read
            reads.append(readSizes[Int(input.nextByte() ?? 0) % readSizes.count])
        }
    }
    if reads.isEmpty { reads = [readSizes[Int(readChoice) % readSizes.count]] }
    return (stream, reads)
}

/// What contract §3 says the stream holds: its complete frames (offset and payload) up to the first
/// header outside the bounds, and that header (its length, and the offset just after it).
func referenceReading(_ stream: [UInt8]) -> (frames: [(offset: Int, payload: ArraySlice<UInt8>)], badHeader: (length: UInt32, end: Int)?) {
    var frames: [(Int, ArraySlice<UInt8>)] = []
    var offset = 0
    while offset + 4 <= stream.count {
        let length = UInt32(stream[offset]) << 24 | UInt32(stream[offset + 1]) << 16
            | UInt32(stream[offset + 2]) << 8 | UInt32(stream[offset + 3])
        guard length >= 1 && length <= 65_536 else { return (frames, (length, offset + 4)) }
        let end = offset + 4 + Int(length)
        guard end <= stream.count else { break }
        frames.append((offset, stream[(offset + 4)..<end]))
        offset = end
    }
    return (frames, nil)
}

/// Byte equality by `memcmp`: a byte-by-byte walk of a `ByteBufferView` costs microseconds per byte in this
/// unoptimised build and made the target ten times slower.
func sameBytes(_ buffer: ByteBuffer, _ bytes: ArraySlice<UInt8>) -> Bool {
    guard buffer.readableBytes == bytes.count else { return false }
    return buffer.withUnsafeReadableBytes { left in
        bytes.withUnsafeBytes { right in
            left.count == 0 || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(fuzzBytes(data, size))
    let (stream, reads) = program(&input)
    let expected = referenceReading(stream)

    let processor = NIOSingleStepByteToMessageProcessor(FrameDecoder(), maximumBufferSize: FrameLimits.maximumBufferedBytes)
    var received: [ByteBuffer] = []
    var offset = 0
    var readIndex = 0
    var failure: (error: any Error, readStart: Int, readEnd: Int)? = nil
    let allocator = ByteBufferAllocator()
    while offset < stream.count {
        let smallestRead = max(1, stream.count / maximumReadsPerInput)
        let readEnd = min(stream.count, offset + max(smallestRead, reads[readIndex % reads.count]))
        readIndex += 1
        var buffer = allocator.buffer(capacity: readEnd - offset)
        buffer.writeBytes(stream[offset..<readEnd])
        do {
            try processor.process(buffer: buffer) { received.append($0) }
        } catch {
            failure = (error, offset, readEnd)
        }
        offset = readEnd
        if failure != nil { break }
    }

    if let bad = expected.badHeader {
        guard let failure else {
            fuzzCheck(false, "header announcing \(bad.length) bytes was not refused")
            return 0
        }
        fuzzCheck(failure.error as? FrameError == .lengthOutOfBounds(bad.length),
                  "header announcing \(bad.length) bytes refused with \(failure.error)")
        fuzzCheck(failure.readStart < bad.end && bad.end <= failure.readEnd,
                  "the bad header was refused by a read that did not complete it")
    } else {
        if let failure { fuzzCheck(false, "a stream with no bad header was refused: \(failure.error)") }
        do {
            try processor.finishProcessing(seenEOF: true) { received.append($0) }
        } catch {
            fuzzCheck(false, "the end of a stream with no bad header was refused: \(error)")
        }
    }

    fuzzCheck(received.count == expected.frames.count,
              "\(received.count) frames decoded, \(expected.frames.count) in the stream")
    for (frame, reference) in zip(received, expected.frames) {
        fuzzCheck((1...65_536).contains(frame.readableBytes), "a frame of \(frame.readableBytes) bytes came out")
        fuzzCheck(sameBytes(frame, reference.payload), "a frame's payload differs from the stream")
        var encoded = ByteBuffer()
        do {
            try FrameEncoder().encode(data: frame, out: &encoded)
        } catch {
            fuzzCheck(false, "FrameEncoder refused a decoded frame of \(frame.readableBytes) bytes: \(error)")
        }
        let original = stream[reference.offset..<(reference.offset + 4 + reference.payload.count)]
        fuzzCheck(sameBytes(encoded, original), "re-encoding a frame does not give its bytes back")
    }
    return 0
}

@main
struct FuzzFrameDecoderMain {
    static func main() { runLibFuzzer(fuzzFrameDecoder) }
}
