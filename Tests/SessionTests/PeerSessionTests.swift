import RTP
import SDP
import STUN
import SecureTransport
import Session
import Testing

let serverCertificate = try! DTLSCertificate()
let publisherCertificate = try! DTLSCertificate()
let peer = TransportAddress(ip: [127, 0, 0, 1], port: 50_000)
let stranger = TransportAddress(ip: [127, 0, 0, 2], port: 50_001)

func offer() -> String {
    """
    v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n\
    a=ice-ufrag:pubr\r\na=ice-pwd:publisherpassword0123456\r\na=fingerprint:sha-256 \(publisherCertificate.fingerprint)\r\n\
    m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n\
    a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n\
    m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 goog-remb\r\n\
    a=rtcp-fb:96 transport-cc\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n\
    a=extmap:5 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n
    """
}

/// A publisher that has done ICE and DTLS with a fresh session.
struct Connected {
    let session: PeerSession
    let send: SRTPContext
    let receive: SRTPContext
    var outputs: [PeerSession.Output] = []
}

func connect(now: RTPTime = 0, offer text: String = offer()) throws -> Connected {
    let negotiation = try SDPAnswerer.answer(offer: text, options: AnswerOptions(iceUfrag: "srvr", icePwd: "serverpassword0123456789",
                                                                                      fingerprint: serverCertificate.fingerprint, candidates: [("127.0.0.1", 40000)], sessionID: 1))
    let session = try PeerSession(negotiation: negotiation, certificate: serverCertificate, localUfrag: "srvr",
                                  localPassword: "serverpassword0123456789", now: now)
    let check = STUNMessageBuilder.iceCheck(remoteUfrag: "srvr", localUfrag: "pubr", remotePassword: "serverpassword0123456789")
    let stun = session.receive(check, from: peer, now: now)
    guard case let .send(response, to)? = stun.first, to == peer, (try? STUNMessage(parsing: response))?.messageClass == .success else {
        throw SDPError.refused("ICE check not answered")
    }
    let client = try DTLSSession(role: .client, certificate: publisherCertificate, expectedFingerprint: serverCertificate.fingerprint)
    var toServer = client.start()
    var outputs: [PeerSession.Output] = []
    for _ in 0..<10 where !toServer.isEmpty {
        var toClient: [[UInt8]] = []
        for d in toServer {
            for o in session.receive(d, from: peer, now: now) {
                if case let .send(bytes, _) = o { toClient.append(bytes) } else { outputs.append(o) }
            }
        }
        toServer = toClient.flatMap { client.receive($0) }
    }
    guard case let .connected(keys) = client.state else { throw SDPError.refused("publisher not connected: \(client.state)") }
    return Connected(session: session, send: try SRTPContext(profile: keys.profile, key: keys.clientKey, inbound: false),
                     receive: try SRTPContext(profile: keys.profile, key: keys.serverKey, inbound: true), outputs: outputs)
}

func media(_ c: Connected, _ bytes: [UInt8], rtcp: Bool = false, from: TransportAddress = peer, now: RTPTime) -> [PeerSession.Output] {
    var packet = bytes
    _ = c.send.protect(&packet, rtcp: rtcp)
    return c.session.receive(packet, from: from, now: now)
}

func vp8Frame(seq: UInt16, ts: UInt32, key: Bool) -> [[UInt8]] {
    [RTPPacket.build(payloadType: 96, sequenceNumber: seq, timestamp: ts, ssrc: 0xBEEF, extensions: [(4, Array("1".utf8))], payload: [0x10, key ? 0 : 1, 0xAA]),
     RTPPacket.build(payloadType: 96, sequenceNumber: seq &+ 1, timestamp: ts, ssrc: 0xBEEF, marker: true, extensions: [(4, Array("1".utf8))], payload: [0x00, 0xBB])]
}

