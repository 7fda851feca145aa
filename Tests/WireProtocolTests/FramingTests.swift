import NIOCore
import NIOEmbedded
import Testing
@testable import WireProtocol

/// Framing (contract §3): a 4-byte big-endian length N, 1 ≤ N ≤ 65,536, then N bytes.
@Suite("Framing")
struct FramingTests {
    private func decodingChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(FrameDecoder.handler())
        return channel
    }

    private func frame(_ payload: [UInt8]) -> [UInt8] {
        let n = UInt32(payload.count)
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + payload
    }

    private func header(_ n: UInt32) -> [UInt8] {
        [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
    }

    private func readAll(_ channel: EmbeddedChannel) throws -> [[UInt8]] {
        var frames: [[UInt8]] = []
        while let buffer = try channel.readInbound(as: ByteBuffer.self) {
            frames.append(Array(buffer.readableBytesView))
        }
        return frames
    }

    @Test("a frame fed one byte at a time comes out once, whole, when its last byte arrives")
    func byteByByte() throws {
        let channel = try decodingChannel()
        let payload = Array(#"{"type":"echo","id":"1"}"#.utf8)
        let bytes = frame(payload)
        for (index, byte) in bytes.enumerated() {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            let frames = try readAll(channel)
            if index < bytes.count - 1 {
                #expect(frames.isEmpty, "no frame before byte \(index + 1) of \(bytes.count)")
            } else {
                #expect(frames == [payload])
            }
        }
        #expect(try channel.finish().isClean)
    }

    @Test("a header split across reads at every position")
    func headerSplitEverywhere() throws {
        let payload = Array("xyz".utf8)
        let bytes = frame(payload)
        for cut in 1..<FrameLimits.headerBytes {
            let channel = try decodingChannel()
            try channel.writeInbound(ByteBuffer(bytes: bytes[..<cut]))
            #expect(try readAll(channel).isEmpty)
            try channel.writeInbound(ByteBuffer(bytes: bytes[cut...]))
            #expect(try readAll(channel) == [payload], "cut after \(cut) header bytes")
            #expect(try channel.finish().isClean)
        }
    }

    @Test("several frames in one read, and a frame spanning two reads")
    func severalFramesInOneRead() throws {
        let channel = try decodingChannel()
        let payloads = ["a", "bb", #"{"type":"echo","id":"3"}"#, "dddd"].map { Array($0.utf8) }
        let stream = payloads.flatMap(frame)
        let cut = stream.count - 3  // the last frame's last bytes come later
        try channel.writeInbound(ByteBuffer(bytes: stream[..<cut]))
        #expect(try readAll(channel) == Array(payloads.prefix(3)))
        try channel.writeInbound(ByteBuffer(bytes: stream[cut...]))
        #expect(try readAll(channel) == [payloads[3]])
        #expect(try channel.finish().isClean)
    }

    @Test("N = 0 is refused as soon as the header is in")
    func zeroLength() throws {
        let channel = try decodingChannel()
        #expect(throws: FrameError.lengthOutOfBounds(0)) {
            try channel.writeInbound(ByteBuffer(bytes: self.header(0)))
        }
        _ = try? channel.finish()
    }

    @Test("N = 65,537 is refused without waiting for its payload")
    func oneAboveMaximum() throws {
        let channel = try decodingChannel()
        #expect(throws: FrameError.lengthOutOfBounds(65_537)) {
            try channel.writeInbound(ByteBuffer(bytes: self.header(65_537)))
        }
        _ = try? channel.finish()
    }

    @Test("the largest header value is refused", arguments: [UInt32.max, 0x8000_0000, 1 << 20])
    func hugeLength(_ n: UInt32) throws {
        let channel = try decodingChannel()
        #expect(throws: FrameError.lengthOutOfBounds(n)) {
            try channel.writeInbound(ByteBuffer(bytes: self.header(n) + [1, 2, 3]))
        }
        _ = try? channel.finish()
    }

    @Test("a bad header after a good frame: the good frame is delivered, then the error")
    func goodThenBad() throws {
        let channel = try decodingChannel()
        #expect(throws: FrameError.lengthOutOfBounds(0)) {
            try channel.writeInbound(ByteBuffer(bytes: self.frame([0x7B, 0x7D]) + self.header(0)))
        }
        #expect(try readAll(channel) == [[0x7B, 0x7D]])
        _ = try? channel.finish()
    }

    @Test("after a bad header the handler delivers nothing more, whatever follows")
    func nothingAfterBadHeader() throws {
        let channel = try decodingChannel()
        #expect(throws: FrameError.lengthOutOfBounds(65_537)) {
            try channel.writeInbound(ByteBuffer(bytes: self.header(65_537) + self.frame([0x41])))
        }
        _ = try? channel.writeInbound(ByteBuffer(bytes: self.frame([0x42]) + self.frame([0x43])))
        #expect(try readAll(channel) == [])
        _ = try? channel.finish()
    }

    @Test("the single-step decoder (the fuzz target's way in) cuts the same frames as the handler")
    func singleStepAgrees() throws {
        let bytes = frame([0x7B, 0x7D]) + frame(Array(repeating: 0x20, count: 300)) + frame([0x31]) + [0, 0]
        let processor = NIOSingleStepByteToMessageProcessor(FrameDecoder(), maximumBufferSize: FrameLimits.maximumBufferedBytes)
        var frames: [[UInt8]] = []
        for chunk in stride(from: 0, to: bytes.count, by: 7) {
            try processor.process(buffer: ByteBuffer(bytes: bytes[chunk..<min(bytes.count, chunk + 7)])) {
                frames.append(Array($0.readableBytesView))
            }
        }
        try processor.finishProcessing(seenEOF: true) { frames.append(Array($0.readableBytesView)) }
        #expect(frames == [[0x7B, 0x7D], Array(repeating: 0x20, count: 300), [0x31]])
        #expect(throws: FrameError.lengthOutOfBounds(0)) {
            try processor.process(buffer: ByteBuffer(bytes: self.header(0))) { _ in }
        }
    }

    @Test("N = 65,536 is accepted, and held back until its last byte")
    func maximumAccepted() throws {
        let channel = try decodingChannel()
        let payload = [UInt8](repeating: 0x20, count: FrameLimits.maximumFrameBytes)
        let bytes = frame(payload)
        try channel.writeInbound(ByteBuffer(bytes: bytes.dropLast()))
        #expect(try readAll(channel).isEmpty)
        try channel.writeInbound(ByteBuffer(bytes: bytes.suffix(1)))
        let frames = try readAll(channel)
        #expect(frames.count == 1)
        #expect(frames.first?.count == FrameLimits.maximumFrameBytes)
        #expect(try channel.finish().isClean)
    }

    @Test("N = 1 is accepted")
    func minimumAccepted() throws {
        let channel = try decodingChannel()
        try channel.writeInbound(ByteBuffer(bytes: frame([0x31])))
        #expect(try readAll(channel) == [[0x31]])
        #expect(try channel.finish().isClean)
    }

    @Test("two maximum frames and a partial third in one read stay within the buffer bound")
    func boundedBuffer() throws {
        let channel = try decodingChannel()
        let big = [UInt8](repeating: 0x41, count: FrameLimits.maximumFrameBytes)
        let partial = frame(big).prefix(FrameLimits.maximumBufferedBytes - 1)
        try channel.writeInbound(ByteBuffer(bytes: frame(big) + frame(big) + partial))
        #expect(try readAll(channel).count == 2)
        try channel.writeInbound(ByteBuffer(bytes: [0x41]))
        #expect(try readAll(channel).count == 1)
        #expect(try channel.finish().isClean)
    }

    @Test("at end of input, complete frames are delivered and a truncated one is dropped")
    func endOfInput() throws {
        let channel = try decodingChannel()
        try channel.writeInbound(ByteBuffer(bytes: frame([0x31]) + header(10) + [1, 2]))
        #expect(try readAll(channel) == [[0x31]])
        let state = try channel.finish()
        #expect(state.isClean)
    }

    @Test("the encoder writes the big-endian length then the payload")
    func encoder() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(FrameEncoder.handler())
        let payload = [UInt8](repeating: 0x61, count: 300)
        try channel.writeOutbound(ByteBuffer(bytes: payload))
        let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(written.readableBytesView) == [0, 0, 0x01, 0x2C] + payload)
        #expect(try channel.finish().isClean)
    }

    @Test("the encoder refuses an empty payload and one above the maximum", arguments: [0, 65_537])
    func encoderRefuses(_ count: Int) throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(FrameEncoder.handler())
        #expect(throws: FrameError.payloadOutOfBounds(bytes: count)) {
            try channel.writeOutbound(ByteBuffer(bytes: [UInt8](repeating: 0x61, count: count)))
        }
        _ = try? channel.finish()
    }

    @Test("encoder and decoder agree, over a maximum frame too")
    func roundTrip() throws {
        let encoderChannel = EmbeddedChannel()
        try encoderChannel.pipeline.syncOperations.addHandler(FrameEncoder.handler())
        let decoderChannel = try decodingChannel()
        let payloads: [[UInt8]] = [[1], Array("é".utf8), [UInt8](repeating: 7, count: FrameLimits.maximumFrameBytes)]
        for payload in payloads {
            try encoderChannel.writeOutbound(ByteBuffer(bytes: payload))
            while let wire = try encoderChannel.readOutbound(as: ByteBuffer.self) {
                try decoderChannel.writeInbound(wire)
            }
        }
        #expect(try readAll(decoderChannel) == payloads)
        #expect(try encoderChannel.finish().isClean)
        #expect(try decoderChannel.finish().isClean)
    }
}
