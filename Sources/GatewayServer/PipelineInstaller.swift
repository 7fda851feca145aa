import NIOCore

/// The first handler of a new connection: on the connection's first bytes, it installs the rest of the
/// pipeline (`install`), passes those bytes on to it, and removes itself.
///
/// Why: a connection that never sends a byte (a stranger holding a socket open until the handshake
/// deadline closes it) then costs the gateway no TLS state and no handlers; only the handshake gate
/// behind this handler counts and times it.
final class PipelineInstaller: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias Install = (ChannelPipeline.SynchronousOperations, PipelineInstaller) throws -> Void

    private var install: Install?

    init(install: @escaping Install) {
        self.install = install
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let install else {
            context.fireChannelRead(data)
            return
        }
        self.install = nil
        do {
            try install(context.pipeline.syncOperations, self)
        } catch {
            context.fireErrorCaught(error)
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
