import Codecs
import MediaCore
import RTP
import SecureTransport
#if canImport(Glibc)
import Glibc
#endif

/// Paces a feed onto the wire: packetizes, protects and sends each frame at its time, sends a sender report per
/// stream every second (RTP time ↔ NTP wall clock, the far side's lip-sync anchor), keeps ICE consent fresh,
/// resends packets the far side NACKs and turns PLI/FIR into a keyframe request to the feed.
final class RTPSender {
    static let audioSSRC: UInt32 = 0x5EED_0001, videoSSRC: UInt32 = 0x5EED_0002
    /// Frames are sent this long after their feed time, so the first (negative, encoder delay) ones are due too.
    static let lead: Microseconds = 100_000
    static let historySize = 1024
    /// An audio packet leaves once its last sample is captured: this long after its first (20 ms frames).
    static let audioFrame: Microseconds = 20_000

    let socket: UDPSocket
    let keepAlive: [UInt8]
    let outbound: SRTPContext
    let inbound: SRTPContext
    private(set) var statistics = WHIPPublisher.Statistics()
    private var sequence: [UInt16] = [UInt16.random(in: 0...30_000), UInt16.random(in: 0...30_000)]   // audio, video
    private var rtpBase: [UInt32] = [UInt32.random(in: 0...UInt32.max / 2), UInt32.random(in: 0...UInt32.max / 2)]
    private var sent: [(packets: UInt32, octets: UInt32)] = [(0, 0), (0, 0)]
    /// Protected packets by sequence number modulo the size, per stream, for retransmission.
    private var history: [[(sequence: UInt16, bytes: [UInt8])?]] = [Array(repeating: nil, count: historySize), Array(repeating: nil, count: historySize)]

    /// Audio and video SSRCs; with `switchSSRCEvery` they change that often (seconds), as after a sender restart.
    private var ssrcs: [UInt32] = [RTPSender.audioSSRC, RTPSender.videoSSRC]
    private let switchSSRCEvery: Double?
    private var lastSwitch: Microseconds?
    /// Pauses: media time windows [k·every, k·every + length) for k ≥ 1 in which no media is sent.
    private let pause: (every: Microseconds, length: Microseconds)?

    init(socket: UDPSocket, keepAlive: [UInt8], outbound: SRTPContext, inbound: SRTPContext, churn: WHIPPublisher.Churn = .init()) {
        self.socket = socket; self.keepAlive = keepAlive; self.outbound = outbound; self.inbound = inbound
        self.switchSSRCEvery = churn.switchSSRCEvery
        pause = churn.pauseEvery.map { (Microseconds($0 * 1e6), Microseconds(churn.pauseFor * 1e6)) }
    }

    /// Whether feed time `time` falls in a pause.
    private func paused(at time: Microseconds) -> Bool {
        guard let pause, time >= pause.every else { return false }
        return time % pause.every < pause.length
    }

    /// New SSRCs, sequence numbers and RTP time bases for both streams; the old history is of no use any more.
    private func switchSSRCs() {
        ssrcs = [UInt32.random(in: 0x1000...0x7FFF_FFFF), UInt32.random(in: 0x1000...0x7FFF_FFFF)]
        sequence = [UInt16.random(in: 0...30_000), UInt16.random(in: 0...30_000)]
        rtpBase = [UInt32.random(in: 0...UInt32.max / 2), UInt32.random(in: 0...UInt32.max / 2)]
        sent = [(0, 0), (0, 0)]
        history = [Array(repeating: nil, count: RTPSender.historySize), Array(repeating: nil, count: RTPSender.historySize)]
    }

    /// False when the answer rejected the video section (an audio-only room): video is not sent, as a browser would not.
    var sendsVideo = true

