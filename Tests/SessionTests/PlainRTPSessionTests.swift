import Testing
@testable import RTP
@testable import SDP
@testable import Session
import SecureTransport
import STUN

@Suite(.timeLimit(.minutes(1))) struct PlainRTPSessionTests {
    static let sdp = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 5004 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n"
        + "m=audio 5006 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n"

    /// ffmpeg's kind of SDP: a stream per section with the port it sends to, RTCP on the next port.
    @Test func anEncodersSDPDescribesTheStreams() throws {
        let d = try PlainRTPDescription(sdp: Self.sdp)
        #expect(d.streams.map(\.port) == [5004, 5006] && d.streams.map(\.rtcpPort) == [5005, 5007] && !d.rtcpMux)
        #expect(d.streams.map(\.track.codec) == ["vp8", "opus"] && d.streams.map(\.track.mid) == ["0", "1"])
        #expect(throws: SDPError.self) { try PlainRTPDescription(sdp: "v=0\r\nm=video 0 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n") }
    }

    /// The first sender is the sender: its frames come out, someone else's packets are dropped and counted, and
    /// the receiver's feedback (here a NACK for a lost packet) goes to the sender's RTP port + 1 (no rtcp-mux).
    @Test func theFirstSenderIsLearntAndFeedbackGoesBack() throws {
        let d = try PlainRTPDescription(sdp: Self.sdp)
        let session = try PlainRTPSession(tracks: d.streams.map(\.track), now: 0, rtcpMux: false)
        let sender = TransportAddress(ip: [127, 0, 0, 1], port: 40_000), stranger = TransportAddress(ip: [127, 0, 0, 1], port: 40_100)
        var out = session.receive(RTPPacket.build(payloadType: 96, sequenceNumber: 1, timestamp: 0, ssrc: 7, marker: true, payload: [0x10, 0, 0xAA]),
                                  from: sender, socket: 0, now: 10_000)
        out += session.receive(RTPPacket.build(payloadType: 96, sequenceNumber: 2, timestamp: 3000, ssrc: 7, marker: true, payload: [0x10, 0, 0xAB]),
                               from: stranger, socket: 0, now: 20_000)
        #expect(session.strangers == 1 && session.firstStranger == stranger)
        #expect(out.contains { if case let .unexpectedSender(a, 1) = $0 { a == stranger } else { false } }, "said once")
        // Packet 2 lost (the stranger's does not count), 3 arrives: a NACK goes to the sender's RTCP port.
        out += session.receive(RTPPacket.build(payloadType: 96, sequenceNumber: 3, timestamp: 6000, ssrc: 7, marker: true, payload: [0x10, 1, 0xAC]),
                               from: sender, socket: 0, now: 70_000)
        for t in stride(from: 80_000, through: 400_000, by: 20_000) { out += session.poll(now: RTPTime(t)) }
        let frames = out.filter { if case .frame = $0 { true } else { false } }
        #expect(frames.count >= 1)
        var nacks: [UInt16] = []
        for case let .send(bytes, to) in out {
            #expect(to == TransportAddress(ip: [127, 0, 0, 1], port: 40_001))
            for case let .nack(_, media, lost) in (try? RTCPPacket.parseCompound(bytes)) ?? [] where media == 7 { nacks += lost }
        }
        #expect(nacks.contains(2), "the lost packet is asked for: \(out)")
    }

    /// SDES SRTP: the sender's key unprotects its packets; what we send is protected with ours.
    @Test func sdesKeysProtectBothWays() throws {
        let theirs = (0..<30).map { UInt8($0) }, ours = (0..<30).map { UInt8(100 + $0) }
        let keyed = Self.sdp.replacingOccurrences(of: "RTP/AVP 96", with: "RTP/SAVP 96")
            .replacingOccurrences(of: "a=rtpmap:96 VP8/90000", with: "a=rtpmap:96 VP8/90000\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(Base64.encode(theirs))")
        let d = try PlainRTPDescription(sdp: keyed)
        #expect(d.srtpKey == theirs)
        let session = try PlainRTPSession(tracks: d.streams.map(\.track), now: 0, rtcpMux: true, srtp: (.aes128CmSha1_80, theirs, ours))
        let protect = try SRTPContext(profile: .aes128CmSha1_80, key: theirs, inbound: false)
        var packet = RTPPacket.build(payloadType: 96, sequenceNumber: 1, timestamp: 0, ssrc: 7, marker: true, payload: [0x10, 0, 0xAA])
        #expect(protect.protect(&packet))
        let sender = TransportAddress(ip: [127, 0, 0, 1], port: 40_000)
        let out = session.receive(packet, from: sender, socket: 0, now: 10_000)
        #expect(out.contains { if case .frame = $0 { true } else { false } }, "decrypted and framed")
        var sent = session.poll(now: 1_200_000).compactMap { if case let .send(b, _) = $0 { b } else { nil } }
        let unprotect = try SRTPContext(profile: .aes128CmSha1_80, key: ours, inbound: true)
        #expect(!sent.isEmpty && unprotect.unprotect(&sent[0], rtcp: true), "a receiver report under our key")
        #expect(session.droppedPackets == 0)
    }
}
