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

/// Routing table and timers; confined to the channel's event loop (wrapped in `NIOLoopBound` everywhere else).
final class Router {
    struct Entry { var session: PeerSession; var ufrag: String }

    func reports(id: String) -> [PeerSession.TrackReport] { sessions[id]?.session.reports ?? [] }
    private var sessions: [String: Entry] = [:]
    private var byAddress: [TransportAddress: String] = [:]
    private let ingest: any MediaIngest
    private var timer: RepeatedTask?
    private(set) var ticks = 0
    private weak var channel: Channel?
    private let clock: NIODeadline
    private(set) var dropped = 0

    init(ingest: any MediaIngest, epoch: NIODeadline) { self.ingest = ingest; self.clock = epoch }

    var now: RTPTime { (NIODeadline.now() - clock).nanoseconds / 1000 }

    func start(channel: Channel) {
        self.channel = channel
        let loop = channel.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        timer = loop.scheduleRepeatedTask(initialDelay: .milliseconds(20), delay: .milliseconds(20)) { _ in bound.value.tick() }
    }

    /// The transport is closing: no more ticks, and every session ends without reaching the ingest.
    func stop() {
        timer?.cancel()
        timer = nil
        sessions.removeAll()
        byAddress.removeAll()
    }

    func add(id: String, ufrag: String, session: PeerSession) {
        sessions[id] = Entry(session: session, ufrag: ufrag)
    }

    /// Ends a session from our side; its report and `.closed` still go out.
    func remove(id: String, reason: String) {
        guard let entry = sessions.removeValue(forKey: id) else { return }
        byAddress = byAddress.filter { $0.value != id }
        deliver(entry.session.shutdown(reason: reason), id: id)
    }

    func boundSession(of address: TransportAddress) -> String? { byAddress[address] }

    func setVideoBitrateCap(id: String, bitsPerSecond: Int) {
        guard let entry = sessions[id] else { return }
        deliver(entry.session.setVideoBitrateCap(bitsPerSecond, now: now), id: id)
    }

    func setVideoTiles(id: String, tiles: [String: PictureSize?]) {
        guard let entry = sessions[id] else { return }
        deliver(entry.session.setVideoTiles(tiles, now: now), id: id)
    }

    func requestKeyframe(id: String, mid: String) {
        guard let entry = sessions[id] else { return }
        deliver(entry.session.requestKeyframe(mid: mid, now: now), id: id)
    }

    func receive(_ bytes: [UInt8], from address: TransportAddress) {
        var id = byAddress[address]
        if id == nil, STUNMessage.looksLikeSTUN(bytes), let message = try? STUNMessage(parsing: bytes), let username = message.username,
           let local = username.split(separator: ":").first {
            id = sessions.first { $0.value.ufrag == local }?.key
        }
        guard let id, let entry = sessions[id] else { dropped += 1; return }
        let outputs = entry.session.receive(bytes, from: address, now: now)
        // Remember the address once ICE validated it, so DTLS and media find their session (a check that failed —
        // a wrong password, say — binds nothing).
        if byAddress[address] == nil, entry.session.hasValidated(address) { byAddress[address] = id }
        deliver(outputs, id: id)
    }

    private func deliver(_ outputs: [PeerSession.Output], id: String) {
        for output in outputs {
            switch output {
            case let .send(bytes, to):
                send(bytes, to: to)
            case .closed:
                sessions[id] = nil
                byAddress = byAddress.filter { $0.value != id }
                ingest.ingest(sessionID: id, output)
            default:
                ingest.ingest(sessionID: id, output)
            }
        }
    }

    private func send(_ bytes: [UInt8], to address: TransportAddress) {
        guard let channel, let remote = try? SocketAddress(ipAddress: address.ipString, port: Int(address.port)) else { return }
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: buffer), promise: nil)
    }

    func tick() {
        ticks += 1
        let t = now
        for (id, entry) in sessions { deliver(entry.session.poll(now: t), id: id) }
    }
}

final class RouterHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let router: NIOLoopBound<Router>

    init(router: NIOLoopBound<Router>) { self.router = router }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let address = TransportAddress(envelope.remoteAddress) else { return }
        let bytes = envelope.data.getBytes(at: envelope.data.readerIndex, length: envelope.data.readableBytes) ?? []
        router.value.receive(bytes, from: address)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP port-unreachable and the like: one peer's problem, never the socket's.
    }
}

extension TransportAddress {
    init?(_ address: SocketAddress) {
        guard let port = address.port else { return nil }
        switch address {
        case let .v4(a):
            let raw = a.address.sin_addr.s_addr.bigEndian
            self.init(ip: [UInt8(raw >> 24), UInt8((raw >> 16) & 0xFF), UInt8((raw >> 8) & 0xFF), UInt8(raw & 0xFF)], port: UInt16(port))
        case let .v6(a):
            let bytes = withUnsafeBytes(of: a.address.sin6_addr) { Array($0) }
            self.init(ip: bytes, port: UInt16(port))
        default:
            return nil
        }
    }

    var ipString: String {
        if isIPv4 { return ip.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(ip[$0]) << 8 | UInt16(ip[$0 + 1]), radix: 16) }.joined(separator: ":")
    }
}
