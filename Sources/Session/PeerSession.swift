import RTP
import SDP
import STUN
import SecureTransport

/// One WebRTC participant publishing to us, without sockets: datagrams and time in, outputs out.
/// Owned by the transport's event loop; not Sendable.
public final class PeerSession {
    public enum Output: Sendable {
        case send([UInt8], to: TransportAddress)
        /// A complete encoded frame of a negotiated track, placed on the room timeline.
        case frame(mid: String, kind: String, codec: RTPCodec, EncodedFrame, roomTime: RTPTime)
        case connected
        case closed(reason: String)
        case keyframeRequested(mid: String)
        case lossBurst(mid: String, packets: Int)
        /// The track arrives later after capture than the room waits: it is placed `by` µs late (out of sync by that
        /// much) rather than dropped; 0 when it is back in sync.
        case trackDelayed(mid: String, by: RTPTime)
        /// Receive statistics of every track, emitted once just before `.closed`.
        case report([TrackReport])
        /// The sender's RFC 6464 audio level (-dBov, 0 loudest … 127 silent) of an audio frame, at its room time.
        case audioLevel(mid: String, dBov: UInt8, roomTime: RTPTime)
        /// A simulcast track now shows layer `rid` (its size when known).
        case layerChanged(mid: String, rid: String, size: PictureSize?)
        /// A plain RTP source got packets from an address other than its sender's (dropped): the first, then every
        /// 1000th, with the count so far.
        case unexpectedSender(TransportAddress, count: Int)
    }

    public struct TrackReport: Sendable {
        public var mid: String
        public var kind: String
        public var statistics: JitterBuffer.Statistics
        /// A simulcast track's layers and the one shown.
        public var simulcast: SimulcastReport?
    }

    public struct SimulcastReport: Sendable {
        public struct Layer: Sendable {
            public var rid: String
            public var size: PictureSize?
            /// Bits per second over the last second; 0 when the layer is off.
            public var bitrate: Int
        }
        public var layers: [Layer]
        public var selected: String?
    }

    public static let handshakeTimeout: RTPTime = 10_000_000
    public static let consentTimeout: RTPTime = 30_000_000

    public var tracks: [NegotiatedTrack] { media.tracks }
    /// ICE-lite for publishers that call us (WHIP); a full agent for sessions we open (WHEP, Janus).
    private var ice: ICELiteResponder
    private var agent: ICEAgent?
    private let dtls: DTLSSession
    /// We start the handshake (the offer was `a=setup:passive`), once ICE found the peer.
    private let dtlsClient: Bool
    private var handshakeStarted = false
    private var inbound: SRTPContext?
    private var outbound: SRTPContext?
    private var validated: Set<TransportAddress> = []
    private var selected: TransportAddress?
    private var lastConsent: RTPTime
    private let started: RTPTime
    private var closed = false
    /// Datagrams refused before they reached the media plane (no ICE, no keys, bad SRTP, not ours).
    private var refused = 0
    public var droppedPackets: Int { refused + media.droppedPackets }
    let media: MediaReceiver

    /// `fullICE`: we run a full ICE agent in that role (controlling when we offered or the peer is ICE-lite) and
    /// check the negotiation's remote candidates; nil: ICE-lite, the peer checks us.
    public init(negotiation: Negotiation, certificate: DTLSCertificate, localUfrag: String, localPassword: String,
                now: RTPTime, localSSRC: UInt32 = 1, fullICE controlling: Bool? = nil) throws(SecureTransportError) {
        media = MediaReceiver(tracks: negotiation.tracks, localSSRC: localSSRC, now: now)
        ice = ICELiteResponder(localUfrag: localUfrag, localPassword: localPassword, remoteUfrag: negotiation.remoteUfrag)
        if let controlling {
            agent = ICEAgent(localUfrag: localUfrag, localPassword: localPassword, remoteUfrag: negotiation.remoteUfrag,
                             remotePassword: negotiation.remotePwd, controlling: controlling || negotiation.remoteICELite,
                             remoteCandidates: PeerSession.candidates(negotiation.remoteCandidates), now: now)
        }
        dtlsClient = negotiation.dtlsClient
        dtls = try DTLSSession(role: negotiation.dtlsClient ? .client : .server, certificate: certificate, expectedFingerprint: negotiation.remoteFingerprint.value,
                               fingerprintAlgorithm: negotiation.remoteFingerprint.algorithm)
        lastConsent = now
        started = now
        media.sendRTCPBytes = { [unowned self] bytes in self.sendRTCP(bytes: bytes) }
    }

    public var isConnected: Bool { inbound != nil && !closed }

    /// Whether a valid ICE check came from `address` (only then may a transport route its datagrams here).
    public func hasValidated(_ address: TransportAddress) -> Bool { agent?.hasValidated(address) ?? validated.contains(address) }

    /// The addresses a full agent checks (a transport routes their answers here); none for ICE-lite.
    public var remoteCandidates: [TransportAddress] { agent?.remoteCandidates ?? [] }

    /// The remote candidates a full agent checks (UDP, IPv4 literals).
    public static func candidates(_ list: [SessionDescription.Candidate]) -> [ICEAgent.Candidate] {
        list.compactMap { c in TransportAddress(ipv4: c.ip, port: UInt16(c.port)).map { ICEAgent.Candidate(address: $0, priority: c.priority) } }
    }

