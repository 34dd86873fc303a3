import Testing
@testable import RTP
@testable import SDP
@testable import Session
import STUN
import SecureTransport

@Suite(.timeLimit(.minutes(2))) struct RetransmissionTests {
    static let rtxOffer = offer().replacingOccurrences(of: "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n", with: "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n")
        .replacingOccurrences(of: "a=rtpmap:96 VP8/90000\r\n", with: "a=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
                              + "a=ssrc-group:FID 48879 4660\r\na=ssrc:48879 cname:x\r\na=ssrc:4660 cname:x\r\n")

    /// The answer takes RTX for the chosen codec; a lost packet NACKed and repaired in the RTX stream completes
    /// its frame and counts as retransmitted; a padding-only probe in the RTX stream is ignored.
    @Test func aLostPacketIsRepairedFromTheRTXStream() throws {
        let c = try connect(offer: Self.rtxOffer)
        let video = try #require(c.session.tracks.first { $0.kind == "video" })
        #expect(video.rtxPayloadType == 97 && video.rtxSSRCs == [0x1234: 0xBEEF])
        let answer = try SDPAnswerer.answer(offer: Self.rtxOffer, options: AnswerOptions(iceUfrag: "srvr", icePwd: "serverpassword0123456789",
                                                                                          fingerprint: serverCertificate.fingerprint, candidates: [], sessionID: 1)).answer
        #expect(answer.contains("m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n") && answer.contains("a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"), "\(answer)")

        func frames(_ outputs: [PeerSession.Output]) -> [[UInt8]] {
            outputs.compactMap { if case let .frame(mid, _, _, f, _) = $0, mid == "1" { f.data } else { nil } }
        }
        let key = vp8Frame(seq: 10, ts: 9000, key: true)
        var out = frames(media(c, key[0], now: 100_000))                      // the frame's second packet is lost
        let next = vp8Frame(seq: 12, ts: 12000, key: false)
        for p in next { out += frames(media(c, p, now: 133_000)) }
        #expect(out.isEmpty, "the keyframe is incomplete")
        // The RTX stream: padding only (a probe), then packet 11 again behind its sequence number.
        let probe = RTPPacket.build(payloadType: 97, sequenceNumber: 500, timestamp: 9000, ssrc: 0x1234, payload: [])
        out += frames(media(c, probe, now: 140_000))
        let lost = try RTPPacket(parsing: key[1])
        let repair = RTPPacket.build(payloadType: 97, sequenceNumber: 501, timestamp: 9000, ssrc: 0x1234, marker: true,
                                     extensions: [(4, Array("1".utf8))], payload: [0, 11] + Array(lost.payload))
        out += frames(media(c, repair, now: 150_000))
        #expect(out.count == 2, "the keyframe, then the frame after it: \(out)")
        let st = try #require(c.session.statistics(mid: "1"))
        #expect(st.retransmitted == 1 && st.recovered == 1, "\(st)")
    }
}

/// An offer that waits for the handshake (`a=setup:passive`, as some gateways and SFUs send): we answer active and
/// start DTLS ourselves once ICE found the peer; media then flows with the keys of those roles.
@Suite(.timeLimit(.minutes(2))) struct DTLSClientRoleTests {
    @Test func aPassiveOffererGetsAnActiveAnswer() throws {
        let passive = offer().replacingOccurrences(of: "a=fingerprint:sha-256", with: "a=setup:passive\r\na=fingerprint:sha-256")
        let negotiation = try SDPAnswerer.answer(offer: passive, options: AnswerOptions(iceUfrag: "srvr", icePwd: "serverpassword0123456789",
                                                                                          fingerprint: serverCertificate.fingerprint, candidates: [("127.0.0.1", 40000)], sessionID: 1))
        #expect(negotiation.dtlsClient && negotiation.answer.contains("a=setup:active") && !negotiation.answer.contains("a=setup:passive"))
        let session = try PeerSession(negotiation: negotiation, certificate: serverCertificate, localUfrag: "srvr",
                                      localPassword: "serverpassword0123456789", now: 0)
        let publisher = try DTLSSession(role: .server, certificate: publisherCertificate, expectedFingerprint: serverCertificate.fingerprint)
        let check = STUNMessageBuilder.iceCheck(remoteUfrag: "srvr", localUfrag: "pubr", remotePassword: "serverpassword0123456789")
        var toPublisher = session.receive(check, from: peer, now: 0).compactMap { o -> [UInt8]? in
            if case let .send(bytes, _) = o, bytes.first.map({ (20...63).contains($0) }) == true { bytes } else { nil }
        }
        #expect(!toPublisher.isEmpty, "the ClientHello follows the ICE answer")
        var connected = false
        for _ in 0..<10 where !toPublisher.isEmpty {
            let replies = toPublisher.flatMap { publisher.receive($0) }
            toPublisher = []
            for d in replies {
                for o in session.receive(d, from: peer, now: 1_000) {
                    if case let .send(bytes, _) = o { toPublisher.append(bytes) }
                    if case .connected = o { connected = true }
                }
            }
        }
        toPublisher.forEach { _ = publisher.receive($0) }
        guard case let .connected(keys) = publisher.state else { Issue.record("publisher: \(publisher.state)"); return }
        #expect(connected)
        // The publisher is the DTLS server now: it protects with the server key.
        let send = try SRTPContext(profile: keys.profile, key: keys.serverKey, inbound: false)
        var frames = 0
        for p in vp8Frame(seq: 10, ts: 9000, key: true) {
            var packet = p
            _ = send.protect(&packet, rtcp: false)
            frames += session.receive(packet, from: peer, now: 100_000).filter { if case .frame = $0 { true } else { false } }.count
        }
        #expect(frames == 1)
    }
}
