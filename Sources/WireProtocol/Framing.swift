import NIOCore

/// The framing of the protocol: a 4-byte unsigned big-endian length N, then N bytes of one UTF-8
/// JSON object, with 1 ≤ N ≤ 65,536 (contract §3).
public enum FrameLimits {
    /// The size of the length header, in bytes.
    public static let headerBytes = 4
    /// The smallest payload a frame may carry, in bytes.
    public static let minimumFrameBytes = 1
    /// The largest payload a frame may carry, in bytes.
    public static let maximumFrameBytes = 65_536
    /// The most a connection ever holds of incomplete input: one header and one maximum payload,
    /// in bytes. Use it as `ByteToMessageHandler`'s `maximumBufferSize` (see `FrameDecoder.handler()`).
    public static let maximumBufferedBytes = headerBytes + maximumFrameBytes

    static let allowedFrameBytes = minimumFrameBytes...maximumFrameBytes
}

public enum FrameError: Error, Equatable, CustomStringConvertible {
    /// A received header announced a payload outside 1...65,536 bytes. The connection must be closed:
    /// nothing after it can be trusted to be on a frame boundary.
    case lengthOutOfBounds(UInt32)
    /// A payload to send is outside 1...65,536 bytes (a bug in the sender, never sent).
    case payloadOutOfBounds(bytes: Int)

    public var description: String {
        switch self {
        case .lengthOutOfBounds(let length):
            return "frame header announces \(length) bytes, outside \(FrameLimits.minimumFrameBytes)...\(FrameLimits.maximumFrameBytes)"
        case .payloadOutOfBounds(let bytes):
            return "refusing to send a frame of \(bytes) bytes, outside \(FrameLimits.minimumFrameBytes)...\(FrameLimits.maximumFrameBytes)"
        }
    }
}

/// Cuts the byte stream into frames: emits each frame's payload (without its header) as a `ByteBuffer`.
///
/// A header outside the limits throws `FrameError.lengthOutOfBounds` as soon as its 4 bytes are in,
/// without waiting for (or buffering) the payload it announces. After each read, what stays buffered
/// is at most one header and one incomplete payload, so less than `FrameLimits.maximumBufferedBytes`.
public struct FrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = ByteBuffer

    private enum State: Sendable {
        case waitingForHeader
        case waitingForPayload(bytes: Int)
    }

    private var state: State = .waitingForHeader

    public init() {}

    /// The decoder in its handler, with the buffer bounded to one header and one maximum frame.
    public static func handler() -> ByteToMessageHandler<FrameDecoder> {
        ByteToMessageHandler(FrameDecoder(), maximumBufferSize: FrameLimits.maximumBufferedBytes)
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let payload = try self.nextFrame(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(payload))
        return .continue
    }

    /// At end of input, the complete frames still buffered are delivered (a client may half-close after
    /// pipelining); an incomplete trailing frame is dropped: its sender has gone.
    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while let payload = try self.nextFrame(from: &buffer) {
            context.fireChannelRead(Self.wrapInboundOut(payload))
        }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }

    private mutating func nextFrame(from buffer: inout ByteBuffer) throws(FrameError) -> ByteBuffer? {
        if case .waitingForHeader = self.state {
            guard let length = buffer.readInteger(endianness: .big, as: UInt32.self) else { return nil }
            guard FrameLimits.allowedFrameBytes.contains(Int(length)) else {
                throw .lengthOutOfBounds(length)
            }
            self.state = .waitingForPayload(bytes: Int(length))
        }
        guard case .waitingForPayload(let bytes) = self.state,
              let payload = buffer.readSlice(length: bytes) else { return nil }
        self.state = .waitingForHeader
        return payload
    }
}

/// The same decoding outside a channel pipeline, for `NIOSingleStepByteToMessageProcessor` (the fuzz target
/// drives the decoder that way: thousands of streams a second instead of hundreds through a channel).
extension FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        try self.nextFrame(from: &buffer)
    }

    /// As `decodeLast(context:buffer:seenEOF:)`: the complete frames, then an incomplete one is dropped.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        if let payload = try self.nextFrame(from: &buffer) { return payload }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return nil
    }
}

/// Writes each outgoing payload as one frame: its 4-byte big-endian length, then the payload.
public struct FrameEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = ByteBuffer

    public init() {}

    /// The encoder in its handler.
    public static func handler() -> MessageToByteHandler<FrameEncoder> {
        MessageToByteHandler(FrameEncoder())
    }

    public func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        let bytes = data.readableBytes
        guard FrameLimits.allowedFrameBytes.contains(bytes) else {
            throw FrameError.payloadOutOfBounds(bytes: bytes)
        }
        out.reserveCapacity(minimumWritableBytes: FrameLimits.headerBytes + bytes)
        out.writeInteger(UInt32(bytes), endianness: .big)
        out.writeImmutableBuffer(data)
    }
}
