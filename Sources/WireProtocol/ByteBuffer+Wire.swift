import NIOCore

extension RequestParser {
    /// Parses one frame's payload (as `FrameDecoder` emits it).
    public static func parse(frame: ByteBuffer) -> ParseOutcome {
        frame.withUnsafeReadableBytes { parse($0) }
    }

    public static func parseRequest(frame: ByteBuffer) throws(RequestRejection) -> Request {
        let result = frame.withUnsafeReadableBytes { bytes in
            Result { () throws(RequestRejection) -> Request in try parseRequest(bytes) }
        }
        return try result.get()
    }
}

extension Response {
    /// Appends the response's JSON (one frame's payload; `FrameEncoder` adds the header).
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeBytes(encode())
    }

    /// The response's JSON in a new buffer.
    public func encodedBuffer(allocator: ByteBufferAllocator) -> ByteBuffer {
        let bytes = encode()
        var buffer = allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        return buffer
    }

    public init(decoding buffer: ByteBuffer) throws(DecodingError) {
        let result = buffer.withUnsafeReadableBytes { bytes in
            Result { () throws(DecodingError) -> Response in try Response(decoding: bytes) }
        }
        self = try result.get()
    }
}
