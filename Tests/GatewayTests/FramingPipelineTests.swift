import NIOCore
import NIOEmbedded
import Testing
import WireProtocol

/// The framing half of a connection's pipeline, as the gateway assembles it (FrameDecoder, FrameEncoder)
/// with a stand-in for the request handler that answers refused frames the way the gateway does.
@Suite("Framing pipeline (EmbeddedChannel)")
struct FramingPipelineTests {
    /// Answers each frame: a refused one with its rejection, a well-formed one with `00`.
    final class Answerer: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let response: Response
            switch RequestParser.parse(frame: unwrapInboundIn(data)) {
            case .reject(let type, let id, let code): response = .rejection(type: type, id: id, code: code)
            case .request(let request): response = Response(to: request, code: .approved)
            }
            context.writeAndFlush(wrapOutboundOut(response.encodedBuffer(allocator: context.channel.allocator)), promise: nil)
        }
    }

    func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(FrameDecoder.handler())
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
        try channel.pipeline.syncOperations.addHandler(Answerer())
        return channel
    }

    func answers(_ channel: EmbeddedChannel) throws -> [JSONValue] {
        var bytes: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
        var answers: [JSONValue] = []
        var rest = bytes[...]
        while rest.count >= 4 {
            let length = rest.prefix(4).reduce(0) { $0 << 8 | Int($1) }
            rest = rest.dropFirst(4)
            answers.append(try JSONValue.parse(Array(rest.prefix(length))))
            rest = rest.dropFirst(length)
        }
        #expect(rest.isEmpty, "answers are whole frames")
        return answers
    }

    @Test("three frames in one read, a broken one in the middle: three framed answers, in order")
    func threeFramesOneRead() throws {
        let channel = try channel()
        let bytes = frame(#"{"type":"echo","id":"a"}"#) + frame("{not json") + frame(#"{"type":"echo","id":"c"}"#)
        try channel.writeInbound(ByteBuffer(bytes: bytes))
        let answers = try answers(channel)
        #expect(answers.map { $0["id"] } == [.string("a"), .null, .string("c")])
        #expect(answers.map(\.code) == ["00", "30", "00"])
        #expect(try channel.finish().isClean)
    }

    @Test("a header of 0 is an error on the channel (the gateway closes the connection)")
    func zeroHeader() throws {
        let channel = try channel()
        #expect(throws: FrameError.lengthOutOfBounds(0)) {
            try channel.writeInbound(ByteBuffer(bytes: header(0) + [0x7B]))
        }
        _ = try? channel.finish()
    }
}
