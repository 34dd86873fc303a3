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
    static let reportInterval: RTPTime = 1_000_000

    public let tracks: [NegotiatedTrack]
    private var ice: ICELiteResponder
    private let dtls: DTLSSession
    /// We start the handshake (the offer was `a=setup:passive`), once ICE found the peer.
    private let dtlsClient: Bool
    private var handshakeStarted = false
    private var inbound: SRTPContext?
    var outbound: SRTPContext?
    private var validated: Set<TransportAddress> = []
    var selected: TransportAddress?
    private var lastConsent: RTPTime
    private let started: RTPTime
    var lastReport: RTPTime
    var closed = false
    /// The last timer tick (reports of layer activity).
    var lastPoll: RTPTime = 0
    struct Stream {
        var track: NegotiatedTrack; var codec: RTPCodec; var buffer: JitterBuffer
        /// What the receiver reports say about it.
        var reception: ReceptionStatistics
        /// RFC 6464 levels of the last packets by RTP timestamp, until their frames come out of the buffer.
        var levels: [(timestamp: UInt32, dBov: UInt8)] = []
        /// Its simulcast layer (rid), for a simulcast track.
        var layer: String?
    }
    var streams: [UInt32: Stream] = [:]
    /// Per simulcast track (by mid): which layer is shown.
    var selectors: [String: SimulcastSelector] = [:]
    /// RTX SSRCs learnt from the repaired-rtp-stream-id of their first packets → the media SSRC they repair.
    var repairs: [UInt32: UInt32] = [:]
    var timeline = ParticipantTimeline()
    /// Statistics of streams replaced by a new SSRC or ended by BYE, per mid.
    private var finishedStatistics: [String: JitterBuffer.Statistics] = [:]
    let localSSRC: UInt32
    /// What the sender may send for all its video (bits per second), told by REMB every second; nil: nothing asked.
    var videoBitrateCap: Int?
    var lastREMB: RTPTime = .min
    static let rembInterval: RTPTime = 1_000_000
    /// What an Opus track takes of a REMB: WebRTC's 32-64 kb/s voice with its headers.
    static let audioAllowance = 48_000
    /// Arrival times for transport-cc feedback, when the offer numbered transport-wide sequence numbers.
    var transportFeedback = TransportFeedbackRecorder()
    let transportSequenceID: UInt8?
    public internal(set) var droppedPackets = 0

    public init(negotiation: Negotiation, certificate: DTLSCertificate, localUfrag: String, localPassword: String,
                now: RTPTime, localSSRC: UInt32 = 1) throws(SecureTransportError) {
        tracks = negotiation.tracks
        ice = ICELiteResponder(localUfrag: localUfrag, localPassword: localPassword, remoteUfrag: negotiation.remoteUfrag)
        dtlsClient = negotiation.dtlsClient
        dtls = try DTLSSession(role: negotiation.dtlsClient ? .client : .server, certificate: certificate, expectedFingerprint: negotiation.remoteFingerprint.value,
                               fingerprintAlgorithm: negotiation.remoteFingerprint.algorithm)
        lastConsent = now
        started = now
        lastReport = now
        self.localSSRC = localSSRC
        transportSequenceID = negotiation.tracks.lazy.compactMap { $0.extensions[SDPAnswerer.transportSequenceURI] }.first
        for track in tracks where !track.simulcastLayers.isEmpty { selectors[track.mid] = SimulcastSelector(rids: track.simulcastLayers) }
    }

    public var isConnected: Bool { inbound != nil && !closed }

    /// Whether a valid ICE check came from `address` (only then may a transport route its datagrams here).
    public func hasValidated(_ address: TransportAddress) -> Bool { validated.contains(address) }

    public func receive(_ datagram: [UInt8], from address: TransportAddress, now: RTPTime) -> [Output] {
        guard !closed, let first = datagram.first else { return [] }
        switch first {
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
                droppedPackets += 1
                return []
            }
        case 20...63:
            guard validated.contains(address) else { droppedPackets += 1; return [] }
            let replies = dtls.receive(datagram).map { Output.send($0, to: address) }
            return replies + checkHandshake()
        case 128...191:
            // Media only from an address ICE validated, and only once keys exist.
            guard validated.contains(address), let inbound else { droppedPackets += 1; return [] }
            var packet = datagram
            if RTPPacket.isRTCP(datagram) {
                guard inbound.unprotect(&packet, rtcp: true) else { droppedPackets += 1; return [] }
                handleRTCP(packet, now: now)
                return []
            }
            guard inbound.unprotect(&packet), let rtp = try? RTPPacket(parsing: packet) else { droppedPackets += 1; return [] }
            // Every packet counts for congestion control, padding-only probes too (before any stream lookup).
            if let id = transportSequenceID, let v = rtp.extensionValue(id: id), v.count >= 2 {
                transportFeedback.record(sequence: UInt16(v[v.startIndex]) << 8 | UInt16(v[v.startIndex + 1]), arrival: now)
            }
            if let repair = unwrapRetransmission(rtp) {
                guard let original = repair else { return [] }
                return handleRTP(original, now: now, retransmission: true)
            }
            return handleRTP(rtp, now: now)
        default:
            droppedPackets += 1
            return []
        }
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
        return [.report(reports), .closed(reason: reason)]
    }

    /// Ends the session from our side (WHIP DELETE, server stop).
    public func shutdown(reason: String) -> [Output] { close(reason) }

    /// Statistics per track, summed over the SSRCs it had (restarts).
    public var reports: [TrackReport] {
        tracks.map { track in
            var total = finishedStatistics[track.mid] ?? JitterBuffer.Statistics()
            for stream in streams.values where stream.track.mid == track.mid { total.add(stream.buffer.statistics) }
            return TrackReport(mid: track.mid, kind: track.kind, statistics: total, simulcast: simulcastReport(mid: track.mid))
        }
    }

    /// A decoder needs a keyframe (undecodable or dropped frames): PLI on that track (its shown layer), throttled.
    public func requestKeyframe(mid: String, now: RTPTime) -> [Output] {
        let shown = selectors[mid]?.selected
        guard !closed, let ssrc = streams.first(where: { $0.value.track.mid == mid && $0.value.layer == shown })?.key, var stream = streams[ssrc] else { return [] }
        let actions = stream.buffer.keyframeNeeded(now: now)
        streams[ssrc] = stream
        return translate(actions, ssrc: ssrc, now: now)
    }

    private func track(for packet: RTPPacket) -> NegotiatedTrack? {
        for t in tracks {
            if let id = t.extensions[SDPAnswerer.midURI], let mid = packet.mid(id: id) { if mid == t.mid { return t } else { continue } }
            if t.ssrcs.contains(packet.ssrc) { return t }
        }
        return tracks.first { $0.payloadType == packet.payloadType }
    }

    private func handleRTP(_ packet: RTPPacket, now: RTPTime, retransmission: Bool = false) -> [Output] {
        if streams[packet.ssrc] == nil {
            guard let t = track(for: packet), let codec = RTPCodec(rawValue: t.codec), packet.payloadType == t.payloadType else {
                droppedPackets += 1
                return []
            }
            var layer: String?
            if !t.simulcastLayers.isEmpty {
                // A layer is known by its SSRC's place in the SIM group, or by the rid the sender's first packets carry.
                if let i = t.simulcastSSRCs.firstIndex(of: packet.ssrc) {
                    layer = String(i)
                } else if let id = t.extensions[SDPAnswerer.ridURI], let rid = packet.text(id: id), t.simulcastLayers.contains(rid) {
                    layer = rid
                } else {
                    droppedPackets += 1
                    return []
                }
            }
            // A new SSRC on a known track (or layer) is a restart: it gets a fresh buffer.
            for (ssrc, old) in streams where old.track.mid == t.mid && old.layer == layer { retire(ssrc) }
            streams[packet.ssrc] = Stream(track: t, codec: codec, buffer: JitterBuffer(codec: codec), reception: ReceptionStatistics(clockRate: t.clockRate),
                                          layer: layer)
            timeline.addTrack(ssrc: packet.ssrc, clockRate: t.clockRate)
        }
        guard var stream = streams[packet.ssrc], packet.payloadType == stream.track.payloadType else { droppedPackets += 1; return [] }
        stream.reception.record(sequence: packet.sequenceNumber, rtpTimestamp: packet.timestamp, arrival: now)
        if let id = stream.track.extensions[SDPAnswerer.audioLevelURI], let level = packet.audioLevel(id: id) {
            if stream.levels.count >= 32 { stream.levels.removeFirst() }
            stream.levels.append((packet.timestamp, level.level))
        }
        var out: [Output] = []
        if let layer = stream.layer, var selector = selectors[stream.track.mid] {
            selector.packet(rid: layer, ssrc: packet.ssrc, bytes: packet.payload.count, now: now)
            if let size = KeyframeSize.of(stream.codec, payload: packet.payload) { selector.sized(rid: layer, size) }
            let first = selector.selected == nil && selector.pending == nil
            selectors[stream.track.mid] = selector
            streams[packet.ssrc] = stream
            if first { out += decideLayer(mid: stream.track.mid, now: now) }
            // Layers not shown are only counted (receiver reports, rates); their frames are never assembled.
            guard selectors[stream.track.mid]?.isReceiving(layer) == true, let current = streams[packet.ssrc] else { return out }
            stream = current    // a switch may have given it a fresh buffer
        }
        if retransmission { stream.buffer.countRetransmission() }
        let actions = stream.buffer.insert(packet, now: now)
        streams[packet.ssrc] = stream
        return out + translate(actions, ssrc: packet.ssrc, now: now)
    }

    func translate(_ actions: [JitterBuffer.Action], ssrc: UInt32, now: RTPTime) -> [Output] {
        guard let stream = streams[ssrc] else { return [] }
        var out: [Output] = []
        for action in actions {
            switch action {
            case let .frame(frame, timestamp, arrival):
                if let layer = stream.layer, var selector = selectors[stream.track.mid] {
                    let (show, switched) = selector.frame(rid: layer, keyframe: frame.keyframe)
                    selectors[stream.track.mid] = selector
                    if switched { out.append(.layerChanged(mid: stream.track.mid, rid: layer, size: selector.layer(layer)?.size)) }
                    guard show else { continue }
                }
                let lateBefore = timeline.lateness(ssrc: ssrc)
                if var time = timeline.roomTime(ssrc: ssrc, rtpTimestamp: timestamp, arrival: arrival) {
                    let late = timeline.lateness(ssrc: ssrc)
                    if late != lateBefore { out.append(.trackDelayed(mid: stream.track.mid, by: late)) }
                    if stream.codec == .opus { time -= PeerSession.audioCaptureLead(frame.data) }
                    out.append(.frame(mid: stream.track.mid, kind: stream.track.kind, codec: stream.codec, frame, roomTime: time))
                    if let level = stream.levels.last(where: { $0.timestamp == timestamp }) {
                        out.append(.audioLevel(mid: stream.track.mid, dBov: level.dBov, roomTime: time))
                    }
                }
            case let .nack(lost):
                out += sendRTCP(.nack(sender: localSSRC, media: ssrc, lost: lost))
            case .requestKeyframe:
                out += sendRTCP(.pli(sender: localSSRC, media: ssrc))
                out.append(.keyframeRequested(mid: stream.track.mid))
            case let .lost(count):
                out.append(.lossBurst(mid: stream.track.mid, packets: count))
                if let layer = stream.layer { selectors[stream.track.mid]?.lossBurst(rid: layer, now: now) }
            }
        }
        return out
    }

    func retire(_ ssrc: UInt32) {
        guard let old = streams.removeValue(forKey: ssrc) else { return }
        finishedStatistics[old.track.mid, default: JitterBuffer.Statistics()].add(old.buffer.statistics)
    }

    /// How much earlier than its RTP-derived time an Opus packet's decoded sound belongs. An audio packet cannot
    /// leave before its last sample is captured, and WebRTC senders (libwebrtc: Chrome, Safari, Edge, most apps)
    /// tie audio RTP time to that send moment in their sender reports, so the timeline puts the packet one packet
    /// duration late; and the decoder emits the sound after the encoder's look-ahead. Without both, audio lands
    /// 25-30 ms behind the picture.
    static func audioCaptureLead(_ packet: [UInt8]) -> RTPTime {
        RTPTime((OpusPacket.duration(packet) ?? 960) + OpusPacket.lookahead) * 1_000_000 / 48_000
    }

    /// Timers: DTLS retransmission and deadline, consent freshness, NACK retries, receiver reports.
    public func poll(now: RTPTime) -> [Output] {
        guard !closed else { return [] }
        lastPoll = now
        if inbound == nil {
            if now - started > PeerSession.handshakeTimeout {
                // Say which step never happened: no check at all is a network problem (port, firewall, announced
                // address), a check without a handshake a DTLS one.
                return close(selected == nil ? "no ICE connectivity check arrived within 10 s (is the UDP port reachable at the announced address?)"
                                             : "no DTLS handshake within 10 s")
            }
            if let address = selected { return dtls.handleTimeout().map { .send($0, to: address) } + checkHandshake() }
        }
        if now - lastConsent > PeerSession.consentTimeout { return close("no connectivity check for 30 s (consent expired)") }
        var out: [Output] = []
        for ssrc in streams.keys.sorted() {
            guard var stream = streams[ssrc] else { continue }
            let actions = stream.buffer.poll(now: now)
            streams[ssrc] = stream
            out += translate(actions, ssrc: ssrc, now: now)
        }
        for mid in selectors.keys.sorted() { out += decideLayer(mid: mid, now: now) }
        return out + feedback(now: now)
    }

    public func statistics(mid: String) -> JitterBuffer.Statistics? {
        streams.values.first { $0.track.mid == mid }?.buffer.statistics
    }
}
