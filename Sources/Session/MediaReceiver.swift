import RTP
import SDP

/// The media plane of one participant, whatever carries it (WebRTC, plain RTP): each SSRC's jitter buffer and
/// reception statistics, the participant's timeline, simulcast layers, retransmissions, and the RTCP feedback the
/// sender gets (receiver reports, transport-cc, REMB, NACK, PLI). Packets and time in, outputs out; its owner
/// decrypts what arrives and protects and addresses what it sends (`sendRTCPBytes`). Confined like its owner.
final class MediaReceiver {
    typealias Output = PeerSession.Output
    typealias TrackReport = PeerSession.TrackReport
    typealias SimulcastReport = PeerSession.SimulcastReport

    static let reportInterval: RTPTime = 1_000_000
    static let rembInterval: RTPTime = 1_000_000
    /// What an Opus track takes of a REMB: WebRTC's 32-64 kb/s voice with its headers.
    static let audioAllowance = 48_000

    let tracks: [NegotiatedTrack]
    let localSSRC: UInt32
    /// Sends an RTCP packet: protected and addressed by the owner; nothing while it cannot send yet.
    var sendRTCPBytes: ([UInt8]) -> [Output] = { _ in [] }
    /// Set by the owner when the session ended: nothing more is sent.
    var closed = false
    /// The last timer tick (reports of layer activity).
    var lastPoll: RTPTime = 0
    var lastReport: RTPTime
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
    /// What the sender may send for all its video (bits per second), told by REMB every second; nil: nothing asked.
    var videoBitrateCap: Int?
    var lastREMB: RTPTime = .min
    /// Arrival times for transport-cc feedback, when the offer numbered transport-wide sequence numbers.
    var transportFeedback = TransportFeedbackRecorder()
    let transportSequenceID: UInt8?
    var droppedPackets = 0

    init(tracks: [NegotiatedTrack], localSSRC: UInt32, now: RTPTime) {
        self.tracks = tracks
        self.localSSRC = localSSRC
        lastReport = now
        transportSequenceID = tracks.lazy.compactMap { $0.extensions[SDPAnswerer.transportSequenceURI] }.first
        for track in tracks where !track.simulcastLayers.isEmpty { selectors[track.mid] = SimulcastSelector(rids: track.simulcastLayers) }
    }

    /// A decrypted RTP packet.
    func receive(_ rtp: RTPPacket, now: RTPTime) -> [Output] {
        // Every packet counts for congestion control, padding-only probes too (before any stream lookup).
        if let id = transportSequenceID, let v = rtp.extensionValue(id: id), v.count >= 2 {
            transportFeedback.record(sequence: UInt16(v[v.startIndex]) << 8 | UInt16(v[v.startIndex + 1]), arrival: now)
        }
        if let repair = unwrapRetransmission(rtp) {
            guard let original = repair else { return [] }
            return handleRTP(original, now: now, retransmission: true)
        }
        return handleRTP(rtp, now: now)
    }

    /// Statistics per track, summed over the SSRCs it had (restarts).
    var reports: [TrackReport] {
        tracks.map { track in
            var total = finishedStatistics[track.mid] ?? JitterBuffer.Statistics()
            for stream in streams.values where stream.track.mid == track.mid { total.add(stream.buffer.statistics) }
            return TrackReport(mid: track.mid, kind: track.kind, statistics: total, simulcast: simulcastReport(mid: track.mid))
        }
    }

    /// A decoder needs a keyframe (undecodable or dropped frames): PLI on that track (its shown layer), throttled.
    func requestKeyframe(mid: String, now: RTPTime) -> [Output] {
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
                    if stream.codec == .opus { time -= MediaReceiver.audioCaptureLead(frame.data) }
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

    /// Timers: NACK retries and jitter-buffer deadlines, simulcast switches, feedback.
    func poll(now: RTPTime) -> [Output] {
        guard !closed else { return [] }
        lastPoll = now
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

    func statistics(mid: String) -> JitterBuffer.Statistics? {
        streams.values.first { $0.track.mid == mid }?.buffer.statistics
    }
}
