import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus

/// Prometheus text on `GET /metrics`, on loopback only: requests by type and code, request latency,
/// open connections, commit batch sizes and durations.
enum MetricsEndpoint {
    /// The endpoint listens on loopback only.
    static let host = "127.0.0.1"

    static func bind(group: EventLoopGroup, port: Int, registry: PrometheusCollectorRegistry) async throws -> Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Responder(registry: registry))
                }
            }
            .bind(host: host, port: port).get()
    }

    final class Responder: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let registry: PrometheusCollectorRegistry
        var path = ""

        init(registry: PrometheusCollectorRegistry) { self.registry = registry }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): path = head.uri
            case .body: break
            case .end:
                let found = path == "/metrics" || path.hasPrefix("/metrics?")
                let body = found ? registry.emitToBuffer() : Array("not found: try /metrics\n".utf8)
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
                headers.add(name: "Content-Length", value: String(body.count))
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: found ? .ok : .notFound,
                                                                     headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