@Suite(.timeLimit(.minutes(2))) struct PeerSessionTests {
    @Test func framesComeOutOnTheRoomTimeline() throws {
        let c = try connect()
        #expect(c.outputs.contains { if case .connected = $0 { true } else { false } })
        var out: [PeerSession.Output] = []
        for (i, p) in vp8Frame(seq: 10, ts: 9000, key: true).enumerated() { out += media(c, p, now: 100_000 + RTPTime(i)) }
        out += media(c, RTPPacket.build(payloadType: 111, sequenceNumber: 5, timestamp: 960, ssrc: 0xA0D1, extensions: [(4, Array("0".utf8))], payload: [0xFC, 1, 2]), now: 120_000)
        let frames = out.compactMap { o -> (String, EncodedFrame, RTPTime)? in
            if case let .frame(mid, _, _, f, t) = o { return (mid, f, t) } else { return nil }
        }
        #expect(frames.map(\.0) == ["1", "0"])
        #expect(frames[0].1 == EncodedFrame(data: [0x00, 0xAA, 0xBB], keyframe: true))
        #expect(frames[1].1 == EncodedFrame(data: [0xFC, 1, 2], keyframe: true))
        // Audio is placed earlier by its packet duration (0xFC: one 20 ms CELT frame) and the Opus look-ahead (6.5 ms).
        #expect(frames[0].2 == 100_001 && frames[1].2 == 120_000 - 26_500)
    }

    /// RFC 6464: the sender's level comes out with its audio frame, at the frame's room time.
    @Test func audioLevelsFromTheHeaderExtensionComeOutWithTheirFrames() throws {
        let c = try connect()
        var out: [PeerSession.Output] = []
        for (i, level) in [UInt8(0x80 | 20), 90].enumerated() {
            out += media(c, RTPPacket.build(payloadType: 111, sequenceNumber: UInt16(5 + i), timestamp: UInt32(960 * (i + 1)), ssrc: 0xA0D1,
                                            extensions: [(4, Array("0".utf8)), (1, [level])], payload: [0xFC, 1, 2]), now: 120_000 + RTPTime(i) * 20_000)
        }
        let frameTimes = out.compactMap { o -> RTPTime? in if case let .frame(_, _, _, _, t) = o { t } else { nil } }
        let levels = out.compactMap { o -> (String, UInt8, RTPTime)? in if case let .audioLevel(mid, dBov, t) = o { (mid, dBov, t) } else { nil } }
        #expect(levels.map(\.0) == ["0", "0"])
        #expect(levels.map(\.1) == [20, 90])
        #expect(levels.map(\.2) == frameTimes)
    }

    @Test func lossIsNackedOverSRTCPAndStrangersAreIgnored() throws {
        let c = try connect()
        let packets = vp8Frame(seq: 100, ts: 0, key: true) + vp8Frame(seq: 102, ts: 3000, key: false) + vp8Frame(seq: 104, ts: 6000, key: false)
        var out: [PeerSession.Output] = []
        for (i, p) in packets.enumerated() where i != 3 { out += media(c, p, now: RTPTime(i) * 10_000) }
        let rtcp = out.compactMap { o -> [UInt8]? in if case let .send(b, to) = o, to == peer { return b } else { return nil } }
        var nacked: [UInt16] = []
        for var bytes in rtcp where c.receive.unprotect(&bytes, rtcp: true) {
            for case let .nack(_, media, lost) in try RTCPPacket.parseCompound(bytes) where media == 0xBEEF { nacked += lost }
        }
        #expect(nacked == [103])
        // The same media from an address ICE never validated is dropped.
        let before = c.session.droppedPackets
        #expect(media(c, vp8Frame(seq: 200, ts: 9000, key: true)[0], from: stranger, now: 1).isEmpty)
        #expect(c.session.droppedPackets == before + 1)
    }

    @Test func garbageOfEveryKindIsDropped() throws {
        let c = try connect()
        for bytes in [[0x00], [0x16, 0xFE], [0x80, 0x60, 0, 1], [0x81, 0xC8, 0, 1, 2, 3], [0xFF, 0xFF], Array(repeating: 0x90, count: 1500)] as [[UInt8]] {
            _ = c.session.receive(bytes, from: peer, now: 1)
        }
        #expect(c.session.isConnected && c.session.droppedPackets >= 5)
    }

    /// Malformed RTP and RTCP that pass SRTP authentication (the peer is authenticated but broken or hostile):
    /// 20 000 mutations of valid packets — bytes flipped, cut short, padded with garbage — reach the parsers,
    /// depacketizers and jitter buffers. Nothing crashes, the session stays up, and good media still comes through.
    @Test func mutatedMediaInsideValidSRTPNeverCrashes() throws {
        let c = try connect()
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random(_ bound: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int((seed >> 33) % UInt64(max(1, bound)))
        }
        let audio = RTPPacket.build(payloadType: 111, sequenceNumber: 5, timestamp: 960, ssrc: 0xA0D1, extensions: [(4, Array("0".utf8))], payload: [0xFC, 1, 2])
        let rtcp = [RTCPPacket.senderReport(ssrc: 0xBEEF, ntp: 1 << 40, rtpTimestamp: 9000, packets: 3, octets: 100, reports: []).encoded,
                    RTCPPacket.nack(sender: 0xBEEF, media: 1, lost: [1, 2, 3]).encoded,
                    RTCPPacket.receiverReport(ssrc: 0xBEEF, reports: []).encoded]
        let valid = vp8Frame(seq: 10, ts: 9000, key: true) + [audio]
        for i in 0..<20_000 {
            let isRTCP = i % 4 == 3
            var bytes = isRTCP ? rtcp[random(rtcp.count)] : valid[random(valid.count)]
            if !isRTCP { bytes[2] = UInt8(i >> 8 & 0xFF); bytes[3] = UInt8(i & 0xFF) }    // fresh sequence numbers: SRTP drops replays
            switch random(3) {
            case 0: for _ in 0...random(4) { let at = 1 + random(bytes.count - 1); if isRTCP || at > 3 { bytes[at] = UInt8(random(256)) } }
            case 1: bytes = Array(bytes.prefix(max(2, random(bytes.count))))
            default: bytes += (0..<random(1400)).map { _ in UInt8(random(256)) }
            }
            if !isRTCP { bytes[1] = bytes[1] & 0x80 | (random(2) == 0 ? 96 : 111) }   // keep it routed to a track
            _ = media(c, bytes, rtcp: isRTCP, now: RTPTime(i) * 1_000)
        }
        #expect(c.session.isConnected)
        let video = try #require(c.session.reports.first { $0.kind == "video" }?.statistics)
        #expect(video.received > 1_000 && video.malformed + video.framesDropped > 0, "the mutations reached the depacketizers: \(video)")
        var out: [PeerSession.Output] = []
        for p in vp8Frame(seq: 20_000, ts: 9_000_000, key: true) { out += media(c, p, now: 21_000_000) }
        out += c.session.poll(now: 21_500_000)
        #expect(c.session.isConnected)
        #expect(out.contains { if case .frame(mid: "1", _, _, _, _) = $0 { true } else { false } }, "a good keyframe still comes out")
    }

    /// The receiver reports the sender gets carry what happened: the interval's fraction lost and the cumulative
    /// loss, the extended highest sequence, and the last SR with the delay since (the sender's RTT) — before, all
    /// zero, so a browser had no loss or RTT signal from us.
    @Test func receiverReportsCarryLossAndTheLastSenderReport() throws {
        let c = try connect()
        var out: [PeerSession.Output] = []
        // 100 two-packet frames, the second packet of every 5th frame lost: 20 of 200 packets.
        for frame in 0..<100 {
            let packets = vp8Frame(seq: UInt16(100 + 2 * frame), ts: UInt32(9000 + 3000 * frame), key: frame == 0)
            for (i, p) in packets.enumerated() where !(i == 1 && frame % 5 == 2) { out += media(c, p, now: 100_000 + RTPTime(frame) * 33_333) }
        }
        out += media(c, RTCPPacket.senderReport(ssrc: 0xBEEF, ntp: 0xAAAA_1234_5678_0000, rtpTimestamp: 9000, packets: 180, octets: 900, reports: []).encoded,
                     rtcp: true, now: 3_400_000)
        out = c.session.poll(now: 3_650_000)
        var blocks: [RTCPPacket.ReportBlock] = []
        for case let .send(bytes, _) in out {
            var packet = bytes
            guard bytes.count > 1, (200...206).contains(bytes[1]), c.receive.unprotect(&packet, rtcp: true) else { continue }
            for case let .receiverReport(_, reports) in (try? RTCPPacket.parseCompound(packet)) ?? [] { blocks += reports }
        }
        let video = try #require(blocks.first { $0.ssrc == 0xBEEF }, "a receiver report for the video stream")
        #expect(video.cumulativeLost == 20 && video.fractionLost == 25, "20 of 200 lost: \(video)")
        #expect(video.highestSequence == 299)
        #expect(video.lastSR == 0x1234_5678 && video.delaySinceLastSR == 16_384, "0.25 s after the SR: \(video)")
    }

    /// A bitrate cap goes to the sender as REMB for its video streams at once, then every second; a new cap at once.
    @Test func aBitrateCapIsToldByREMB() throws {
        let c = try connect()
        func rembs(_ outputs: [PeerSession.Output]) -> [(UInt64, [UInt32])] {
            var found: [(UInt64, [UInt32])] = []
            for case let .send(bytes, _) in outputs {
                var packet = bytes
                guard bytes.count > 1, (200...206).contains(bytes[1]), c.receive.unprotect(&packet, rtcp: true) else { continue }
                for case let .remb(_, bitrate, ssrcs) in (try? RTCPPacket.parseCompound(packet)) ?? [] { found.append((bitrate, ssrcs)) }
            }
            return found
        }
        #expect(rembs(c.session.setVideoBitrateCap(500_000, now: 50_000)).isEmpty, "no video stream yet: nothing to cap")
        for p in vp8Frame(seq: 10, ts: 9000, key: true) { _ = media(c, p, now: 100_000) }
        // REMB covers all the sender sends: the video cap, 5 % for headers, and 48 kb/s for its one audio track.
        let first = rembs(c.session.poll(now: 120_000))
        #expect(first.count == 1 && first.first?.0 == 573_000 && first.first?.1 == [0xBEEF], "\(first)")
        #expect(rembs(c.session.poll(now: 600_000)).isEmpty, "not again within a second")
        #expect(rembs(c.session.poll(now: 1_130_000)).map(\.0) == [573_000], "again a second later")
        #expect(rembs(c.session.setVideoBitrateCap(2_000_000, now: 1_200_000)).map(\.0) == [2_148_000], "a new cap at once")
    }

    /// With transport-wide sequence numbers negotiated, the answer asks for them and the session reports every
    /// packet's arrival (transport-cc) every 100 ms, losses included; the sender's own estimator does the rest.
    @Test func arrivalsAreFedBackWithTransportCC() throws {
        let c = try connect()
        let negotiation = try SDPAnswerer.answer(offer: offer(), options: AnswerOptions(iceUfrag: "srvr", icePwd: "serverpassword0123456789",
                                                                                          fingerprint: serverCertificate.fingerprint, candidates: [], sessionID: 1))
        #expect(negotiation.answer.contains("a=rtcp-fb:96 transport-cc\r\n") && negotiation.answer.contains("transport-wide-cc-extensions-01"))
        func feedback(_ outputs: [PeerSession.Output]) throws -> [TransportFeedback] {
            var found: [TransportFeedback] = []
            for case let .send(bytes, _) in outputs {
                var packet = bytes
                guard bytes.count > 1, bytes[1] == 205, c.receive.unprotect(&packet, rtcp: true), packet[0] & 0x1F == 15 else { continue }
                found.append(try TransportFeedback(body: packet[4...]))
            }
            return found
        }
        for n in 0..<10 where n != 4 {
            let wide: [UInt8] = [0x01, UInt8(n)]   // transport-wide 256 + n
            let p = RTPPacket.build(payloadType: 96, sequenceNumber: 10 + UInt16(n), timestamp: 9000, ssrc: 0xBEEF, marker: n == 9,
                                    extensions: [(4, Array("1".utf8)), (5, wide)], payload: n == 0 ? [0x10, 0, 0xAA] : [0x00, 0xBB])
            _ = media(c, p, now: 200_000 + RTPTime(n) * 5_000)
        }
        let sent = try feedback(c.session.poll(now: 300_000))
        let report = try #require(sent.first)
        #expect(sent.count == 1 && report.baseSequence == 256 && report.arrivals.count == 10)
        #expect(report.arrivals[4] == nil && report.arrivals.enumerated().allSatisfy { $0.offset == 4 || $0.element != nil })
        let arrived = report.arrivals.compactMap { $0 }
        #expect(zip(arrived, arrived.dropFirst()).allSatisfy { $1 - $0 >= 4_750 && $1 - $0 <= 10_250 }, "5 ms apart, 10 around the loss: \(arrived)")
        #expect(try feedback(c.session.poll(now: 320_000)).isEmpty, "not again within 100 ms")
    }

    @Test func handshakeAndConsentTimeouts() throws {
        let negotiation = try SDPAnswerer.answer(offer: offer(), options: AnswerOptions(iceUfrag: "srvr", icePwd: "serverpassword0123456789",
                                                                                          fingerprint: serverCertificate.fingerprint, candidates: [], sessionID: 1))
        let idle = try PeerSession(negotiation: negotiation, certificate: serverCertificate, localUfrag: "srvr", localPassword: "serverpassword0123456789", now: 0)
        #expect(idle.poll(now: 5_000_000).isEmpty)
        guard case let .closed(reason)? = idle.poll(now: 10_500_000).last else { Issue.record("no handshake timeout"); return }
        #expect(reason.contains("no ICE connectivity check arrived within 10 s"), "no check ever came: the reason says so, not DTLS: \(reason)")
        let c = try connect()
        #expect(c.session.poll(now: 29_000_000).allSatisfy { if case .closed = $0 { false } else { true } })
        guard case let .closed(consent)? = c.session.poll(now: 31_000_000).last else { Issue.record("no consent expiry"); return }
        #expect(consent.contains("consent"))
    }

    /// A replayed SRTP packet (same sequence, same authentication) is dropped by the SRTP layer.
    @Test func replayedSRTPIsDropped() throws {
        let c = try connect()
        var packet = RTPPacket.build(payloadType: 111, sequenceNumber: 40, timestamp: 9600, ssrc: 0xA0D1, extensions: [(4, Array("0".utf8))], payload: [0xFC, 1])
        _ = c.send.protect(&packet)
        let first = c.session.receive(packet, from: peer, now: 200_000)
        let dropped = c.session.droppedPackets
        let again = c.session.receive(packet, from: peer, now: 210_000)
        #expect(first.contains { if case .frame = $0 { true } else { false } })
        #expect(!again.contains { if case .frame = $0 { true } else { false } })
        #expect(c.session.droppedPackets == dropped + 1, "the replay is dropped before RTP parsing")
    }

    /// A peer whose DTLS certificate is not the one its offer's fingerprint names never gets media through: the
    /// session closes.
    @Test func aFingerprintMismatchClosesTheSession() throws {
        let negotiation = try SDPAnswerer.answer(offer: offer(), options: AnswerOptions(iceUfrag: "srvr", icePwd: "serverpassword0123456789",
                                                                                          fingerprint: serverCertificate.fingerprint, candidates: [], sessionID: 1))
        let session = try PeerSession(negotiation: negotiation, certificate: serverCertificate, localUfrag: "srvr", localPassword: "serverpassword0123456789", now: 0)
        let check = STUNMessageBuilder.iceCheck(remoteUfrag: "srvr", localUfrag: "pubr", remotePassword: "serverpassword0123456789")
        _ = session.receive(check, from: peer, now: 0)
        let impostor = try DTLSSession(role: .client, certificate: try DTLSCertificate(), expectedFingerprint: serverCertificate.fingerprint)
        var toServer = impostor.start(), outputs: [PeerSession.Output] = []
        for _ in 0..<10 where !toServer.isEmpty {
            var toClient: [[UInt8]] = []
            for d in toServer {
                for o in session.receive(d, from: peer, now: 1000) {
                    if case let .send(bytes, _) = o { toClient.append(bytes) } else { outputs.append(o) }
                }
            }
            toServer = toClient.flatMap { impostor.receive($0) }
        }
        #expect(outputs.contains { if case .closed = $0 { true } else { false } }, "outputs: \(outputs)")
        #expect(!outputs.contains { if case .connected = $0 { true } else { false } })
    }
}
