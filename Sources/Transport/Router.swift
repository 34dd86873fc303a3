import NIOCore
import NIOPosix
import RTP
import STUN
import Session

/// Routing table and timers; confined to the channel's event loop (wrapped in `NIOLoopBound` everywhere else).
final class Router {
    struct Entry {
        var session: any RoutedSession
        /// Our ICE ufrag (WebRTC sessions on the shared port).
        var ufrag: String?
        /// A plain RTP session's own sockets, and which of them each peer address last sent to.
        var channels: [Channel] = []
        var replyChannel: [TransportAddress: Int] = [:]
    }

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
        for entry in sessions.values { for channel in entry.channels { channel.close(promise: nil) } }
        for channel in ownSockets.values { channel.close(promise: nil) }
        ownSockets.removeAll()
        sessions.removeAll()
        byAddress.removeAll()
    }

    func add(id: String, ufrag: String, session: PeerSession) {
        sessions[id] = Entry(session: session, ufrag: ufrag)
    }

    /// Sockets of their own bound for sessions about to be opened (their port went into the offer).
    private var ownSockets: [String: Channel] = [:]

    func reserve(_ channel: Channel, for id: String) {
        ownSockets.removeValue(forKey: id)?.close(promise: nil)
        ownSockets[id] = channel
    }

    func release(id: String) { ownSockets.removeValue(forKey: id)?.close(promise: nil) }

    /// A session we opened (full ICE). On a socket of its own (reserved for it) every datagram there is its own;
    /// on the shared port the answers to its checks come from its remote candidates, so those addresses route to it
    /// from the start — false when another session already talks to one of them: the two could not be told apart.
    func addOutgoing(id: String, ufrag: String, session: PeerSession) -> Bool {
        if let own = ownSockets.removeValue(forKey: id) {
            sessions[id] = Entry(session: session, ufrag: ufrag, channels: [own])
            return true
        }
        let remote = session.remoteCandidates
        guard !remote.contains(where: { byAddress[$0] != nil && byAddress[$0] != id }) else { return false }
        sessions[id] = Entry(session: session, ufrag: ufrag)
        for address in remote { byAddress[address] = id }
        return true
    }

    func addPlain(id: String, session: PlainRTPSession, channels: [Channel]) {
        sessions[id] = Entry(session: session, ufrag: nil, channels: channels)
    }

    /// A datagram on one of session `id`'s own sockets (a plain RTP session's, or a WebRTC session's of its own).
    func receivePlain(_ bytes: [UInt8], from address: TransportAddress, id: String, channel: Channel) {
        guard var entry = sessions[id], let index = entry.channels.firstIndex(where: { $0 === channel }) else { dropped += 1; return }
        if entry.replyChannel[address] != index, entry.replyChannel.count < 16 || entry.replyChannel[address] != nil {
            entry.replyChannel[address] = index
            sessions[id] = entry
        }
        if let session = entry.session as? PlainRTPSession {
            deliver(session.receive(bytes, from: address, socket: index, now: now), id: id)
        } else if let session = entry.session as? PeerSession {
            deliver(session.receive(bytes, from: address, now: now), id: id)
        }
    }

    /// Ends a session from our side; its report and `.closed` still go out.
    func remove(id: String, reason: String) {
        guard let entry = sessions[id] else { return }
        byAddress = byAddress.filter { $0.value != id }
        deliver(entry.session.shutdown(reason: reason), id: id)
        sessions[id] = nil
        for channel in entry.channels { channel.close(promise: nil) }
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

    /// Binding requests to STUN servers awaiting their answer (our server-reflexive address), by transaction.
    private var bindings: [[UInt8]: EventLoopPromise<TransportAddress?>] = [:]

    func requestBinding(to server: TransportAddress, promise: EventLoopPromise<TransportAddress?>) -> [UInt8] {
        let id = (0..<12).map { _ in UInt8.random(in: 0...255) }
        bindings[id] = promise
        let request = STUNMessageBuilder(class: .request, transactionID: id).encoded
        send(request, to: server)
        return id
    }

    func resendBinding(_ id: [UInt8], to server: TransportAddress) {
        guard bindings[id] != nil else { return }
        send(STUNMessageBuilder(class: .request, transactionID: id).encoded, to: server)
    }

    func endBinding(_ id: [UInt8]) { bindings.removeValue(forKey: id)?.succeed(nil) }

    func receive(_ bytes: [UInt8], from address: TransportAddress) {
        if !bindings.isEmpty, STUNMessage.looksLikeSTUN(bytes), let message = try? STUNMessage(parsing: bytes), message.messageClass == .success,
           let promise = bindings.removeValue(forKey: message.transactionID) {
            promise.succeed(message.xorMappedAddress)
            return
        }
        var id = byAddress[address]
        if id == nil, STUNMessage.looksLikeSTUN(bytes), let message = try? STUNMessage(parsing: bytes), let username = message.username,
           let local = username.split(separator: ":").first {
            id = sessions.first { $0.value.ufrag.map { $0[...] == local } == true }?.key
        }
        guard let id, let session = sessions[id]?.session as? PeerSession else { dropped += 1; return }
        let outputs = session.receive(bytes, from: address, now: now)
        // Remember the address once ICE validated it, so DTLS and media find their session (a check that failed —
        // a wrong password, say — binds nothing).
        if byAddress[address] == nil, session.hasValidated(address) { byAddress[address] = id }
        deliver(outputs, id: id)
    }

    private func deliver(_ outputs: [PeerSession.Output], id: String) {
        for output in outputs {
            switch output {
            case let .send(bytes, to):
                if let entry = sessions[id], !entry.channels.isEmpty {
                    send(bytes, to: to, on: entry.channels[entry.replyChannel[to] ?? 0])
                } else {
                    send(bytes, to: to)
                }
            case .closed:
                if let entry = sessions.removeValue(forKey: id) { for channel in entry.channels { channel.close(promise: nil) } }
                byAddress = byAddress.filter { $0.value != id }
                ingest.ingest(sessionID: id, output)
            default:
                ingest.ingest(sessionID: id, output)
            }
        }
    }

    private func send(_ bytes: [UInt8], to address: TransportAddress, on socket: Channel? = nil) {
        guard let channel = socket ?? channel, let remote = try? SocketAddress(ipAddress: address.ipString, port: Int(address.port)) else { return }
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

/// What the router drives: a WebRTC session on the shared port, or a plain RTP one on ports of its own.
protocol RoutedSession: AnyObject {
    func poll(now: RTPTime) -> [PeerSession.Output]
    func shutdown(reason: String) -> [PeerSession.Output]
    var reports: [PeerSession.TrackReport] { get }
    func requestKeyframe(mid: String, now: RTPTime) -> [PeerSession.Output]
    func setVideoTiles(_ tiles: [String: PictureSize?], now: RTPTime) -> [PeerSession.Output]
    func setVideoBitrateCap(_ bitsPerSecond: Int?, now: RTPTime) -> [PeerSession.Output]
}

extension PeerSession: RoutedSession {}
extension PlainRTPSession: RoutedSession {}

/// A session's own socket (plain RTP, or a WebRTC session that cannot share the port): every datagram to it.
final class PlainHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let router: NIOLoopBound<Router>
    private let sessionID: String

    init(router: NIOLoopBound<Router>, sessionID: String) { self.router = router; self.sessionID = sessionID }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let address = TransportAddress(envelope.remoteAddress) else { return }
        let bytes = envelope.data.getBytes(at: envelope.data.readerIndex, length: envelope.data.readableBytes) ?? []
        router.value.receivePlain(bytes, from: address, id: sessionID, channel: context.channel)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {}
}