    func stream(_ feed: MediaFeed, duration: Double?, shouldStop: () -> Bool) throws(MediaError) {
        // Feed time 0 goes out on a whole wall-clock second, so publishers started apart (or on different hosts
        // with synchronized clocks) send the same pattern instant at the same moment.
        let wallNow = RTPSender.wallClock()
        let wallStart = (wallNow / 1_000_000 + 1) * 1_000_000
        let start = SystemClock().now() + (wallStart - wallNow) - RTPSender.lead
        let end = duration.map { start + Microseconds($0 * 1e6) }
        var lastReport = start - 1_000_000, lastConsent = start
        while let packet = try feed.next() {
            if packet.video && !sendsVideo { continue }
            let due = start + RTPSender.lead + packet.time + (packet.video ? 0 : RTPSender.audioFrame)
            if let end, due >= end { return }
            while true {
                if shouldStop() { return }
                let now = SystemClock().now()
                readRTCP(feed)
                if now - lastConsent >= 5_000_000 { socket.send(keepAlive); lastConsent = now }
                if now - lastReport >= 1_000_000 {
                    lastReport = now
                    sendReports(mediaTime: now - start - RTPSender.lead, wallStart: wallStart)
                }
                if now >= due { break }
                usleep(UInt32(min(due - now, 5_000)))
            }
            if paused(at: packet.time) {
                // Not sent. The encoder keeps going, so the first picture after the pause must stand alone (as after
                // a track is replaced): every paused picture asks for a keyframe.
                if packet.video { feed.requestKeyframe() }
                continue
            }
            if let every = switchSSRCEvery, packet.video {
                let now = SystemClock().now()
                if now - (lastSwitch ?? start) >= Microseconds(every * 1e6) { lastSwitch = now; switchSSRCs(); feed.requestKeyframe() }
            }
            send(packet)
        }
    }

    private func send(_ packet: FeedPacket) {
        let stream = packet.video ? 1 : 0
        let rate: Int64 = packet.video ? 90 : 48
        let timestamp = rtpBase[stream] &+ UInt32(truncatingIfNeeded: (packet.time + RTPSender.lead) * rate / 1000)
        let payloads = Packetizer.payloads(packet.video ? .vp8 : .opus, frame: packet.data)
        if packet.video { statistics.videoFrames += 1 } else { statistics.audioFrames += 1 }
        for (i, payload) in payloads.enumerated() {
            let seq = sequence[stream]
            sequence[stream] &+= 1
            var bytes = RTPPacket.build(payloadType: packet.video ? 96 : 111, sequenceNumber: seq, timestamp: timestamp,
                                        ssrc: ssrcs[stream],
                                        marker: packet.video && i == payloads.count - 1, payload: payload)
            guard outbound.protect(&bytes) else { continue }
            socket.send(bytes)
            history[stream][Int(seq) % RTPSender.historySize] = (seq, bytes)
            sent[stream].packets &+= 1
            sent[stream].octets &+= UInt32(payload.count)
            statistics.packets += 1
        }
    }

    private func sendReports(mediaTime: Microseconds, wallStart: Microseconds) {
        let ntp = RTPSender.ntp(unixMicroseconds: wallStart + mediaTime)
        for stream in 0...1 where sent[stream].packets > 0 {
            let rate: Int64 = stream == 1 ? 90 : 48
            // Like libwebrtc: video RTP time against capture time, audio RTP time against the moment its packet is
            // sent (a frame after its first sample), which receivers of WebRTC audio account for.
            let captured = mediaTime - (stream == 1 ? 0 : RTPSender.audioFrame)
            let rtp = rtpBase[stream] &+ UInt32(truncatingIfNeeded: (captured + RTPSender.lead) * rate / 1000)
            var bytes = RTCPPacket.senderReport(ssrc: ssrcs[stream], ntp: ntp, rtpTimestamp: rtp,
                                                packets: sent[stream].packets, octets: sent[stream].octets, reports: []).encoded
            if outbound.protect(&bytes, rtcp: true) { socket.send(bytes) }
        }
    }

    /// NACKs and keyframe requests from the far side (anything else is read and dropped).
    private func readRTCP(_ feed: MediaFeed) {
        while var datagram = socket.receiveNow() {
            guard RTPPacket.isRTCP(datagram), inbound.unprotect(&datagram, rtcp: true),
                  let packets = try? RTCPPacket.parseCompound(datagram) else { continue }
            for packet in packets {
                switch packet {
                case let .nack(_, media, lost):
                    let stream = media == ssrcs[1] ? 1 : 0
                    for seq in lost {
                        if let entry = history[stream][Int(seq) % RTPSender.historySize], entry.sequence == seq {
                            socket.send(entry.bytes)
                            statistics.retransmitted += 1
                        }
                    }
                case .pli, .fir:
                    statistics.keyframeRequests += 1
                    feed.requestKeyframe()
                default:
                    break
                }
            }
        }
    }

    static func wallClock() -> Microseconds {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Microseconds(ts.tv_sec) * 1_000_000 + Microseconds(ts.tv_nsec) / 1000
    }

    /// 64-bit NTP time (seconds since 1900 in the high word, fraction in the low word).
    static func ntp(unixMicroseconds t: Microseconds) -> UInt64 {
        let seconds = UInt64(t / 1_000_000) + 2_208_988_800
        let fraction = (UInt64(t % 1_000_000) << 32) / 1_000_000
        return seconds << 32 | fraction
    }
}
