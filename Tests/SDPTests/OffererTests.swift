import Testing
@testable import SDP

/// Our receive-only offer (WHEP) and what answers to it agree.
@Suite(.timeLimit(.minutes(1))) struct OffererTests {
    let options = AnswerOptions(iceUfrag: "ourufrag", icePwd: "our-password-0123456789ab", fingerprint: Array(repeating: "AB", count: 32).joined(separator: ":"),
                                candidates: [("192.0.2.1", 5000), ("198.51.100.7", 40001)], sessionID: 7, iceLite: false)

    @Test func theOfferIsRecvonlyFullICEAndListsEveryCodecWeDecode() throws {
        let offer = SDPOfferer.offer(kinds: ["audio", "video"], options: options)
        let parsed = try SessionDescription(parsing: offer)
        #expect(!parsed.iceLite && parsed.bundle == ["0", "1"])
        #expect(parsed.media.map(\.direction) == ["recvonly", "recvonly"] && parsed.media.allSatisfy { $0.setup == "actpass" && $0.rtcpMux })
        let video = parsed.media[1]
        #expect(Set(video.codecs.map(\.name)) == ["vp8", "vp9", "h264", "av1", "rtx"])
        #expect(video.codecs.filter { $0.name == "rtx" }.count == video.codecs.count / 2, "an RTX format for each codec")
        #expect(video.candidates.map(\.port) == [5000, 40001] && video.candidates.allSatisfy { $0.type == "host" })
        // Our own answerer takes the offer: every section is something we receive, nothing is refused.
        #expect(SDPAnswerer.choose(video) != nil && SDPAnswerer.choose(parsed.media[0])?.name == "opus")
    }

    /// An answer as an SFU writes it (ICE-lite, passive, H.264 chosen, RTX, transport-cc, its candidate).
    @Test func anAnswerSettlesTracksRolesAndCandidates() throws {
        let offer = SDPOfferer.offer(kinds: ["audio", "video"], options: options)
        let answer = """
        v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\na=ice-lite\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\na=ice-ufrag:sfuu\r\n\
        a=ice-pwd:sfu-password-0123456789abcd\r\na=fingerprint:sha-256 \(Array(repeating: "CD", count: 32).joined(separator: ":"))\r\na=setup:passive\r\n\
        a=candidate:1 1 UDP 2130706431 203.0.113.9 39132 typ host\r\na=candidate:2 1 TCP 2130706430 203.0.113.9 443 typ host\r\n\
        a=candidate:3 1 UDP 2130706429 abcd.local 39133 typ host\r\na=rtpmap:111 opus/48000/2\r\na=ssrc:11 cname:x\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 98 99\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\na=rtcp-mux\r\na=setup:passive\r\n\
        a=rtpmap:98 H264/90000\r\na=fmtp:98 packetization-mode=1;profile-level-id=42e01f\r\na=rtcp-fb:98 nack pli\r\na=rtcp-fb:98 transport-cc\r\n\
        a=rtpmap:99 rtx/90000\r\na=fmtp:99 apt=98\r\na=extmap:4 \(SDPAnswerer.transportSequenceURI)\r\na=ssrc-group:FID 21 22\r\na=ssrc:21 cname:x\r\n
        """
        let negotiation = try SDPOfferer.negotiate(offer: offer, answer: answer)
        #expect(negotiation.tracks.map(\.codec) == ["opus", "h264"] && negotiation.tracks.map(\.mid) == ["0", "1"])
        #expect(negotiation.tracks[1].rtxPayloadType == 99 && negotiation.tracks[1].rtxSSRCs == [22: 21])
        #expect(negotiation.tracks[1].extensions[SDPAnswerer.transportSequenceURI] == 4)
        #expect(negotiation.dtlsClient, "the answer is passive: we start DTLS")
        #expect(negotiation.remoteICELite && negotiation.remoteUfrag == "sfuu")
        #expect(negotiation.remoteCandidates.map { "\($0.ip):\($0.port)" } == ["203.0.113.9:39132"], "UDP with a literal address only")
        #expect(negotiation.answer == offer)
    }

    @Test func answersWeCannotUseAreRefusedWithAReason() throws {
        let offer = SDPOfferer.offer(kinds: ["video"], options: options)
        let head = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-ufrag:sfuu\r\na=ice-pwd:sfu-password-0123456789abcd\r\n"
            + "a=fingerprint:sha-256 \(Array(repeating: "CD", count: 32).joined(separator: ":"))\r\n"
        let cases: [(String, String)] = [
            (head + "m=video 9 UDP/TLS/RTP/SAVPF 100\r\na=mid:0\r\na=sendonly\r\na=setup:active\r\na=rtpmap:100 MP4V-ES/90000\r\n", "no codec we decode"),
            (head + "m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=rtpmap:96 VP8/90000\r\n", "rejected"),
            (head + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=inactive\r\na=rtpmap:96 VP8/90000\r\n", "inactive"),
            (head + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=sendonly\r\na=setup:actpass\r\na=rtpmap:96 VP8/90000\r\n", "active or passive"),
        ]
        for (answer, reason) in cases {
            #expect(throws: SDPError.self) { try SDPOfferer.negotiate(offer: offer, answer: answer) }
            do { _ = try SDPOfferer.negotiate(offer: offer, answer: answer) } catch { #expect(error.reason.contains(reason), "\(error.reason)") }
        }
    }

    @Test func aFullICEAnswerOmitsICELite() throws {
        let offer = SDPOfferer.offer(kinds: ["audio"], options: options).replacingOccurrences(of: "a=recvonly", with: "a=sendonly")
        let negotiation = try SDPAnswerer.answer(offer: offer, options: options)
        #expect(!negotiation.answer.contains("a=ice-lite"))
        #expect(negotiation.remoteCandidates.count == 2)
    }
}