    public func receive(_ datagram: [UInt8], from address: TransportAddress, now: RTPTime) -> [Output] {
        guard !closed, let first = datagram.first else { return [] }
        switch first {
        case 0...3 where agent != nil:
            let out = agent!.receive(datagram, from: address, now: now).map { Output.send($0.bytes, to: $0.to) }
            return out + followAgent()
        case 0...3:
            switch ice.handle(datagram, from: address) {
            case let .success(response, nominated, _):
                validated.insert(address)
                if nominated || selected == nil { selected = address }
                lastConsent = now
                var out: [Output] = [.send(response, to: address)]
                if dtlsClient && !handshakeStarted {
                    handshakeStarted = true
                    out += dtls.start().map { .send($0, to: address) }
                }
                return out
            case let .reject(response, _, _):
                return [.send(response, to: address)]
            case .ignore:
                refused += 1
                return []
            }
        case 20...63:
            guard hasValidated(address) else { refused += 1; return [] }
            let replies = dtls.receive(datagram).map { Output.send($0, to: address) }
            return replies + checkHandshake()
        case 128...191:
            // Media only from an address ICE validated, and only once keys exist.
            guard hasValidated(address), let inbound else { refused += 1; return [] }
            var packet = datagram
            if RTPPacket.isRTCP(datagram) {
                guard inbound.unprotect(&packet, rtcp: true) else { refused += 1; return [] }
                media.receive(rtcp: packet, now: now)
                return []
            }
            guard inbound.unprotect(&packet), let rtp = try? RTPPacket(parsing: packet) else { refused += 1; return [] }
            return media.receive(rtp, now: now)
        default:
            refused += 1
            return []
        }
    }

    /// The full agent's pair, once nominated, carries DTLS (we start it when we are the client) and our RTCP.
    private func followAgent() -> [Output] {
        guard let agent, let pair = agent.selected, pair != selected else { return [] }
        selected = pair
        guard dtlsClient && !handshakeStarted else { return [] }
        handshakeStarted = true
        return dtls.start().map { .send($0, to: pair) }
    }

    private func checkHandshake() -> [Output] {
        switch dtls.state {
        case let .connected(keys) where inbound == nil:
            do {
                // Each side sends with its own role's key (RFC 5764 §4.2).
                inbound = try SRTPContext(profile: keys.profile, key: dtlsClient ? keys.serverKey : keys.clientKey, inbound: true)
                outbound = try SRTPContext(profile: keys.profile, key: dtlsClient ? keys.clientKey : keys.serverKey, inbound: false)
                return [.connected]
            } catch {
                return close("SRTP setup failed: \(error)")
            }
        case let .failed(reason):
            return close(reason)
        case .closed:
            return close("the peer closed DTLS")
        default:
            return []
        }
    }

    private func close(_ reason: String) -> [Output] {
        guard !closed else { return [] }
        closed = true
        media.closed = true
        return [.report(reports), .closed(reason: reason)]
    }

    /// Ends the session from our side (WHIP DELETE, server stop).
    public func shutdown(reason: String) -> [Output] { close(reason) }

    /// Timers: DTLS retransmission and deadline, consent freshness, NACK retries, receiver reports.
    public func poll(now: RTPTime) -> [Output] {
        guard !closed else { return [] }
        var out: [Output] = []
        if agent != nil {
            out = agent!.poll(now: now).map { Output.send($0.bytes, to: $0.to) } + followAgent()
            if let failure = agent!.failure { return close(failure) }
            lastConsent = now    // the agent keeps consent itself
        }
        if inbound == nil {
            if now - started > PeerSession.handshakeTimeout {
                // Say which step never happened: no check at all is a network problem (port, firewall, announced
                // address), a check without a handshake a DTLS one.
                return close(selected == nil ? "no ICE connectivity check arrived within 10 s (is the UDP port reachable at the announced address?)"
                                             : "no DTLS handshake within 10 s")
            }
            if let address = selected { return out + dtls.handleTimeout().map { .send($0, to: address) } + checkHandshake() }
            return out
        }
        if now - lastConsent > PeerSession.consentTimeout { return close("no connectivity check for 30 s (consent expired)") }
        return out + media.poll(now: now)
    }

    /// Receive statistics of one track.
    public func statistics(mid: String) -> JitterBuffer.Statistics? { media.statistics(mid: mid) }

    /// Statistics per track, summed over the SSRCs it had (restarts).
    public var reports: [TrackReport] { media.reports }

    /// A decoder needs a keyframe (undecodable or dropped frames): PLI on that track (its shown layer), throttled.
    public func requestKeyframe(mid: String, now: RTPTime) -> [Output] { closed ? [] : media.requestKeyframe(mid: mid, now: now) }

    /// Caps what the sender sends for its video (REMB, when the offer allowed `goog-remb`): told at once when it
    /// changes, then every second.
    public func setVideoBitrateCap(_ bitsPerSecond: Int?, now: RTPTime) -> [Output] { media.setVideoBitrateCap(bitsPerSecond, now: now) }

    /// The tiles of this participant's video tracks (by mid; nil: in no tile), whenever the layout changes.
    public func setVideoTiles(_ tiles: [String: PictureSize?], now: RTPTime) -> [Output] { closed ? [] : media.setVideoTiles(tiles, now: now) }

    private func sendRTCP(bytes: [UInt8]) -> [Output] {
        guard let outbound, let address = selected else { return [] }
        var bytes = bytes
        guard outbound.protect(&bytes, rtcp: true) else { return [] }
        return [.send(bytes, to: address)]
    }
}
