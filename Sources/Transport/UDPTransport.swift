import NIOCore
import NIOPosix
import RTP
import STUN
import Session

/// The one UDP port all participants share. Datagrams go to the session of their source address once ICE has
/// validated it; a STUN request from a new address goes to the session whose ufrag its USERNAME names. Session
/// state lives on the channel's event loop only: every packet is handled synchronously there, no `await`.
public final class UDPTransport: Sendable {
    let channel: Channel
    private let handler: NIOLoopBound<Router>
    public let localPort: Int
    private let epoch: NIODeadline

    /// The room clock: microseconds since the transport started. Sessions stamp frames with it.
    public func now() -> RTPTime { (NIODeadline.now() - epoch).nanoseconds / 1000 }

    /// Binds `host:port` (port 0 picks one) on `group`. Frames and session events go to `ingest` (on the loop).
    public static func bind(host: String, port: Int, group: EventLoopGroup, ingest: any MediaIngest) async throws -> UDPTransport {
        let loop = group.next()
        // Made on its loop and only ever handed around loop-bound.
        let epoch = NIODeadline.now()
        let router = try await loop.submit { NIOLoopBound(Router(ingest: ingest, epoch: epoch), eventLoop: loop) }.get()
        let channel = try await DatagramBootstrap(group: loop)
            .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            // One socket carries every participant's media: a 4 MiB receive buffer (the kernel caps it at
            // net.core.rmem_max) rides out a stall of the event loop of a few hundred ms without dropping packets
            // (audio is not retransmitted). The default, 208 KiB, overflows after ~200 ms at 8 publishers.
            .channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: 4 << 20)
            .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 2048))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(RouterHandler(router: router)) }
            }
            .bind(host: host, port: port).get()
        try await loop.submit { router.value.start(channel: channel) }.get()
        return UDPTransport(channel: channel, router: router, port: channel.localAddress?.port ?? port, epoch: epoch)
    }

    private init(channel: Channel, router: NIOLoopBound<Router>, port: Int, epoch: NIODeadline) {
        self.epoch = epoch
        self.channel = channel
        self.handler = router
        self.localPort = port
    }

    /// Adds a session that answers to `ufrag` (our ICE ufrag from its answer). Runs on the event loop.
    public func add(sessionID: String, ufrag: String, make: @escaping @Sendable () throws -> PeerSession) async throws {
        let handler = self.handler
        try await channel.eventLoop.submit { try handler.value.add(id: sessionID, ufrag: ufrag, session: make()) }.get()
    }

    /// Adds a session we opened (WHEP, Janus: full ICE, our checks go out to its remote candidates). Throws
    /// `OutgoingConflict` when another session already talks to one of those addresses from this port.
    public func addOutgoing(sessionID: String, ufrag: String, make: @escaping @Sendable () throws -> PeerSession) async throws {
        let handler = self.handler
        let added = try await channel.eventLoop.submit { try handler.value.addOutgoing(id: sessionID, ufrag: ufrag, session: make()) }.get()
        if !added { throw OutgoingConflict() }
    }

    /// Binds a socket of its own on `host` for session `sessionID` before it exists (its port goes into the offer
    /// or answer); `addOutgoing` then puts the session on it. For a remote address that another session on the
    /// shared port already talks to (an SFU with one port for everyone).
    public func reserveSocket(sessionID: String, host: String) async throws -> Int {
        let handler = self.handler, loop = channel.eventLoop
        let own = try await DatagramBootstrap(group: loop)
            .channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: 1 << 20)
            .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 2048))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(PlainHandler(router: handler, sessionID: sessionID)) }
            }
            .bind(host: host, port: 0).get()
        try await loop.submit { handler.value.reserve(own, for: sessionID) }.get()
        return own.localAddress?.port ?? 0
    }

    /// Whether a session on the shared port already talks to one of `addresses` (a new one to them needs its own).
    public func talksTo(_ addresses: [TransportAddress]) async -> Bool {
        let handler = self.handler
        return (try? await channel.eventLoop.submit { addresses.contains { handler.value.boundSession(of: $0) != nil } }.get()) ?? false
    }

    /// Gives back a reserved socket that no session took.
    public func releaseSocket(sessionID: String) async {
        let handler = self.handler
        try? await channel.eventLoop.submit { handler.value.release(id: sessionID) }.get()
    }

    /// Two sessions to one remote address cannot share the port.
    public struct OutgoingConflict: Error, CustomStringConvertible {
        public init() {}
        public var description: String { "another session on this port already talks to the same remote address" }
    }

    /// Our address as the STUN server at `server` sees it (RFC 8489 binding, from the shared port): the
    /// server-reflexive candidate behind NAT. Nil when it does not answer within `timeout` (three sends).
    public func reflexiveAddress(stunServer server: TransportAddress, timeoutMilliseconds: Int64 = 1500) async -> TransportAddress? {
        let handler = self.handler, loop = channel.eventLoop
        let promise = loop.makePromise(of: TransportAddress?.self)
        guard let id = try? await loop.submit({ handler.value.requestBinding(to: server, promise: promise) }).get() else { return nil }
        for attempt in 1...3 {
            loop.scheduleTask(in: .milliseconds(timeoutMilliseconds * Int64(attempt) / 3)) {
                if attempt < 3 { handler.value.resendBinding(id, to: server) } else { handler.value.endBinding(id) }
            }
        }
        return (try? await promise.futureResult.get()) ?? nil
    }

    /// Adds a plain RTP session (an SFU's or an encoder's RTP, not WebRTC) on ports of its own: `ports` to bind on
    /// `host` (0: any free one), in order; returns the ports bound. Its datagrams go to it whatever their source
    /// (the session decides whom to accept); what it sends leaves from the port its peer's packets came to.
    public func addPlain(sessionID: String, host: String, ports: [Int], make: @escaping @Sendable () throws -> PlainRTPSession) async throws -> [Int] {
        let handler = self.handler, loop = channel.eventLoop
        var channels: [Channel] = []
        do {
            for port in ports {
                let channel = try await DatagramBootstrap(group: loop)
                    .channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: 1 << 20)
                    .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 2048))
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(PlainHandler(router: handler, sessionID: sessionID))
                        }
                    }
                    .bind(host: host, port: port).get()
                channels.append(channel)
            }
            let bound = channels
            try await loop.submit { try handler.value.addPlain(id: sessionID, session: make(), channels: bound) }.get()
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        return channels.map { $0.localAddress?.port ?? 0 }
    }

    /// Ends a session; its report and `.closed(reason)` are delivered before this returns.
    public func remove(sessionID: String, reason: String = "ended by the server") async {
        let handler = self.handler
        try? await channel.eventLoop.submit { handler.value.remove(id: sessionID, reason: reason) }.get()
    }

    /// A decoder of this session needs a keyframe on track `mid` (callable from any thread).
    public func requestKeyframe(sessionID: String, mid: String) {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.requestKeyframe(id: sessionID, mid: mid) }
    }

    /// The tile of each of a session's video tracks, by mid (nil: in no tile). Thread-safe.
    public func setVideoTiles(sessionID: String, tiles: [String: PictureSize?]) {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.setVideoTiles(id: sessionID, tiles: tiles) }
    }

    /// Caps what a session's sender sends for its video, in bits per second (REMB). Thread-safe.
    public func setVideoBitrateCap(sessionID: String, bitsPerSecond: Int) {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.setVideoBitrateCap(id: sessionID, bitsPerSecond: bitsPerSecond) }
    }

    /// The live statistics of a session's tracks (empty when it is gone).
    public func reports(sessionID: String) async -> [PeerSession.TrackReport] {
        let handler = self.handler
        return (try? await channel.eventLoop.submit { handler.value.reports(id: sessionID) }.get()) ?? []
    }

    /// Stops the session timer and closes the socket: nothing reaches the ingest afterwards.
    public func close() async {
        let handler = self.handler
        try? await channel.eventLoop.submit { handler.value.stop() }.get()
        try? await channel.close()
    }

    /// The session datagrams from `address` are routed to without a STUN check (tests).
    func boundSession(of address: TransportAddress) async -> String? {
        let handler = self.handler
        return try? await channel.eventLoop.submit { handler.value.boundSession(of: address) }.get()
    }

    /// Timer ticks so far (tests: none after `close`).
    var ticks: Int { get async { let handler = self.handler; return (try? await channel.eventLoop.submit { handler.value.ticks }.get()) ?? 0 } }
}
