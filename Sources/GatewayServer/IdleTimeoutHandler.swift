import NIOCore

/// Fires `IdleStateHandler.IdleStateEvent.all` once nothing has been read or written for `timeout`.
///
/// Why not NIO's `IdleStateHandler`: it measures elapsed time with the wall clock (`NIODeadline.now()`)
/// while it schedules on the event loop, so on an `EmbeddedChannel` whose time is advanced by the test the
/// event never fires. This one reads the event loop's own clock (`eventLoop.now`), which is the wall clock
/// on a real loop and the virtual one on an embedded loop: the time-out is tested deterministically.
/// One scheduled task per connection at a time, re-armed only when it fires (not on every read).
final class IdleTimeoutHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private let timeout: TimeAmount
    private var lastActivity: NIODeadline = .uptimeNanoseconds(0)
    private var check: Scheduled<Void>?
    private var fired = false

    init(timeout: Duration) {
        precondition(timeout > .zero, "an idle time-out must be positive")
        self.timeout = .nanoseconds(timeout.nanoseconds)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = context.eventLoop.now
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastActivity = context.eventLoop.now
        context.write(data, promise: promise)
    }

    private func start(_ context: ChannelHandlerContext) {
        guard check == nil, !fired else { return }
        lastActivity = context.eventLoop.now
        schedule(context, at: lastActivity + timeout)
    }

    private func schedule(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        check = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.check = nil
            let idleSince = handler.lastActivity
            if context.eventLoop.now - idleSince >= handler.timeout {
                handler.fired = true
                context.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.all)
            } else {
                handler.schedule(context, at: idleSince + handler.timeout)
            }
        }
    }

    private func stop() {
        check?.cancel()
        check = nil
    }
}
